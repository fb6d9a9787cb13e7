"""The stacked autoencoder: greedy layer-wise pretraining, then fine-tuning."""

from numbers import Integral

import torch
from torch import nn

from ..nn.losses import reconstruction_error
from ..nn.nets import ACTIVATIONS, AutoencoderNet, Dropout
from ..nn.training import make_optimizer, predict_batches
from ._docs import COMMON_ATTRIBUTES, COMMON_PARAMETERS
from ._sklearn_compat import Interval
from .base import BaseAutoencoder


class StackedAutoencoder(BaseAutoencoder):
    __doc__ = f"""Stacked autoencoder: greedy layer-wise pretraining, then end-to-end fine-tuning.

The deep network is the same as :class:`Autoencoder`'s. Before the usual end-to-end
training, each encoder layer and its mirror decoder layer are trained as a shallow
autoencoder on the codes of the (already trained) layer below: first the input layer on
the scaled inputs, then the next one on its codes, up to the code layer. Every stage runs
the same training loop (:func:`~ae_anomaly.nn.training.fit_epochs`) with the same
optimizer, batch size and stopping rule as the fine-tuning.

Parameters
----------
pretrain_max_iter : int or None, default=None
    Maximum number of epochs of each pretraining stage; None uses ``max_iter``.
{COMMON_PARAMETERS}
Attributes
----------
{COMMON_ATTRIBUTES}pretrain_loss_curves_ : list of list of float
    Training loss per epoch of each pretraining stage, from the input layer up.
pretrain_validation_loss_curves_ : list of list of float or None
    Held-out loss per epoch of each stage (None without early stopping).
pretrain_n_iter_ : list of int
    Epochs run by each pretraining stage. ``n_iter_``, ``loss_curve_`` and
    ``validation_loss_curve_`` describe the fine-tuning stage.

See Also
--------
Autoencoder : The same network, trained end to end from a random start.

Notes
-----
``partial_fit`` pretrains each layer for one epoch on its first call; every call then
fine-tunes for one epoch. ``fit_stream`` (and :func:`ae_anomaly.fit_chunks`) pretrain on
the whole stream, each stage on the codes of the stages below.

References
----------
Bengio, Lamblin, Popovici and Larochelle (2007), "Greedy layer-wise training of deep
networks", NIPS. Vincent et al. (2010), "Stacked denoising autoencoders", JMLR.

Examples
--------
>>> import numpy as np
>>> from ae_anomaly import StackedAutoencoder
>>> rng = np.random.RandomState(0)
>>> X = rng.normal(size=(200, 6))
>>> X[:, 1] = 2 * X[:, 0]
>>> sae = StackedAutoencoder(hidden_layer_sizes=(8, 6), n_components=4, max_iter=30,
...                          random_state=0).fit(X)
>>> len(sae.pretrain_n_iter_)  # 6 -> 8, 8 -> 6, 6 -> 4
3
>>> sae.predict(np.array([[3.0, -6.0, 0.0, 0.0, 0.0, 0.0]]))
array([-1])
"""

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "pretrain_max_iter": [None, Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        pretrain_max_iter=None,
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
        self.pretrain_max_iter = pretrain_max_iter

    def _initialize(self, X, scaler):
        super()._initialize(X, scaler)
        self.pretrain_loss_curves_ = None

    def _train(self, batches, *, max_iter, X_val=None, stop_early=True, warn=True):
        if self.pretrain_loss_curves_ is None:
            stage_iter = max_iter if self.pretrain_max_iter is None else self.pretrain_max_iter
            self._pretrain(batches, X_val, min(stage_iter, max_iter), stop_early)
        super()._train(batches, max_iter=max_iter, X_val=X_val, stop_early=stop_early, warn=warn)

    def _stages(self, module):
        """One shallow autoencoder per layer of ``module``, from the input layer up.

        Each stage shares its ``Linear`` layers with ``module``: training a stage trains
        those layers of the deep network in place.
        """
        encoder = [m for m in module.encoder if isinstance(m, nn.Linear)]
        decoder = [m for m in module.decoder if isinstance(m, nn.Linear)][::-1]
        n_layers = len(encoder)

        def activation(on):
            if not on:
                return ()
            act = ACTIVATIONS[self.activation]()
            return (act, Dropout(self.dropout)) if self.dropout > 0 else (act,)

        # Hidden codes are activated, the final code is linear; the decoder layer that
        # rebuilds the input is linear, the ones that rebuild hidden codes are activated.
        return [
            AutoencoderNet(
                nn.Sequential(encoder[i], *activation(i < n_layers - 1)),
                nn.Sequential(decoder[i], *activation(i > 0)),
            )
            for i in range(n_layers)
        ]

    def _pretrain(self, batches, X_val, max_iter, stop_early):
        """Train each stage on the codes, by the stages below, of ``batches``' rows."""
        self.pretrain_loss_curves_ = []
        self.pretrain_validation_loss_curves_ = None if X_val is None else []
        self.pretrain_n_iter_ = []
        module, _ = self._training_state()
        below = []
        for i, stage in enumerate(self._stages(module)):
            history = self._fit_epochs(
                stage,
                make_optimizer(stage.parameters(), self.learning_rate_init, self.alpha),
                _encoded(batches, tuple(below)),
                lambda m, x, generator: _error(m, x),
                max_iter=max_iter,
                X_val=X_val,
                stop_early=stop_early,
                warn=False,
                desc=f"{type(self).__name__} layer {i + 1}",
            )
            self.pretrain_loss_curves_.append(history.loss)
            if X_val is not None:
                self.pretrain_validation_loss_curves_.append(history.validation_loss)
                # the next stage is validated on this stage's codes
                X_val = predict_batches(lambda m, x: m.encode(x), stage, X_val)
            self.pretrain_n_iter_.append(history.n_iter)
            below.append(stage)


def _error(module, x):
    return reconstruction_error(module(x), x)


def _encoded(batches, stages):
    """A stage's ``batches(generator)``: the rows of ``batches`` encoded by ``stages``."""
    return lambda generator: (_encode(stages, x) for x in batches(generator))


@torch.no_grad()
def _encode(stages, x):
    """``x`` through the encoders of the trained ``stages`` (in eval mode: no dropout)."""
    for stage in stages:
        stage.eval()
        x = stage.encode(x)
    return x
