"""The denoising autoencoder (Vincent et al., 2008)."""

from numbers import Real

from ..nn.losses import corrupt, reconstruction_error
from ._docs import COMMON_ATTRIBUTES, COMMON_PARAMETERS
from ._sklearn_compat import Interval, StrOptions
from .base import BaseAutoencoder


class DenoisingAutoencoder(BaseAutoencoder):
    __doc__ = f"""Denoising autoencoder: reconstructs a clean row from a corrupted copy.

While training, each batch is corrupted (Gaussian noise or masking) and the network
learns to restore the clean rows; scoring and ``reconstruct`` use uncorrupted inputs.
The corruption is a regularizer: the model cannot simply copy its input, so an
overcomplete code is allowed without a warning.

Parameters
----------
noise : {{"gaussian", "masking"}}, default="gaussian"
    "gaussian" adds N(0, noise_level^2) to the scaled inputs; "masking" sets each
    scaled input to zero (the column mean with standard scaling) with probability
    ``noise_level``.
noise_level : float, default=0.2
    Standard deviation of the Gaussian noise, or the masking probability (< 1).
{COMMON_PARAMETERS}
Attributes
----------
{COMMON_ATTRIBUTES}
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

    def _initialize(self, X, scaler):
        if self.noise != "gaussian" and self.noise_level >= 1:
            raise ValueError(
                f"noise_level={self.noise_level} masks every input; with noise={self.noise!r} "
                "it is the share of inputs corrupted and must be below 1."
            )
        super()._initialize(X, scaler)

    def _training_loss(self, module, X, generator):
        noisy = corrupt(X, self.noise, self.noise_level, generator)
        return reconstruction_error(module(noisy), X)

    def denoise(self, X):
        """Return the denoised ``X``: its reconstruction, in the original units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_clean : ndarray of shape (n_samples, n_features)
        """
        return self.reconstruct(X)
