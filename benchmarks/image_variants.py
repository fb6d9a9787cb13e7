"""Variants of ``ImageAutoencoder`` probed by ``python -m benchmarks.image_probes variants``.

Each is one change to the training or the network, as a small subclass: a cosine
learning-rate schedule, batch normalisation after the hidden layers, a MemAE-style memory.
Benchmark code only: none of them is part of the package unless it pays.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ae_anomaly import ImageAutoencoder


class CosineSchedule(ImageAutoencoder):
    """Adam's rate decays from ``learning_rate_init`` to 0 over the fit's optimizer steps."""

    def _epochs(self, n_rows):
        epochs = super()._epochs(n_rows)
        self._total_steps = epochs * max(1, math.ceil(n_rows / self._batch_size()))
        return epochs

    def _training_state(self):
        module, optimizer = super()._training_state()
        if not getattr(optimizer, "_scheduled", False):
            step, done = optimizer.step, [0]

            def scheduled_step(*args, **kwargs):
                fraction = min(done[0] / self._total_steps, 1.0)
                for group in optimizer.param_groups:
                    group["lr"] = self.learning_rate_init * 0.5 * (1 + math.cos(math.pi * fraction))
                done[0] += 1
                return step(*args, **kwargs)

            optimizer.step, optimizer._scheduled = scheduled_step, True
        return module, optimizer


def _with_batch_norm(sequential):
    """``sequential`` with a ``BatchNorm1d`` after every Linear layer followed by more."""
    layers = list(sequential)
    out = []
    for i, layer in enumerate(layers):
        out.append(layer)
        if isinstance(layer, nn.Linear) and i < len(layers) - 1:
            out.append(nn.BatchNorm1d(layer.out_features))
    return nn.Sequential(*out)


class BatchNorm(ImageAutoencoder):
    """Batch normalisation after each hidden layer of the encoder and the decoder."""

    def _build_module(self, n_features):
        net = super()._build_module(n_features)
        net.encoder.head = _with_batch_norm(net.encoder.head)
        net.decoder.body = _with_batch_norm(net.decoder.body)
        return net


class Memory(nn.Module):
    """MemAE's memory: ``z -> softmax(z M^T)``, hard-shrunk at ``shrink``, times ``M``."""

    def __init__(self, n_items, n_components, shrink):
        super().__init__()
        self.items = nn.Parameter(torch.randn(n_items, n_components) / math.sqrt(n_components))
        self.shrink = shrink

    def forward(self, z):
        weights = F.softmax(z @ self.items.T, dim=1)
        weights = F.relu(weights - self.shrink) * weights / ((weights - self.shrink).abs() + 1e-12)
        weights = weights / weights.sum(dim=1, keepdim=True).clamp_min(1e-12)
        return weights @ self.items


class MemoryAutoencoder(ImageAutoencoder):
    """A memory of 500 items between the encoder and the decoder (shrink 2/500)."""

    def _build_module(self, n_features):
        net = super()._build_module(n_features)
        memory = Memory(500, self.n_components_, shrink=2 / 500)
        net.decoder = nn.Sequential(memory, net.decoder)
        return net


#: name -> (class, parameters); the schedule runs its whole budget (no plateau stop), so
#: the rate reaches 0.
VARIANTS = {
    "default": (ImageAutoencoder, {}),
    "cosine": (CosineSchedule, {"n_iter_no_change": 10**6}),
    "batchnorm": (BatchNorm, {}),
    "memory": (MemoryAutoencoder, {}),
}
