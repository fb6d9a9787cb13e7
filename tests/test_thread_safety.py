"""Scoring while ``partial_fit`` trains in another thread: every score finite, no error
(each scoring call sees the model before or after a training step, never half of each),
and the lock that ensures it never reaches pickle, ``clone`` or ``__dict__``."""

import copy
import pickle
import threading
import warnings

import numpy as np
import pytest
from sklearn.base import clone

from ae_anomaly import (
    Autoencoder,
    EnsembleAutoencoder,
    StackedAutoencoder,
    VariationalAutoencoder,
)
from ae_anomaly.models._state import _GUARDS, state_guard

X = np.random.RandomState(0).normal(size=(1500, 6))


def train_while_scoring(model, steps=25, scorers=2):
    """``partial_fit`` ``steps`` times in one thread while ``scorers`` threads score;
    returns the errors raised and how many scoring calls ran."""
    stop, errors, calls = threading.Event(), [], []
    rng = np.random.RandomState(1)

    def train():
        try:
            for _ in range(steps):
                model.partial_fit(X[rng.randint(0, len(X), 300)])
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(("partial_fit", repr(exc)))
        finally:
            stop.set()

    def score():
        try:
            while not stop.is_set():
                scores = model.score_samples(X[:200])
                decision = model.decision_function(X[:50])
                labels = model.predict(X[:50])
                codes = model.transform(X[:20])
                if not (np.isfinite(scores).all() and np.isfinite(decision).all()):
                    errors.append(("score", "not finite"))
                if not set(labels) <= {-1, 1} or not np.isfinite(codes).all():
                    errors.append(("score", "bad labels or codes"))
                calls.append(1)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(("score", repr(exc)))

    threads = [threading.Thread(target=train)]
    threads += [threading.Thread(target=score) for _ in range(scorers)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short trainings may warn; not what is tested
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return errors, len(calls)


@pytest.mark.parametrize(
    "estimator",
    [
        Autoencoder(max_iter=2, random_state=0),
        VariationalAutoencoder(max_iter=2, random_state=0),
        StackedAutoencoder(max_iter=2, random_state=0),
        EnsembleAutoencoder(max_iter=2, n_estimators=3, random_state=0),
    ],
    ids=lambda e: type(e).__name__,
)
def test_scoring_while_partial_fit_runs_in_another_thread(estimator):
    model = estimator.fit(X)
    n_iter = model.n_iter_
    errors, calls = train_while_scoring(model)
    assert errors == []
    assert calls > 0 and model.n_iter_ == n_iter + 25


def test_a_loaded_model_trains_and_scores_concurrently():
    """A model restored from a pickle rebuilds its training network on the first
    ``partial_fit``: scoring meanwhile sees the loaded network."""
    model = pickle.loads(pickle.dumps(Autoencoder(max_iter=2, random_state=0).fit(X)))
    errors, calls = train_while_scoring(model, steps=10)
    assert errors == [] and calls > 0


def test_scoring_waits_for_a_first_partial_fit_or_a_fit():
    model = Autoencoder(max_iter=3, random_state=0)
    started, errors = threading.Event(), []

    def fit():
        started.set()
        model.partial_fit(X)

    def score():
        started.wait()
        try:
            scores = model.score_samples(X[:10])
            assert np.isfinite(scores).all()
        except Exception as exc:  # noqa: BLE001 - NotFittedError is fine, a crash is not
            if type(exc).__name__ != "NotFittedError":
                errors.append(repr(exc))

    threads = [threading.Thread(target=fit), threading.Thread(target=score)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []


def test_the_lock_is_not_part_of_the_estimator():
    model = Autoencoder(max_iter=2, random_state=0).fit(X)
    guard = state_guard(model)
    assert state_guard(model) is guard and model in _GUARDS
    assert not any("guard" in name or "lock" in name for name in vars(model))
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert state_guard(other) is not guard
        np.testing.assert_array_equal(other.score_samples(X[:5]), model.score_samples(X[:5]))
    assert clone(model).get_params() == model.get_params()
    with guard.reading(), guard.reading():  # re-entrant, as decision_function -> score_samples
        model.decision_function(X[:5])
    with pytest.raises(RuntimeError, match="cannot change the fitted state"):
        with guard.reading():
            model.partial_fit(X[:100])
    del model, other
    import gc

    gc.collect()
    assert len([g for g in _GUARDS.values() if g is guard]) == 0  # gone with the estimator


def test_scoring_a_table_of_dates_on_threads_leaves_the_warning_filters_alone(
    tmp_path, monkeypatch
):
    """Chunks are parsed and scored on threads; reading dates entered ``catch_warnings``
    there, which is not thread-safe: two threads interleaving left the process with an
    ``ignore UserWarning`` filter, silencing every later warning (the CLI's unseen
    categories among them, at random). The filters are the caller's after the call."""
    import pandas as pd

    import ae_anomaly.tables.formats
    from ae_anomaly.tables.api import fit_table, score_table
    from ae_anomaly.tables.typing import ParseOptions, parse_datetimes

    cells = pd.Series(["2024-03-15", "03/15/2024", "x"] * 500)
    before = list(warnings.filters)

    def parse():
        for _ in range(40):
            parse_datetimes(cells, ParseOptions())
            parse_datetimes(cells, ParseOptions(date_format="%m/%d/%Y"))

    threads = [threading.Thread(target=parse) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert warnings.filters == before
    rng = np.random.default_rng(0)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, 6000), "D")
    path = tmp_path / "visits.csv"
    pd.DataFrame({"x": rng.normal(size=6000).round(3), "day": days.strftime("%Y-%m-%d")}
                 ).to_csv(path, index=False)  # fmt: skip
    model = fit_table(Autoencoder(max_iter=2, random_state=0), path)
    monkeypatch.setattr(ae_anomaly.tables.formats, "BLOCK_SIZE", 4096)  # many chunks
    for _ in range(3):  # on two scoring threads
        assert score_table(model, path).rows == 6000
    assert warnings.filters == before


def test_loading_models_on_threads_leaves_the_warning_filters_alone(tmp_path):
    """Loading checks a model by scoring two rows with warnings silenced; on several
    threads at once (a web server) that left an ``ignore`` filter for every warning."""
    import pandas as pd

    from ae_anomaly.tables.api import TableModel, fit_table

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=200), "shop": rng.choice(["a", "b"], 200)})
    path = tmp_path / "m.skops"
    fit_table(Autoencoder(max_iter=2, random_state=0), frame).save(path)
    before, errors = list(warnings.filters), []

    def load():
        try:
            for _ in range(6):
                TableModel.load(path)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and warnings.filters == before


@pytest.mark.parametrize(
    ("estimator", "params"),
    [(Autoencoder, {"dropout": 0.2}), (VariationalAutoencoder, {}),
     (EnsembleAutoencoder, {"dropout": 0.1}), (StackedAutoencoder, {"dropout": 0.1})],
)  # fmt: skip
def test_fits_on_threads_repeat_and_leave_torchs_rng_alone(estimator, params):
    """Weight initialization and dropout drew from torch's process-wide RNG inside a fork
    seeded for the fit: fits on threads at once (GridSearchCV on a threading backend) saw
    each other's draws, so the same ``random_state`` gave other models, and the forks
    restored each other's RNG state over the caller's."""
    import torch

    reference = estimator(max_iter=4, random_state=0, **params).fit(X).score_samples(X)
    before, threads_before = torch.get_rng_state().clone(), torch.get_num_threads()
    scores, errors = [None] * 4, []

    def fit(i):
        try:
            scores[i] = estimator(max_iter=4, random_state=0, **params).fit(X).score_samples(X)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=fit, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(np.array_equal(s, reference) for s in scores)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.get_num_threads() == threads_before
