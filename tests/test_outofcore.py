"""Out-of-core training: fit_chunks over files streamed in chunks."""

import re
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from ae_anomaly import Autoencoder, EnsembleAutoencoder, VariationalAutoencoder, fit_chunks
from ae_anomaly.datasets import make_synthetic
from ae_anomaly.nn import training
from ae_anomaly.scale import outofcore
from ae_anomaly.tables.sources import iter_chunks

PARAMS = {"max_iter": 15, "batch_size": 250, "early_stopping": False, "random_state": 0}


@pytest.fixture(scope="module")
def task():
    X, y = make_synthetic(n_samples=1500, random_state=0)
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]), y


@pytest.fixture(scope="module")
def parquet_file(task, tmp_path_factory):
    path = tmp_path_factory.mktemp("ooc") / "train.parquet"
    task[0].to_parquet(path, row_group_size=700)  # row groups that straddle the chunks
    return path


def record_rows(monkeypatch, estimator, method):
    """Wrap ``estimator.<method>`` to record how many rows each call received."""
    seen = []
    original = getattr(estimator, method)

    def spy(X, *args, **kwargs):
        seen.append(len(X))
        return original(X, *args, **kwargs)

    monkeypatch.setattr(estimator, method, spy)
    return seen


def test_out_of_core_fit_is_close_to_in_memory_fit(task, parquet_file, monkeypatch):
    X, y = task
    in_memory = Autoencoder(**PARAMS).fit(X)
    streamed = Autoencoder(**PARAMS)
    read = record_rows(monkeypatch, streamed, "_validate_input")
    sampled = record_rows(monkeypatch, streamed, "_score_scaled")
    batches = []
    step = training.train_step

    def spy_step(module, batch, *args):
        batches.append(len(batch))
        return step(module, batch, *args)

    monkeypatch.setattr(training, "train_step", spy_step)
    fit_chunks(streamed, parquet_file, chunksize=500, epochs=PARAMS["max_iter"])

    # one pass for the scaler and the sample, then one per epoch: never more than one chunk
    # in memory, and every row of every epoch trained on, through the one training step
    assert read == [500] * 3 * (1 + PARAMS["max_iter"])
    assert max(batches) == PARAMS["batch_size"] and sum(batches) == PARAMS["max_iter"] * len(X)
    # the first pass keeps a uniform sample of max(chunksize, OFFSET_MIN_SAMPLE) rows (here
    # all 1,500): the score's statistics and offset_ are computed from it, once
    assert sampled == [len(X)]
    # the one streaming pass gives exactly the scaler of the whole data
    np.testing.assert_allclose(streamed.scaler_.mean_, in_memory.scaler_.mean_, rtol=1e-12)
    np.testing.assert_allclose(streamed.scaler_.scale_, in_memory.scaler_.scale_, rtol=1e-12)
    # the same chunks from memory give the same model exactly: reading changes nothing
    from_memory = fit_chunks(Autoencoder(**PARAMS), X, chunksize=500, epochs=PARAMS["max_iter"])
    b = streamed.score_samples(X)
    np.testing.assert_array_equal(from_memory.score_samples(X), b)
    # Tolerance against fit(): the two see the rows in different batches and orders, so
    # their weights, and the code-distance part of the score, differ. Required: the same
    # ranking up to Spearman >= 0.85, detection within 0.01 ROC AUC, median relative score
    # difference <= 15%, threshold within 10%. (Measured: Spearman 0.888 with the default
    # median score statistics, whose heavy-tailed reconstruction part weighs more here;
    # 0.969 with score_statistics="mean". Both give ROC AUC 1.0.)
    a = in_memory.score_samples(X)
    assert spearmanr(a, b).statistic >= 0.85
    assert abs(roc_auc_score(y, -a) - roc_auc_score(y, -b)) <= 0.01
    assert np.median(np.abs(a - b) / np.abs(a)) <= 0.15
    assert streamed.offset_ == pytest.approx(in_memory.offset_, rel=0.10)
    assert list(streamed.feature_names_in_) == list(X.columns)
    assert streamed.n_iter_ == len(streamed.loss_curve_) == PARAMS["max_iter"]


def _steps(model):
    """Optimizer steps taken so far."""
    return int(next(iter(model._training_state()[1].state.values()))["step"])


