"""Pictures of what the autoencoders do (matplotlib; every function can write a PNG).

Grids of original / noisy / denoised images, reconstructions, per-pixel error heatmaps
over the images, VAE samples and latent traversals. Images may be given in any layout the
image models take: rows of flattened pixels (with ``image_shape``), ``(n, H, W)``,
``(n, H, W, C)`` or ``(n, C, H, W)``.

Each function returns a new pyplot figure (``path=`` or ``fig.savefig`` writes it;
``plt.show()`` or Jupyter shows it) and leaves matplotlib's backend as the user set it.
"""

from __future__ import annotations

import math

import numpy as np

from .models.images import flat_image_shape, from_rows, image_layout, to_rows


def _subplots(n_rows, n_cols, figsize, **kwargs):
    """A new pyplot figure and its ``(n_rows, n_cols)`` array of axes, on the user's
    backend (never switched: without a display, matplotlib picks a non-interactive one)."""
    import matplotlib.pyplot as plt

    return plt.subplots(n_rows, n_cols, figsize=figsize, squeeze=False, **kwargs)


def as_display(images, image_shape=None):
    """Images as ``(n, H, W)`` (grayscale) or ``(n, H, W, C)`` arrays for ``imshow``.

    Examples
    --------
    >>> import numpy as np
    >>> as_display(np.zeros((2, 784))).shape
    (2, 28, 28)
    >>> as_display(np.zeros((2, 3, 8, 8))).shape
    (2, 8, 8, 3)
    """
    images = np.asarray(images)
    layout, chw = image_layout(images, image_shape)
    if layout is None:  # rows of flattened pixels
        images = images.reshape(len(images), -1)
        chw = flat_image_shape(images.shape[1], image_shape)
        rows = images
    else:
        rows = to_rows(images, layout)
    return from_rows(rows, "hw" if chw[0] == 1 else "hwc", chw)


def image_grid(rows, row_titles=None, col_titles=None, image_shape=None, cmap="gray",
               vmin=None, vmax=None, path=None, scale=1.4):  # fmt: skip
    """A grid with one row per image set (e.g. original, noisy, denoised).

    Parameters
    ----------
    rows : list of array-like
        Image sets of equal length, each in any supported layout.
    row_titles, col_titles : list of str, optional
    image_shape : tuple of 3 int, optional
        ``(C, H, W)`` of rows of flattened pixels.
    cmap : str, default="gray"
    vmin, vmax : float, optional
        Color range shared by every panel; by default that of the first row.
    path : str or Path, optional
        Write the figure there as a PNG.
    scale : float, default=1.4
        Inches per panel.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    sets = [as_display(r, image_shape) for r in rows]
    if vmin is None:
        vmin = float(np.min(sets[0]))
    if vmax is None:
        vmax = float(np.max(sets[0]))
    n_rows, n_cols = len(sets), len(sets[0])
    fig, axes = _subplots(n_rows, n_cols, figsize=(scale * n_cols + 1, scale * n_rows))
    for i, images in enumerate(sets):
        for j in range(n_cols):
            ax = axes[i, j]
            image = images[j]
            if image.ndim == 3:  # colour: imshow wants [0, 1]
                image = np.clip((image - vmin) / max(vmax - vmin, 1e-12), 0, 1)
            ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            if col_titles is not None and i == 0:
                ax.set_title(str(col_titles[j]), fontsize=8)
        if row_titles is not None:
            axes[i, 0].set_ylabel(row_titles[i], fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig, path):
    if path is not None:
        fig.savefig(path, dpi=110, format="png")
    return fig


def plot_denoising(original, noisy, denoised, n=8, image_shape=None, path=None, titles=None):
    """Rows of original, noisy and denoised images (the first ``n`` of each).

    ``denoised`` may be one image set or a dict ``{name: images}`` (one row each).

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    outputs = denoised if isinstance(denoised, dict) else {"denoised": denoised}
    rows = [original[:n], noisy[:n], *(v[:n] for v in outputs.values())]
    names = ["original", "noisy", *outputs]
    return image_grid(rows, names, titles, image_shape=image_shape, path=path)


