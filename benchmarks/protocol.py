"""ADBench's unsupervised protocol: datasets, seeded resampling, split, scaling, metrics.

Han et al., "ADBench: Anomaly Detection Benchmark", NeurIPS 2022. Per seed (1, 2, 3):
seed numpy's and Python's global RNGs; bootstrap datasets with fewer than 1,000 rows up to
1,000 and subsample those with more than 10,000 rows down to 10,000; split 70/30,
stratified on the labels; fit a ``MinMaxScaler`` on the training part. Detectors are
fitted on the whole (contaminated, unlabeled) training part and scored on the test part.
"""

from __future__ import annotations

import random
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from ae_anomaly.datasets import TASKS, load_task

SEEDS = (1, 2, 3)
MIN_ROWS = 1_000
MAX_ROWS = 10_000
TEST_SIZE = 0.3


@dataclass(frozen=True)
class Dataset:
    """A named labelled dataset, loaded on demand (``y == 1`` marks the anomalies)."""

    name: str
    path: Path | None = None

    def load(self):
        """Return ``(X, y)`` as float64 and int arrays."""
        if self.path is None:
            X, y = load_task(self.name)
        else:
            with np.load(self.path, allow_pickle=False) as data:
                X, y = data["X"], data["y"]
        return np.asarray(X, dtype=np.float64), np.asarray(y).astype(int).ravel()

    def shape(self):
        """``(n_rows, n_features)`` of ``X``, read from the ``.npz`` header when possible."""
        if self.path is not None:
            with zipfile.ZipFile(self.path) as archive, archive.open("X.npy") as handle:
                version = np.lib.format.read_magic(handle)
                if version == (1, 0):
                    header = np.lib.format.read_array_header_1_0(handle)
                else:
                    header = np.lib.format.read_array_header_2_0(handle)
            shape = header[0]
        else:
            shape = self.load()[0].shape
        return shape[0], int(np.prod(shape[1:], dtype=int))


def adbench_suite(data_dir):
    """The ``.npz`` files of ``data_dir``, in ADBench's numeric order (``1_ALOI`` first)."""
    paths = sorted(Path(data_dir).glob("*.npz"), key=_adbench_order)
    if not paths:
        raise FileNotFoundError(f"No .npz dataset in {data_dir}.")
    return [Dataset(path.stem, path) for path in paths]


#: The two dataset folds of the cross-dataset figure, fixed once and for all: the datasets
#: in ADBench's numeric order (``1_ALOI``, ``2_annthyroid``, ``4_breastw``, ...; names
#: without a numeric prefix after them, alphabetically), alternately in fold "A" (1st,
#: 3rd, ...) and fold "B" (2nd, 4th, ...). Chosen before any result was looked at; on the
#: 36 classical sets it gives 18 and 18.
FOLDS = ("A", "B")


def assign_folds(names):
    """``{name: "A" or "B"}``: alternate folds in ADBench's numeric order (see ``FOLDS``).

    Examples
    --------
    >>> assign_folds(["10_cover", "2_annthyroid", "1_ALOI", "4_breastw"])
    {'1_ALOI': 'A', '2_annthyroid': 'B', '4_breastw': 'A', '10_cover': 'B'}
    """
    ordered = sorted(set(names), key=lambda name: _adbench_order(Path(name)))
    return {name: FOLDS[i % 2] for i, name in enumerate(ordered)}


def offline_suite():
    """Planted-anomaly tasks from scikit-learn's bundled datasets: runs with no download."""
    return [Dataset(name) for name in TASKS]


def _adbench_order(path):
    prefix = path.stem.split("_", 1)[0]
    return (int(prefix), path.stem) if prefix.isdigit() else (10**9, path.stem)


def seed_everything(seed):
    """Seed numpy's and Python's global RNGs, as ADBench does before each step."""
    np.random.seed(seed)  # noqa: NPY002 (ADBench draws from the global RNG)
    random.seed(seed)


def split(X, y, seed):
    """One seed's ``(X_train, X_test, y_train, y_test)``, min-max scaled on the train part.

    Resampling and splitting draw from numpy's global RNG after :func:`seed_everything`,
    which is what makes the split match ADBench's.
    """
    seed_everything(seed)
    n = len(y)
    if n < MIN_ROWS:
        rows = np.random.choice(np.arange(n), MIN_ROWS, replace=True)  # noqa: NPY002
        X, y = X[rows], y[rows]
    elif n > MAX_ROWS:
        rows = np.random.choice(np.arange(n), MAX_ROWS, replace=False)  # noqa: NPY002
        X, y = X[rows], y[rows]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, shuffle=True, stratify=y
    )
    scaler = MinMaxScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def evaluate(detector, X_train, X_test, y_test, seed):
    """Fit ``detector`` on ``X_train``, score ``X_test``; metrics and seconds as a dict.

    ``detector`` is a :class:`benchmarks.baselines.Detector`: ``fit(X)`` and
    ``anomaly_score(X)`` (higher means more anomalous).
    """
    seed_everything(seed)
    start = time.perf_counter()
    detector.fit(X_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    scores = np.asarray(detector.anomaly_score(X_test), dtype=np.float64)
    score_s = time.perf_counter() - start
    if not np.all(np.isfinite(scores)):
        # Overflowing scores are clipped so that the metrics still compute.
        scores = np.nan_to_num(scores, nan=0.0, posinf=np.finfo(float).max, neginf=0.0)
    return {
        "roc_auc": roc_auc_score(y_test, scores),
        "aucpr": average_precision_score(y_test, scores),
        "fit_s": fit_s,
        "score_s": score_s,
    }
