"""Scoring and training on Dask, on a real two-process LocalCluster started here (loopback)."""

import cloudpickle
import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from ae_anomaly import Autoencoder, EnsembleAutoencoder  # noqa: E402
from ae_anomaly.dask import (  # noqa: E402
    apply_model,
    fit_partitions,
    iter_partitions,
    score_parquet,
)

pytestmark = pytest.mark.slow  # starting two worker processes takes ~10-30 s


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # both workers registered before anything is scattered: on a busy machine the
        # second one could come up after the broadcast and hold no copy (seen once in CI)
        client.wait_for_workers(2, timeout=120)
        yield client


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Four Parquet files, 4,000 rows: a multi-partition dataset."""
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(4000, 8)), columns=[f"x{i}" for i in range(8)])
    X["x1"] = 2 * X["x0"] + 0.1 * X["x1"]
    folder = tmp_path_factory.mktemp("parts")
    for i in range(4):
        X.iloc[i * 1000 : (i + 1) * 1000].to_parquet(folder / f"part-{i}.parquet")
    return X, folder


@pytest.fixture(scope="module")
def model(data):
    return Autoencoder(hidden_layer_sizes=(256, 256), max_iter=5, random_state=0).fit(data[0])


def test_partitioned_scores_equal_single_process_scores(client, data, model):
    X, folder = data
    ddf = dd.read_parquet(str(folder / "*.parquet"))
    assert ddf.npartitions == 4
    expected = model.score_samples(X)
    scores = apply_model(model, ddf).compute()
    np.testing.assert_array_equal(scores.to_numpy(), expected)  # exactly, bit for bit
    labels = apply_model(model, ddf, "predict").compute()
    np.testing.assert_array_equal(labels.to_numpy(), model.predict(X))


def test_model_is_shipped_once_not_per_partition(client, data, model):
    X, _ = data
    ddf = dd.from_pandas(X, npartitions=8)
    result = apply_model(model, ddf, client=client)
    # the graph refers to one scattered copy: it is far smaller than 8 copies of the model
    graph_bytes = len(cloudpickle.dumps(dict(result.__dask_graph__())))
    model_bytes = len(cloudpickle.dumps(model))
    assert graph_bytes < model_bytes, (graph_bytes, model_bytes)
    # ...which every worker holds after the broadcast
    handles = [k for k in client.has_what().values()]
    assert len(handles) == 2 and all(handles)
    np.testing.assert_array_equal(result.compute().to_numpy(), model.score_samples(X))


def test_score_parquet_writes_a_partitioned_output(client, data, model, tmp_path):
    X, folder = data
    out = tmp_path / "scores"
    n_rows = score_parquet(model, str(folder / "*.parquet"), out)
    assert n_rows == len(X)
    files = sorted(out.glob("*.parquet"))
    assert len(files) == 4
    written = pd.concat(pd.read_parquet(f) for f in sorted(files, key=_part_number))
    np.testing.assert_array_equal(written["score_samples"].to_numpy(), model.score_samples(X))
    with pytest.raises(FileExistsError, match="already exists"):
        score_parquet(model, folder, out)


def _part_number(path):
    return int(path.stem.split(".")[-1])


def test_fit_partitions_streams_one_partition_at_a_time(client, data, monkeypatch):
    X, folder = data
    ddf = dd.read_parquet(str(folder / "*.parquet"))
    estimator = Autoencoder(random_state=0)
    seen = []
    original = estimator._validate_input  # every chunk read is validated first

    def spy(chunk, *args, **kwargs):
        seen.append(len(chunk))
        return original(chunk, *args, **kwargs)

    monkeypatch.setattr(estimator, "_validate_input", spy)
    fit_partitions(estimator, ddf, epochs=2, chunksize=600)
    # 4 partitions of 1,000 rows, regrouped in chunks of 600, once for the scaler and the
    # sample, then once per epoch: never the whole frame
    assert seen == ([600] * 6 + [400]) * 3
    np.testing.assert_allclose(estimator.scaler_.mean_, X.mean().to_numpy(), rtol=1e-10)
    assert [len(p) for p in iter_partitions(ddf)] == [1000] * 4
    with pytest.raises(TypeError, match="needs a Dask DataFrame"):
        fit_partitions(Autoencoder(), X)
    with pytest.raises(TypeError, match="needs a Dask DataFrame"):
        fit_partitions(Autoencoder(), ddf["x0"])  # a Series


def test_fit_partitions_takes_a_dask_array(data):
    # a 2-D Dask array: its row blocks stream like partitions; the default ensemble's
    # median/MAD scaler comes from the sample, here every row
    import dask.array as da

    X, _ = data
    values = X.to_numpy()
    model = fit_partitions(EnsembleAutoencoder(n_estimators=3, random_state=0),
                           da.from_array(values, chunks=(700, 2)), epochs=2)  # fmt: skip
    np.testing.assert_allclose(model.scaler_.center_, np.median(values, axis=0))
    assert model.n_iter_ == 2 and np.isfinite(model.score_samples(values)).all()


# ----------------------------------------------------------------------------- CLI
def invoke(*args):
    from click.testing import CliRunner

    from ae_anomaly.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_score_engine_dask_equals_single_process(client, data, tmp_path):
    X, folder = data
    table = X.assign(id=np.arange(len(X)))
    parts = tmp_path / "parts"
    parts.mkdir()
    for i in range(4):
        table.iloc[i * 1000 : (i + 1) * 1000].to_parquet(parts / f"p{i}.parquet", index=False)
    table.to_parquet(tmp_path / "all.parquet", index=False)
    model = tmp_path / "m.skops"
    fitted = invoke("fit", tmp_path / "all.parquet", "-o", model, "--id-col", "id",
                    "--set", "max_iter=2")  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    single = tmp_path / "single.parquet"
    assert (
        invoke("score", model, tmp_path / "all.parquet", "-o", single, "--explain", 2).exit_code
        == 0
    )
    # any scheduler address, unchanged: here the test's own cluster, on loopback
    out = tmp_path / "scores"
    result = invoke("score", model, str(parts / "*.parquet"), "--engine", "dask",
                    "--scheduler", client.scheduler.address, "-o", out, "--explain", 2)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "scored 4,000 rows on 2 Dask worker(s)" in result.output
    files = sorted(out.glob("*.parquet"), key=_part_number)
    assert len(files) == 4
    distributed_scores = pd.concat(pd.read_parquet(f) for f in files).reset_index(drop=True)
    pd.testing.assert_frame_equal(distributed_scores, pd.read_parquet(single))  # exactly

    again = invoke("score", model, parts, "--engine", "dask", "--scheduler",
                   client.scheduler.address, "-o", out)  # fmt: skip
    assert again.exit_code == 2 and "is a directory" in again.output  # never overwritten
    wrong = invoke("score", model, str(parts / "*.parquet"), "-o", tmp_path / "x.csv")
    assert wrong.exit_code == 2 and "--engine dask" in wrong.output
    stray = invoke("score", model, tmp_path / "all.parquet", "--scheduler", "tcp://127.0.0.1:1")
    assert stray.exit_code == 2 and "--scheduler goes with --engine dask" in stray.output


@pytest.mark.parametrize("method", ["transform", "reconstruct", "feature_scores"])
def test_a_method_without_one_value_per_row_is_refused_up_front(model, method):
    """``transform`` failed when computed, in a pandas traceback ("Data must be
    1-dimensional, got ndarray of shape (200, 2)")."""
    ddf = dd.from_pandas(pd.DataFrame(np.zeros((4, 1))), npartitions=2)
    with pytest.raises(ValueError, match=f"one value per row: .* got '{method}'"):
        apply_model(model, ddf, method)
