"""Convolutional autoencoders for images: plain, denoising and variational.

Each class is its MLP counterpart with a convolutional network (``_build_module``) and
image inputs (``_validate_input``), both from :class:`_ConvMixin`: the objective, the
training loop and the scoring are inherited unchanged.
"""

from ..nn.conv_nets import conv_variational
from ._conv_base import _SHARED, CONV_ATTRIBUTES, CONV_PARAMETERS, _ConvMixin, _denoise
from ._docs import COMMON_ATTRIBUTES
from ._sklearn_compat import StrOptions
from .base import BaseAutoencoder
from .denoising import DENOISE_ATTRIBUTES, DenoisingAutoencoder
from .variational import VariationalAutoencoder


class ConvAutoencoder(_ConvMixin, BaseAutoencoder):
    __doc__ = f"""Convolutional autoencoder for images: anomaly scores and per-pixel error maps.

Like :class:`Autoencoder`, with a convolutional encoder and decoder around a dense code of
``n_components`` units. Takes 2-D rows of flattened pixels (with ``image_shape``, so it
fits in a Pipeline), ``(n, H, W)``, ``(n, H, W, C)`` or ``(n, C, H, W)`` arrays, uint8 or
float. ``score_samples`` is minus the mean pixel error (structural ``1 - SSIM`` by
default, see ``error``), ``feature_scores`` gives per-pixel error maps (where an image
is anomalous), ``reconstruct`` returns images shaped like the input.

Parameters
----------
{CONV_PARAMETERS}{_SHARED}
Attributes
----------
{CONV_ATTRIBUTES}{COMMON_ATTRIBUTES}
See Also
--------
ConvDenoisingAutoencoder : The same network trained to remove noise.
ConvVariationalAutoencoder : A convolutional VAE.
Autoencoder : The MLP counterpart for tabular rows.

Examples
--------
>>> import numpy as np
>>> from ae_anomaly import ConvAutoencoder
>>> rng = np.random.RandomState(0)
>>> images = (rng.uniform(size=(64, 12, 12)) * 60).astype(np.uint8)  # dark noise
>>> model = ConvAutoencoder(channels=(4, 8), max_iter=5, error="squared",
...                         random_state=0).fit(images)
>>> model.reconstruct(images[:2]).shape
(2, 12, 12)
>>> model.feature_scores(images[:2]).shape  # per-pixel error maps
(2, 12, 12)
>>> bright = np.full((1, 12, 12), 255, dtype=np.uint8)  # a change of brightness:
>>> bool(model.score_samples(bright)[0] < model.score_samples(images).min())  # "squared"
True
"""

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **_ConvMixin._conv_constraints,
    }

    def __init__(
        self,
        *,
        image_shape=None,
        channels=(32, 64),
        error="ssim",
        hidden_layer_sizes=None,
        n_components=None,
        activation="relu",
        dropout=0.0,
        scaling="global",
        max_iter=100,
        batch_size="auto",
        learning_rate_init=1e-3,
        alpha=0.0,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        contamination="auto",
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
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
        self.image_shape = image_shape
        self.channels = channels
        self.error = error


class ConvDenoisingAutoencoder(_ConvMixin, DenoisingAutoencoder):
    __doc__ = f"""Convolutional denoising autoencoder: restores clean images from corrupted ones.

While training, each batch is corrupted in the scaled space (with the default "global"
scaling, pixels in [0, 1]: ``noise_level=0.2`` is a noise of 0.2 * the pixel range) and
the network learns to restore the clean images. :meth:`denoise` returns cleaned images
in the input's shape, dtype and units: each pixel is the noisy input moved towards the
reconstruction by a share fitted on held-out training images corrupted as in training
(``denoise_weight_``: the smaller least-squares share, at ``noise_level`` or half of it),
then clipped to the pixel's training range where its ends are bounds (at least 1% of the
training images sit on them, as 0 and 1 usually do), else at most half the range past
them; noise of the trained kind, at its size or half of it, is not amplified.

Parameters
----------
noise : {{"gaussian", "masking", "salt_pepper"}}, default="gaussian"
    "gaussian" adds N(0, noise_level^2); "masking" sets pixels to 0 with probability
    ``noise_level``; "salt_pepper" sets a share ``noise_level`` of the pixels to 0 or
    1, half each (meant for the default [0, 1] "global" scaling).
noise_level : float, default=0.2
    Standard deviation of the Gaussian noise, or the share of corrupted pixels (< 1).
{CONV_PARAMETERS}{_SHARED}
Attributes
----------
{CONV_ATTRIBUTES}{COMMON_ATTRIBUTES}{DENOISE_ATTRIBUTES}
See Also
--------
ConvAutoencoder : The same network without corruption.
DenoisingAutoencoder : The MLP counterpart.

Examples
--------
>>> import numpy as np
>>> from ae_anomaly import ConvDenoisingAutoencoder
>>> rng = np.random.RandomState(0)
>>> images = (rng.uniform(size=(64, 12, 12, 3)) * 255).astype(np.uint8)
>>> model = ConvDenoisingAutoencoder(channels=(4, 8), max_iter=3, random_state=0)
>>> clean = model.fit(images).denoise(images[:5])
>>> clean.shape, clean.dtype
((5, 12, 12, 3), dtype('uint8'))
"""

    _parameter_constraints: dict = {
        **DenoisingAutoencoder._parameter_constraints,
        **_ConvMixin._conv_constraints,
        "noise": [StrOptions({"gaussian", "masking", "salt_pepper"})],
    }

    def __init__(
        self,
        *,
        noise="gaussian",
        noise_level=0.2,
        image_shape=None,
        channels=(32, 64),
        error="ssim",
        hidden_layer_sizes=None,
        n_components=None,
        activation="relu",
        dropout=0.0,
        scaling="global",
        max_iter=100,
        batch_size="auto",
        learning_rate_init=1e-3,
        alpha=0.0,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        contamination="auto",
        device="auto",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            noise=noise,
            noise_level=noise_level,
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
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
        self.image_shape = image_shape
        self.channels = channels
        self.error = error

    def denoise(self, X):
        """Return the denoised images, in the input's shape and units.

        Each pixel is the noisy input moved towards its reconstruction by
        ``denoise_weight_``, then clipped to ``[denoise_min_, denoise_max_]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or an array of images

        Returns
        -------
        X_clean : ndarray shaped like ``X``
            Each pixel within ``[denoise_min_, denoise_max_]``. Integer and bool inputs
            (e.g. uint8 images, binary masks) come back rounded, in their dtype (bool:
            True where a pixel rounds to 1, i.e. lies above 0.5); float inputs as
            float64. For the unrounded pixels, pass floats (``X.astype(np.float32)``).
        """
        return _denoise(self, X)


class ConvVariationalAutoencoder(_ConvMixin, VariationalAutoencoder):
    __doc__ = f"""Convolutional variational autoencoder for images.

The encoder's convolutions end in the mean and log-variance of q(z|x); the loss is the
negative ELBO of :class:`VariationalAutoencoder`, ``0.5 * ||x - decode(z)||^2 + beta *
KL``. Scores decode the posterior mean (deterministic); :meth:`sample` draws new images.

Parameters
----------
beta : float, default=0.01
    Weight of the KL term. The Gaussian decoder has unit variance, while "global" scaling
    puts pixels in [0, 1]; ``beta`` = sigma^2 makes it a decoder of pixel noise sigma
    (0.01: sigma = 0.1, a tenth of the pixel range). ``beta=1`` is the plain ELBO in
    those units and tends to switch most code units off.
{CONV_PARAMETERS}{_SHARED}
Attributes
----------
{CONV_ATTRIBUTES}{COMMON_ATTRIBUTES}
See Also
--------
ConvAutoencoder : The deterministic counterpart.
VariationalAutoencoder : The MLP counterpart.

Examples
--------
>>> import numpy as np
>>> from ae_anomaly import ConvVariationalAutoencoder
>>> rng = np.random.RandomState(0)
>>> images = rng.uniform(size=(64, 1, 8, 8))
>>> vae = ConvVariationalAutoencoder(channels=(4,), n_components=2, max_iter=3,
...                                  random_state=0).fit(images)
>>> vae.sample(3, random_state=0).shape
(3, 1, 8, 8)
"""

    _parameter_constraints: dict = {
        **VariationalAutoencoder._parameter_constraints,
        **_ConvMixin._conv_constraints,
    }
    _net = staticmethod(conv_variational)

    def __init__(
        self,
        *,
        beta=0.01,
        image_shape=None,
        channels=(32, 64),
        error="ssim",
        hidden_layer_sizes=None,
        n_components=None,
        activation="relu",
        dropout=0.0,
        scaling="global",
        max_iter=100,
        batch_size="auto",
        learning_rate_init=1e-3,
        alpha=0.0,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        contamination="auto",
        device="auto",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            beta=beta,
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
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
        self.image_shape = image_shape
        self.channels = channels
        self.error = error


_NOT_IMAGES = (
    "gives tabular rows whose width is not a square number of pixels; the image models "
    "refuse to guess an image shape for them (pass image_shape=(C, H, W) or images)"
)

#: scikit-learn checks the convolutional models cannot take, with the reason: pass it as
#: ``check_estimator(est, expected_failed_checks=EXPECTED_FAILED_CHECKS)``. Every other
#: check, including those on square widths (1 or 4 columns), passes.
EXPECTED_FAILED_CHECKS = {
    name: _NOT_IMAGES
    for name in (
        "check_array_api_input",
        "check_classifier_data_not_an_array",
        "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_dtype_object",
        "check_estimators_dtypes",
        "check_estimators_fit_returns_self",
        "check_estimators_nan_inf",
        "check_estimators_overwrite_params",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_fit2d_1sample",
        "check_fit2d_predict1d",
        "check_fit_check_is_fitted",
        "check_fit_idempotent",
        "check_fit_score_takes_y",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_n_features_in",
        "check_outliers_fit_predict",
        "check_outliers_train",
        "check_pipeline_consistency",
        "check_readonly_memmap_input",
        "check_transformer_data_not_an_array",
        "check_transformer_general",
        "check_transformer_n_iter",
        "check_transformer_preserve_dtypes",
    )
}
