"""The scales of the two-part anomaly error, fitted on the training rows.

:meth:`BaseAutoencoder.score_samples` divides each column's squared reconstruction error by
``error_scale`` and each code unit's squared distance from ``code_mean`` by ``code_scale``;
:func:`error_statistics` computes the three from the training rows. Pure NumPy.
"""

from __future__ import annotations

import math

import numpy as np

#: MAD * 1.4826 estimates the standard deviation of normally distributed values.
MAD_TO_SD = 1.4826


def error_statistics(errors, codes, statistics="median"):
    """``(error_scale, code_mean, code_scale)`` of the training rows' errors and codes.

    With ``"median"``, ``error_scale`` starts as each column's median squared error,
    ``code_mean`` is each code unit's median and ``code_scale`` starts as its squared MAD
    (scaled to a standard deviation; the standard deviation itself for a unit whose MAD is
    0, e.g. a sparse code). With ``"mean"``: the mean squared error, the mean and the
    variance. Each scale is then floored at 1e-3 times its average, so that a column
    reconstructed exactly cannot blow up the score. With ``"median"`` last, each part's
    scales are multiplied by that part's median over the rows, so that both parts have
    median 1 there (with ``"mean"`` each part averages about 1). Medians let the unlabeled
    outliers of the training rows barely move the scales.

    Parameters
    ----------
    errors : ndarray of shape (n_samples, n_features)
        Squared reconstruction errors of the (scaled) training rows.
    codes : ndarray of shape (n_samples, n_components)
    statistics : {"median", "mean"}, default="median"

    Returns
    -------
    error_scale : ndarray of shape (n_features,)
    code_mean, code_scale : ndarray of shape (n_components,)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> errors, codes = rng.exponential(size=(1000, 3)), rng.normal(size=(1000, 2))
    >>> clean = error_statistics(errors, codes)[0]
    >>> errors[:50] *= 1e6  # 5% gross outliers among the training rows
    >>> bool(np.all(error_statistics(errors, codes)[0] / clean < 1.2))  # barely moved
    True
    >>> bool(np.all(error_statistics(errors, codes, "mean")[0] / clean > 1e3))  # blown up
    True
    """
    if statistics == "median":
        error_scale = np.median(errors, axis=0)
        code_mean = np.median(codes, axis=0)
        spread = MAD_TO_SD * np.median(np.abs(codes - code_mean), axis=0)
        # a unit that is constant on most rows (e.g. a sparse ReLU code) has MAD 0
        spread = np.where(spread > 0, spread, codes.std(axis=0))
        code_scale = spread**2
    else:
        error_scale, code_mean, code_scale = (
            errors.mean(axis=0),
            codes.mean(axis=0),
            codes.var(axis=0),
        )
    tiny = np.finfo(np.float64).tiny
    error_scale = error_scale + 1e-3 * error_scale.mean() + tiny
    code_scale = code_scale + 1e-3 * code_scale.mean() + tiny
    if statistics == "median":
        error_scale = error_scale * _positive_median((errors / error_scale).mean(axis=1))
        distance = ((codes - code_mean) ** 2 / code_scale).mean(axis=1)
        code_scale = code_scale * _positive_median(distance)
    return error_scale, code_mean, code_scale


def _positive_median(values):
    """Median of ``values``, or 1 when it is not a positive finite number (nothing to rescale)."""
    median = float(np.median(values))
    return median if math.isfinite(median) and median > 0 else 1.0
