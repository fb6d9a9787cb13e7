"""Crafted and broken model files: each refused in one line before it costs memory or time,
never loaded into a model that scores NaN or flags nothing.

The memory cases run in a subprocess whose address space is capped at what loading a
small valid model takes plus 1 GiB (``resource.setrlimit(RLIMIT_AS)``); unprotected, each
of them takes 4 to 11 GB.
"""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.covariance import EllipticEnvelope
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from ae_anomaly import Autoencoder, load, save
from ae_anomaly.cli import cli
from ae_anomaly.persistence import ModelFileError, read_metadata
from tests import hostile_files as hf
from tests.cli_checks import assert_error

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def X():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    X[:, 1] = 2 * X[:, 0]
    return X


@pytest.fixture(scope="module")
def saved(tmp_path_factory, X):
    """A plain estimator saved from Python, with Adam's state (partial_fit-able)."""
    path = tmp_path_factory.mktemp("saved") / "model.skops"
    save(Autoencoder(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X), path)
    return path


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory):
    """A model written by ``ae-anomaly fit``: header with schema, training, threshold."""
    folder = tmp_path_factory.mktemp("cli")
    rng = np.random.RandomState(0)
    rows = ["a,b,c"] + [f"{x:.4f},{2 * x:.4f},{y:.4f}" for x, y in rng.normal(size=(150, 2))]
    (folder / "t.csv").write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(
        cli, ["fit", str(folder / "t.csv"), "-o", str(folder / "m.skops"), "--set", "max_iter=2"]
    )
    assert result.exit_code == 0, result.output
    return folder / "m.skops"


