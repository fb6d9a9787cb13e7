"""Pure PyTorch networks: one autoencoder composition and the builders of its parts.

Nothing here knows about scikit-learn. Every network is an :class:`AutoencoderNet`
(an encoder and a decoder composed) or a :class:`VariationalNet` (the same, with an
encoder that gives a Gaussian posterior), so the estimators treat them alike:

- ``encode(x)`` -> the code used by ``transform`` (for the VAE: the posterior mean),
- ``decode(z)`` -> a reconstruction in the (scaled) input space,
- ``forward(x)`` -> the deterministic reconstruction ``decode(encode(x))`` used for scoring.

Builders (:func:`mlp_autoencoder`, :func:`mlp_variational`, and the convolutional ones of
:mod:`ae_anomaly.nn.conv_nets`) make the encoder and decoder and compose them.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

#: Weights are drawn in float32 whatever torch's default dtype (a notebook's
#: ``torch.set_default_dtype(torch.float64)``): the same ``random_state``, the same network.
INIT_DTYPE = torch.float32

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
    "gelu": nn.GELU,
}


class Dropout(nn.Dropout):
    """:class:`torch.nn.Dropout` drawing its masks from ``generator`` while one is set
    (:func:`dropout_generator`, during a fit); torch's own draw otherwise.

    torch's dropout draws from the process-wide RNG, which fits running on several threads
    (``GridSearchCV`` on a threading backend) would share: each fit's masks would depend on
    the others', and ``random_state`` would not give the same model twice.

    Examples
    --------
    >>> layer = Dropout(0.5)
    >>> x = torch.ones(2, 4)
    >>> with dropout_generator(layer, torch.Generator().manual_seed(0)):
    ...     a = layer(x)
    >>> with dropout_generator(layer, torch.Generator().manual_seed(0)):
    ...     b = layer(x)
    >>> bool(torch.equal(a, b)), sorted(set(a.flatten().tolist())) <= [0.0, 2.0]
    (True, True)
    """

    generator = None

    def forward(self, x):
        if self.generator is None or not self.training or not 0 < self.p < 1:
            return super().forward(x)
        keep = torch.empty_like(x).bernoulli_(1.0 - self.p, generator=self.generator)
        return x * keep.div_(1.0 - self.p)


@contextlib.contextmanager
def dropout_generator(module, generator):
    """Let every :class:`Dropout` of ``module`` draw from ``generator`` in the block."""
    layers = [m for m in module.modules() if isinstance(m, Dropout)]
    for layer in layers:
        layer.generator = generator
    try:
        yield
    finally:
        for layer in layers:
            layer.__dict__.pop("generator", None)


def mlp(sizes, activation="relu", dropout=0.0, last_activation=False):
    """A stack of ``Linear`` layers: ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Every layer but the last is followed by ``activation`` (and dropout when > 0); the last
    one is linear unless ``last_activation`` is true.
    """
    layers = []
    n_layers = len(sizes) - 1
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out, dtype=INIT_DTYPE))
        if i < n_layers - 1 or last_activation:
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(Dropout(dropout))
    return nn.Sequential(*layers)


class AutoencoderNet(nn.Module):
    """``decoder(encoder(x))``: the one autoencoder composition of the package.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = AutoencoderNet(nn.Linear(4, 2), nn.Linear(2, 4))
    >>> net(torch.zeros(3, 4)).shape, net.encode(torch.zeros(3, 4)).shape
    (torch.Size([3, 4]), torch.Size([3, 2]))
    """

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


class VariationalNet(AutoencoderNet):
    """A Gaussian VAE: the encoder gives ``(mu, logvar)`` of q(z|x).

    ``encode`` and ``forward`` use the posterior mean, so scores are deterministic;
    sampling happens only in :meth:`reparameterize`, with an explicit generator.
    """

    def posterior(self, x):
        """Return ``(mu, logvar)`` of the Gaussian q(z|x)."""
        return self.encoder(x)

    def encode(self, x):
        return self.posterior(x)[0]

    @staticmethod
    def reparameterize(mu, logvar, generator=None):
        """Draw ``z = mu + sigma * eps`` with ``eps ~ N(0, I)`` (Kingma & Welling, 2014)."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps


class GaussianEncoder(nn.Module):
    """A body followed by two linear heads: ``x -> (mu, logvar)``."""

    def __init__(self, body, width, n_components):
        super().__init__()
        self.body = body
        self.mu = nn.Linear(width, n_components, dtype=INIT_DTYPE)
        self.logvar = nn.Linear(width, n_components, dtype=INIT_DTYPE)

    def forward(self, x):
        h = self.body(x)
        return self.mu(h), self.logvar(h)


def mlp_autoencoder(n_features, hidden, n_components, activation="relu", dropout=0.0):
    """An MLP autoencoder whose decoder mirrors its encoder.

    ``n_features -> *hidden -> n_components -> *reversed(hidden) -> n_features``; the code
    layer and the output layer are linear.

    Examples
    --------
    >>> net = mlp_autoencoder(6, (4,), 2)
    >>> [tuple(p.shape) for p in net.encoder.parameters()]
    [(4, 6), (4,), (2, 4), (2,)]
    """
    hidden = tuple(hidden)
    return AutoencoderNet(
        mlp([n_features, *hidden, n_components], activation, dropout),
        mlp([n_components, *reversed(hidden), n_features], activation, dropout),
    )


def mlp_variational(n_features, hidden, n_components, activation="relu", dropout=0.0):
    """A Gaussian MLP VAE: an MLP body to the last hidden layer, then the two heads.

    Examples
    --------
    >>> import torch
    >>> mu, logvar = mlp_variational(6, (4,), 2).posterior(torch.zeros(3, 6))
    >>> mu.shape, logvar.shape
    (torch.Size([3, 2]), torch.Size([3, 2]))
    """
    hidden = tuple(hidden)
    width = hidden[-1] if hidden else n_features
    body = mlp([n_features, *hidden], activation, dropout, last_activation=True)
    return VariationalNet(
        GaussianEncoder(body, width, n_components),
        mlp([n_components, *reversed(hidden), n_features], activation, dropout),
    )