def plot_reconstructions(model, X, n=8, image_shape=None, path=None):
    """Rows of images and their reconstructions by ``model``.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    X = np.asarray(X)[:n]
    shape = image_shape or getattr(model, "image_shape_", None)
    return image_grid(
        [X, model.reconstruct(X)], ["input", "reconstruction"], image_shape=shape, path=path
    )


def plot_error_heatmaps(model, X, n=8, titles=None, image_shape=None, path=None, alpha=0.55):
    """Images, then their per-pixel reconstruction errors as heatmaps over the images.

    Parameters
    ----------
    model : fitted image autoencoder
        Its ``feature_scores`` gives the error maps.
    X : array-like
        The images (any supported layout).
    n : int, default=8
    titles : list of str, optional
        One title per image (e.g. its label or score).
    image_shape : tuple of 3 int, optional
    path : str or Path, optional
    alpha : float, default=0.55
        Opacity of the heatmap over the grayscale image.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    X = np.asarray(X)[:n]
    shape = image_shape or getattr(model, "image_shape_", None)
    shown = as_display(X, shape)
    gray = shown.mean(axis=-1) if shown.ndim == 4 else shown
    maps = np.asarray(model.feature_scores(X)).reshape(gray.shape)
    scores = -model.score_samples(X)
    fig, axes = _subplots(2, len(X), figsize=(1.8 * len(X) + 1, 3.8))
    vmax = float(np.percentile(maps, 99.5)) or 1.0
    for j in range(len(X)):
        axes[0, j].imshow(gray[j], cmap="gray")
        axes[1, j].imshow(gray[j], cmap="gray")
        heat = axes[1, j].imshow(maps[j], cmap="inferno", alpha=alpha, vmin=0, vmax=vmax)
        title = f"error {scores[j]:.3g}"
        if titles is not None:
            title = f"{titles[j]}\n{title}"
        axes[0, j].set_title(title, fontsize=8)
        for ax in axes[:, j]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("image", fontsize=9)
    axes[1, 0].set_ylabel("pixel error", fontsize=9)
    fig.colorbar(heat, ax=axes[1, :].tolist(), fraction=0.02, pad=0.01)
    return _save(fig, path)


def plot_samples(model, n=16, random_state=None, image_shape=None, path=None):
    """A square grid of images generated by a VAE's :meth:`sample`.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    samples = as_display(
        model.sample(n, random_state=random_state), image_shape or model.image_shape_
    )
    side = math.ceil(math.sqrt(n))
    rows = [samples[i : i + side] for i in range(0, n, side)]
    if len(rows[-1]) < side:  # pad the last row with blank panels
        blank = np.full_like(samples[:1], np.nan)
        rows[-1] = np.concatenate([rows[-1], *[blank] * (side - len(rows[-1]))])
    return image_grid(rows, vmin=float(np.nanmin(samples)), vmax=float(np.nanmax(samples)),
                      path=path)  # fmt: skip


def plot_latent_traversal(model, x, dims, values, image_shape=None, path=None):
    """What each of ``dims`` controls: :meth:`latent_traversal` of ``x``, one row per unit.

    Image models give a grid of images (rows: code units, columns: values); tabular
    models give one line plot per code unit, each column of the data a line.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    values = np.asarray(values, dtype=np.float64)
    traversals = [model.latent_traversal(x, d, values) for d in dims]
    if hasattr(traversals[0], "columns"):  # tabular: DataFrames
        fig, axes = _subplots(1, len(dims), figsize=(3.2 * len(dims) + 1, 3), sharey=True)
        for ax, d, frame in zip(axes[0], dims, traversals, strict=True):
            frame.plot(ax=ax, legend=False, marker=".")
            ax.set_xlabel(f"code unit z{d}")
        axes[0, -1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
        fig.tight_layout()
        return _save(fig, path)
    shape = image_shape or getattr(model, "image_shape_", None)
    return image_grid(
        traversals,
        [f"z{d}" for d in dims],
        [f"{v:.2g}" for v in values],
        image_shape=shape,
        vmin=float(np.min(traversals)),
        vmax=float(np.max(traversals)),
        path=path,
    )
