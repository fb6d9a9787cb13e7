"""Scoring: the two-part anomaly error, its scales fitted on the training rows, and the
estimators' scoring and encoding methods.

:meth:`_ScoringMixin.score_samples` divides each column's squared reconstruction error by
``error_scale`` and each code unit's squared distance from ``code_mean`` by ``code_scale``;
:func:`error_statistics` computes the three from the training rows (pure NumPy).
:class:`_ScoringMixin` holds every method of :class:`~ae_anomaly.models.base.BaseAutoencoder`
that reads a fitted network: scoring, ``offset_``, ``transform`` and its inverse.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.preprocessing import StandardScaler
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import check_array, check_is_fitted

from ..nn.losses import reconstruction_error
from ..nn.training import _caller_outside_package, predict_batches
from ._state import reads_model
from ._validation import check_int, row_label

#: MAD * 1.4826 estimates the standard deviation of normally distributed values.
MAD_TO_SD = 1.4826


def error_statistics(errors, codes, statistics="median", inputs=None):
    """``(error_scale, code_mean, code_scale)`` of the training rows' errors and codes.

    With ``"median"``, ``error_scale`` starts as each column's median squared error,
    ``code_mean`` is each code unit's median and ``code_scale`` starts as its squared MAD
    (scaled to a standard deviation; the standard deviation itself for a unit whose MAD is
    0, e.g. a sparse code). With ``"mean"``: the mean squared error, the mean and the
    variance. Each scale is then floored at 1e-3 times its average, so that a column
    reconstructed exactly cannot blow up the score. With ``"median"`` last, each part's
    scales are multiplied by that part's median over the rows, so that both parts have
    median 1 there (with ``"mean"`` each part averages about 1). Medians let the unlabeled
    outliers of the training rows barely move the scales. Last, each scale is at least
    ``eps`` (2.2e-16) times the mean square of the values it measures (the codes; the
    inputs and errors), its rounding: on training rows all alike (identical rows, one
    row) the spread is 0 or rounding, and dividing by it made a row's score depend on the
    rounding of the batch it was scored in, or reach -1e306.

    Parameters
    ----------
    errors : ndarray of shape (n_samples, n_features)
        Squared reconstruction errors of the (scaled) training rows.
    codes : ndarray of shape (n_samples, n_components)
    statistics : {"median", "mean"}, default="median"
    inputs : ndarray of shape (n_samples, n_features), default=None
        The (scaled) training rows, whose magnitude bounds the errors' rounding.

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
    >>> same = np.full((5, 2), 0.3)  # the codes of identical rows: a spread of rounding
    >>> error_statistics(errors[:5], same)[2] / (0.3**2 * np.finfo(float).eps)
    array([1., 1.])
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
    eps = np.finfo(np.float64).eps
    magnitude = np.mean(errors) + (0.0 if inputs is None else np.mean(np.square(inputs)))
    error_scale = np.maximum(error_scale, eps * magnitude + tiny)
    code_scale = np.maximum(code_scale, eps * np.mean(np.square(codes)) + tiny)
    return error_scale, code_mean, code_scale


def _positive_median(values):
    """Median of ``values``, or 1 when it is not a positive finite number (nothing to rescale)."""
    median = float(np.median(values))
    return median if math.isfinite(median) and median > 0 else 1.0


def _flag_unscorable(scores, X, what):
    """``scores`` with every non-finite value set to ``-inf``, warning how many rows and the
    first (its index label when ``X`` is a DataFrame)."""
    bad = ~np.isfinite(scores)
    if not bad.any():
        return scores
    label = row_label(X, int(np.flatnonzero(bad)[0]))
    warnings.warn(
        f"{int(bad.sum())} row(s) could not be scored: their values overflow to infinity or "
        f"NaN in the model's arithmetic (first: row {label}). They are {what}, the most "
        "anomalous score there is.",
        UserWarning,
        stacklevel=_caller_outside_package(),
    )
    return np.where(bad, -np.inf, scores)


