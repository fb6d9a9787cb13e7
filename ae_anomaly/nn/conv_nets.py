"""Pure PyTorch convolutional autoencoder networks (no scikit-learn here).

They take and return the estimators' flattened rows ``(n, C*H*W)`` (channels first) and
are composed by :class:`~ae_anomaly.nn.nets.AutoencoderNet` / ``VariationalNet`` like the
MLP networks, so the estimators' training objectives and scoring work on them unchanged.
Any ``H, W`` works: images are zero-padded at the bottom and right to a multiple of
``2 ** len(channels)`` and the reconstruction is cropped back.
"""

from __future__ import annotations

import math

from torch import nn
from torch.nn import functional as F

from .nets import ACTIVATIONS, INIT_DTYPE, AutoencoderNet, VariationalNet, mlp


def _padded(size, factor):
    return math.ceil(size / factor) * factor


class ConvEncoder(nn.Module):
    """Strided 3x3 convolutions (each halves H and W), then an MLP head to ``n_out``.

    ``(n, C*H*W) -> (n, C, H, W) -> pad -> [conv s2 -> act] * len(channels) -> flatten
    -> MLP(*hidden) -> (n, n_out)`` (the last layer linear).
    """

    def __init__(self, image_shape, channels, hidden, n_out, activation="relu", dropout=0.0):
        super().__init__()
        c, h, w = image_shape
        factor = 2 ** len(channels)
        self.image_shape = tuple(image_shape)
        self.padding = (0, _padded(w, factor) - w, 0, _padded(h, factor) - h)
        layers, c_in = [], c
        for c_out in channels:
            conv = nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, dtype=INIT_DTYPE)
            layers += [conv, ACTIVATIONS[activation]()]
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.feature_shape = (c_in, _padded(h, factor) // factor, _padded(w, factor) // factor)
        self.head = mlp([math.prod(self.feature_shape), *hidden, n_out], activation, dropout)

    def forward(self, x):
        x = F.pad(x.view(-1, *self.image_shape), self.padding)  # (n, C, H', W')
        return self.head(self.features(x).flatten(1))


class ConvDecoder(nn.Module):
    """Mirror of :class:`ConvEncoder`: MLP to the feature map, then 4x4 stride-2 transposed
    convolutions (each doubles H and W), cropped to ``image_shape``; the output is linear."""

    def __init__(
        self, image_shape, channels, hidden, n_in, feature_shape, activation="relu", dropout=0.0
    ):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.feature_shape = tuple(feature_shape)
        self.body = mlp(
            [n_in, *reversed(hidden), math.prod(feature_shape)],
            activation,
            dropout,
            last_activation=bool(channels),
        )
        outs = [*reversed(channels[:-1]), image_shape[0]] if channels else []
        layers, c_in = [], feature_shape[0]
        for i, c_out in enumerate(outs):
            layers.append(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, dtype=INIT_DTYPE))
            if i < len(outs) - 1:
                layers.append(ACTIVATIONS[activation]())
            c_in = c_out
        self.upsample = nn.Sequential(*layers)

    def forward(self, z):
        x = self.upsample(self.body(z).view(-1, *self.feature_shape))  # (n, C, H', W')
        _, h, w = self.image_shape
        return x[:, :, :h, :w].flatten(1)


class ConvGaussianEncoder(ConvEncoder):
    """A :class:`ConvEncoder` to ``2 * n_components`` outputs, split into ``(mu, logvar)``."""

    def __init__(self, image_shape, channels, hidden, n_components, activation="relu", dropout=0.0):
        super().__init__(image_shape, channels, hidden, 2 * n_components, activation, dropout)

    def forward(self, x):
        mu, logvar = super().forward(x).chunk(2, dim=1)
        return mu, logvar


def conv_autoencoder(image_shape, channels, hidden, n_components, activation="relu", dropout=0.0):
    """A convolutional autoencoder on flattened images with a dense code of ``n_components``.

    Examples
    --------
    >>> import torch
    >>> net = conv_autoencoder((1, 8, 8), (4,), (), 2)
    >>> net(torch.zeros(3, 64)).shape
    torch.Size([3, 64])
    """
    encoder = ConvEncoder(image_shape, channels, hidden, n_components, activation, dropout)
    decoder = ConvDecoder(
        image_shape, channels, hidden, n_components, encoder.feature_shape, activation, dropout
    )
    return AutoencoderNet(encoder, decoder)


def conv_variational(image_shape, channels, hidden, n_components, activation="relu", dropout=0.0):
    """A convolutional Gaussian VAE (:class:`VariationalNet`): the encoder's head gives
    ``mu`` and ``log sigma^2``; ``forward`` decodes the posterior mean.

    Examples
    --------
    >>> import torch
    >>> mu, logvar = conv_variational((1, 8, 8), (4,), (), 2).posterior(torch.zeros(3, 64))
    >>> mu.shape
    torch.Size([3, 2])
    """
    encoder = ConvGaussianEncoder(image_shape, channels, hidden, n_components, activation, dropout)
    decoder = ConvDecoder(
        image_shape, channels, hidden, n_components, encoder.feature_shape, activation, dropout
    )
    return VariationalNet(encoder, decoder)
