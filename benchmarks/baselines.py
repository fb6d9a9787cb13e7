"""The detectors a benchmark compares, behind one tiny interface.

A :class:`Detector` has ``fit(X)`` and ``anomaly_score(X)`` (higher means more anomalous),
whatever sign convention the wrapped estimator uses. :func:`detectors` lists them all:
every tabular autoencoder that :mod:`ae_anomaly` exports, with default parameters; PCA
as PyOD computes it (what ADBench ran); IsolationForest with 100 trees; and PyOD's
AutoEncoder and VAE with their defaults when PyOD is installed.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import StandardScaler

import ae_anomaly
from ae_anomaly.models.base import BaseAutoencoder


class Detector:
    """Adapter: ``make(seed)`` builds the estimator, ``sign`` turns its scores around.

    Parameters
    ----------
    name : str
        Row label in the result tables.
    make : callable ``seed -> estimator``
    method : str, default="score_samples"
        The estimator's scoring method.
    sign : float, default=-1.0
        ``anomaly_score = sign * estimator.method(X)``: -1 for scikit-learn's
        ``score_samples`` (higher is more normal), +1 for PyOD's ``decision_function``.
    family : str, default="baseline"
        "ae_anomaly", "baseline" or "pyod": how the tables group the rows.
    """

    def __init__(self, name, make, *, method="score_samples", sign=-1.0, family="baseline"):
        self.name = name
        self.make = make
        self.method = method
        self.sign = sign
        self.family = family
        self.estimator_ = None

    def build(self, seed):
        """Return a fresh, unfitted copy of this detector for ``seed``."""
        copy = Detector(self.name, self.make, method=self.method, sign=self.sign)
        copy.family = self.family
        copy.estimator_ = self.make(seed)
        return copy

    def fit(self, X):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.estimator_.fit(X)
        return self

    def anomaly_score(self, X):
        return self.sign * getattr(self.estimator_, self.method)(X)


class PyODPCA:
    """PCA outlier scores as PyOD's ``PCA`` (and so ADBench) computes them.

    Standardize the columns, fit a full PCA, and score a row by its Euclidean distances
    to every principal axis (as a point), each divided by that axis's explained variance
    ratio, summed (Shyu et al., 2003, as implemented by PyOD). ``svd_solver="full"``: with
    scikit-learn >= 1.5 the "auto" solver can return exact-zero variances on collinear
    data, and the division then overflows.
    """

    def fit(self, X):
        self.scaler_ = StandardScaler().fit(X)
        pca = PCA(svd_solver="full").fit(self.scaler_.transform(X))
        self.components_ = pca.components_
        self.weights_ = pca.explained_variance_ratio_
        return self

    def decision_function(self, X):
        distances = cdist(self.scaler_.transform(X), self.components_)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(distances / self.weights_, axis=1)


def tabular_autoencoders():
    """Every autoencoder class exported by :mod:`ae_anomaly` that takes plain tables.

    Image-only models (a ``_tabular = False`` class attribute, or constructor parameters
    naming an image shape) are skipped.
    """
    found = []
    for name in ae_anomaly.__all__:
        cls = getattr(ae_anomaly, name, None)
        if not (inspect.isclass(cls) and issubclass(cls, BaseAutoencoder)):
            continue
        params = inspect.signature(cls.__init__).parameters
        image_only = not getattr(cls, "_tabular", True) or any(
            p in params for p in ("image_shape", "input_shape", "in_channels")
        )
        if not image_only:
            found.append(cls)
    return found


def _pyod_available():
    try:
        import pyod  # noqa: F401
    except ImportError:
        return False
    return True


def detectors(include_pyod=True):
    """All detectors, in table order: ours first, then the baselines, then PyOD's.

    Parameters
    ----------
    include_pyod : bool, default=True
        Add PyOD's AutoEncoder and VAE (default parameters) when PyOD is importable.

    Returns
    -------
    list of Detector
    """
    found = [
        Detector(cls.__name__, _seeded(cls), family="ae_anomaly") for cls in tabular_autoencoders()
    ]
    found.append(Detector("PCA", lambda seed: PyODPCA(), method="decision_function", sign=1.0))
    found.append(
        Detector(
            "IsolationForest",
            lambda seed: IsolationForest(n_estimators=100, random_state=seed),
        )
    )
    if include_pyod and _pyod_available():
        from pyod.models.auto_encoder import AutoEncoder
        from pyod.models.vae import VAE

        for name, cls in (("PyOD-AutoEncoder", AutoEncoder), ("PyOD-VAE", VAE)):
            found.append(
                Detector(
                    name,
                    _pyod(cls),
                    method="decision_function",
                    sign=1.0,
                    family="pyod",
                )
            )
    return found


def _seeded(cls):
    return lambda seed: cls(random_state=seed)


def _pyod(cls):
    return lambda seed: cls(random_state=seed, verbose=0)
