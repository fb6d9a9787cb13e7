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
from sklearn.covariance import LedoitWolf, MinCovDet
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import StandardScaler

import ae_anomaly
from ae_anomaly.models.base import BaseAutoencoder
from ae_anomaly.models.ensemble import EnsembleAutoencoder

#: Variants of :class:`EnsembleAutoencoder` measured with ``--levers``: one lever moved at
#: a time from the defaults of the lever sweep (``n_estimators=50, max_iter=20``), then the
#: cheaper sizes (``n_estimators`` 10 or 20) at each budget. Every variant names both
#: ``n_estimators`` and ``max_iter``, so that its rows stay valid whatever the defaults
#: are. See benchmarks/README.md, "Levers".
_SWEEP = {"n_estimators": 50, "max_iter": 20}
_SHIPPED = {"n_estimators": 20, "max_iter": 40}
ENSEMBLE_LEVERS = {
    "sweep base": _SWEEP,
    "max_features=1.0": {**_SWEEP, "max_features": 1.0},
    "max_features=0.5": {**_SWEEP, "max_features": 0.5},
    "max_samples=1024": {**_SWEEP, "max_samples": 1024},
    "max_iter=5": {**_SWEEP, "max_iter": 5},
    "max_iter=40": {**_SWEEP, "max_iter": 40},
    "n_estimators=10": {**_SWEEP, "n_estimators": 10},
    "no code distance": {**_SWEEP, "code_distance": False},
    "trim=0.1": {**_SWEEP, "trim": 0.1},
    "n_estimators=20": {**_SWEEP, "n_estimators": 20},
    "n_estimators=10+max_iter=40": {"n_estimators": 10, "max_iter": 40},
    "n_estimators=20+max_iter=40": {"n_estimators": 20, "max_iter": 40},
    # the score and the input scaling, moved one at a time from the shipped defaults
    # (scaling="mad", error_cap=16); "standard+cap=None" is the default before them
    "shipped": _SHIPPED,
    "scaling=standard": {**_SHIPPED, "scaling": "standard"},
    "scaling=robust": {**_SHIPPED, "scaling": "robust"},
    "scaling=minmax": {**_SHIPPED, "scaling": "minmax"},
    "scaling=standard+error_cap=None": {**_SHIPPED, "scaling": "standard", "error_cap": None},
    "error_cap=None": {**_SHIPPED, "error_cap": None},
    "error_cap=4": {**_SHIPPED, "error_cap": 4.0},
    "error_cap=64": {**_SHIPPED, "error_cap": 64.0},
}


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


class MCD:
    """Robust Mahalanobis distance from scikit-learn's ``MinCovDet`` (Rousseeuw, 1999).

    Fitted on at most ``max_rows`` rows (a seeded draw). Constant columns are dropped
    first. When the table has more than ``max_features`` columns, or MinCovDet fails or
    finds a singular robust covariance (binary or discrete columns often make the
    h-subset degenerate), the rows are first projected on their leading principal
    components (at most ``max_features``, and keeping 99.9% of the variance), and
    MinCovDet runs there. When that fails too, the distance uses
    Ledoit-Wolf's shrunk covariance instead; ``fallback_`` records what was used.
    """

    def __init__(self, random_state=None, max_features=50, max_rows=2000):
        self.random_state = random_state
        self.max_features = max_features
        self.max_rows = max_rows

    def fit(self, X):
        if len(X) > self.max_rows:  # FastMCD's C-steps on all rows cost seconds per fit
            rows = np.random.RandomState(self.random_state).choice(len(X), self.max_rows, False)
            X = X[rows]
        self.keep_ = np.ptp(X, axis=0) > 0
        X = X[:, self.keep_]
        self.projection_ = None
        self.fallback_ = "none"
        if X.shape[1] <= self.max_features:
            try:
                self.cov_ = self._mcd(X)
                return self
            except (ValueError, np.linalg.LinAlgError, FloatingPointError):
                pass
        limit = min(self.max_features, X.shape[1], X.shape[0] // 2)
        pca = PCA(n_components=limit, svd_solver="full").fit(X)
        k = int(np.searchsorted(np.cumsum(pca.explained_variance_ratio_), 0.999) + 1)
        self.projection_ = (pca.mean_, pca.components_[: min(k, limit)].T)
        self.fallback_ = "pca"
        Z = self._project(X)
        try:
            self.cov_ = self._mcd(Z)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            self.cov_ = LedoitWolf().fit(Z)
            self.fallback_ = "pca+ledoit-wolf"
        return self

    def _mcd(self, X):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "Determinant has increased": benign
            warnings.filterwarnings("error", message=".*not full rank.*")
            warnings.filterwarnings("error", message=".*[Ss]ingular.*")
            cov = MinCovDet(random_state=self.random_state).fit(X)
        if not np.all(np.isfinite(cov.precision_)):
            raise ValueError("non-finite robust precision")
        return cov

    def _project(self, X):
        if self.projection_ is None:
            return X
        mean, axes = self.projection_
        return (X - mean) @ axes

    def decision_function(self, X):
        return self.cov_.mahalanobis(self._project(X[:, self.keep_]))


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
    if EnsembleAutoencoder not in found:  # until ae_anomaly exports it
        found.append(EnsembleAutoencoder)
    return found


def _pyod_available():
    try:
        import pyod  # noqa: F401
    except ImportError:
        return False
    return True


def ensemble_levers():
    """:class:`EnsembleAutoencoder` with one lever moved, named ``Ensemble[<lever>]``."""
    return [
        Detector(f"Ensemble[{name}]", _seeded(EnsembleAutoencoder, **params), family="ae_anomaly")
        for name, params in ENSEMBLE_LEVERS.items()
    ]


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
        Detector("MCD", lambda seed: MCD(random_state=seed), method="decision_function", sign=1.0)
    )
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


def _seeded(cls, **params):
    return lambda seed: cls(random_state=seed, **params)


def _pyod(cls):
    return lambda seed: cls(random_state=seed, verbose=0)