def test_the_ensemble_streams_as_it_fits_max_samples_rows_per_member(task, monkeypatch):
    X = pd.concat([task[0]] * 8, ignore_index=True)  # 12,000 rows: more than the sample
    streamed = EnsembleAutoencoder(max_iter=3, random_state=0)
    read = record_rows(monkeypatch, streamed, "_validate_input")
    fit_chunks(streamed, X, chunksize=2000)
    # each member trains on its own 256 rows (4 batches of 64) of the uniform sample, as
    # in fit: the data is read once for the scaler and the sample, not once per epoch
    assert streamed.max_samples_ == 256 and streamed.n_iter_ == 3
    assert _steps(streamed) == 3 * 4
    assert read == [2000] * 6
    y = np.tile(task[1], 8)
    in_memory = EnsembleAutoencoder(max_iter=3, random_state=0).fit(X)
    auc = [roc_auc_score(y, -m.score_samples(X)) for m in (in_memory, streamed)]
    assert abs(auc[0] - auc[1]) <= 0.02
    # partial_fit: one pass of every member over its own rows of the chunk
    chunked = EnsembleAutoencoder(random_state=0).partial_fit(X[:1000]).partial_fit(X[1000:1100])
    assert chunked.max_samples_ == 100 and _steps(chunked) == 4 + 2
    # a share of the rows: of all the rows streamed, drawn from the sample
    share = EnsembleAutoencoder(max_samples=0.9, max_iter=1, random_state=0)
    with pytest.warns(UserWarning, match="asks for 10,800 rows per member; a streamed fit draws"):
        fit_chunks(share, X, chunksize=2000)
    assert share.max_samples_ == outofcore.OFFSET_MIN_SAMPLE


@pytest.mark.slow  # tracemalloc slows training down: about a minute
def test_memory_is_flat_in_the_number_of_rows(tmp_path, monkeypatch):
    """Peak Python-tracked memory (NumPy and pandas buffers) of a streaming fit does not
    grow with the file: 4x the rows, the same peak, a fraction of the data's size."""
    chunksize = 500
    monkeypatch.setattr(outofcore, "OFFSET_MIN_SAMPLE", 2000)  # rows sampled for offset_
    fit_chunks(Autoencoder(), np.zeros((50, 10)), chunksize=10, epochs=1)  # imports, caches
    peaks, sizes = [], []
    for n_rows in (12_000, 48_000):
        X = pd.DataFrame(np.random.RandomState(0).normal(size=(n_rows, 10))).add_prefix("f")
        path = tmp_path / f"{n_rows}.parquet"
        X.to_parquet(path, row_group_size=5_000)
        assert max(len(c) for c in iter_chunks(path, chunksize=chunksize)) == chunksize
        tracemalloc.start()
        try:
            fit_chunks(Autoencoder(random_state=0), path, chunksize=chunksize, epochs=1)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        sizes.append(X.to_numpy().nbytes)
    assert peaks[1] <= 1.2 * peaks[0], peaks
    assert peaks[1] < sizes[1] / 3, (peaks, sizes)


def test_csv_directory_glob_and_list_sources_agree(task, tmp_path):
    X = task[0].iloc[:900]
    X.iloc[:400].to_parquet(tmp_path / "a.parquet")
    (tmp_path / "sub").mkdir()
    X.iloc[400:].to_parquet(tmp_path / "sub" / "b.parquet")
    X.to_csv(tmp_path / "all.csv", index=False)
    sources = [
        tmp_path / "all.csv",
        tmp_path,  # a directory: its Parquet files, recursively, in sorted order
        [str(tmp_path / "*.parquet"), tmp_path / "sub" / "b.parquet"],
        X,
        X.to_numpy(),
        lambda: (X.iloc[i : i + 128] for i in range(0, len(X), 128)),
    ]
    for source in sources:
        chunks = list(iter_chunks(source, chunksize=250))
        assert [len(c) for c in chunks] == [250, 250, 250, 150]
        np.testing.assert_array_equal(pd.concat(chunks).to_numpy(), X.to_numpy())


def test_columns_select_and_order_features(task, tmp_path):
    X = task[0].iloc[:300]
    X.assign(id=np.arange(len(X))).to_parquet(tmp_path / "t.parquet")
    columns = ["f3", "f0", "f1"]
    ae = fit_chunks(Autoencoder(random_state=0), tmp_path, chunksize=100, epochs=1,
                    columns=columns)  # fmt: skip
    assert list(ae.feature_names_in_) == columns
    np.testing.assert_allclose(ae.scaler_.mean_, X[columns].mean().to_numpy())