def refused(path, match):
    """``load`` and ``ae-anomaly info`` both refuse ``path`` in one line naming ``match``."""
    with pytest.raises(ModelFileError, match=match) as caught:
        load(path)
    assert "\n" not in str(caught.value)
    result = CliRunner().invoke(cli, ["info", str(path)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return str(caught.value)


# ------------------------------------------------------------- crafted contents, item 3
@pytest.mark.parametrize(
    "key, value, match",
    [
        ("offset_", float("nan"), "offset_"),
        ("offset_", float("-inf"), "offset_"),
        ("offset_", "x", "offset_"),
    ],
)
def test_bad_offset_refused(saved, tmp_path, key, value, match):
    def schema(tree):
        hf.set_json(hf.estimator_state(tree), key, value)
        return tree

    def header(head):
        head["estimator"].pop("offset")
        return head

    refused(hf.edit(saved, tmp_path / "m.skops", schema=schema, header=header), match)


@pytest.mark.parametrize("value", [0.0, -1.0, np.nan, np.inf])
def test_bad_error_scale_refused(saved, tmp_path, value):
    path = hf.replace_array(saved, tmp_path / "m.skops", "error_scale_", np.array(value))
    refused(path, "error_scale_ must be positive and finite")


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_weights_refused(saved, tmp_path, value):
    def poison(array):
        array = array.copy()
        array.flat[0] = value
        return array

    path = hf.replace_weight(saved, tmp_path / "m.skops", 0, poison)
    refused(path, "weights encoder.0.weight hold NaN or infinite")


@pytest.mark.parametrize("lr", [float("nan"), float("inf"), -0.1])
def test_bad_optimizer_learning_rate_refused(saved, tmp_path, lr):
    def schema(tree):
        state = hf.estimator_state(tree)["_optimizer_state"]["content"]
        group = state["param_groups"]["content"][0]["content"]
        hf.set_json(group, "lr", lr)
        return tree

    refused(hf.edit(saved, tmp_path / "m.skops", schema=schema), "optimizer lr")


def test_header_naming_another_estimator_than_the_payload_refused(saved, tmp_path, X):
    other = tmp_path / "other.skops"
    save(EllipticEnvelope(random_state=0).fit(X), other)

    def header(head):
        head["estimator"] = json.loads(hf.members(saved)[hf.HEADER])["estimator"]
        return head

    path = hf.edit(other, tmp_path / "m.skops", header=header)
    refused(path, "says it holds a ae_anomaly.models.autoencoder.Autoencoder but holds a "
                  "sklearn.covariance._elliptic_envelope.EllipticEnvelope")  # fmt: skip


def test_numpy_function_in_a_pipeline_refused(tmp_path, X, monkeypatch):
    """skops trusts numpy/scipy functions by default; a model file names no function."""
    model = make_pipeline(FunctionTransformer(func=np.sign), Autoencoder(max_iter=1)).fit(X)
    path = tmp_path / "m.skops"
    with pytest.raises(TypeError, match="numpy.sign.*load would refuse"):
        save(model, path)  # issue 12 case 9: refused at save time already
    import ae_anomaly.persistence.modelfile as modelfile

    monkeypatch.setattr(modelfile, "_check_loadable", lambda model, payload: None)
    save(model, path)  # a file crafted past that check: load refuses it
    assert "FunctionNode" in hf.members(path)[hf.SCHEMA].decode()
    message = refused(path, "numpy.sign")
    assert "may have been crafted to run code" in message


def test_bare_estimator_under_a_cli_header_refused(cli_model, saved, tmp_path):
    payload = hf.members(saved)
    payload[hf.HEADER] = hf.members(cli_model)[hf.HEADER]

    def header(head):  # the class and the threshold match: only the pipeline is missing
        own = json.loads(hf.members(saved)[hf.HEADER])["estimator"]
        head["estimator"], head["threshold"] = own, -own["offset"]
        return head

    path = hf.edit(hf.write(tmp_path / "a.skops", payload), tmp_path / "m.skops", header=header)
    refused(path, "column schema but no pipeline")


def test_header_threshold_not_the_models_refused(cli_model, tmp_path):
    def header(head):
        head["threshold"] += 1.0
        return head

    refused(hf.edit(cli_model, tmp_path / "m.skops", header=header), "threshold")


def test_cli_model_loads_and_info_verifies_it(cli_model):
    header = read_metadata(cli_model)
    assert header["threshold"] == -load(cli_model)[-1].offset_
    result = CliRunner().invoke(cli, ["info", str(cli_model)])
    assert result.exit_code == 0 and "threshold" in result.output


@pytest.fixture(scope="module")
def category_model(tmp_path_factory):
    """A model written by ``ae-anomaly fit`` on a table with a categorical column."""
    folder = tmp_path_factory.mktemp("categories")
    rng = np.random.RandomState(0)
    rows = ["a,b,region"] + [f"{x:.4f},{y:.4f},{'ABC'[i % 3]}"
                             for i, (x, y) in enumerate(rng.normal(size=(150, 2)))]  # fmt: skip
    (folder / "t.csv").write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(cli, ["fit", str(folder / "t.csv"), "-o",
                                      str(folder / "m.skops"), "--set", "max_iter=2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return folder / "m.skops"


def test_encoder_making_other_columns_than_the_estimator_takes_refused(category_model, tmp_path):
    """Categories added to the encoder: 9 columns into a network that takes 6. Unchecked,
    it loaded, ``info`` passed it and ``score`` failed on pandas' shape message (or, with
    200,000 categories, allocated 45 GiB for 30,000 rows: a traceback)."""
    path = hf.add_categories(category_model, tmp_path / "m.skops", ["D", "E", "F"])
    refused(path, "its transformers make 9 columns but its estimator takes 6")


def test_more_categories_than_fitting_allows_refused(category_model, tmp_path, monkeypatch):
    monkeypatch.setattr("ae_anomaly.tables.encoder.MAX_CATEGORIES", 4)
    path = hf.add_categories(category_model, tmp_path / "m.skops", ["D", "E"])
    refused(path, "column 'region' has over 4 categories")


def _encoder_state(tree):
    """The attribute dict of the TableEncoder in a table model's schema."""
    return tree["content"]["content"]["steps"]["content"][0]["content"][1]["content"]["content"]


@pytest.mark.parametrize(
    "change",
    [
        lambda state: state.pop("keep_default_na"),  # the fuzz test's first find
        lambda state: hf.set_json(state, "decimal", 7),
    ],
    ids=["parameter-missing", "decimal-not-a-string"],
)
def test_table_encoder_that_cannot_score_refused(category_model, tmp_path, change):
    """Loaded, these scored with an AttributeError/TypeError traceback in ``score``."""

    def schema(tree):
        change(_encoder_state(tree))
        return tree

    refused(hf.edit(category_model, tmp_path / "m.skops", schema=schema), "cannot score")


def test_pipeline_without_steps_refused(category_model, tmp_path):
    """Found by the table fuzz test: a Pipeline node with no content loaded as a Pipeline
    with no ``steps``, and the payload check failed with an AttributeError traceback."""

    def schema(tree):
        del tree["content"]
        return tree

    refused(hf.edit(category_model, tmp_path / "m.skops", schema=schema), "without valid steps")


# -------------------------------------------------------------- malformed headers, item 4
def _set(path, value):
    def apply(head):
        *parents, last = path
        node = head
        for key in parents:
            node = node[key]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value
        return head

    return apply


@pytest.mark.parametrize(
    "path, value, match",
    [
        (("schema",), None, "'schema' is NoneType"),
        (("schema",), [], "'schema' is list"),
        (("schema", "surprise"), 1, "unknown key"),
        (("schema", "features"), {}, "schema.features"),
        (("schema", "ids"), "id", "schema.ids"),
        (("versions",), KeyError, "versions"),
        (("versions",), [], "versions"),
        (("training", "score_quantiles"), [], "score_quantiles"),
        (("training", "score_quantiles"), [2.0, 1.0], "score_quantiles"),
        (("training",), KeyError, "no 'training'"),
        (("training",), "x", "'training' is not an object"),
        (("threshold",), "high", "threshold"),
        (("estimator",), KeyError, "estimator"),
        (("estimator", "class"), 3, "estimator"),
        (("estimator", "n_features_in"), -2, "n_features_in"),
        (("format_version",), 0, "format 0"),
        (("format_version",), True, "format True"),
    ],
)
def test_malformed_cli_header_refused_in_one_line(cli_model, tmp_path, path, value, match):
    refused(hf.edit(cli_model, tmp_path / "m.skops", header=_set(path, value)), match)


def test_contamination_on_a_file_without_training_section(cli_model, tmp_path):
    path = hf.edit(cli_model, tmp_path / "m.skops", header=_set(("training",), KeyError))
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(cli, ["score", str(path), str(cli_model.parent / "t.csv"),
                                      "--contamination", "0.1", "-o", str(out)])  # fmt: skip
    assert_error(result, 1, "no 'training'")
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.skops"]  # no output, no .part


def test_header_with_nan_refused(saved, tmp_path):
    content = hf.members(saved)
    content[hf.HEADER] = content[hf.HEADER].replace(b'"offset": ', b'"offset": NaN, "x": ')
    refused(hf.write(tmp_path / "m.skops", content), "corrupted")


# --------------------------------------------------- shapes and structure of the payload
def test_hidden_layer_sizes_inconsistent_with_weights_refused_before_building(saved, tmp_path):
    path = hf.set_sizes(saved, tmp_path / "m.skops", "hidden_layer_sizes_", (20_000_000,))
    refused(path, "shapes do not match the network")


@pytest.mark.parametrize("sizes", [(-3,), (0,), ("3",), (3, 3, 3, 3, 3, 3, 3, 3, 3, 3)])
def test_nonsense_layer_sizes_refused(saved, tmp_path, sizes):
    refused(hf.set_sizes(saved, tmp_path / "m.skops", "hidden_layer_sizes_", sizes), "refusing")


@pytest.mark.parametrize("shape", [(2**40, 2**20), (-1, 4), (4, 5)])
def test_npy_declaring_another_shape_refused(saved, tmp_path, shape):
    refused(hf.declared_shape(saved, tmp_path / "m.skops", shape), "declared shape|malformed")


def test_weight_of_the_wrong_shape_refused(saved, tmp_path):
    path = hf.replace_weight(saved, tmp_path / "m.skops", 0, lambda a: np.zeros((a.size + 1,)))
    refused(path, "shapes do not match")


def test_duplicate_reference_to_one_member_refused(saved, tmp_path):
    path = hf.one_member_many_times(saved, tmp_path / "m.skops", size=1024, times=2)
    refused(path, "refers to its member 'big.npy' more than once")


def test_duplicate_member_names_refused(saved, tmp_path):
    pairs = list(hf.members(saved).items())
    pairs.append((pairs[0][0], pairs[0][1]))
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = hf.write(tmp_path / "m.skops", pairs)
    refused(path, "two members named")


def test_encrypted_member_refused(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    # set the "encrypted" bit of every central-directory entry (flag bits at offset 8)
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        data[start + 8] |= 0x1
        start += 4
    path = tmp_path / "m.skops"
    path.write_bytes(bytes(data))
    refused(path, "encrypted")


def test_object_containing_itself_refused(saved, tmp_path):
    def schema(tree):
        state = hf.estimator_state(tree)
        inner = {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
                 "__id__": 77, "content": []}  # fmt: skip
        state["loop_"] = {**inner, "content": [inner]}
        return tree

    refused(hf.edit(saved, tmp_path / "m.skops", schema=schema), "contains itself")


@pytest.mark.parametrize("device", ["meta", "cuda; rm", 3])
def test_unknown_device_refused(saved, tmp_path, device):
    def schema(tree):
        hf.set_json(hf.estimator_state(tree), "device_", device)
        return tree

    refused(hf.edit(saved, tmp_path / "m.skops", schema=schema), "device")


# ------------------------------------------------------------------- paths that are not files
def test_dev_zero_refused_without_reading(tmp_path):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    refused("/dev/zero", "not a regular file")


def test_fifo_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.skops"
    os.mkfifo(fifo)
    outcome = {}

    def attempt():
        try:
            load(fifo)
        except ModelFileError as exc:
            outcome["error"] = str(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=60)
    if worker.is_alive():  # unblock the reader so the test process can exit
        with open(fifo, "wb"):
            pass
        pytest.fail("load() blocked on a FIFO")
    assert "not a regular file" in outcome["error"]
    info = subprocess.run([sys.executable, "-m", "ae_anomaly", "info", str(fifo)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert info.returncode == 1 and "Traceback" not in info.stderr, info.stderr
    assert info.stderr.count("\n") == 1 and "not a regular file" in info.stderr, info.stderr


def test_oversized_file_refused_before_reading(saved, tmp_path, monkeypatch):
    monkeypatch.setattr("ae_anomaly.persistence.archive.MAX_FILE_BYTES", 1000)
    with pytest.raises(ModelFileError, match="over the limit of 1,000"):
        load(saved)


# ------------------------------------------------------------ memory cases, under a cap
_CAPPED = """
import resource, sys, time
sys.path.insert(0, {root!r})
from ae_anomaly import load
from ae_anomaly.persistence import ModelFileError
load({valid!r})  # what a small model takes, imports included: the baseline
peak = int(open("/proc/self/status").read().split("VmPeak:")[1].split()[0]) * 1024
cap = peak + (1 << 30)
resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
for path in sys.argv[1:]:
    try:
        load(path)
    except ModelFileError as exc:
        print("REFUSED", str(exc).replace(chr(10), "|"))
    except MemoryError:
        print("MEMORYERROR", path)
    else:
        print("LOADED", path)
"""


@pytest.mark.slow  # builds ~2 GB of zeros to compress; ~1.5 min on 2 shared cores
def test_memory_bombs_refused_under_a_memory_cap(saved, tmp_path):
    bombs = [
        # one 256 MiB member referenced 40 times (> 11 GB unprotected)
        hf.one_member_many_times(saved, tmp_path / "refs.skops", size=256 << 20, times=40),
        # a header inflating to 1.5 GiB, over the cap's 1 GiB (4.6 GB for a larger one)
        hf.inflated_header(saved, tmp_path / "header.skops", size=3 << 29),
        # hidden_layer_sizes_=(20_000_000,) over small weights (7 GB unprotected)
        hf.set_sizes(saved, tmp_path / "wide.skops", "hidden_layer_sizes_", (20_000_000,)),
        # an 8 TB .npy declaration
        hf.declared_shape(saved, tmp_path / "npy.skops", (2**40,)),
    ]
    assert all(p.stat().st_size < 8 << 20 for p in bombs)
    script = _CAPPED.format(root=str(ROOT), valid=str(saved))
    result = subprocess.run([sys.executable, "-c", script, *map(str, bombs)],
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert len(lines) == len(bombs), result.stdout + result.stderr[-2000:]
    assert all(line.startswith("REFUSED") for line in lines), result.stdout
