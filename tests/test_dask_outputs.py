"""``score --engine dask -o DIR``: an output inside the input directory is refused, a
failed or killed run leaves no partial directory (its temporary sibling is recognisable
and removed by the next run), and only the model's columns are read."""

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

from ae_anomaly.cli import cli  # noqa: E402
from ae_anomaly.tables.writer import PART_SUFFIX  # noqa: E402
from tests.cli_checks import assert_error

ROOT = Path(__file__).resolve().parents[1]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def hidden(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A model fitted on ``id, a, b, c`` and a directory of four Parquet files."""
    folder = tmp_path_factory.mktemp("dask")
    rng = np.random.RandomState(0)
    table = pd.DataFrame(rng.normal(size=(2000, 3)), columns=list("abc"))
    table.insert(0, "id", [f"r{i}" for i in range(len(table))])
    table.to_parquet(folder / "all.parquet", index=False)
    parts = folder / "parts"
    parts.mkdir()
    for i in range(4):
        table.iloc[i * 500 : (i + 1) * 500].to_parquet(parts / f"p{i}.parquet", index=False)
    model = folder / "m.skops"
    fitted = invoke("fit", folder / "all.parquet", "-o", model, "--id-col", "id",
                    "--set", "max_iter=2", "--set", "random_state=0")  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    return model, parts, table


@pytest.mark.parametrize(
    "data, out",
    [
        (".", "scores"),  # -o inside the input directory
        (".", "sub/deeper"),
        ("**/*.parquet", "scores"),  # under a recursive pattern's directory
        ("p*", "p_scores"),  # a name the pattern matches
    ],
)
def test_output_inside_the_input_is_refused(setup, data, out):
    model, parts, _ = setup
    if out.startswith("sub/"):
        (parts / "sub").mkdir(exist_ok=True)
    result = invoke("score", model, parts / data, "--engine", "dask", "-o", parts / out)
    assert_error(result, 2, "is inside the input", "choose a directory outside it")
    assert not (parts / out).exists() and hidden(parts) == []


def test_failed_run_leaves_nothing_and_stale_temporaries_are_removed(setup, tmp_path):
    model, parts, table = setup
    bad = tmp_path / "bad"
    bad.mkdir()
    for i in range(4):
        chunk = table.iloc[i * 500 : (i + 1) * 500].copy()
        if i == 3:
            chunk.loc[chunk.index[7], "b"] = np.nan  # a later partition fails
        chunk.to_parquet(bad / f"p{i}.parquet", index=False)
    out = tmp_path / "scores"
    result = invoke("score", model, bad, "--engine", "dask", "-o", out)
    assert_error(result, 1, "missing value", "'b'")
    assert not out.exists() and hidden(tmp_path) == []

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".scores.{dead}.x1{PART_SUFFIX}"  # a killed run's temporary output
    stale.mkdir()
    (stale / "part.0.parquet").write_bytes(b"half")
    other = tmp_path / ".scores.notes"  # not ours: kept
    other.write_text("keep")
    result = invoke("score", model, parts, "--engine", "dask", "-o", out)
    assert result.exit_code == 0, result.output
    assert hidden(tmp_path) == [".scores.notes"]
    scores = pd.concat(pd.read_parquet(p) for p in sorted(out.glob("*.parquet")))
    assert len(scores) == len(table)


def test_kill_9_leaves_a_recognisable_temporary_directory_removed_next_time(setup, tmp_path):
    model, _, table = setup
    big = tmp_path / "big"
    big.mkdir()
    rng = np.random.RandomState(1)
    for i in range(40):
        frame = pd.DataFrame(rng.normal(size=(20_000, 3)), columns=list("abc"))
        frame.insert(0, "id", [f"r{i}-{j}" for j in range(len(frame))])
        frame.to_parquet(big / f"p{i:02d}.parquet", index=False)
    out = tmp_path / "scores"
    process = subprocess.Popen([sys.executable, "-m", "ae_anomaly", "score", str(model),
                                str(big), "--engine", "dask", "-o", str(out)], cwd=ROOT,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    parts = []
    for _ in range(1200):  # wait for its temporary directory to appear, then kill it hard
        parts = list(tmp_path.glob(f".scores.{process.pid}.*{PART_SUFFIX}"))
        if parts or process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    process.wait()
    if not parts:
        pytest.skip("the run finished before it could be killed")
    assert not out.exists() and parts[0].is_dir()
    result = invoke("score", model, big, "--engine", "dask", "-o", out)
    assert result.exit_code == 0, result.output
    assert hidden(tmp_path) == [] and len(list(out.glob("*.parquet"))) == 40


def test_ignore_extra_reads_only_the_model_columns(setup, tmp_path):
    """A column the model does not need is never read: here one no reader could decode
    as the model's types would need, and a 1 MiB dictionary-encoded blob."""
    model, _, table = setup
    folder = tmp_path / "extra"
    folder.mkdir()
    n = 500
    blob = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n, dtype=np.int32)), pa.array([b"z" * (1 << 20)], pa.binary())
    )
    for i in range(2):
        part = pa.Table.from_pandas(table.iloc[i * n : (i + 1) * n], preserve_index=False)
        pq.write_table(part.append_column("blob", blob), folder / f"p{i}.parquet",
                       store_schema=False)  # fmt: skip
    out = tmp_path / "scores"
    refused = invoke("score", model, folder, "--engine", "dask", "-o", out)
    assert_error(refused, 1, "unknown column(s) 'blob'", "--ignore-extra")
    assert not out.exists()
    result = invoke("score", model, folder, "--engine", "dask", "-o", out, "--ignore-extra")
    assert result.exit_code == 0, result.output
    scores = pd.concat(pd.read_parquet(p) for p in sorted(out.glob("*.parquet")))
    assert list(scores.columns) == ["id", "anomaly_score", "is_anomaly"]
    assert len(scores) == 2 * n and hidden(tmp_path) == []


