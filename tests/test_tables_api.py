"""The tables library under the CLI: fit_table, score_table, thresholds, settings, errors."""

import io
import sys

import numpy as np
import pandas as pd
import pytest
import torch

import ae_anomaly.tables.scoring
from ae_anomaly import Autoencoder, DenoisingAutoencoder
from ae_anomaly.tables.api import (
    ParameterError,
    TableError,
    TableModel,
    check_one_threshold,
    decision_threshold,
    denoise_table,
    fit_table,
    make_estimator,
    map_chunks,
    parse_settings,
    read_table,
    score_table,
)
from ae_anomaly.tables.errors import render

FAST = {"max_iter": 3, "random_state": 0}


@pytest.fixture
def frame():
    rng = np.random.RandomState(0)
    df = pd.DataFrame(rng.normal(size=(400, 4)), columns=list("abcd"))
    df.insert(0, "id", [f"r{i}" for i in range(400)])
    return df


@pytest.fixture
def csv(tmp_path, frame):
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    return path


# ----------------------------------------------------------------------------- settings
def test_parse_settings_reads_literals_and_names_the_parameter():
    settings = ["max_iter=5", "hidden-layer-sizes=8,2", "activation=tanh"]
    params = parse_settings(Autoencoder, settings)
    assert params == {"max_iter": 5, "hidden_layer_sizes": (8, 2), "activation": "tanh"}
    with pytest.raises(ParameterError, match="no parameter 'max_itr'") as error:
        parse_settings(Autoencoder, ["max_itr=5"])
    assert error.value.params == ("settings",)
    assert "--set" not in str(error.value)  # the library names parameters, not flags
    with pytest.raises(ParameterError, match="not KEY=VALUE"):
        parse_settings(Autoencoder, ["max_iter"])
    # a shell's words for booleans and None (early_stopping=false was refused at fit time)
    words = ["early_stopping=false", "verbose=TRUE", "scaling=None", "device=null"]
    assert parse_settings(Autoencoder, words) == {
        "early_stopping": False, "verbose": True, "scaling": None, "device": None}


def test_make_estimator_defaults_random_state_and_lets_params_win():
    estimator = make_estimator("denoising", ["max_iter=4", "contamination=0.2"], contamination=0.1)
    assert isinstance(estimator, DenoisingAutoencoder)
    assert estimator.get_params()["random_state"] == 0 and estimator.max_iter == 4
    assert estimator.contamination == 0.1  # a number, passed as a number
    with pytest.raises(ParameterError, match="no autoencoder named 'nope'"):
        make_estimator("nope")


# ----------------------------------------------------------------------------- thresholds
def test_one_threshold_rule(frame):
    ae = Autoencoder(**FAST).fit(frame[list("abcd")])
    assert decision_threshold(ae) == -ae.offset_
    assert decision_threshold(ae, threshold=2.5) == 2.5
    quantiles = list(np.linspace(0.0, 1.0, 1001))
    assert decision_threshold(ae, contamination=0.1, quantiles=quantiles) == 0.9
    with pytest.raises(ParameterError, match="exclude each other"):
        decision_threshold(ae, threshold=1.0, contamination=0.1)
    with pytest.raises(ParameterError, match="contamination needs the training score"):
        decision_threshold(ae, contamination=0.1)
    check_one_threshold(threshold=None, contamination=0.1)


def test_errors_render_parameters_for_a_front_end():
    error = ParameterError("{threshold} and {contamination} exclude each other: pass one.")
    flags = error.rephrase(lambda name, value: f"--{name}")
    assert flags == "--threshold and --contamination exclude each other: pass one."
    data = TableError("column {{x}} 'a{{b}}'; pass {impute=median}.")
    assert str(data) == "column {x} 'a{b}'; pass impute='median'."
    assert render("{ignore_extra=True}", lambda n, v: f"{n}:{v}") == "ignore_extra:True"


# ----------------------------------------------------------------------------- fit_table
def test_fit_table_in_memory_and_streamed_give_the_same_summary(csv, frame):
    features = frame[list("abcd")]
    whole = fit_table(Autoencoder(**FAST), csv, ids=["id"])
    streamed = fit_table(Autoencoder(**FAST), csv, ids=["id"], chunksize=100)
    for model in (whole, streamed):
        # how cells are read: the in-memory fit's (typed) cells only
        reading = {"reading"} if model is whole else set()
        assert set(model.metadata) == {"kind", "schema", "threshold", "training", *reading}
        training = model.metadata["training"]
        assert training["rows"] == 400 and training["n_iter"] == 3
        assert len(training["score_quantiles"]) == 1001
        scores = -model.pipeline.score_samples(features)
        assert training["flagged"] == int((scores > model.metadata["threshold"]).sum())
        assert model.metadata["threshold"] == -model.pipeline[-1].offset_
    assert list(whole.metadata["training"]) == list(streamed.metadata["training"])
    assert whole.metadata["kind"] == streamed.metadata["kind"] == "autoencoder"
    # The in-memory fit is the Python API's fit.
    python = Autoencoder(**FAST).fit(features)
    # up to the last bits (the encoder hands torch a column-major matrix)
    np.testing.assert_allclose(whole.pipeline.score_samples(features),
                               python.score_samples(features), rtol=1e-12)  # fmt: skip


