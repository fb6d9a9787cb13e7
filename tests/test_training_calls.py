"""A training call is all or nothing, and the caller's torch settings do not change its result.

- A ``fit`` that raises (diverged, interrupted) leaves a fitted estimator as it was and an
  unfitted one unfitted; a ``partial_fit`` step that raises leaves the network and the
  optimizer where they were, so the next step gives what it would have given.
- ``torch.set_default_dtype(torch.float64)``, ``torch.no_grad()`` and
  ``torch.inference_mode()`` around a fit give the very model fitted without them.
"""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ae_anomaly import Autoencoder
from ae_anomaly.models.base import BaseAutoencoder
from ae_anomaly.nn.training import TrainingDivergedError

from .instances import estimator_classes, tiny_instance

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

AUTOENCODERS = [cls for cls in estimator_classes() if issubclass(cls, BaseAutoencoder)]


@pytest.fixture
def X():
    return np.random.RandomState(0).normal(size=(300, 5))


def _fitted_state(model):
    """What scoring and further training read, as plain values."""
    network, optimizer = model._training_state()
    return {
        "n_iter_": model.n_iter_,
        "loss_curve_": list(model.loss_curve_),
        "offset_": model.offset_,
        "scaler_mean": model.scaler_.mean_.copy(),
        "weights": [p.detach().clone() for p in network.parameters()],
        "moments": [s["exp_avg"].clone() for s in optimizer.state.values()],
    }


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if key in ("weights", "moments"):
            assert len(a[key]) == len(b[key]) and all(map(torch.equal, a[key], b[key])), key
        else:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_a_failed_refit_keeps_the_previous_model(X):
    model = Autoencoder(max_iter=5, random_state=0).fit(X)
    scores, state = model.score_samples(X), _fitted_state(model)
    Y = np.random.RandomState(1).normal(100.0, 50.0, size=(300, 5))
    with pytest.raises(TrainingDivergedError):
        model.set_params(learning_rate_init=1e3).fit(Y)
    # not the new scaler with the old network: every row of X would be flagged
    np.testing.assert_array_equal(model.score_samples(X), scores)
    _assert_same_state(_fitted_state(model), state)


def test_a_failed_first_fit_leaves_the_estimator_unfitted(X):
    model = Autoencoder(max_iter=5, learning_rate_init=1e3, random_state=0)
    with pytest.raises(TrainingDivergedError):
        model.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    with pytest.raises(NotFittedError):
        model.score_samples(X)
    assert not [key for key in vars(model) if key.endswith("_") or key.startswith("_")]


class _Interrupted(Autoencoder):
    """Raises KeyboardInterrupt at the second batch of a step while ``interrupt`` is set."""

    interrupt = False

    def _training_loss(self, module, X, generator):
        self._batches = getattr(self, "_batches", 0) + 1
        if self.interrupt and self._batches == 2:
            raise KeyboardInterrupt
        return super()._training_loss(module, X, generator)


def test_an_interrupted_partial_fit_step_changes_nothing(X):
    settings = dict(batch_size=64, random_state=0)
    plain, interrupted = Autoencoder(**settings), _Interrupted(**settings)
    for model in (plain, interrupted):
        model.partial_fit(X).partial_fit(X)
    state = _fitted_state(interrupted)
    interrupted.interrupt, interrupted._batches = True, 0
    with pytest.raises(KeyboardInterrupt):
        interrupted.partial_fit(X)  # one step already taken in place when it stops
    _assert_same_state(_fitted_state(interrupted), state)
    interrupted.interrupt = False
    # the next step is the one it would have been: same shuffle, weights and moments
    for model in (plain, interrupted):
        model.partial_fit(X)
    _assert_same_state(_fitted_state(interrupted), _fitted_state(plain))
    np.testing.assert_array_equal(interrupted.score_samples(X), plain.score_samples(X))


@pytest.mark.parametrize("cls", AUTOENCODERS, ids=lambda cls: cls.__name__)
def test_the_callers_default_dtype_and_grad_mode_change_nothing(cls):
    X = np.random.RandomState(0).uniform(size=(40, 64))  # 8 x 8 images for the image models

    def scores():
        return tiny_instance(cls).set_params(random_state=0).fit(X).score_samples(X)

    expected = scores()
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        np.testing.assert_array_equal(scores(), expected)  # weights drawn in float32
    finally:
        torch.set_default_dtype(default)
    for mode in (torch.no_grad, torch.inference_mode):
        with mode():
            np.testing.assert_array_equal(scores(), expected)
        assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()


def test_partial_fit_under_inference_mode_continues_training(X):
    plain = Autoencoder(random_state=0).partial_fit(X).partial_fit(X)
    with torch.inference_mode():
        model = Autoencoder(random_state=0).partial_fit(X)
    with torch.no_grad():
        model.partial_fit(X)
    _assert_same_state(_fitted_state(model), _fitted_state(plain))
