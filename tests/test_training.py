"""The one training loop: every way of training runs nn/training's epoch driver."""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

import ae_anomaly
from ae_anomaly import Autoencoder, StackedAutoencoder, VariationalAutoencoder, fit_chunks
from ae_anomaly.nn import training
from ae_anomaly.nn.training import EarlyStopping, fit_epochs, make_optimizer, shuffled_batches

X = np.random.RandomState(0).normal(size=(300, 6))
QUIET = dict(early_stopping=False, random_state=0)


@pytest.fixture
def epochs(monkeypatch):
    """Count the epochs run through the driver, and the rows of each training step."""
    seen = {"epochs": 0, "batches": []}
    run_epoch, train_step = training.run_epoch, training.train_step

    def count_epoch(*args):
        seen["epochs"] += 1
        return run_epoch(*args)

    def count_step(module, batch, *args):
        seen["batches"].append(len(batch))
        return train_step(module, batch, *args)

    monkeypatch.setattr(training, "run_epoch", count_epoch)
    monkeypatch.setattr(training, "train_step", count_step)
    return seen


def test_fit_partial_fit_chunks_and_partitions_run_the_one_driver(epochs):
    model = Autoencoder(max_iter=3, **QUIET).fit(X)
    assert epochs["epochs"] == model.n_iter_ == 3
    model.partial_fit(X)
    assert epochs["epochs"] == 4 and model.n_iter_ == 4
    epochs["batches"].clear()
    fit_chunks(Autoencoder(**QUIET), X, chunksize=100, epochs=2)
    assert epochs["epochs"] == 6 and epochs["batches"] == [100] * 3 * 2
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    from ae_anomaly.dask import fit_partitions

    frame = dd.from_pandas(pd.DataFrame(X).add_prefix("f"), npartitions=3)
    fit_partitions(Autoencoder(**QUIET), frame, epochs=2)
    assert epochs["epochs"] == 8


def test_stacked_pretraining_runs_the_driver_with_the_base_batch_rule(epochs):
    rows = np.random.RandomState(1).normal(size=(2500, 5))
    model = StackedAutoencoder(hidden_layer_sizes=(4,), n_components=3, max_iter=2, **QUIET)
    model.fit(rows)
    # two pretraining stages (5 -> 4, 4 -> 3) then fine-tuning, every epoch in the driver
    assert epochs["epochs"] == sum(model.pretrain_n_iter_) + model.n_iter_ == 6
    # batch_size="auto" is the base's batch size in every stage: 1024, 1024, 452 per epoch
    auto = StackedAutoencoder._auto_batch_size
    assert auto == Autoencoder._auto_batch_size
    assert epochs["batches"] == [auto, auto, len(rows) - 2 * auto] * 6


def test_stacked_stream_pretrains_on_every_chunk(epochs):
    model = fit_chunks(StackedAutoencoder(hidden_layer_sizes=(4,), n_components=3, **QUIET),
                       X, chunksize=100, epochs=2)  # fmt: skip
    assert model.pretrain_n_iter_ == [2, 2] and model.n_iter_ == 2
    assert epochs["batches"] == [100] * 3 * 6


def test_no_other_module_owns_epochs_stopping_or_the_convergence_warning():
    package = Path(ae_anomaly.__file__).parent
    owners = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        for marker in ("for epoch", "hasn't converged", "best_state", "fit_module")
        if marker in path.read_text()
    }
    assert owners == {"nn/training.py"}


def test_scores_are_a_float64_forward_of_the_trained_weights():
    for model in (Autoencoder(max_iter=5, random_state=0), VariationalAutoencoder(max_iter=5)):
        model.fit(X)
        trained = model._training_module
        assert next(trained.parameters()).dtype == torch.float32
        # an independent float64 network holding the trained float32 weights
        net = model._build_module(X.shape[1]).double()
        net.load_state_dict({k: v.double() for k, v in trained.state_dict().items()})
        with torch.no_grad():
            expected = -model._anomaly_error(net.eval(), torch.tensor(model._scale(X))).numpy()
        np.testing.assert_array_equal(model.score_samples(X), expected)
        # partial_fit trains the float32 network on; module_ is its float64 copy again
        model.partial_fit(X)
        for mine, theirs in zip(model.module_.parameters(), model._training_module.parameters(),
                                strict=True):  # fmt: skip
            assert mine.dtype == torch.float64
            assert torch.equal(mine, theirs.double())


def test_saved_models_continue_training_exactly():
    model = Autoencoder(max_iter=3, **QUIET).fit(X)
    copy = pickle.loads(pickle.dumps(model))
    assert "_optimizer" not in vars(copy)  # restored when training continues, not on load
    np.testing.assert_array_equal(
        copy.partial_fit(X).score_samples(X), model.partial_fit(X).score_samples(X)
    )


def test_vae_files_with_the_encoder_at_the_top_still_load():
    model = VariationalAutoencoder(max_iter=3, random_state=0).fit(X)
    state = model.__getstate__()
    # the key layout saved before AutoencoderNet(encoder, decoder): body.*, mu.*, logvar.*
    state["_module_state"] = {
        key.removeprefix("encoder."): value for key, value in state["_module_state"].items()
    }
    assert "body.0.weight" in state["_module_state"]
    old = VariationalAutoencoder.__new__(VariationalAutoencoder)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.score_samples(X), model.score_samples(X))


def test_early_stopping_rule():
    rule = EarlyStopping(tol=0.1, n_iter_no_change=2)
    assert [rule.update(v) for v in (1.0, 0.95, 0.5, 0.45, 0.41)] == [False] * 4 + [True]
    never = EarlyStopping(tol=10.0, n_iter_no_change=None)
    assert not any(never.update(1.0) for _ in range(50))


def test_driver_warns_restores_the_best_weights_and_refuses_divergence():
    data = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    net = torch.nn.Linear(3, 3)
    generator = torch.Generator().manual_seed(0)

    def loss(module, x, generator):
        return (module(x) - x).pow(2).mean(dim=1)

    def fit(**kwargs):
        return fit_epochs(net, lambda: shuffled_batches(data, 16, generator), loss,
                          optimizer=make_optimizer(net.parameters(), 0.05, 0.0),
                          generator=generator, **kwargs)  # fmt: skip

    with pytest.warns(ConvergenceWarning, match="net: maximum iterations \\(2\\) reached"):
        fit(max_iter=2, convergence_warning=ConvergenceWarning, desc="net")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(max_iter=200, tol=10.0, n_iter_no_change=3,
                      convergence_warning=ConvergenceWarning)  # fmt: skip
    assert history.converged and history.n_iter == 4
    history = fit(max_iter=20, X_val=data, val_fn=lambda m, x: loss(m, x, None))
    best = history.validation_loss.index(min(history.validation_loss))
    with torch.no_grad():
        assert float(loss(net, data, None).mean()) == pytest.approx(history.validation_loss[best])
    with pytest.raises(training.TrainingDivergedError, match="diverged"):
        fit_epochs(net, lambda: [data], lambda m, x, g: loss(m, x, g) * np.inf,
                   optimizer=make_optimizer(net.parameters(), 0.05, 0.0), max_iter=2,
                   generator=generator)  # fmt: skip
