"""Input scalers of the estimators beyond scikit-learn's: :class:`MADScaler`, and
:func:`resolve_constant_columns`, which tells a scikit-learn ``StandardScaler``'s
near-constant columns from the rounding of their values rather than by its error bound.
"""

from __future__ import annotations

import copy
from numbers import Real

import numpy as np
from sklearn.preprocessing import RobustScaler, StandardScaler
from sklearn.utils.validation import FLOAT_DTYPES, validate_data

from ._sklearn_compat import Interval

#: The MAD of a normal distribution times this is its standard deviation, 1 / Phi^-1(3/4)
#: (the scores' statistics in ``scoring`` use it rounded to 1.4826).
MAD_TO_SD = 1.482602218505602
#: A column whose standard deviation is at most this many roundings of its values
#: (``eps * |center|``) varies by rounding alone: it is a constant.
ROUNDING_ULPS = 10
#: A constant column is divided by ``max(1, |center| * CONSTANT_SCALE)``: 1 for ordinary
#: values (scikit-learn's choice), and for huge ones (epoch nanoseconds, 64-bit counters)
#: a divisor that keeps their rounding, hundreds of units wide there, near 0 once scaled.
CONSTANT_SCALE = 2.0**-32


def is_rounding(spread, center):
    """Whether a column's ``spread`` (a standard deviation, or a MAD) is within the
    rounding of values around ``center``: :data:`ROUNDING_ULPS` float64 roundings, or none at all.

    Examples
    --------
    >>> is_rounding(np.array([0.0, 1e-15, 1e-13, 3e4, 100.0]), np.array([0, 1, 1, 1.7e18, 1e18]))
    array([ True,  True, False, False,  True])
    """
    return spread <= ROUNDING_ULPS * np.finfo(np.float64).eps * np.abs(center)


def constant_scale(center):
    """The divisor of a constant column whose values are about ``center``.

    Examples
    --------
    >>> constant_scale(np.array([0.0, -3.0, 2.0**60]))
    array([1.00000000e+00, 1.00000000e+00, 2.68435456e+08])
    """
    return np.maximum(1.0, np.abs(center) * CONSTANT_SCALE)


def resolve_constant_columns(scaler):
    """A copy of a fitted ``StandardScaler`` whose ``scale_`` is each column's standard
    deviation unless that is within the rounding of its values (:func:`is_rounding`), and
    :func:`constant_scale` there (``scaler`` itself when nothing changes, or for any
    other scaler).

    scikit-learn deems a column constant when its variance is under the error bound of
    its computation, ``(n_samples * mean * eps) ** 2``: a column of large values with a
    small spread (epoch nanoseconds within 100 microseconds, ``1e12 + noise``) is then
    scaled by 1, and its spread, 1e5 units wide, swamps every other column. Its variance
    is computed precisely enough (about the mean, in two passes) to be used as it is.

    Examples
    --------
    >>> X = np.column_stack([1.7e18 + np.arange(0.0, 1e5, 1e3), np.full(100, 2.0**60)])
    >>> StandardScaler().fit(X).scale_
    array([1., 1.])
    >>> resolve_constant_columns(StandardScaler().fit(X)).scale_.round().tolist()
    [28864.0, 268435456.0]
    """
    if type(scaler) is not StandardScaler or scaler.scale_ is None or scaler.mean_ is None:
        return scaler
    std = np.sqrt(scaler.var_)
    scale = np.where(is_rounding(std, scaler.mean_), constant_scale(scaler.mean_), std)
    if np.array_equal(scale, scaler.scale_):
        return scaler
    scaler = copy.deepcopy(scaler)
    scaler.scale_ = scale
    return scaler


class MADScaler(RobustScaler):
    """Center on the median and scale by the median absolute deviation (MAD).

    A :class:`~sklearn.preprocessing.RobustScaler` whose scale is ``1.4826 * MAD``
    (the standard deviation on normal data) instead of the interquartile range, and at
    least ``floor`` times the column's standard deviation: a heavy-tailed column whose
    MAD is tiny next to its spread (a mass of equal values and a long tail) is not
    blown up into values thousands of units wide, which can make training diverge.
    Where the MAD is 0 (more than half the values equal, as in sparse or binary
    columns) the standard deviation is used; a column where that scale is 0, or within
    the rounding of its values (:func:`is_rounding`), is a constant: divided by 1, or
    by :func:`constant_scale` for huge values.
    ``transform`` and ``inverse_transform`` are RobustScaler's: ``(X - center_) /
    scale_``.

    Parameters
    ----------
    floor : float, default=0.1
        Smallest scale, as a share of the column's standard deviation (0: none).
    with_centering : bool, default=True
        Subtract the median.
    with_scaling : bool, default=True
        Divide by the scale.
    copy : bool, default=True
        Copy the input rather than scale it in place.

    Attributes
    ----------
    center_ : ndarray of shape (n_features_in_,)
        Median of each column.
    scale_ : ndarray of shape (n_features_in_,)
        ``max(1.4826 * MAD, floor * std)`` of each column, its standard deviation where
        the MAD is 0, :func:`constant_scale` (1 but for huge values) where that is 0 or
        rounding.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, when they are all strings.

    See Also
    --------
    sklearn.preprocessing.RobustScaler : The same with the interquartile range.

    Examples
    --------
    >>> import numpy as np
    >>> from ae_anomaly import MADScaler
    >>> X = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0], [100.0, 1.0]])
    >>> scaler = MADScaler().fit(X)
    >>> scaler.center_, scaler.scale_.round(3)  # 0.1 x the std 39.0; the std 0.4
    (array([3., 0.]), array([3.901, 0.4  ]))
    >>> MADScaler(floor=0).fit(X).scale_.round(3)  # the MAD alone
    array([1.483, 0.4  ])
    """

    _parameter_constraints: dict = {
        "floor": [Interval(Real, 0, None, closed="left")],
        "with_centering": ["boolean"],
        "with_scaling": ["boolean"],
        "copy": ["boolean"],
    }

    def __init__(self, *, floor=0.1, with_centering=True, with_scaling=True, copy=True):
        self.floor = floor
        self.with_centering = with_centering
        self.with_scaling = with_scaling
        self.copy = copy

    def fit(self, X, y=None):
        """Compute the median and MAD of each column of ``X`` (NaN ignored).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data.
        y : None
            Ignored.

        Returns
        -------
        self : MADScaler
            The fitted scaler.
        """
        self._validate_params()
        X = validate_data(self, X, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan")
        # nanmedian loops over the columns in Python: only when there is a NaN
        has_nan = np.isnan(X).any()
        median_of, std_of = (np.nanmedian, np.nanstd) if has_nan else (np.median, np.std)
        center = median_of(X, axis=0)
        spread = MAD_TO_SD * median_of(np.abs(X - center), axis=0)
        std = std_of(X, axis=0)
        spread = np.where(spread > 0, np.maximum(spread, self.floor * std), std)
        spread = np.where(is_rounding(spread, center), constant_scale(center), spread)
        self.center_ = center if self.with_centering else None
        self.scale_ = np.where(spread > 0, spread, 1.0) if self.with_scaling else None
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags
