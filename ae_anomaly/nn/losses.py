"""Pure loss and corruption functions; each returns one value per sample.

Per-sample values (not a batch mean) let the training loop weight or trim samples and let
the estimators use the same function for training and for scoring.
"""

from __future__ import annotations

import torch
from torch import nn


def reconstruction_error(x_hat, x):
    """Mean squared error over every non-batch dimension: shape ``(n_samples,)``."""
    return (x_hat - x).pow(2).flatten(1).mean(dim=1)


def structural_error(x_hat, x, image_shape, window=7, data_range=1.0):
    """Per-pixel structural error ``1 - SSIM`` of images given as rows ``(n, C*H*W)``.

    SSIM (Wang et al., 2004) compares local means, variances and the covariance of ``x``
    and ``x_hat`` in a ``window`` x ``window`` uniform window around each pixel (windows
    are cut at the border), with the constants ``(0.01 * data_range) ** 2`` and
    ``(0.03 * data_range) ** 2``, for each channel; the shape is that of ``x``. Unlike the
    squared error, it does not grow with how many pixels an image lights up or how bright
    it is, so thin and bold shapes are judged alike.

    Examples
    --------
    >>> import torch
    >>> x = torch.rand(2, 3 * 8 * 8, generator=torch.Generator().manual_seed(0))
    >>> structural_error(x, x, (3, 8, 8)).abs().max() < 1e-6
    tensor(True)
    >>> structural_error(1 - x, x, (3, 8, 8)).shape
    torch.Size([2, 192])
    """
    c, h, w = image_shape
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    a, b = x_hat.reshape(-1, c, h, w), x.reshape(-1, c, h, w)

    def mean(t):
        return nn.functional.avg_pool2d(t, window, 1, window // 2, count_include_pad=False)

    mu_a, mu_b = mean(a), mean(b)
    var_a = mean(a * a) - mu_a * mu_a
    var_b = mean(b * b) - mu_b * mu_b
    cov = mean(a * b) - mu_a * mu_b
    ssim = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2)
    )
    return (1 - ssim).flatten(1)


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
    probability ``level`` (zero is the feature mean once inputs are standardized);
    ``"salt_pepper"`` sets each entry to 0 or 1 (the ends of [0, 1]-scaled pixels) with
    probability ``level / 2`` each.
    """
    if noise == "gaussian":
        eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return x + level * eps
    if noise == "masking":
        keep = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) >= level
        return x * keep
    if noise == "salt_pepper":
        # Inputs scaled to [0, 1]: a share ``level`` of the entries is set to 0 or 1, half each.
        u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        x = torch.where(u < level / 2, torch.zeros_like(x), x)
        return torch.where((u >= level / 2) & (u < level), torch.ones_like(x), x)
    raise ValueError(f"Unknown noise {noise!r}; expected 'gaussian', 'masking' or 'salt_pepper'.")


def l1_activity(codes):
    """Mean absolute code activation per sample: the L1 sparsity penalty (Ng, 2011)."""
    return codes.abs().flatten(1).mean(dim=1)


def kl_sparsity(codes, rho):
    """KL(rho || rho_hat_j) summed over code units, with rho_hat the batch-mean activation.

    ``codes`` must lie in (0, 1) (a sigmoid code). The penalty belongs to the batch, so
    every sample of the batch gets the same value (Ng, 2011, "Sparse autoencoder", CS294A
    lecture notes, section 3).
    """
    rho_hat = codes.mean(dim=0).clamp(1e-6, 1 - 1e-6)
    kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
    return kl.sum().expand(codes.shape[0])


#: Derivative of each elementwise activation, as a function of its input.
_DERIVATIVES = {
    nn.ReLU: lambda a: (a > 0).to(a.dtype),
    nn.Tanh: lambda a: 1 - torch.tanh(a).pow(2),
    nn.Sigmoid: lambda a: torch.sigmoid(a) * (1 - torch.sigmoid(a)),
    nn.Identity: torch.ones_like,
}


def jacobian_frobenius(encode, x):
    """Squared Frobenius norm of the encoder's Jacobian, ``||dh/dx||_F^2``, per sample.

    Exact and differentiable, so it can be trained on (Rifai et al., 2011, "Contractive
    auto-encoders", ICML). For ``Sequential(Linear, activation, Linear)`` (the default
    one-hidden-layer encoder), ``J = W2 diag(g) W1`` with ``g`` the activation's slope, so
    ``||J||_F^2 = g^T [(W1 W1^T) * (W2^T W2)] g``: one small matrix per batch, never the
    per-row Jacobian (on InternetAds' 1,555 columns a training step took 100 ms this way
    against 2,300 ms). Any other ``encode`` goes through reverse-mode autodiff vectorized
    over the batch (:func:`torch.func.vmap` of :func:`torch.func.jacrev`: one backward
    pass per code unit).
    """
    if _is_one_hidden_layer(encode):
        first, activation, last = encode
        pre = first(x)
        slope = _DERIVATIVES[type(activation)](pre)
        gram = (first.weight @ first.weight.T) * (last.weight.T @ last.weight)
        return ((slope @ gram) * slope).sum(dim=1)

    def one_row(row):  # (n_features,) -> (n_components,)
        return encode(row.unsqueeze(0)).squeeze(0)

    jac = torch.func.vmap(torch.func.jacrev(one_row), randomness="different")(x)
    return jac.pow(2).flatten(1).sum(dim=1)  # jac: (batch, n_components, n_features)


def _is_one_hidden_layer(encode):
    return (
        isinstance(encode, nn.Sequential)
        and len(encode) == 3
        and isinstance(encode[0], nn.Linear)
        and type(encode[1]) in _DERIVATIVES
        and isinstance(encode[2], nn.Linear)
    )
