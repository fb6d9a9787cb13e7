"""The stacked autoencoder: greedy layer-wise pretraining, then fine-tuning."""

from numbers import Integral

import torch
from torch import nn

from ..nn.losses import reconstruction_error
from ..nn.nets import ACTIVATIONS
from ..nn.training import fit_module, predict_batches
from ._docs import COMMON_ATTRIBUTES, COMMON_PARAMETERS
from ._sklearn_compat import Interval
from .base import SCORE_DTYPE, TRAIN_DTYPE, BaseAutoencoder, seeded


class ShallowAutoencoder(nn.Module):
    """One layer of a stack as a shallow autoencoder, sharing its ``Linear`` layers.

    ``encoder_layer`` maps the layer's input to its code, ``decoder_layer`` maps back;
    training this module trains those layers of the deep network in place.
    """

    def __init__(self, encoder_layer, decoder_layer, code_activation, output_activation):
        super().__init__()
        self.encoder = nn.Sequential(encoder_layer, *code_activation)
        self.decoder = nn.Sequential(decoder_layer, *output_activation)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


def _error(module, x):
    return reconstruction_error(module(x), x)


class StackedAutoencoder(BaseAutoencoder):
    __doc__ = f"""Stacked autoencoder: greedy layer-wise pretraining, then end-to-end fine-tuning.

The deep network is the same as :class:`Autoencoder`'s. Before the usual end-to-end
training, each encoder layer and its mirror decoder layer are trained as a shallow
autoencoder on the codes of the (already trained) layer below: first the input layer on
the scaled inputs, then the next one on its codes, up to the code layer. Every stage runs
the same training loop with the same stopping rule.

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
fine-tunes for one epoch.

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

    def _initialize(self, X):
        super()._initialize(X)
        self.pretrain_loss_curves_ = None

    def _train(self, X_train, X_val, *, max_iter, warn):
        if self.pretrain_loss_curves_ is None:
            stage_iter = max_iter if self.pretrain_max_iter is None else self.pretrain_max_iter
            self._pretrain(X_train, X_val, min(stage_iter, max_iter))
        super()._train(X_train, X_val, max_iter=max_iter, warn=warn)

    def _stages(self):
        """One :class:`ShallowAutoencoder` per layer, from the input layer up."""
        encoder = [m for m in self.module_.encoder if isinstance(m, nn.Linear)]
        decoder = [m for m in self.module_.decoder if isinstance(m, nn.Linear)][::-1]
        n_layers = len(encoder)

        def activation(on):
            if not on:
                return ()
            act = ACTIVATIONS[self.activation]()
            return (act, nn.Dropout(self.dropout)) if self.dropout > 0 else (act,)

        # Hidden codes are activated, the final code is linear; the decoder layer that
        # rebuilds the input is linear, the ones that rebuild hidden codes are activated.
        return [
            ShallowAutoencoder(
                encoder[i], decoder[i], activation(i < n_layers - 1), activation(i > 0)
            )
            for i in range(n_layers)
        ]

    def _pretrain(self, X_train, X_val, max_iter):
        device = self.device_
        batch_size = 256 if self.batch_size == "auto" else self.batch_size
        h_train = torch.tensor(X_train, dtype=TRAIN_DTYPE, device=device)
        h_val = None if X_val is None else torch.tensor(X_val, dtype=TRAIN_DTYPE, device=device)
        self.pretrain_loss_curves_ = []
        self.pretrain_validation_loss_curves_ = None if h_val is None else []
        self.pretrain_n_iter_ = []
        module = self.module_.to(TRAIN_DTYPE)
        try:
            for i, stage in enumerate(self._stages()):
                seed = self._draw_seed()
                with seeded(seed, device):
                    history = fit_module(
                        stage,
                        h_train,
                        lambda m, x, generator: _error(m, x),
                        optimizer=torch.optim.Adam(
                            stage.parameters(), lr=self.learning_rate_init, weight_decay=self.alpha
                        ),
                        max_iter=max_iter,
                        batch_size=batch_size,
                        generator=torch.Generator(device=device).manual_seed(seed),
                        X_val=h_val,
                        val_fn=_error,
                        tol=self.tol,
                        n_iter_no_change=self.n_iter_no_change,
                        verbose=bool(self.verbose),
                        desc=f"{type(self).__name__} layer {i + 1}",
                    )
                self.pretrain_loss_curves_.append(history.loss)
                if h_val is not None:
                    self.pretrain_validation_loss_curves_.append(history.validation_loss)
                self.pretrain_n_iter_.append(history.n_iter)
                # The next stage learns to reconstruct this stage's codes.
                h_train = predict_batches(lambda m, x: m.encode(x), stage, h_train)
                if h_val is not None:
                    h_val = predict_batches(lambda m, x: m.encode(x), stage, h_val)
        finally:
            module.to(SCORE_DTYPE)
