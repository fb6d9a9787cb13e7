"""Fuzzing model files: whatever is changed in the header, skops' schema or the members,
``load`` either returns a model that scores finite numbers or raises ``ModelFileError`` in
one line; never another exception, never more than 1 GiB over a valid load.

The Hypothesis run happens in a subprocess whose address space is capped
(``RLIMIT_AS`` = what loading a valid model took + 1 GiB).
"""

import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ae_anomaly import Autoencoder, load, save  # noqa: E402
from ae_anomaly.persistence import ModelFileError  # noqa: E402
from tests import hostile_files as hf  # noqa: E402

CAPPED = "AE_ANOMALY_FUZZ_CAPPED"
X = np.random.RandomState(0).normal(size=(60, 4))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=6,
)  # fmt: skip
names = st.sampled_from([
    "JsonNode", "ObjectNode", "FunctionNode", "NdArrayNode", "ListNode", "DictNode", "TypeNode",
    "ReduceNode", "numpy", "ndarray", "float64", "builtins", "str", "eval", "os", "system",
    "sklearn.preprocessing._data", "StandardScaler", "ae_anomaly.models.autoencoder",
])  # fmt: skip


def _paths(node, prefix=()):
    """Every (path, value) inside a JSON tree."""
    yield prefix, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _mutate(tree, data):
    """One change to a JSON tree: a value replaced, a key deleted, or a name swapped."""
    paths = [p for p, _ in _paths(tree) if p]
    path = data.draw(st.sampled_from(paths))
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    action = data.draw(st.sampled_from(["replace", "delete", "name", "number"]))
    if action == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif action == "name":
        parent[path[-1]] = data.draw(names)
    elif action == "number":
        parent[path[-1]] = data.draw(st.integers(-(2**40), 2**40) | st.floats())
    else:
        parent[path[-1]] = data.draw(json_values)
    return tree


def _check(path, rows=X):
    """Load either refuses in one line (-> None) or gives a model scoring ``rows`` finitely."""
    try:
        model = load(path)
    except ModelFileError as exc:
        assert "\n" not in str(exc)
        return None
    scores = model.score_samples(rows)
    assert scores.shape == (len(rows),) and np.all(np.isfinite(scores))
    return model


_ORIGINAL = {}


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """The members of a valid file (a dict kept out of Hypothesis' failure reports)."""
    if _ORIGINAL:
        return _ORIGINAL
    path = tmp_path_factory.mktemp("fuzz") / "model.skops"
    save(Autoencoder(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X), path)
    load(path)
    if os.environ.get(CAPPED):  # the subprocess: cap the address space from here on
        status = Path("/proc/self/status").read_text()
        peak = int(status.split("VmPeak:")[1].split()[0]) * 1024
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        resource.setrlimit(resource.RLIMIT_AS, (peak + (1 << 30), hard))
    _ORIGINAL.update(hf.members(path))
    return _ORIGINAL


