"""The sparse autoencoder: a sparsity penalty on the code (Ng, 2011)."""

from numbers import Real

from torch import nn

from ..nn.losses import kl_sparsity, l1_activity, reconstruction_error
from ._docs import COMMON_ATTRIBUTES, COMMON_PARAMETERS
from ._sklearn_compat import Interval, StrOptions
from .base import BaseAutoencoder


class SparseAutoencoder(BaseAutoencoder):
    __doc__ = f"""Sparse autoencoder: few code units are active for any one row.

The training loss is the reconstruction error plus ``sparsity_weight`` times a sparsity
penalty on the code. With ``sparsity="l1"`` the code goes through a ReLU and the penalty
is its mean absolute activation per row; with ``sparsity="kl"`` the code goes through a
sigmoid and the penalty is ``sum_j KL(sparsity_target || mean activation of unit j)``
over each batch. The penalty keeps the network from copying its input, so the code may be
overcomplete (``n_components >= n_features``) without a warning.

Parameters
----------
sparsity : {{"l1", "kl"}}, default="l1"
    The sparsity penalty: L1 activity on a ReLU code, or KL to a target mean activation
    on a sigmoid code.
sparsity_weight : float, default=1e-2
    Weight of the penalty; 0 gives a plain autoencoder with a ReLU or sigmoid code. The
    KL penalty is a sum over code units and usually wants a larger weight (0.1 to 3).
sparsity_target : float in (0, 1), default=0.05
    Target mean activation rho of each code unit (``sparsity="kl"`` only).
{COMMON_PARAMETERS}
Attributes
----------
{COMMON_ATTRIBUTES}
See Also
--------
Autoencoder : The undercomplete autoencoder.
ContractiveAutoencoder : Penalizes the encoder's Jacobian instead of its activations.

References
----------
Ng (2011), "Sparse autoencoder", CS294A lecture notes, Stanford University.

Examples
--------
>>> import numpy as np
>>> from ae_anomaly import SparseAutoencoder
>>> rng = np.random.RandomState(0)
>>> X = rng.normal(size=(200, 5))
>>> X[:, 1] = 2 * X[:, 0]
>>> sae = SparseAutoencoder(n_components=8, max_iter=50, random_state=0).fit(X)
>>> sae.transform(X[:3]).shape
(3, 8)
>>> bool((sae.transform(X) >= 0).all())  # a ReLU code
True
"""

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "sparsity": [StrOptions({"l1", "kl"})],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
    }
    _regularized = True

    def __init__(
        self,
        *,
        sparsity="l1",
        sparsity_weight=1e-2,
        sparsity_target=0.05,
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
        self.sparsity = sparsity
        self.sparsity_weight = sparsity_weight
        self.sparsity_target = sparsity_target

    def _build_module(self, n_features):
        module = super()._build_module(n_features)
        # The code passes through a ReLU (L1) or a sigmoid (KL, whose rho_hat needs (0, 1)).
        module.encoder.append(nn.ReLU() if self.sparsity == "l1" else nn.Sigmoid())
        return module

    def _training_loss(self, module, X, generator):
        codes = module.encode(X)
        if self.sparsity == "l1":
            penalty = l1_activity(codes)
        else:
            penalty = kl_sparsity(codes, self.sparsity_target)
        return reconstruction_error(module.decode(codes), X) + self.sparsity_weight * penalty