def test_summary_from_the_scores_of_a_later_pass_equals_the_fits_own(csv, tmp_path):
    # `detect` fits with score_training=False and completes the summary from its output.
    table = read_table(csv, ids=["id"])
    own = fit_table(Autoencoder(**FAST), table)
    later = fit_table(Autoencoder(**FAST), table, score_training=False)
    training = later.metadata["training"]
    assert training["flagged"] is None and training["score_quantiles"] is None
    with pytest.raises(ValueError, match="add_training_scores"):
        later.save(tmp_path / "m.skops")
    scores = score_table(later, table).frame["anomaly_score"]
    with pytest.raises(ValueError, match="400 rows"):
        later.add_training_scores(scores[:-1])
    later.add_training_scores(scores)
    ours, theirs = later.metadata["training"], own.metadata["training"]
    assert ours["flagged"] == theirs["flagged"]
    np.testing.assert_allclose(ours["score_quantiles"], theirs["score_quantiles"], rtol=1e-12)
    later.save(tmp_path / "m.skops")
    assert TableModel.load(tmp_path / "m.skops").metadata["training"]["flagged"] == ours["flagged"]


def test_fit_table_verbose_shows_progress_in_both_paths(csv, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for chunksize in (None, 100):
        terminal = Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        estimator = Autoencoder(**FAST)
        fit_table(estimator, csv, ids=["id"], chunksize=chunksize, verbose=True)
        assert terminal.getvalue(), chunksize
        assert estimator.verbose == 0  # the user's parameter, untouched


def test_fit_table_refuses_what_cannot_stream(tmp_path):
    path = tmp_path / "mixed.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "x"]}).to_csv(path, index=False)
    with pytest.raises(ParameterError, match="numeric columns only; categorical column.s. 'b'"):
        fit_table(Autoencoder(), path, chunksize=2)
    with pytest.raises(ParameterError, match="chunksize cannot impute"):
        fit_table(Autoencoder(), path, chunksize=2, exclude=["b"], impute="median")
    with pytest.raises(TableError, match="columns: no column named 'z'"):
        read_table(path, columns=["z"])


# ----------------------------------------------------------------------------- score_table
def test_score_table_writes_in_order_and_restores_torch_threads(csv, frame, tmp_path):
    model = fit_table(Autoencoder(**FAST), csv, ids=["id"])
    saved = tmp_path / "model.skops"
    model.save(saved)
    seen = []
    real = ae_anomaly.tables.scoring.score_encoded

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ae_anomaly.tables.scoring, "score_encoded", spy)
            patch.setattr(ae_anomaly.tables.scoring, "FRAME_CHUNK", 64)  # 7 chunks
            result = score_table(TableModel.load(saved), frame, contamination=0.05)
        assert torch.get_num_threads() == 3  # restored
        assert seen and set(seen) == {1}  # one intra-op thread per worker while scoring
    finally:
        torch.set_num_threads(before)
    out = result.frame
    assert list(out["id"]) == list(frame["id"])  # in the input's order
    np.testing.assert_allclose(
        out["anomaly_score"], -model.pipeline.score_samples(frame[list("abcd")]), rtol=1e-12
    )
    assert result.anomalies == int(out["is_anomaly"].sum())
    assert 0.03 <= out["is_anomaly"].mean() <= 0.07  # the training rows: about 5% flagged
    written = tmp_path / "scores.parquet"
    again = score_table(saved, csv, written, threshold=result.threshold)
    pd.testing.assert_frame_equal(pd.read_parquet(written), out.reset_index(drop=True))
    assert again.rows == 400 and again.anomalies == result.anomalies


def test_map_chunks_restores_threads_after_an_error():
    before = torch.get_num_threads()

    def boom(chunk):
        raise RuntimeError("bad chunk")

    with pytest.raises(RuntimeError, match="bad chunk"):
        map_chunks(iter(range(5)), boom, print)
    assert torch.get_num_threads() == before


def test_denoise_table_and_missing_columns(frame):
    model = fit_table(Autoencoder(**FAST), frame, ids=["id"])
    clean = denoise_table(model, frame).frame
    assert list(clean.columns) == list(frame.columns) and list(clean["id"]) == list(frame["id"])
    with pytest.raises(TableError, match="missing column.s. 'd'") as error:
        score_table(model, frame.drop(columns="d"))
    assert "ignore_extra" not in str(error.value)
    with pytest.raises(TableError, match="ignore_extra=True"):
        score_table(model, frame.assign(extra=1.0))
    assert score_table(model, frame.assign(extra=1.0), ignore_extra=True).rows == 400