def test_scalers_and_variants(task):
    X = task[0].iloc[:600]
    minmax = fit_chunks(Autoencoder(scaling="minmax", random_state=0), X, chunksize=128, epochs=1)
    np.testing.assert_allclose(minmax.scaler_.data_min_, X.min().to_numpy())
    # RobustScaler's quantiles cannot stream: fitted on a uniform sample of chunksize rows
    robust = fit_chunks(Autoencoder(scaling="robust", random_state=0), X, chunksize=300, epochs=1)
    iqr = (X.quantile(0.75) - X.quantile(0.25)).to_numpy()
    assert np.all(np.abs(robust.scaler_.center_ - X.median().to_numpy()) < 0.25 * iqr)
    none = fit_chunks(Autoencoder(scaling=None, random_state=0), X, chunksize=300, epochs=1)
    assert none.scaler_ is None
    vae = fit_chunks(VariationalAutoencoder(random_state=0), X, chunksize=200, epochs=2)
    assert vae.predict(X).shape == (len(X),)


def test_early_stopping_and_refit_from_scratch(task):
    X = task[0].iloc[:400]
    ae = Autoencoder(max_iter=200, n_iter_no_change=2, tol=10.0, random_state=0)
    fit_chunks(ae, X, chunksize=100)  # a huge tol: no epoch counts as an improvement
    assert ae.n_iter_ == 3
    first = ae.module_
    fit_chunks(ae, X, chunksize=100, epochs=1)
    assert ae.module_ is not first and ae.n_iter_ == 1
    with pytest.warns(Warning, match="maximum iterations"):
        fit_chunks(Autoencoder(max_iter=1, random_state=0), X, chunksize=100)


def test_bad_inputs_give_clear_errors(task, tmp_path):
    X = task[0].iloc[:50]
    with pytest.raises(ValueError, match="chunksize must be at least 1"):
        fit_chunks(Autoencoder(), X, chunksize=0)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        fit_chunks(Autoencoder(), X, epochs=0)
    with pytest.raises(TypeError, match="needs an ae_anomaly autoencoder"):
        fit_chunks(object(), X)
    with pytest.raises(FileNotFoundError, match="No such file"):
        fit_chunks(Autoencoder(), tmp_path / "missing.parquet")
    with pytest.raises(FileNotFoundError, match="No file matches"):
        fit_chunks(Autoencoder(), str(tmp_path / "*.parquet"))
    with pytest.raises(ValueError, match=r"Column\(s\) \['nope'\] not found"):
        fit_chunks(Autoencoder(), X, columns=["nope"])
    X.to_parquet(tmp_path / "a.parquet")
    X.rename(columns={"f0": "g0"}).to_parquet(tmp_path / "b.parquet")
    with pytest.raises(ValueError, match="b.parquet has columns"):
        fit_chunks(Autoencoder(), tmp_path)
    bad = X.astype(object)
    bad.iloc[30, 2] = np.nan
    with pytest.raises(ValueError, match="NaN at row 30, column 'f2'"):
        fit_chunks(Autoencoder(), bad.astype(float), chunksize=100)
    text = tmp_path / "text.csv"
    text.write_text("a,b\n1,2\n3,oops\n")
    with pytest.raises(ValueError, match="'b'"):
        fit_chunks(Autoencoder(), text)


def _bad_cell_row(tmp_path, name, n_rows, row, cell, chunksize):
    """The row number fit_chunks' error names for ``cell`` at 0-based ``row`` of a file."""
    frame = pd.DataFrame(np.arange(n_rows * 2.0).reshape(n_rows, 2), columns=["a", "b"])
    frame = frame.astype(object)
    frame.loc[row, "b"] = cell
    path = tmp_path / name
    frame.to_csv(path, index=False) if name.endswith(".csv") else frame.to_parquet(path)
    with pytest.raises(ValueError) as caught:
        fit_chunks(Autoencoder(max_iter=1), path, chunksize=chunksize, epochs=1)
    message = str(caught.value)
    assert "\n" not in message and "'b'" in message, message
    return int(re.search(r"\brow (\d+)", message)[1])


