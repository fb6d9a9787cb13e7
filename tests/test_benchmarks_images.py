"""The image benchmarks run offline end to end in their --quick mode."""

import pandas as pd
import pytest


@pytest.fixture
def images_dir(shared_dir, monkeypatch):
    path = shared_dir / "data" / "images"
    if not (path / "mnist.npz").is_file():
        pytest.skip("shared/data/images/mnist.npz not found")
    return path


@pytest.mark.slow
def test_one_class_quick(images_dir, tmp_path):
    from benchmarks import images

    df = images.main(["--quick", "--elpv", "--out", str(tmp_path), "--tag", "q"])
    models = {"ConvAutoencoder", "ConvVAE", "ConvDAE", "MLP Autoencoder", "PCA",
              "IsolationForest"}  # fmt: skip
    assert set(df["model"]) == models
    assert set(df["dataset"]) == {"mnist", "elpv"}
    assert df["auroc"].between(0, 1).all()
    saved = pd.read_csv(tmp_path / "q.csv")
    assert len(saved) == len(df) == 12
    text = (tmp_path / "q.md").read_text()
    assert "python -m benchmarks.images --quick" in text and "Deep SVDD" in text
    assert (tmp_path / "q_elpv_heatmaps.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_denoising_quick(images_dir, tmp_path):
    from benchmarks import denoising

    df = denoising.main(["--quick", "--out", str(tmp_path), "--tag", "q"])
    assert set(df["method"]) == {"noisy", "median 3x3", "PCA", "ConvDAE", "MLP DAE",
                                 "ConvDAE reconstruct", "MLP DAE reconstruct"}  # fmt: skip
    assert set(df["noise"]) == set(denoising.SETTINGS)
    assert df["psnr"].gt(0).all() and df["ssim"].between(-1, 1).all()
    # The median filter beats doing nothing on salt-and-pepper noise, by far.
    sp = df[df["noise"] == "salt & pepper 10%"].set_index("method")["psnr"]
    assert sp["median 3x3"] > sp["noisy"] + 3
    assert "PSNR" in (tmp_path / "q.md").read_text()
    assert (tmp_path / "q_mnist.png").is_file()


def test_noise_models():
    import numpy as np

    from benchmarks.denoising import add_noise

    X = np.full((200, 28, 28), 0.5)
    rng = np.random.RandomState(0)
    gauss = add_noise(X, "gaussian", 0.2, rng)
    assert abs((gauss - X).std() - 0.2) < 0.01
    sp = add_noise(X, "salt_pepper", 0.1, rng)
    assert abs((sp != X).mean() - 0.1) < 0.01
    assert abs((sp == 0).mean() - (sp == 1).mean()) < 0.01