def _fuzz(test):
    runs = settings(
        max_examples=int(os.environ.get("AE_ANOMALY_FUZZ_EXAMPLES", 60)),
        deadline=None,
        derandomize=not os.environ.get("AE_ANOMALY_FUZZ_RANDOM"),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    capped = pytest.mark.skipif(not os.environ.get(CAPPED), reason="run under a memory cap")
    return capped(runs(test))


@_fuzz
@given(data=st.data())
@pytest.mark.usefixtures("original")
def test_fuzz_header(tmp_path, data):
    content = dict(_ORIGINAL)
    content[hf.HEADER] = json.dumps(_mutate(json.loads(content[hf.HEADER]), data)).encode()
    _check(hf.write(tmp_path / "m.skops", content))


@_fuzz
@given(data=st.data())
@pytest.mark.usefixtures("original")
def test_fuzz_schema(tmp_path, data):
    content = dict(_ORIGINAL)
    content[hf.SCHEMA] = json.dumps(_mutate(json.loads(content[hf.SCHEMA]), data)).encode()
    _check(hf.write(tmp_path / "m.skops", content))


@_fuzz
@given(data=st.data())
@pytest.mark.usefixtures("original")
def test_fuzz_members(tmp_path, data):
    content = dict(_ORIGINAL)
    arrays = sorted(n for n in content if n.endswith(".npy"))
    name = data.draw(st.sampled_from(arrays))
    kind = data.draw(st.sampled_from(["bytes", "array", "truncate"]))
    if kind == "bytes":
        blob = bytearray(content[name])
        at = data.draw(st.integers(0, len(blob) - 1))
        blob[at] = data.draw(st.integers(0, 255))
        content[name] = bytes(blob)
    elif kind == "truncate":
        content[name] = content[name][: data.draw(st.integers(0, len(content[name])))]
    else:
        shape = data.draw(st.lists(st.integers(0, 5), max_size=3))
        dtype = data.draw(st.sampled_from(["<f4", "<f8", "<i8", "|u1", ">f8", "<c16", "|b1"]))
        fill = data.draw(st.sampled_from([0.0, 1.0, -1.0, np.nan, np.inf]))
        content[name] = hf.npy(np.full(shape, fill).astype(dtype))
    _check(hf.write(tmp_path / "m.skops", content, compression=zipfile.ZIP_STORED))


_TABLE = {}
_ROWS = pd.DataFrame({
    "a": [f"{v:.3f}" for v in np.random.RandomState(1).normal(size=60)],
    "region": ["ABC"[i % 3] for i in range(60)],
    "paid": ["yes", "no"] * 30,
    "day": pd.date_range("2024-01-01", periods=60, freq="7h").strftime("%Y-%m-%d %H:%M"),
})  # fmt: skip


@pytest.fixture(scope="module")
def table_original(tmp_path_factory, original):
    """The members of a valid ``ae-anomaly fit`` file of a mixed table (numbers,
    categories, booleans, dates): a TableEncoder pipeline under a header with a schema."""
    if _TABLE:
        return _TABLE
    from click.testing import CliRunner

    from ae_anomaly.cli import cli

    folder = tmp_path_factory.mktemp("fuzz_table")
    _ROWS.to_csv(folder / "t.csv", index=False)
    result = CliRunner().invoke(cli, ["fit", str(folder / "t.csv"), "-o", str(folder / "m.skops"),
                                      "--model", "autoencoder", "--set", "max_iter=2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    load(folder / "m.skops")
    _TABLE.update(hf.members(folder / "m.skops"))
    return _TABLE


@_fuzz
@given(data=st.data(), member=st.sampled_from([hf.SCHEMA, hf.HEADER]))
@pytest.mark.usefixtures("table_original")
def test_fuzz_table_model(tmp_path, data, member):
    """The same for a table model's schema (its encoder's columns, kinds, categories...)
    and its header (column schema, training summary, threshold); a file that loads is
    also scored by ``ae-anomaly score``: its scores, or one line without a traceback."""
    from click.testing import CliRunner

    from ae_anomaly.cli import cli

    content = dict(_TABLE)
    content[member] = json.dumps(_mutate(json.loads(content[member]), data)).encode()
    path = hf.write(tmp_path / "m.skops", content)
    if _check(path, _ROWS) is None:
        return
    _ROWS.to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "scores.csv"
    out.unlink(missing_ok=True)  # tmp_path is shared by the examples
    result = CliRunner().invoke(cli, ["score", str(path), str(tmp_path / "t.csv"), "-o", str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    if result.exit_code == 0:
        assert np.all(np.isfinite(pd.read_csv(out)["anomaly_score"]))
    else:
        assert [line[:6] for line in result.stderr.splitlines()] == ["Error:"], result.stderr
        assert not out.exists()


@pytest.mark.slow  # about a minute on two shared cores
def test_fuzz_under_a_memory_cap():
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, CAPPED: "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
         str(Path(__file__)), "-k", "test_fuzz_ and not under_a_memory_cap"],
        cwd=root, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:]
    assert "4 passed" in result.stdout
