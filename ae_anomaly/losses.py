"""Pure loss and corruption functions; each returns one value per sample.

Per-sample values (not a batch mean) let the training loop weight or trim samples and let
the estimators use the same function for training and for scoring.
"""

from __future__ import annotations

import torch


def reconstruction_error(x_hat, x):
    """Mean squared error over every non-batch dimension: shape ``(n_samples,)``."""
    return (x_hat - x).pow(2).flatten(1).mean(dim=1)


def gaussian_nll(x_hat, x):
    """Negative log-likelihood, up to a constant, of ``x`` under N(x_hat, I), per sample.

    This is the reconstruction term of the ELBO for a Gaussian decoder with unit variance,
    which is what standardized inputs make natural: ``0.5 * sum((x - x_hat) ** 2)``.
    """
    return 0.5 * (x_hat - x).pow(2).flatten(1).sum(dim=1)


def kl_standard_normal(mu, logvar):
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per sample.

    Closed form from Kingma & Welling (2014), "Auto-Encoding Variational Bayes", Appendix B:
    ``-0.5 * sum(1 + logvar - mu^2 - exp(logvar))``.
    """
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).flatten(1).sum(dim=1)


def corrupt(x, noise, level, generator=None):
    """Corrupt ``x`` for a denoising autoencoder (Vincent et al., 2008).

    ``"gaussian"`` adds N(0, level^2) noise; ``"masking"`` sets each entry to zero with
    probability ``level`` (zero is the feature mean once inputs are standardized).
    """
    if noise == "gaussian":
        eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return x + level * eps
    if noise == "masking":
        keep = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) >= level
        return x * keep
    raise ValueError(f"Unknown noise {noise!r}; expected 'gaussian' or 'masking'.")
