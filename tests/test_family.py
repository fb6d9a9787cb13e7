"""Sparse, contractive and stacked autoencoders: sklearn checks and what each penalty does."""

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks
from torch import nn

from ae_anomaly import (
    Autoencoder,
    ContractiveAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
)
from ae_anomaly.nn.losses import jacobian_frobenius, kl_sparsity


@pytest.mark.filterwarnings("ignore::UserWarning")
@parametrize_with_checks(
    [
        SparseAutoencoder(max_iter=5),
        SparseAutoencoder(sparsity="kl", sparsity_weight=0.1, max_iter=5),
        ContractiveAutoencoder(max_iter=5),
        StackedAutoencoder(max_iter=5),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


#: The training levers these tests were calibrated with, independent of the defaults.
LEVERS = dict(batch_size=256, learning_rate_init=1e-3)


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    latent = rng.normal(size=(400, 3))
    return latent @ rng.normal(size=(3, 8)) + 0.05 * rng.normal(size=(400, 8))


def test_l1_penalty_makes_codes_sparse(data):
    params = dict(n_components=16, max_iter=60, early_stopping=False, random_state=0, **LEVERS)
    on = SparseAutoencoder(sparsity_weight=0.5, **params).fit(data).transform(data)
    off = SparseAutoencoder(sparsity_weight=0.0, **params).fit(data).transform(data)
    # Switching the penalty off changes the codes: much larger activations, fewer zeros.
    assert np.abs(on).mean() < 0.5 * np.abs(off).mean()
    assert (on == 0).mean() > (off == 0).mean() + 0.1


def test_kl_penalty_pulls_mean_activation_to_target(data):
    params = dict(
        sparsity="kl",
        sparsity_target=0.05,
        n_components=16,
        max_iter=60,
        random_state=0,
        **LEVERS,
    )
    on = SparseAutoencoder(sparsity_weight=1.0, **params).fit(data).transform(data)
    off = SparseAutoencoder(sparsity_weight=0.0, **params).fit(data).transform(data)
    # Switching the penalty off leaves the sigmoid code far from the target activation.
    assert abs(on.mean() - 0.05) < 0.3 * abs(off.mean() - 0.05)


def test_kl_sparsity_is_zero_at_target():
    codes = torch.full((4, 3), 0.1)
    assert torch.allclose(kl_sparsity(codes, 0.1), torch.zeros(4))
    assert (kl_sparsity(torch.full((4, 3), 0.5), 0.1) > 0).all()


def test_sparse_allows_overcomplete_code_without_warning(data, recwarn):
    SparseAutoencoder(n_components=20, max_iter=2).fit(data)
    assert not [w for w in recwarn if "n_components" in str(w.message)]


def test_jacobian_matches_closed_form_for_sigmoid_layer():
    # Rifai et al. (2011), eq. 6: ||J||_F^2 = sum_j (h_j (1 - h_j))^2 sum_i W_ji^2.
    torch.manual_seed(0)
    layer = torch.nn.Linear(7, 4)
    encoder = torch.nn.Sequential(layer, torch.nn.Sigmoid())
    x = torch.randn(10, 7)
    h = encoder(x)
    closed = (h * (1 - h)).pow(2) @ layer.weight.pow(2).sum(dim=1)
    assert torch.allclose(jacobian_frobenius(encoder, x), closed, atol=1e-6)


def test_jacobian_matches_finite_differences_for_deep_encoder():
    torch.manual_seed(0)
    encoder = torch.nn.Sequential(
        torch.nn.Linear(5, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3)
    ).double()
    x = torch.randn(3, 5, dtype=torch.float64)
    eps = 1e-6
    columns = [
        (encoder(x + eps * e) - encoder(x - eps * e)) / (2 * eps)
        for e in torch.eye(5, dtype=torch.float64)
    ]
    numeric = torch.stack(columns, dim=2).pow(2).sum(dim=(1, 2))
    assert torch.allclose(jacobian_frobenius(encoder, x), numeric, rtol=1e-6)


@pytest.mark.parametrize("activation", [nn.ReLU, nn.Tanh, nn.Sigmoid, nn.Identity])
def test_one_hidden_layer_jacobian_closed_form_matches_autodiff(activation):
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Linear(9, 6), activation(), nn.Linear(6, 3)).double()
    x = torch.randn(11, 9, dtype=torch.float64)
    autodiff = jacobian_frobenius(lambda rows: encoder(rows), x)  # not a Sequential
    closed = jacobian_frobenius(encoder, x)
    assert torch.allclose(closed, autodiff, rtol=1e-10)
    params = list(encoder.parameters())
    grads = [
        torch.autograd.grad(v.sum(), params, allow_unused=True, materialize_grads=True)
        for v in (closed, autodiff)
    ]
    for g_closed, g_auto in zip(*grads, strict=True):
        assert torch.allclose(g_closed, g_auto, rtol=1e-8, atol=1e-12)


def test_contractive_penalty_shrinks_jacobian(data):
    params = dict(n_components=6, max_iter=60, early_stopping=False, random_state=0, **LEVERS)
    on = ContractiveAutoencoder(contraction=1.0, **params).fit(data)
    off = ContractiveAutoencoder(contraction=0.0, **params).fit(data)
    assert on.jacobian_norm(data).mean() < 0.5 * off.jacobian_norm(data).mean()
    assert not np.allclose(on.transform(data), off.transform(data), atol=0.1)


def test_stacked_pretrains_each_layer_then_fine_tunes(data):
    model = StackedAutoencoder(
        hidden_layer_sizes=(12, 8), n_components=3, max_iter=20, random_state=0, **LEVERS
    ).fit(data)
    assert len(model.pretrain_loss_curves_) == 3
    assert len(model.pretrain_validation_loss_curves_) == 3
    assert model.pretrain_n_iter_ == [len(c) for c in model.pretrain_loss_curves_]
    assert all(curve[-1] < curve[0] for curve in model.pretrain_loss_curves_)
    assert model.n_iter_ == len(model.loss_curve_) > 0
    assert next(model.module_.parameters()).dtype == torch.float64


def test_stacked_pretraining_gives_a_better_start_than_random(data):
    params = dict(
        hidden_layer_sizes=(12, 8),
        n_components=3,
        max_iter=30,
        batch_size=32,
        learning_rate_init=1e-3,
        random_state=0,
    )
    stacked = StackedAutoencoder(**params).fit(data)
    plain = Autoencoder(**params).fit(data)
    # The first fine-tuning epoch starts from pretrained layers, below a random start...
    assert stacked.loss_curve_[0] < 0.8 * plain.loss_curve_[0]
    # ...and ends no worse.
    assert stacked.loss_curve_[-1] <= plain.loss_curve_[-1]


def test_stacked_partial_fit_pretrains_once(data):
    model = StackedAutoencoder(hidden_layer_sizes=(6,), n_components=3, random_state=0, **LEVERS)
    model.partial_fit(data)
    assert model.pretrain_n_iter_ == [1, 1]
    model.partial_fit(data)
    assert model.pretrain_n_iter_ == [1, 1]
    assert model.n_iter_ == 2