def test_files_saved_by_pandas_with_their_index_score_as_in_one_process(setup, tmp_path):
    """The model's id is the frame's named index (``set_index("id")``), or the frame was
    filtered and pandas wrote its row labels: Dask failed on the first ("['id'] not in
    index") and warned once per partition with ``index=False``; now both score as
    ``score`` does in one process, without a warning."""
    model, _, table = setup
    folder = tmp_path / "indexed"
    folder.mkdir()
    table.iloc[:500].set_index("id").to_parquet(folder / "p0.parquet")
    table.iloc[500:1000].set_index("id").to_parquet(folder / "p1.parquet")
    kept = table.iloc[1000:][table["a"].iloc[1000:] > 0]  # a filtered frame
    kept.to_parquet(tmp_path / "filtered.parquet")
    assert "__index_level_0__" in pq.read_schema(tmp_path / "filtered.parquet").names
    filtered = tmp_path / "filtered.parquet"
    for data, rows, first in [(folder, table.iloc[:1000], folder / "p0.parquet"),
                              (filtered, kept, filtered)]:  # fmt: skip
        out = tmp_path / f"scores_{data.stem}"
        result = invoke("score", model, data, "--engine", "dask", "-o", out)
        assert result.exit_code == 0, result.output
        assert "Warning" not in result.stderr
        scores = pd.concat(pd.read_parquet(p) for p in sorted(out.glob("*.parquet")))
        assert list(scores.columns) == ["id", "anomaly_score", "is_anomaly"]
        assert scores["id"].tolist() == rows["id"].tolist()
        alone = invoke("score", model, first)  # one process, the first file
        assert alone.exit_code == 0, alone.output
        expected = pd.read_csv(io.StringIO(alone.stdout))
        assert scores["id"].tolist()[: len(expected)] == expected["id"].tolist()
        np.testing.assert_allclose(scores["anomaly_score"].to_numpy()[: len(expected)],
                                   expected["anomaly_score"], rtol=1e-12)  # fmt: skip


_CAPPED = """
import resource, sys
sys.path.insert(0, {root!r})
from click.testing import CliRunner
from ae_anomaly.cli import cli

def score(data, out):
    result = CliRunner().invoke(cli, ["score", sys.argv[1], data, "--engine", "dask", "-o",
                                      out, "--ignore-extra"])
    print("EXIT", result.exit_code, result.stderr.replace(chr(10), "|"))

score(sys.argv[2], sys.argv[4])  # small files: imports, threads, arenas; the baseline
peak = int(open("/proc/self/status").read().split("VmPeak:")[1].split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (peak + (1 << 30), resource.RLIM_INFINITY))
score(sys.argv[3], sys.argv[5])
"""


def test_ignore_extra_on_dask_under_a_memory_cap(setup, tmp_path):
    """Two files of 3,000 rows whose unused blob column would decode to 3 GiB each: scored
    under a cap of a small run + 1 GiB."""
    model, parts, table = setup
    folder = tmp_path / "blobs"
    folder.mkdir()
    n = 3000
    blob = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n, dtype=np.int32)), pa.array([b"z" * (1 << 20)], pa.binary())
    )
    rows = pd.concat([table, table]).iloc[:n]
    for i in range(2):
        part = pa.Table.from_pandas(rows, preserve_index=False).append_column("blob", blob)
        pq.write_table(part, folder / f"p{i}.parquet", store_schema=False)
    script = _CAPPED.format(root=str(ROOT))
    args = [model, parts, folder, tmp_path / "small", tmp_path / "scores"]
    result = subprocess.run([sys.executable, "-c", script, *map(str, args)],
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    runs = [line for line in result.stdout.splitlines() if line.startswith("EXIT")]
    assert [line.split()[1] for line in runs] == ["0", "0"], result.stdout
    scores = pd.concat(pd.read_parquet(p) for p in sorted((tmp_path / "scores").glob("*.parquet")))
    assert len(scores) == 2 * n and hidden(tmp_path) == []


def _overflowing(table, rows):
    """``table`` with a value that overflows in the model's arithmetic at ``rows``."""
    bad = table.copy()
    bad.loc[rows, "a"] = 1e308
    return bad


def test_rows_that_cannot_be_scored_are_counted_once_per_run_as_in_one_process(setup, tmp_path):
    """``score --engine dask`` flagged such rows (anomaly_score inf) but counted them
    nowhere: no warning and no count, where ``score`` in one process warns once with the
    count and the first row. Now the Dask run warns the same line, once."""
    model, _, table = setup
    bad = _overflowing(table, [700, 1300, 1999])  # in partitions 1, 2 and 3 of 4
    folder = tmp_path / "bad"
    folder.mkdir()
    for i in range(4):
        bad.iloc[i * 500 : (i + 1) * 500].to_parquet(folder / f"p{i}.parquet", index=False)
    bad.to_parquet(tmp_path / "all.parquet", index=False)
    alone = invoke("score", model, tmp_path / "all.parquet", "-o", tmp_path / "alone.parquet")
    assert alone.exit_code == 0, alone.output
    expected = [line for line in alone.stderr.splitlines() if "could not be scored" in line]
    assert len(expected) == 1 and "3 row(s)" in expected[0] and "row 701" in expected[0]
    out = tmp_path / "scores"
    result = invoke("score", model, folder, "--engine", "dask", "-o", out)
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "could not be scored" in line]
    assert warned == expected
    as_json = invoke("score", model, folder, "--engine", "dask", "-o", tmp_path / "json",
                     "--json")  # fmt: skip
    assert json.loads(as_json.stderr.splitlines()[-1])["unscorable"] == 3
    scores = pd.concat(pd.read_parquet(p) for p in sorted(out.glob("*.parquet"), key=_part))
    assert np.flatnonzero(np.isinf(scores["anomaly_score"])).tolist() == [700, 1300, 1999]
    assert scores["is_anomaly"].iloc[[700, 1300, 1999]].tolist() == [1, 1, 1]


def _part(path):
    return int(path.stem.split(".")[-1])


def test_the_library_gives_the_count_and_score_parquet_warns_once(setup, tmp_path):
    import warnings

    import dask
    import dask.dataframe as dd

    from ae_anomaly.dask import apply_model, score_parquet
    from ae_anomaly.tables.api import TableModel, score_files_dask

    model, parts, table = setup
    bad = _overflowing(table, [10, 1250])
    folder = tmp_path / "bad"
    folder.mkdir()
    for i in range(4):
        bad.iloc[i * 500 : (i + 1) * 500].to_parquet(folder / f"p{i}.parquet", index=False)
    with pytest.warns(UserWarning, match=r"2 row\(s\) could not be scored \(first: row 11\)"):
        result = score_files_dask(model, folder, tmp_path / "scores")
    assert (result.rows, result.unscorable, result.first_unscorable) == (2000, 2, 11)
    clean = score_files_dask(model, parts, tmp_path / "clean")
    assert (clean.unscorable, clean.first_unscorable) == (0, None)

    pipeline = TableModel.load(model).pipeline[-1]  # a bare autoencoder: score_samples
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with dask.config.set(scheduler="sync"):
            n_rows = score_parquet(pipeline, folder, tmp_path / "raw", columns=list("abc"))
    said = [str(w.message) for w in caught if "could not be scored" in str(w.message)]
    assert n_rows == 2000 and len(said) == 1, said  # not one per partition
    assert said[0].startswith("2 row(s) could not be scored") and "(first: row 11 of" in said[0]

    from ae_anomaly.scale.dask import score_parquet_counting

    calls = []  # the count comes with the output, the partitions scored once

    def transform(fitted, frame):
        calls.append(len(frame))
        return frame.assign(s=fitted.score_samples(frame[list("abc")]))

    meta = transform(pipeline, bad.iloc[:1]).iloc[:0]
    calls.clear()
    with dask.config.set(scheduler="sync"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counted = score_parquet_counting(pipeline, folder, tmp_path / "once", transform=transform,
                                         meta=meta, unscorable="s")  # fmt: skip
    assert counted == (2000, 2, 11) and calls == [500] * 4

    lazy = apply_model(pipeline, dd.from_pandas(bad[list("abc")], npartitions=4))
    assert np.isinf(lazy.compute(scheduler="sync")).sum() == 2  # computed when asked