def test_a_bad_cell_of_a_file_is_named_by_its_data_row_whatever_its_kind(tmp_path):
    """A missing cell and a word in a number column, both at the 251st data row (line 252,
    after the header), are both 'row 251', as the command line names them."""
    assert _bad_cell_row(tmp_path, "nan.csv", 400, 250, np.nan, 100) == 251
    assert _bad_cell_row(tmp_path, "text.csv", 400, 250, "oops", 100) == 251
    assert _bad_cell_row(tmp_path, "nan.parquet", 400, 250, np.nan, 100) == 251
    result = invoke("fit", tmp_path / "nan.csv", "-o", tmp_path / "m.skops", "--chunksize", 100)
    assert result.exit_code != 0 and "row 251" in result.output, result.output


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(n_rows=st.integers(2, 60), data=st.data(), chunksize=st.integers(1, 70),
       cell=st.sampled_from([np.nan, "oops", "#DIV/0!"]))  # fmt: skip
def test_any_bad_cell_of_a_csv_file_is_named_by_its_1_based_data_row(
    tmp_path_factory, n_rows, data, chunksize, cell
):
    row = data.draw(st.integers(0, n_rows - 1))
    tmp_path = tmp_path_factory.mktemp("bad")
    assert _bad_cell_row(tmp_path, "data.csv", n_rows, row, cell, chunksize) == row + 1


def _training_error(fit):
    """The one-line error of ``fit``, which lets no NumPy warning of the overflow out."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError) as caught:
            fit()
    return str(caught.value)


@pytest.mark.parametrize("scaling, value", [("standard", 1e300), ("minmax", 1e308),
                                            ("robust", 1e300), (None, 1e39)])  # fmt: skip
@pytest.mark.parametrize("model", [Autoencoder, EnsembleAutoencoder])
def test_a_value_too_large_to_train_on_is_refused_by_every_streamed_fit(model, scaling, value):
    """The ensemble's streamed fit trains on the uniform sample and skipped the check that
    every other fit runs on its training rows: it stopped with 'Training diverged ...
    Lower learning_rate_init' or, with minmax scaling, fitted and then ignored the column.
    Now it refuses the value as fit does, naming it, its row label and its column."""
    X = pd.DataFrame(np.random.RandomState(0).normal(size=(300, 3)), columns=list("abc"))
    X.index += 1000
    X.loc[1005, "b"] = value
    params = {"scaling": scaling, "max_iter": 2, "random_state": 0}
    expected = _training_error(lambda: model(**params).fit(X))
    assert f"Value {value!r} at row 1005, column 'b' overflows in training" in expected
    streamed = _training_error(lambda: fit_chunks(model(**params), X, chunksize=100, epochs=2))
    assert streamed == expected


@pytest.mark.parametrize("model", [Autoencoder, EnsembleAutoencoder])
def test_an_overflowing_statistic_names_the_largest_value_of_the_data(model, monkeypatch,
                                                                      tmp_path):  # fmt: skip
    """The scaler fitted on every row overflows: the error names the row of the file that
    holds the column's largest value, as fit does (1e300 at data row 1501), though it is
    not in the ensemble's sample, nor in the first chunk (which named its own largest
    value, an ordinary one, as 'too large to learn from')."""
    monkeypatch.setattr(outofcore, "OFFSET_MIN_SAMPLE", 50)  # a sample of 50 rows of 2,000
    X = pd.DataFrame(np.random.RandomState(0).normal(size=(2000, 3)), columns=list("abc"))
    X.loc[1500, "c"] = 1e300
    X.to_csv(tmp_path / "data.csv", index=False)
    params = {"scaling": "standard", "max_iter": 2, "random_state": 0}
    message = _training_error(lambda: fit_chunks(model(**params), tmp_path / "data.csv",
                                                 chunksize=50))  # fmt: skip
    assert "Value 1e+300 at row 1501, column 'c' overflows in training" in message, message
    in_memory = _training_error(lambda: model(**params).fit(X))
    assert "Value 1e+300 at row 1500, column 'c' overflows in training" in in_memory


def test_a_row_of_several_files_is_named_by_its_file_not_by_a_place_in_a_chunk(tmp_path):
    """iter_chunks labels each file's rows by their data row in that file, so a chunk that
    spans two files holds a label twice, and the message gave its position in the chunk:
    'row 15 (position 54)', in no file. Now the row is named as its file names it."""
    rng = np.random.default_rng(0)
    for k in range(3):
        part = pd.DataFrame(rng.normal(size=(50, 2)), columns=["a", "b"])
        if k == 2:
            part.loc[14, "b"] = np.nan  # the third file's data row 15
        part.to_csv(tmp_path / f"part{k}.csv", index=False)
    with pytest.raises(ValueError) as caught:
        fit_chunks(Autoencoder(max_iter=1), str(tmp_path / "part*.csv"), chunksize=60, epochs=1)
    message = str(caught.value)
    assert f"NaN at row 15 of {tmp_path / 'part2.csv'}, column 'b'" in message, message
    assert "position" not in message, message


def test_an_overflowing_statistic_of_several_files_names_the_file(tmp_path):
    """The largest value of a column, found again after the first pass, is named by its
    file too (the chunk it was in is gone by then)."""
    rng = np.random.default_rng(0)
    for k in range(2):
        part = pd.DataFrame(rng.normal(size=(30, 3)), columns=list("abc"))
        if k == 1:
            part.loc[4, "c"] = 1e300
        part.to_csv(tmp_path / f"part{k}.csv", index=False)
    params = {"scaling": "standard", "max_iter": 2, "random_state": 0}
    message = _training_error(lambda: fit_chunks(Autoencoder(**params), [
        tmp_path / "part0.csv", tmp_path / "part1.csv"], chunksize=40))  # fmt: skip
    assert f"1e+300 at row 5 of {tmp_path / 'part1.csv'}, column 'c'" in message, message


def test_a_repeated_label_streamed_from_a_table_is_named_by_its_place_in_the_table():
    """A DataFrame cut into chunks: a label repeated in the table but once in its chunk
    is named with the row's position in the table, as fit names it."""
    X = pd.concat([pd.DataFrame(np.random.RandomState(k).normal(size=(12, 2)), columns=list("ab"))
                   for k in range(2)])  # fmt: skip
    X.iloc[15, 1] = np.nan  # label 3, once in the second chunk of 10
    message = _training_error(lambda: fit_chunks(Autoencoder(max_iter=1), X, chunksize=10))
    assert "NaN at row 3 (position 15), column 'b'" in message, message
    assert message == _training_error(lambda: Autoencoder(max_iter=1).fit(X))