def feature_scale(X):
    """Per-column standard deviation of the training rows ``X`` (the ``feature_scale_``
    that :meth:`_ScoringMixin.score` divides errors by); a constant column gets the median
    of the others' (1 when every column is constant), so that ``score`` does not depend on
    the data's units (images in 0-255 or in 0-1, with constant border pixels).

    Examples
    --------
    >>> import numpy as np
    >>> feature_scale(np.array([[0.0, 5.0], [2.0, 5.0]]))
    array([1., 1.])
    >>> feature_scale(np.array([[0.0, 5.0, 0.0], [4.0, 5.0, 8.0]]))
    array([2., 3., 4.])
    >>> feature_scale(np.array([[3.0, 5.0], [3.0, 5.0]]))
    array([1., 1.])
    """
    with np.errstate(over="ignore", invalid="ignore"):
        std = X.std(axis=0)
        tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(X.mean(axis=0)))
        constant = np.isfinite(std) & (std <= tiny)
    fill = float(np.median(std[~constant])) if (~constant).any() else 1.0
    return np.where(constant, fill if np.isfinite(fill) and fill > 0 else 1.0, std)


class _ScoringMixin:
    """The scoring, calibration and encoding methods of the autoencoder estimators."""

    def _calibrate(self, X_scaled):
        """What training rows give after training: the score's scales, then ``offset_``."""
        self._fit_error_statistics(X_scaled)
        self._set_offset(self._score_scaled(X_scaled))

    def _set_offset(self, scores):
        """``offset_`` from the training scores (see the ``contamination`` parameter)."""
        if self.contamination == "auto":
            # Tukey's fence on the reconstruction errors: Q3 + 1.5 * IQR, plus a hair
            # (1e-9 relative) so that identical rows scored a rounding apart, as batches
            # of other sizes do, are not flagged when the IQR is 0 (constant data).
            q1, q3 = np.percentile(-scores, [25, 75])
            self.offset_ = -float(q3 + 1.5 * (q3 - q1) + 1e-9 * (1.0 + abs(q3)))
        else:
            self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))

    def _reconstruction_error(self, module, X):
        """Per-sample mean squared reconstruction error of scaled inputs (early stopping)."""
        return reconstruction_error(module(X), X)

    def _fit_error_statistics(self, X_scaled):
        """Fit the scales of the two-part score on the training rows (see score_samples):
        ``error_scale_``, ``code_mean_`` and ``code_scale_`` by
        :func:`~ae_anomaly.models.scoring.error_statistics` with ``score_statistics``."""
        self.error_scale_ = self.code_mean_ = self.code_scale_ = None
        if not self._error_statistics:
            return

        def parts(module, x):
            code = module.encode(x)
            return torch.cat([(module.decode(code) - x).pow(2), code], dim=1)

        stats = predict_batches(parts, self.module_, X_scaled)
        errors, codes = stats[:, : X_scaled.shape[1]], stats[:, X_scaled.shape[1] :]
        self.error_scale_, self.code_mean_, self.code_scale_ = error_statistics(
            errors, codes, self.score_statistics, X_scaled
        )

    def _error_parts(self, module, X):
        """``(per-feature errors, per-sample code distance)`` of scaled inputs ``X``.

        Without fitted statistics (while training, or for models whose
        ``_error_statistics`` is False) these are the plain squared errors and zeros.
        """
        stats = self.__dict__.get("error_scale_")
        if stats is None:
            return (module(X) - X).pow(2), torch.zeros(X.shape[0], dtype=X.dtype, device=X.device)

        def constant(values):
            return torch.as_tensor(values, dtype=X.dtype, device=X.device)

        code = module.encode(X)
        errors = (module.decode(code) - X).pow(2) / constant(self.error_scale_)
        distance = (code - constant(self.code_mean_)).pow(2) / constant(self.code_scale_)
        return errors, distance.mean(dim=1)

    def _anomaly_error(self, module, X):
        """Per-sample anomaly error of scaled inputs (the negated score)."""
        errors, distance = self._error_parts(module, X)
        return errors.flatten(1).mean(dim=1) + distance

    def _score_scaled(self, X_scaled):
        return -predict_batches(self._anomaly_error, self.module_, X_scaled)

    def _checked(self, X):
        check_is_fitted(self)
        return self._validate_input(X, reset=False)

    def _scaled_input(self, X):
        """``X`` validated and scaled; values that overflow in the scaler become inf/NaN
        quietly here and are flagged on the scores (:func:`_flag_unscorable`)."""
        rows = self._checked(X)
        with np.errstate(over="ignore", invalid="ignore"):
            return self._scale(rows)

    def _pandas_output(self, values, X=None):
        """``values`` as a DataFrame with the training column names (``x0``, ``x1``...
        without names) when ``set_output(transform="pandas")`` is set, else as is; indexed
        like ``X`` when ``X`` is a DataFrame."""
        if _get_output_config("transform", self)["dense"] != "pandas":
            return values
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = [f"x{i}" for i in range(values.shape[1])]
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(values, columns=names, index=index)

    @reads_model
    def score_samples(self, X):
        """Opposite of the anomaly error: the higher, the more normal.

        The error has two parts, both measured after the estimator's internal scaling and
        both about 1 for a typical training row (with the default
        ``score_statistics="median"``, each part has median 1 over the training rows):

        - off the learned manifold: the squared difference between a row and its
          reconstruction, each column divided by its typical value on the training rows
          (median; "mean": mean), averaged over the columns (the Q or SPE statistic of PCA
          monitoring);
        - along it: the squared distance of the row's code from the central code (median;
          "mean": mean), each unit divided by its spread on the training rows (squared MAD;
          "mean": variance), averaged over the units (Hotelling's T^2 on the code).

        Medians and MADs keep the scales from being inflated by the unlabeled outliers of
        the training data.

        A ReLU network extrapolates linearly, so it can reconstruct rows lying far out along
        the manifold as well as typical ones; the second part still flags them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        A row that cannot be scored, because finite values overflow to infinity or NaN in
        the scaling or the network (e.g. 1e308), scores ``-inf``: the most anomalous row
        there is (:meth:`predict` gives -1), with a ``UserWarning`` naming how many rows and
        the first one (its index label for a DataFrame).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        scores = self._score_scaled(self._scaled_input(X))
        return _flag_unscorable(scores, X, "scored -inf")

    @reads_model
    def _quiet_scores(self, X):
        """:meth:`score_samples` without its warning: the table functions count the rows
        that cannot be scored over a whole stream and name the first by its file row."""
        scores = self._score_scaled(self._scaled_input(X))
        return np.where(np.isfinite(scores), scores, -np.inf)

    @reads_model
    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        decision : ndarray of shape (n_samples,)
        """
        return self.score_samples(X) - self.offset_

    @reads_model
    def predict(self, X):
        """+1 for inliers, -1 for outliers (where ``decision_function`` is negative).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype int
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    @reads_model
    def score(self, X, y=None):
        """Minus the mean squared reconstruction error in the training data's units of
        spread: lets ``GridSearchCV`` compare parameter settings without labels.

        Each column's error ``x - reconstruct(x)`` is divided by ``feature_scale_`` (that
        column's standard deviation on the training rows; the median of the others' for a
        constant column), which no parameter changes, so the score is on one scale for
        every setting of the estimator's parameters, unlike :meth:`score_samples`, whose
        scales are fitted per model. The higher, the better the model reconstructs ``X``.

        Limits: it rewards reconstruction only, so it cannot see the code-distance part of
        :meth:`score_samples`, and a network wide enough to copy its input (a code as wide as
        the data, no regularization) scores well while detecting badly; tune on held-out
        rows (as ``GridSearchCV`` does) and keep the code narrower than the input. The
        variational autoencoder is scored the same way, through the reconstruction of its
        posterior mean (not a likelihood). Rows that overflow score an infinite error
        (the result is then ``-inf``, with a warning).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float
        """
        rows = self._checked(X)
        scale = self._feature_scale()
        with np.errstate(over="ignore", invalid="ignore"):
            X_hat = self._unscale(self._reconstruct_scaled(self._scale(rows)))
            errors = (((rows - X_hat) / scale) ** 2).mean(axis=1)
        errors = -_flag_unscorable(-errors, X, "counted as an infinite error")
        return -float(np.mean(errors))

    def _feature_scale(self):
        """``feature_scale_``; for a model saved before it existed, the standard scaler's
        scale (the same numbers), else a clear error."""
        scale = self.__dict__.get("feature_scale_")
        if scale is None and isinstance(getattr(self, "scaler_", None), StandardScaler):
            scale = self.scaler_.scale_
        if scale is None:
            raise AttributeError(
                f"This {type(self).__name__} was saved before feature_scale_ existed and its "
                f"scaling={self.scaling!r} is not 'standard', so score() has no scale of the "
                "training data; refit it (score_samples, predict and the rest work as before)."
            )
        scale = np.asarray(scale, dtype=np.float64)
        if scale.shape != (self.n_features_in_,) or not np.all(np.isfinite(scale) & (scale > 0)):
            raise ValueError("feature_scale_ must hold one positive finite number per feature.")
        return scale

    def _reconstruct_scaled(self, X_scaled):
        return predict_batches(lambda module, x: module(x), self.module_, X_scaled)

    @reads_model
    def inverse_transform(self, X):
        """Decode latent codes back to the input space, in the original units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_codes)
            Codes, e.g. from :meth:`transform` (``n_components_`` columns; an ensemble's
            members' codes side by side).

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
        """
        check_is_fitted(self)
        codes = check_array(X, dtype=np.float64)
        if codes.shape[1] != self._n_features_out:
            raise ValueError(
                f"Codes have {codes.shape[1]} columns, but this model's codes have "
                f"{self._n_features_out} (n_components_={self.n_components_}; what "
                "transform gives)."
            )
        decoded = predict_batches(lambda module, z: module.decode(z), self.module_, codes)
        return self._pandas_output(self._unscale(decoded), X)

    @reads_model
    def reconstruct(self, X):
        """Reconstruct ``X`` through the autoencoder, in the original units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_hat : ndarray of shape (n_samples, n_features)
        """
        X_hat = self._unscale(self._reconstruct_scaled(self._scaled_input(X)))
        return self._pandas_output(X_hat, X)

    @reads_model
    def feature_scores(self, X):
        """Per-feature share of the anomaly error (after scaling): which columns are off.

        Each column's squared reconstruction error divided by its scale from the training
        rows (``error_scale_``), plus an equal share of the code distance (see
        :meth:`score_samples`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        errors : ndarray or DataFrame of shape (n_samples, n_features)
            A DataFrame with the training column names when the model was fitted on one.
            Each row's mean is the negated :meth:`score_samples`. A row that cannot be
            scored (its values overflow) is infinite in every column, with a warning.
        """
        X_scaled = self._scaled_input(X)

        def shares(module, x):
            errors, distance = self._error_parts(module, x)
            return errors + distance[:, None]

        errors = predict_batches(shares, self.module_, X_scaled)
        bad = ~np.isfinite(errors).all(axis=1)
        _flag_unscorable(np.where(bad, np.nan, 0.0), X, "given an infinite error per column")
        errors[bad] = np.inf
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            return errors
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(errors, columns=names, index=index)

    @reads_model
    def latent_traversal(self, x, dim, values):
        """Decode the code of ``x`` with code unit ``dim`` set to each of ``values``.

        The other code units keep ``x``'s values (for the VAE: its posterior mean), so the
        output shows what that one unit controls (a "latent perturbation").

        Parameters
        ----------
        x : array-like of shape (1, n_features)
            One sample, as a batch of one (image models: one image, e.g. ``(1, H, W)``).
        dim : int
            The code unit to vary, in ``[0, n_components_)``.
        values : array-like of float
            The values given to that unit.

        Returns
        -------
        decoded : DataFrame of shape (len(values), n_features_in_), or images
            One decoded row per value, indexed by the values, with the training column
            names (``x0``, ``x1``, ... when the model was fitted without names). Image
            models return images in their training layout.
        """
        check_int(dim, "dim")  # True would index every code unit
        codes = np.asarray(self.transform(x), dtype=np.float64)  # a DataFrame with pandas output
        if codes.shape[0] != 1:
            raise ValueError(f"x must hold one sample, got {codes.shape[0]}.")
        if not 0 <= dim < self.n_components_:
            raise ValueError(f"dim={dim} is not a code unit: n_components_={self.n_components_}.")
        values = np.asarray(values, dtype=np.float64).ravel()
        grid = np.repeat(codes, len(values), axis=0)
        grid[:, dim] = values
        return self._decoded_output(self.inverse_transform(grid), values, dim)

    def _decoded_output(self, decoded, values, dim):
        """Decoded rows as a DataFrame indexed by the traversed values (image models: as is)."""
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = [f"x{i}" for i in range(decoded.shape[1])]
        decoded = np.asarray(decoded)  # a DataFrame indexed 0..n-1 with pandas output
        return pd.DataFrame(decoded, columns=names, index=pd.Index(values, name=f"z{dim}"))

    @property
    def _n_features_out(self):
        return self.n_components_
