"""Input scalers of the estimators beyond scikit-learn's: :class:`MADScaler`."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.preprocessing import RobustScaler
from sklearn.utils.validation import FLOAT_DTYPES, validate_data

from ._sklearn_compat import Interval

#: The MAD of a normal distribution times this is its standard deviation, 1 / Phi^-1(3/4)
#: (the scores' statistics in ``scoring`` use it rounded to 1.4826).
MAD_TO_SD = 1.482602218505602


class MADScaler(RobustScaler):
    """Center on the median and scale by the median absolute deviation (MAD).

    A :class:`~sklearn.preprocessing.RobustScaler` whose scale is ``1.4826 * MAD``
    (the standard deviation on normal data) instead of the interquartile range, and at
    least ``floor`` times the column's standard deviation: a heavy-tailed column whose
    MAD is tiny next to its spread (a mass of equal values and a long tail) is not
    blown up into values thousands of units wide, which can make training diverge.
    Where the MAD is 0 (more than half the values equal, as in sparse or binary
    columns) the standard deviation is used, and 1 where that is 0 too.
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
        the MAD is 0, 1 where both are 0.
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
        self.center_ = center if self.with_centering else None
        self.scale_ = np.where(spread > 0, spread, 1.0) if self.with_scaling else None
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags
