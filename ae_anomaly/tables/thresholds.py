"""Anomaly scores and the cut that flags them: the one place where the sign flips.

The estimators follow scikit-learn: ``score_samples`` is higher for more normal rows and a
row is an outlier where ``score_samples < offset_``. Tables speak of the *anomaly score*,
``-score_samples`` (higher = more anomalous), flagged where it is above the *threshold*,
``-offset_`` unless a threshold or a contamination is given. :func:`anomaly_scores` and
:func:`decision_threshold` are the only two places that negate.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ParameterError

#: Training-score quantiles kept in a model file, for a contamination chosen when scoring.
N_QUANTILES = 1001


def anomaly_scores(model, X):
    """``-model.score_samples(X)``: the anomaly score, higher = more anomalous.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import IsolationForest
    >>> X = np.random.RandomState(0).normal(size=(50, 2))
    >>> forest = IsolationForest(random_state=0).fit(X)
    >>> bool((anomaly_scores(forest, X) == -forest.score_samples(X)).all())
    True
    """
    quiet = getattr(model, "_quiet_scores", None)  # the table functions count those rows
    return -(model.score_samples(X) if quiet is None else quiet(X))


def check_one_threshold(threshold=None, contamination=None):
    """Refuse a ``threshold`` and a ``contamination`` together: each sets the cut.

    Examples
    --------
    >>> check_one_threshold(threshold=1.5)
    >>> check_one_threshold(threshold=1.5, contamination=0.1)
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.errors.ParameterError: threshold and contamination exclude each other: ...
    """
    if threshold is not None and contamination is not None:
        raise ParameterError("{threshold} and {contamination} exclude each other: pass one.")
    # NaN flagged nothing; infinity not even the rows that could not be scored (infinite)
    if threshold is not None and not math.isfinite(threshold):
        raise ParameterError(f"{{threshold}} must be a finite number, got {threshold}.")


def decision_threshold(model, *, threshold=None, contamination=None, quantiles=None):
    """The anomaly-score cut: rows with ``anomaly_score > cut`` are anomalies.

    Parameters
    ----------
    model : estimator or Pipeline
        Fitted, with ``offset_`` (its last step has it).
    threshold : float, optional
        The cut itself, returned as given.
    contamination : float in (0, 0.5], optional
        Flag this fraction of the *training* rows: the cut is read from ``quantiles``.
    quantiles : list of float, optional
        Evenly spaced quantiles of the training anomaly scores (:func:`training_quantiles`);
        needed with ``contamination``.

    Returns
    -------
    cut : float
        ``threshold``, the contamination's quantile, or the model's own ``-offset_``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import IsolationForest
    >>> forest = IsolationForest(random_state=0).fit(np.random.RandomState(0).normal(size=(50, 2)))
    >>> decision_threshold(forest) == -forest.offset_
    True
    >>> decision_threshold(forest, threshold=0.7)
    0.7
    """
    check_one_threshold(threshold, contamination)
    if threshold is not None:
        return float(threshold)
    if contamination is not None:
        if quantiles is None:
            raise ParameterError(
                "{contamination} needs the training score quantiles, which only a model "
                "fitted on a table records."
            )
        return contamination_threshold(quantiles, contamination)
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    return -float(final.offset_)


def training_quantiles(scores):
    """``N_QUANTILES`` evenly spaced quantiles of the training anomaly scores."""
    return [float(q) for q in np.quantile(scores, np.linspace(0, 1, N_QUANTILES))]


def contamination_threshold(quantiles, contamination):
    """The anomaly-score threshold flagging ``contamination`` of the training rows.

    Examples
    --------
    >>> contamination_threshold(list(np.linspace(0, 1, N_QUANTILES)), 0.1)
    0.9
    """
    if not 0 < contamination <= 0.5:
        raise ParameterError(f"{{contamination}} must be in (0, 0.5], got {contamination!r}.")
    grid = np.linspace(0, 1, len(quantiles))
    return float(np.round(np.interp(1 - contamination, grid, quantiles), 12))


__all__ = [
    "N_QUANTILES",
    "anomaly_scores",
    "check_one_threshold",
    "contamination_threshold",
    "decision_threshold",
    "training_quantiles",
]
