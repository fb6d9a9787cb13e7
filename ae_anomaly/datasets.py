"""Offline anomaly-detection tasks: scikit-learn's bundled datasets and synthetic data.

Nothing here downloads. Each task is a labelled array pair ``(X, y)`` with ``y == 1`` for
the anomalies, like ADBench's files, so the same benchmark code runs on both.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.utils import check_random_state

#: name -> (loader, the normal classes); every other class is a source of anomalies.
_SOURCES = {
    "breast_cancer": (load_breast_cancer, (1,)),  # benign normal, malignant anomalous
    "wine": (load_wine, (0, 1)),  # cultivars 1-2 normal, cultivar 3 anomalous
    "digits": (load_digits, (0, 1, 2, 3, 4, 5, 6, 7, 8)),  # the 9s are anomalies
}

TASKS = (*_SOURCES, "synthetic")


def load_task(name, *, anomaly_fraction=0.05, random_state=0):
    """Return ``(X, y)`` for an offline planted-anomaly task.

    All rows of the normal classes are kept, and anomalies from the other classes are
    drawn at random so that they make up ``anomaly_fraction`` of the result.

    Parameters
    ----------
    name : {"breast_cancer", "wine", "digits", "synthetic"}
        The source: a scikit-learn bundled dataset, or :func:`make_synthetic`.
    anomaly_fraction : float, default=0.05
        Share of anomalies in the returned data.
    random_state : int, RandomState instance or None, default=0
        Seeds the draw of anomalies.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        1 for anomalies, 0 for normal rows.

    Examples
    --------
    >>> from ae_anomaly.datasets import load_task
    >>> X, y = load_task("breast_cancer")
    >>> X.shape, int(y.sum())
    ((376, 30), 19)
    """
    rng = check_random_state(random_state)
    if name == "synthetic":
        return make_synthetic(anomaly_fraction=anomaly_fraction, random_state=rng)
    if name not in _SOURCES:
        raise ValueError(f"Unknown task {name!r}; choose one of {', '.join(TASKS)}.")
    loader, normal_classes = _SOURCES[name]
    X, target = loader(return_X_y=True)
    normal = np.isin(target, normal_classes)
    n_normal = int(normal.sum())
    n_anomalies = max(1, round(n_normal * anomaly_fraction / (1 - anomaly_fraction)))
    picked = rng.choice(np.flatnonzero(~normal), size=n_anomalies, replace=False)
    X = np.vstack([X[normal], X[picked]]).astype(np.float64)
    y = np.r_[np.zeros(n_normal, dtype=int), np.ones(n_anomalies, dtype=int)]
    order = rng.permutation(len(y))
    return X[order], y[order]


def load_split(name, *, contamination=0.05, test_size=0.3, random_state=0):
    """A planted-anomaly task split for unsupervised training and labelled testing.

    The normal rows are split ``1 - test_size`` / ``test_size``. The training part gets
    anomalies added so that they are ``contamination`` of it (detectors are fitted on
    unlabelled, contaminated data, as in practice); the test part gets every anomaly
    left over. Only scikit-learn's bundled datasets are used (no download).

    Parameters
    ----------
    name : {"breast_cancer", "wine", "digits"}
    contamination : float, default=0.05
        Share of anomalies in the training part.
    test_size : float, default=0.3
        Share of the normal rows kept for testing.
    random_state : int, RandomState instance or None, default=0

    Returns
    -------
    X_train : ndarray of shape (n_train, n_features)
    X_test : ndarray of shape (n_test, n_features)
    y_test : ndarray of shape (n_test,)
        1 for anomalies, 0 for normal rows.

    Examples
    --------
    >>> from ae_anomaly.datasets import load_split
    >>> X_train, X_test, y_test = load_split("breast_cancer")
    >>> X_train.shape, X_test.shape, int(y_test.sum())
    ((263, 30), (306, 30), 199)
    """
    rng = check_random_state(random_state)
    if name not in _SOURCES:
        raise ValueError(f"Unknown dataset {name!r}; choose one of {', '.join(_SOURCES)}.")
    loader, normal_classes = _SOURCES[name]
    X, target = loader(return_X_y=True)
    X = X.astype(np.float64)
    normal = rng.permutation(np.flatnonzero(np.isin(target, normal_classes)))
    anomalies = rng.permutation(np.flatnonzero(~np.isin(target, normal_classes)))
    n_test = round(len(normal) * test_size)
    n_train = len(normal) - n_test
    n_planted = max(1, round(n_train * contamination / (1 - contamination)))
    train = rng.permutation(np.r_[normal[n_test:], anomalies[:n_planted]])
    test = np.r_[normal[:n_test], anomalies[n_planted:]]
    y_test = np.r_[np.zeros(n_test, dtype=int), np.ones(len(test) - n_test, dtype=int)]
    return X[train], X[test], y_test


def make_synthetic(
    n_samples=1000, n_features=20, n_latent=3, *, anomaly_fraction=0.05, random_state=0
):
    """Normal rows on a noisy nonlinear low-dimensional manifold; anomalies off it.

    Normal rows are ``tanh(z W1) W2 + noise`` with ``z`` of dimension ``n_latent``, with
    columns on very different scales (raw, unscaled, like real tables). Anomalies take
    each column from an independent shuffle of the normal rows: every value is
    plausible on its own, only the joint structure is broken.

    Parameters
    ----------
    n_samples : int, default=1000
    n_features : int, default=20
    n_latent : int, default=3
    anomaly_fraction : float, default=0.05
    random_state : int, RandomState instance or None, default=0

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        1 for anomalies, 0 for normal rows.

    Examples
    --------
    >>> from ae_anomaly.datasets import make_synthetic
    >>> X, y = make_synthetic(n_samples=100, random_state=0)
    >>> X.shape, int(y.sum())
    ((100, 20), 5)
    """
    rng = check_random_state(random_state)
    n_anomalies = round(n_samples * anomaly_fraction)
    n_normal = n_samples - n_anomalies
    w1 = rng.normal(size=(n_latent, 2 * n_latent))
    w2 = rng.normal(size=(2 * n_latent, n_features))
    scales = 10.0 ** rng.uniform(-2, 3, size=n_features)

    def draw(n):
        z = rng.normal(size=(n, n_latent))
        return (np.tanh(z @ w1) @ w2 + 0.05 * rng.normal(size=(n, n_features))) * scales

    normal = draw(n_normal)
    pool = draw(n_anomalies)
    anomalies = np.column_stack([rng.permutation(pool[:, j]) for j in range(n_features)])
    X = np.vstack([normal, anomalies])
    y = np.r_[np.zeros(n_normal, dtype=int), np.ones(n_anomalies, dtype=int)]
    order = rng.permutation(n_samples)
    return X[order], y[order]
