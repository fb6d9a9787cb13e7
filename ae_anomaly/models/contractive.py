"""The contractive autoencoder (Rifai et al., 2011)."""

from numbers import Real

import torch

from ..nn.losses import jacobian_frobenius, reconstruction_error
from ..nn.training import predict_batches
from ._docs import COMMON_ATTRIBUTES, COMMON_PARAMETERS
from ._sklearn_compat import Interval
from .base import BaseAutoencoder


class ContractiveAutoencoder(BaseAutoencoder):
    __doc__ = f"""Contractive autoencoder: codes that resist small changes of the input.

The training loss is the reconstruction error plus ``contraction`` times the squared
Frobenius norm of the encoder's Jacobian ``||dh/dx||_F^2`` at each training row. The
penalty is exact: in closed form for the default one-hidden-layer encoder (ReLU, tanh,
logistic or identity), otherwise by reverse-mode autodiff vectorized over the batch (one
backward pass per code unit), for any depth and activation. The penalty flattens the
code around the data, so the code may be overcomplete without a warning.

Parameters
----------
contraction : float, default=0.1
    Weight of the Jacobian penalty (lambda in Rifai et al.); 0 gives a plain autoencoder.
{COMMON_PARAMETERS}
Attributes
----------
{COMMON_ATTRIBUTES}
See Also
--------
Autoencoder : The undercomplete autoencoder.
DenoisingAutoencoder : Robustness to finite input noise instead of infinitesimal changes.

Notes
-----
With one hidden layer the penalty costs one ``hidden x hidden`` matrix per batch: on
InternetAds (1,555 columns) a 1,024-row training step took 100 ms against 76 ms without
the penalty. Deeper encoders take one vectorized backward pass per code unit, so an
epoch costs more, growing with ``n_components`` and the columns (2,300 ms for that
step). :meth:`jacobian_norm` gives the penalty per row after training.

References
----------
Rifai, Vincent, Muller, Glorot and Bengio (2011), "Contractive auto-encoders: explicit
invariance during feature extraction", ICML.

Examples
--------
>>> import numpy as np
>>> from ae_anomaly import ContractiveAutoencoder
>>> rng = np.random.RandomState(0)
>>> X = rng.normal(size=(200, 5))
>>> X[:, 1] = 2 * X[:, 0]
>>> cae = ContractiveAutoencoder(max_iter=50, random_state=0).fit(X)
>>> cae.predict(np.array([[3.0, -6.0, 0.0, 0.0, 0.0]]))
array([-1])
>>> cae.jacobian_norm(X[:2]).shape
(2,)
"""

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "contraction": [Interval(Real, 0, None, closed="left")],
    }
    _regularized = True

    def __init__(
        self,
        *,
        contraction=0.1,
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
        self.contraction = contraction

    def _training_loss(self, module, X, generator):
        loss = reconstruction_error(module(X), X)
        if self.contraction > 0:
            loss = loss + self.contraction * jacobian_frobenius(module.encoder, X)
        return loss

    def jacobian_norm(self, X):
        """Squared Frobenius norm of the encoder's Jacobian at each row (scaled inputs).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        norms : ndarray of shape (n_samples,)
        """
        X_scaled = self._scale(self._checked(X))
        # inference_mode would forbid the autodiff that the Jacobian needs.
        return predict_batches(
            _no_inference(lambda module, x: jacobian_frobenius(module.encoder, x)),
            self.module_,
            X_scaled,
        )


def _no_inference(fn):
    """Run ``fn`` with autograd enabled inside :func:`predict_batches`' inference mode."""

    def wrapped(module, x):
        with torch.inference_mode(False), torch.enable_grad():
            return fn(module, x.clone()).detach()

    return wrapped
