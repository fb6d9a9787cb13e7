"""Pure PyTorch modules: encoders, decoders and the autoencoder networks built from them.

Nothing here knows about scikit-learn. Every network exposes the same three methods so the
estimators can treat them alike:

- ``encode(x)`` -> the code used by ``transform`` (for the VAE: the posterior mean),
- ``decode(z)`` -> a reconstruction in the (scaled) input space,
- ``forward(x)`` -> the deterministic reconstruction ``decode(encode(x))`` used for scoring.
"""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
    "gelu": nn.GELU,
}


def mlp(sizes, activation="relu", dropout=0.0, last_activation=False):
    """A stack of ``Linear`` layers: ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Every layer but the last is followed by ``activation`` (and dropout when > 0); the last
    one is linear unless ``last_activation`` is true.
    """
    layers = []
    n_layers = len(sizes) - 1
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < n_layers - 1 or last_activation:
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class AutoencoderNet(nn.Module):
    """An MLP autoencoder whose decoder mirrors its encoder.

    ``n_features -> *hidden -> n_components -> *reversed(hidden) -> n_features``; the code
    layer and the output layer are linear.
    """

    def __init__(self, n_features, hidden, n_components, activation="relu", dropout=0.0):
        super().__init__()
        self.encoder = mlp([n_features, *hidden, n_components], activation, dropout)
        self.decoder = mlp([n_components, *reversed(hidden), n_features], activation, dropout)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


class VariationalNet(nn.Module):
    """A Gaussian VAE: the encoder gives ``mu`` and ``log sigma^2`` of q(z|x).

    The encoder body is an MLP to the last hidden layer, followed by two linear heads.
    ``forward`` decodes the posterior mean, so scores are deterministic; sampling happens
    only in :meth:`reparameterize`, with an explicit generator.
    """

    def __init__(self, n_features, hidden, n_components, activation="relu", dropout=0.0):
        super().__init__()
        hidden = tuple(hidden)
        width = hidden[-1] if hidden else n_features
        self.body = mlp([n_features, *hidden], activation, dropout, last_activation=True)
        self.mu = nn.Linear(width, n_components)
        self.logvar = nn.Linear(width, n_components)
        self.decoder = mlp([n_components, *reversed(hidden), n_features], activation, dropout)

    def posterior(self, x):
        """Return ``(mu, logvar)`` of the Gaussian q(z|x)."""
        h = self.body(x)
        return self.mu(h), self.logvar(h)

    def encode(self, x):
        return self.posterior(x)[0]

    def decode(self, z):
        return self.decoder(z)

    @staticmethod
    def reparameterize(mu, logvar, generator=None):
        """Draw ``z = mu + sigma * eps`` with ``eps ~ N(0, I)`` (Kingma & Welling, 2014)."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps

    def forward(self, x):
        return self.decode(self.encode(x))
