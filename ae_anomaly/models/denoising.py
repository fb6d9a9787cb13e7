"""The denoising autoencoder (Vincent et al., 2008)."""

import copy
from numbers import Real

import numpy as np
import torch
from sklearn.preprocessing import RobustScaler, StandardScaler

from ..nn.losses import corrupt, reconstruction_error
from ..nn.training import predict_batches
from ._docs import COMMON_ATTRIBUTES, COMMON_PARAMETERS
from ._sklearn_compat import Interval, StrOptions
from .base import BaseAutoencoder

DENOISE_ATTRIBUTES = """\
data_min_, data_max_ : ndarray of shape (n_features_in_,)
    Each column's smallest and largest value in the training data.
denoise_min_, denoise_max_ : ndarray of shape (n_features_in_,)
    What :meth:`denoise` clips each column to: the training extreme where at least 1%
    of the training rows sit exactly on it (a bound, like 0 for pixels), else the
    extreme moved out by half the column's training range.
denoise_weight_ : ndarray of shape (n_features_in_,)
    Per column, the share of the reconstruction in :meth:`denoise`'s output (0 keeps
    the input, 1 is :meth:`reconstruct`): the smaller of two least-squares weights, on
    rows corrupted as in training and at half that ``noise_level``; the rows are the
    held-out validation rows when ``fit`` has at least 20 of them, else the training rows.
"""