# ----------------------------------------------------------------------------- CLI
def invoke(*args):
    from click.testing import CliRunner

    from ae_anomaly.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_fit_chunksize_streams_the_file(task, tmp_path):
    X = task[0].iloc[:900].assign(id=np.arange(900))
    data = tmp_path / "train.csv"
    X.to_csv(data, index=False)
    model = tmp_path / "model.skops"
    result = invoke("fit", data, "-o", model, "--chunksize", 200, "--id-col", "id",
                    "--set", "max_iter=2")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "900 rows" in result.output
    from ae_anomaly.persistence import load_with_metadata

    pipeline, metadata = load_with_metadata(model)
    estimator = pipeline[-1]
    features = X.drop(columns="id")
    # the default model scales by median and MAD, which cannot stream: its scaler comes from
    # the uniform sample, every row below 10,000; the network saw two epochs of 200-row chunks
    np.testing.assert_allclose(estimator.scaler_.center_, features.median().to_numpy())
    assert estimator.n_iter_ == 2 and metadata["training"]["rows"] == 900
    flagged = int((-pipeline.score_samples(features) > metadata["threshold"]).sum())
    assert metadata["training"]["flagged"] == flagged
    scores = tmp_path / "scores.csv"
    assert invoke("score", model, data, "-o", scores).exit_code == 0
    written = pd.read_csv(scores)["anomaly_score"].to_numpy()
    np.testing.assert_allclose(written, -pipeline.score_samples(features), rtol=1e-12)


def test_cli_fit_chunksize_refuses_what_cannot_stream(tmp_path):
    data = tmp_path / "mixed.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "x"]}).to_csv(data, index=False)
    result = invoke("fit", data, "-o", tmp_path / "m.skops", "--chunksize", 2)
    assert result.exit_code == 2
    assert "numeric columns only" in result.output and "'b'" in result.output
    result = invoke("fit", data, "-o", tmp_path / "m.skops", "--chunksize", 0)
    assert result.exit_code == 2 and "--chunksize" in result.output
