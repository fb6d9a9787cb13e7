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

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_array, check_is_fitted

from ..nn.losses import reconstruction_error
from ..nn.training import predict_batches

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


class _ScoringMixin:
    """The scoring, calibration and encoding methods of the autoencoder estimators."""

    def _calibrate(self, X_scaled):
        """What training rows give after training: the score's scales, then ``offset_``."""
        self._fit_error_statistics(X_scaled)
        self._set_offset(self._score_scaled(X_scaled))

    def _set_offset(self, scores):
        """``offset_`` from the training scores (see the ``contamination`` parameter)."""
        if self.contamination == "auto":
            # Tukey's fence on the reconstruction errors: Q3 + 1.5 * IQR.
            q1, q3 = np.percentile(-scores, [25, 75])
            self.offset_ = -float(q3 + 1.5 * (q3 - q1))
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
            errors, codes, self.score_statistics
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

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return self._score_scaled(self._scale(self._checked(X)))

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

    def score(self, X, y=None):
        """Mean of ``score_samples(X)``: lets ``GridSearchCV`` tune without labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    def inverse_transform(self, X):
        """Decode latent codes back to the input space, in the original units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components_)
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
        """
        check_is_fitted(self)
        codes = check_array(X, dtype=np.float64)
        if codes.shape[1] != self.n_components_:
            raise ValueError(
                f"Codes have {codes.shape[1]} columns, but this model's code has "
                f"n_components_={self.n_components_}."
            )
        decoded = predict_batches(lambda module, z: module.decode(z), self.module_, codes)
        return self._unscale(decoded)

    def reconstruct(self, X):
        """Reconstruct ``X`` through the autoencoder, in the original units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_hat : ndarray of shape (n_samples, n_features)
        """
        X_scaled = self._scale(self._checked(X))
        return self._unscale(predict_batches(lambda module, x: module(x), self.module_, X_scaled))

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
            Each row's mean is the negated :meth:`score_samples`.
        """
        X_scaled = self._scale(self._checked(X))

        def shares(module, x):
            errors, distance = self._error_parts(module, x)
            return errors + distance[:, None]

        errors = predict_batches(shares, self.module_, X_scaled)
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            return errors
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(errors, columns=names, index=index)

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
        codes = self.transform(x)
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
        return pd.DataFrame(decoded, columns=names, index=pd.Index(values, name=f"z{dim}"))

    @property
    def _n_features_out(self):
        return self.n_components_