class DenoisingAutoencoder(BaseAutoencoder):
    __doc__ = f"""Denoising autoencoder: reconstructs a clean row from a corrupted copy.

While training, each batch is corrupted (Gaussian noise or masking) and the network
learns to restore the clean rows; scoring and ``reconstruct`` use uncorrupted inputs.
The corruption is a regularizer: the model cannot simply copy its input, so an
overcomplete code is allowed without a warning.

:meth:`denoise` does not amplify noise of the kind it was trained for, at its size or
half of it: each column of its output is the noisy input moved towards the
reconstruction by a share fitted on held-out training rows corrupted that way
(``denoise_weight_``: the smaller of the least-squares shares at the trained level and
at half of it), then clipped: to the training extreme where it is a bound (at
least 1% of the rows sit on it, like 0 for pixels), else at most half the column's
training range past it. With "standard" or "robust" scaling each
column's scale is at least 0.1 times its range in the training data, so a near-constant
column (a border pixel) does not blow noise up. On sklearn's digits (pixels / 16),
defaults cut Gaussian noise of sigma 0.1 / 0.3 / 0.5 by 2.2 / 3.0 / 3.9 dB
(``benchmarks/results/denoising_tabular_digits.md``); on two tables, at half the
trained noise, by +0.04 and +0.6 dB. The share is cautious: trained at the noise level
to remove, the DAE removes more.

Parameters
----------
noise : {{"gaussian", "masking"}}, default="gaussian"
    "gaussian" adds N(0, noise_level^2) to the scaled inputs, i.e. noise of
    ``noise_level`` times each column's scale (``scaler_.scale_``; the input's units
    with ``scaling=None``); "masking" sets each scaled input to zero (the column mean
    with standard scaling) with probability ``noise_level``.
noise_level : float, default=0.2
    Standard deviation of the Gaussian noise, or the masking probability (< 1).
{COMMON_PARAMETERS}
Attributes
----------
{COMMON_ATTRIBUTES}{DENOISE_ATTRIBUTES}
See Also
--------
Autoencoder : The same network without corruption.

References
----------
Vincent, Larochelle, Bengio and Manzagol (2008), "Extracting and composing robust
features with denoising autoencoders", ICML.

Examples
--------
>>> import numpy as np
>>> from ae_anomaly import DenoisingAutoencoder
>>> rng = np.random.RandomState(0)
>>> X = rng.normal(size=(200, 5))
>>> X[:, 1] = 2 * X[:, 0]
>>> dae = DenoisingAutoencoder(noise="masking", max_iter=50, random_state=0).fit(X)
>>> dae.predict(np.array([[3.0, -6.0, 0.0, 0.0, 0.0]]))
array([-1])

Denoising images of digits, pixels in [0, 1]:

>>> from sklearn.datasets import load_digits
>>> pixels = load_digits().data / 16
>>> dae = DenoisingAutoencoder(random_state=0).fit(pixels[:1000])
>>> clean = pixels[1000:]
>>> noisy = clean + 0.3 * np.random.RandomState(1).normal(size=clean.shape)
>>> denoised = dae.denoise(noisy)
>>> def error(x):
...     return ((x - clean) ** 2).sum()
>>> gain = 10 * np.log10(error(noisy) / error(denoised))  # SNR gain, dB: 3.2 here
>>> bool(gain > 2)
True
>>> bool(np.all((denoised >= dae.denoise_min_) & (denoised <= dae.denoise_max_)))
True
>>> float((dae.denoise_min_ == 0).mean())  # 0 is a bound of (almost) every pixel
0.984375
"""

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "noise": [StrOptions({"gaussian", "masking"})],
        "noise_level": [Interval(Real, 0, None, closed="neither")],
    }
    _regularized = True

    def __init__(
        self,
        *,
        noise="gaussian",
        noise_level=0.2,
        hidden_layer_sizes=None,
        n_components=None,
        activation="relu",
        dropout=0.0,
        scaling="standard",
        max_iter=20,
        batch_size="auto",
        learning_rate_init=1e-2,
        alpha=0.0,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        contamination="auto",
        score_statistics="median",
        device="auto",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            n_components=n_components,
            activation=activation,
            dropout=dropout,
            scaling=scaling,
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            alpha=alpha,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            contamination=contamination,
            score_statistics=score_statistics,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
        self.noise = noise
        self.noise_level = noise_level

    def _training_loss(self, module, X, generator):
        noisy = corrupt(X, self.noise, self.noise_level, generator)
        return reconstruction_error(module(noisy), X)

    def _initialize(self, X, scaler):
        if self.noise != "gaussian" and self.noise_level >= 1:
            raise ValueError(
                f"noise_level={self.noise_level} masks every input; with noise={self.noise!r} "
                "it is the share of inputs corrupted and must be below 1."
            )
        super()._initialize(X, floored_scaler(scaler, X))
        n_features = X.shape[1]
        self.data_min_, self.data_max_ = np.full(n_features, np.inf), np.full(n_features, -np.inf)
        self._extremes = np.zeros((3, n_features))  # rows at the min, at the max; rows seen

    def _scale_for_training(self, rows, X=None):
        if len(rows) and "_extremes" in self.__dict__:  # every training chunk widens it
            self.data_min_, self.data_max_, self._extremes = _widen_range(
                self.data_min_, self.data_max_, self._extremes, rows
            )
        return super()._scale_for_training(rows, X)

    def _validation_split(self, X):
        X_train, X_val = super()._validation_split(X)
        self._held_out = X_val  # fit: denoise_weight_ is fitted on rows not trained on
        return X_train, X_val

    def _calibrate(self, X_scaled):
        super()._calibrate(X_scaled)
        if "_extremes" not in self.__dict__:  # a model saved before denoise clipped
            return
        self.denoise_min_, self.denoise_max_ = clip_bounds(
            self.data_min_, self.data_max_, self._extremes
        )
        held_out = self.__dict__.pop("_held_out", None)
        rows = X_scaled if held_out is None or len(held_out) < MIN_HELD_OUT else held_out
        self.denoise_weight_ = self._blend_weights(rows)

    def _blend_weights(self, X_scaled):
        """Per column, the smaller of two least-squares weights ``w`` for ``noisy + w *
        (reconstruction - noisy)`` against the clean rows: one with the rows corrupted as
        in training, one at half that noise level (a fixed seed, at most
        :data:`BLEND_ROWS` rows). See :func:`shrinkage`."""
        if len(X_scaled) > BLEND_ROWS:
            keep = np.random.RandomState(0).choice(len(X_scaled), BLEND_ROWS, replace=False)
            X_scaled = X_scaled[np.sort(keep)]
        generator = torch.Generator(device=self.device_).manual_seed(0)

        def moments(module, x):
            stats = []
            for level in (self.noise_level, BLEND_WEAKER * self.noise_level):
                noisy = corrupt(x, self.noise, level, generator)
                noise, change = noisy - x, module(noisy) - noisy
                stats += [-(noise * change), change.pow(2)]
            return torch.cat(stats, dim=1)

        draws = max(1, min(BLEND_DRAWS, BLEND_ROWS // len(X_scaled)))
        stats = predict_batches(moments, self.module_, np.tile(X_scaled, (draws, 1))).sum(axis=0)
        trained, weaker = np.split(stats, 2)
        return np.minimum(shrinkage(*np.split(trained, 2)), shrinkage(*np.split(weaker, 2)))

    def _denoised(self, X):
        """Denoised rows of ``X`` in the input's units (see :meth:`denoise`)."""
        X_scaled = self._scaled_input(X)
        X_hat = self._reconstruct_scaled(X_scaled)
        weight = getattr(self, "denoise_weight_", None)
        if weight is None:  # a model saved before denoise blended and clipped
            return self._unscale(X_hat)
        with np.errstate(over="ignore", invalid="ignore"):
            blended = self._unscale(X_scaled + weight * (X_hat - X_scaled))
        return np.clip(blended, self.denoise_min_, self.denoise_max_)

    def denoise(self, X):
        """Return the denoised ``X``, in the original units.

        Each column is the noisy input moved towards its reconstruction by the column's
        ``denoise_weight_`` (least-squares on held-out training rows corrupted as in
        training, the smaller of the shares at ``noise_level`` and at half of it; 0 keeps
        the input, 1 is :meth:`reconstruct`), then
        clipped to ``[denoise_min_, denoise_max_]``: the training extreme where it is a
        bound, else half the column's training range past it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_clean : ndarray of shape (n_samples, n_features)
        """
        return self._pandas_output(self._denoised(X), X)


#: Floor on each column's scale, as a share of the column's range in the training rows.
SCALE_FLOOR = 0.1
#: Rows (at most) on which ``denoise_weight_`` is fitted.
BLEND_ROWS = 10_000
#: Fewest held-out rows ``denoise_weight_`` is fitted on; with fewer, the training rows.
MIN_HELD_OUT = 20
#: Noise draws per row when fitting ``denoise_weight_``.
BLEND_DRAWS = 8
#: ``denoise_weight_`` is also fitted at this share of ``noise_level`` and the smaller
#: weight kept: a weight fitted at the trained level alone over-trusts the reconstruction
#: when the input is less noisy than in training (and loses to the noisy input).
BLEND_WEAKER = 0.5


#: A side of a column is a bound (pixels at 0 or 1, counts at 0) when at least this share
#: of the training rows sits exactly at that extreme.
BOUND_SHARE = 0.01
#: How far past the training extreme ``denoise`` may go on a side that is not a bound, as a
#: share of the column's training range.
RANGE_MARGIN = 0.5


def _column_range(X):
    return X.min(axis=0).astype(np.float64), X.max(axis=0).astype(np.float64)


def _widen_range(low, high, extremes, rows):
    """``(low, high, extremes)`` updated with ``rows``: extremes holds, per column, the
    rows seen at the smallest value, at the largest, and all rows seen."""
    row_low, row_high = _column_range(rows)
    new_low, new_high = np.minimum(low, row_low), np.maximum(high, row_high)
    at_low = np.where(low == new_low, extremes[0], 0) + (rows == new_low).sum(axis=0)
    at_high = np.where(high == new_high, extremes[1], 0) + (rows == new_high).sum(axis=0)
    return new_low, new_high, np.vstack([at_low, at_high, extremes[2] + len(rows)])


def clip_bounds(low, high, extremes, share=BOUND_SHARE, margin=RANGE_MARGIN):
    """``(denoise_min_, denoise_max_)``: each column's training extreme where at least
    ``share`` of the rows sit exactly on it (a bound: 0 for pixels), else the extreme
    moved out by ``margin`` times the column's range (a sample's extreme is no bound: new
    rows of a heavy-tailed column pass it).

    Examples
    --------
    >>> import numpy as np
    >>> low, high = np.array([0.0, 10.0]), np.array([1.0, 20.0])
    >>> extremes = np.array([[500, 1], [300, 1], [1000, 1000]])  # at min, at max, rows
    >>> clip_bounds(low, high, extremes)
    (array([0., 5.]), array([ 1., 25.]))
    """
    bound_low, bound_high = extremes[:2] >= share * extremes[2]
    span = high - low
    return (
        np.where(bound_low, low, low - margin * span),
        np.where(bound_high, high, high + margin * span),
    )


def floored_scaler(scaler, X, floor=None):
    """A copy of a fitted standard or robust ``scaler`` whose per-column divisor is at
    least ``floor`` (default :data:`SCALE_FLOOR`) times the column's range in ``X``
    (``scaler`` itself when nothing changes).

    A near-constant column (e.g. a border pixel, 0 but in a few images) has a tiny
    standard deviation: divided by it, any noise on that column becomes huge and the
    network has never seen such values. The floor caps that blow-up at ``1 / floor``
    times the column's range; a column spread like a Gaussian (range about 6 standard
    deviations) is left as it is.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> X = np.zeros((100, 2))
    >>> X[:, 0] = np.arange(100) % 2
    >>> X[0, 1] = 1.0  # one non-zero value: standard deviation 0.0995
    >>> StandardScaler().fit(X).scale_.round(4)
    array([0.5   , 0.0995])
    >>> floored_scaler(StandardScaler().fit(X), X).scale_.round(4)  # 0.1 x the range 1
    array([0.5, 0.1])
    >>> floored_scaler(StandardScaler().fit(X), X, floor=0.2).scale_.round(4)
    array([0.5, 0.2])
    """
    if not isinstance(scaler, StandardScaler | RobustScaler) or scaler.scale_ is None:
        return scaler
    low, high = _column_range(X)
    floor = SCALE_FLOOR if floor is None else floor
    scale = np.maximum(scaler.scale_, floor * (high - low))
    if np.array_equal(scale, scaler.scale_):
        return scaler
    scaler = copy.deepcopy(scaler)
    scaler.scale_ = scale
    return scaler


def shrinkage(cross, change_power):
    """Per-column blend weights in [0, 1] from summed moments over corrupted rows.

    With ``noise = noisy - clean`` and ``change = reconstruction - noisy``, the squared
    error of ``noisy + w * change`` is ``sum((noise + w * change) ** 2)``, least at
    ``w = -sum(noise * change) / sum(change ** 2)`` (``cross`` and ``change_power``); the
    weight is clipped to [0, 1] (0 where nothing changes).

    Examples
    --------
    >>> import numpy as np
    >>> shrinkage(np.array([1.0, 3.0, -1.0, 0.0]), np.array([2.0, 2.0, 1.0, 0.0]))
    array([0.5, 1. , 0. , 0. ])
    """
    safe = np.where(change_power > 0, change_power, 1.0)
    return np.clip(np.where(change_power > 0, cross / safe, 0.0), 0.0, 1.0)
