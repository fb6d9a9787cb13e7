"""The pictures: each plotting function writes a PNG; latent traversals vary one unit."""

import numpy as np
import pandas as pd
import pytest

from ae_anomaly import Autoencoder, ConvVariationalAutoencoder
from ae_anomaly.plotting import (
    as_display,
    image_grid,
    plot_denoising,
    plot_error_heatmaps,
    plot_latent_traversal,
    plot_reconstructions,
    plot_samples,
)

SMALL = dict(channels=(4,), n_components=3, max_iter=2, random_state=0)


@pytest.fixture(scope="module")
def images():
    rng = np.random.RandomState(0)
    return rng.uniform(size=(40, 8, 8))


@pytest.fixture(scope="module")
def conv_vae(images):
    return ConvVariationalAutoencoder(**SMALL).fit(images)


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_as_display_layouts():
    assert as_display(np.zeros((2, 64))).shape == (2, 8, 8)
    assert as_display(np.zeros((2, 3 * 16)), (3, 4, 4)).shape == (2, 4, 4, 3)
    assert as_display(np.zeros((2, 5, 5, 3))).shape == (2, 5, 5, 3)
    assert as_display(np.zeros((2, 1, 5, 5))).shape == (2, 5, 5)


def test_grids_write_pngs(tmp_path, images, conv_vae):
    noisy = images + 0.1
    fig = plot_denoising(images, noisy, {"a": images, "b": noisy}, n=4, path=tmp_path / "d.png")
    assert len(fig.axes) == 4 * 4 and _is_png(tmp_path / "d.png")
    plot_reconstructions(conv_vae, images, n=3, path=tmp_path / "r.png")
    plot_samples(conv_vae, n=5, random_state=0, path=tmp_path / "s.png")
    image_grid([np.zeros((2, 3, 5, 5))], path=tmp_path / "c.png")  # colour, channels first
    assert all(_is_png(tmp_path / f"{n}.png") for n in "rsc")


def test_error_heatmaps_use_the_models_maps(tmp_path, images, conv_vae):
    fig = plot_error_heatmaps(conv_vae, images[:3], titles=list("abc"), path=tmp_path / "h.png")
    assert _is_png(tmp_path / "h.png")
    overlay = fig.axes[3].images[1].get_array()  # second row, first column: the heatmap
    np.testing.assert_allclose(overlay, conv_vae.feature_scores(images[:1])[0])


def test_image_latent_traversal(tmp_path, images, conv_vae):
    values = [-2.0, 0.0, 2.0]
    out = conv_vae.latent_traversal(images[:1], 1, values)
    assert out.shape == (3, 8, 8)
    code = conv_vae.transform(images[:1])[0]
    # Setting the unit to its own value decodes x's code: the reconstruction.
    same = conv_vae.latent_traversal(images[:1], 1, [code[1]])
    np.testing.assert_allclose(same[0], conv_vae.reconstruct(images[:1])[0], atol=1e-10)
    assert not np.allclose(out[0], out[2])
    fig = plot_latent_traversal(conv_vae, images[:1], [0, 1], values, path=tmp_path / "t.png")
    assert len(fig.axes) == 6 and _is_png(tmp_path / "t.png")


def test_tabular_latent_traversal_names_columns(tmp_path):
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(100, 4)), columns=["age", "income", "debt", "score"])
    model = Autoencoder(n_components=2, max_iter=3, random_state=0).fit(X)
    out = model.latent_traversal(X.iloc[:1], 0, np.linspace(-1, 1, 5))
    assert list(out.columns) == ["age", "income", "debt", "score"]
    assert out.index.name == "z0" and len(out) == 5
    unnamed = Autoencoder(n_components=2, max_iter=3, random_state=0).fit(X.to_numpy())
    assert list(unnamed.latent_traversal(X.to_numpy()[:1], 1, [0.0]).columns) == [
        "x0", "x1", "x2", "x3",
    ]  # fmt: skip
    fig = plot_latent_traversal(model, X.iloc[:1], [0, 1], [-1, 0, 1], path=tmp_path / "t.png")
    assert _is_png(tmp_path / "t.png") and len(fig.axes) == 2


def test_traversal_rejects_bad_arguments(images, conv_vae):
    with pytest.raises(ValueError, match="one sample"):
        conv_vae.latent_traversal(images[:2], 0, [0.0])
    with pytest.raises(ValueError, match="not a code unit"):
        conv_vae.latent_traversal(images[:1], 3, [0.0])


@pytest.fixture
def svg_backend():
    """The user's backend stand-in (an interactive one needs a display): svg, then back."""
    import matplotlib

    before = matplotlib.get_backend()
    matplotlib.use("svg")
    yield "svg"
    matplotlib.use(before)


def test_plotting_leaves_the_backend_as_found(svg_backend, images, conv_vae):
    """Every plotting function switched matplotlib to Agg (a Qt, Tk or ipympl session
    then showed no figures); now each draws a pyplot figure on the user's backend, which
    ``plt.show()`` shows and ``savefig`` writes."""
    import io

    import matplotlib
    import matplotlib.pyplot as plt

    rng = np.random.RandomState(0)
    table = pd.DataFrame(rng.normal(size=(60, 3)), columns=list("abc"))
    tabular = Autoencoder(n_components=2, max_iter=2, random_state=0).fit(table)
    calls = {
        "image_grid": lambda: image_grid([images[:3]]),
        "plot_denoising": lambda: plot_denoising(images, images + 0.1, images, n=2),
        "plot_reconstructions": lambda: plot_reconstructions(conv_vae, images, n=2),
        "plot_error_heatmaps": lambda: plot_error_heatmaps(conv_vae, images[:2]),
        "plot_samples": lambda: plot_samples(conv_vae, n=3, random_state=0),
        "plot_latent_traversal": lambda: plot_latent_traversal(
            conv_vae, images[:1], [0], [-1.0, 1.0]
        ),
        "tabular plot_latent_traversal": lambda: plot_latent_traversal(
            tabular, table.iloc[:1], [0, 1], [-1.0, 1.0]
        ),
    }
    for name, call in calls.items():
        fig = call()
        try:
            assert matplotlib.get_backend() == svg_backend, name
            assert fig.number in plt.get_fignums(), name  # pyplot's: plt.show() shows it
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png")
            assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n", name
        finally:
            plt.close(fig)
