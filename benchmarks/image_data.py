"""Offline image data for the image benchmarks: ``shared/data/images/*.npz`` (see SOURCES.md).

Nothing downloads. The data directory is ``$AE_ANOMALY_IMAGES`` when set, else
``../shared/data/images`` beside the repository.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

DATA_DIR = Path(
    os.environ.get(
        "AE_ANOMALY_IMAGES", Path(__file__).resolve().parents[2] / "shared" / "data" / "images"
    )
)
FILES = {
    "mnist": "mnist.npz",
    "fashion_mnist": "fashion_mnist.npz",
    "cifar10": "cifar10_jpeg_subset.npz",
    "elpv": "elpv_128.npz",
}


def require(names, prog, data_dir=None):
    """Exit with one line (``<prog>: error: ...``, status 2, as argparse does) when a file of
    the data sets ``names`` is missing, rather than a traceback at the first load."""
    folder = Path(data_dir or DATA_DIR)
    missing = [FILES.get(name, f"{name}.npz") for name in names]
    missing = [file for file in missing if not (folder / file).is_file()]
    if missing:
        print(
            f"{prog}: error: {', '.join(missing)} not found in {folder}: the image benchmarks "
            "read the offline copies in shared/data/images (set AE_ANOMALY_IMAGES to another "
            "folder).",
            file=sys.stderr,
        )
        raise SystemExit(2)


def load(name, data_dir=None):
    """``(X, y, is_test)`` of one data set: X uint8 images, y int labels, is_test bool."""
    path = Path(data_dir or DATA_DIR) / FILES[name]
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: the image benchmarks read the offline copies in "
            "shared/data/images (set AE_ANOMALY_IMAGES to another folder)."
        )
    with np.load(path) as d:
        is_test = d["is_test"].astype(bool) if "is_test" in d else np.zeros(len(d["y"]), bool)
        return d["X"], d["y"].astype(int), is_test


def to_unit(X):
    """uint8 images -> float32 in [0, 1], channels first: (n, C, H, W)."""
    X = X.astype(np.float32) / 255.0
    if X.ndim == 3:
        return X[:, None]
    return X.transpose(0, 3, 1, 2)


def downsample(X, factor):
    """Average-pool (n, C, H, W) images by an integer ``factor``."""
    if factor == 1:
        return X
    n, c, h, w = X.shape
    return X.reshape(n, c, h // factor, factor, w // factor, factor).mean(axis=(3, 5))


def stratified_subset(y, n, seed):
    """Indices of ``n`` items with (about) equal counts per label; all when ``n`` is 0."""
    if not n or n >= len(y):
        return np.arange(len(y))
    rng = np.random.RandomState(seed)
    labels = np.unique(y)
    per = n // len(labels)
    picks = [rng.permutation(np.flatnonzero(y == k))[:per] for k in labels]
    return np.sort(np.concatenate(picks))


def markdown_table(table, digits=1):
    """A DataFrame as a GitHub markdown table (index first), without extra packages."""
    header = [str(table.index.name or "")] + [str(c) for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, row in table.iterrows():
        cells = [f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join([str(index), *cells]) + " |")
    return "\n".join(lines)
