"""Model files: exact round trips, and foreign, corrupted, newer or malicious files refused
without running anything."""

import copy
import io
import json
import os
import pickle
import zipfile

import joblib
import numpy as np
import pytest
import skops.io as sio
import torch
from click.testing import CliRunner

from ae_anomaly import Autoencoder, load, save
from ae_anomaly.cli import cli
from ae_anomaly.models._conv_base import _ConvMixin
from ae_anomaly.models.registry import autoencoders
from ae_anomaly.persistence import HEADER, ModelFileError, read_metadata

TABULAR = [cls for cls in autoencoders().values() if not issubclass(cls, _ConvMixin)]


@pytest.fixture
def X():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 6))
    X[:, 1] = 2 * X[:, 0]
    return X


@pytest.fixture
def saved(tmp_path, X):
    model = Autoencoder(max_iter=2, random_state=0).fit(X)
    path = tmp_path / "model.skops"
    save(model, path)
    return path


@pytest.mark.parametrize("cls", TABULAR, ids=lambda c: c.__name__)
def test_round_trips_give_identical_scores_and_training_continues(cls, X, tmp_path):
    model = cls(max_iter=2, random_state=0).fit(X)
    path = tmp_path / "m.skops"
    save(model, path)
    copies = [
        load(path),
        pickle.loads(pickle.dumps(model)),
        copy.deepcopy(model),
        joblib.load(_joblib_bytes(model)),
    ]
    for other in copies:
        np.testing.assert_array_equal(other.score_samples(X), model.score_samples(X))
        assert other.offset_ == model.offset_
    # Adam's state and the RNG travel too: one more epoch lands on the same weights.
    model.partial_fit(X)
    for other in copies:
        other.partial_fit(X)
        np.testing.assert_array_equal(other.score_samples(X), model.score_samples(X))


def _joblib_bytes(model):
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    return buffer


def test_loading_leaves_the_callers_random_state_alone(saved):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    load(saved)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_unfitted_estimators_round_trip(tmp_path):
    assert pickle.loads(pickle.dumps(Autoencoder(max_iter=7))).max_iter == 7


def test_header_records_versions_and_schema(saved):
    meta = read_metadata(saved)
    assert meta["format_version"] == 1
    assert {"ae_anomaly", "scikit-learn", "torch", "numpy", "skops"} <= set(meta["versions"])
    assert meta["estimator"]["class"] == "ae_anomaly.models.autoencoder.Autoencoder"
    assert meta["estimator"]["n_features_in"] == 6
    assert meta["estimator"]["params"]["max_iter"] == 2


def _rewrite(path, replace):
    """Copy a model file, passing each member's bytes through ``replace(name, data)``."""
    with zipfile.ZipFile(path) as source:
        members = {name: source.read(name) for name in source.namelist()}
    out = path.with_name("rewritten.skops")
    with zipfile.ZipFile(out, "w") as target:
        for name, data in members.items():
            target.writestr(name, replace(name, data))
    return out


def _os_system_file(tmp_path, saved, marker, loader="ConstructorFromReduceNode"):
    """A model file whose skops schema calls ``os.system("touch marker")`` if trusted."""
    args = json.loads(
        zipfile.ZipFile(io.BytesIO(sio.dumps((f"touch {marker}",)))).read("schema.json")
    )
    node = {"__class__": "system", "__module__": "os", "__loader__": loader, "content": args}
    node.update({k: args[k] for k in ("protocol", "_skops_version") if k in args})

    def replace(name, data):
        return json.dumps(node).encode() if name == "schema.json" else data

    return _rewrite(saved, replace)


def test_malicious_pickle_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    path = tmp_path / "model.skops"
    path.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(ModelFileError, match="pickle file"):
        load(path)
    result = CliRunner().invoke(cli, ["info", str(path)])
    assert result.exit_code == 1 and "pickle file" in result.stderr
    assert not marker.exists()


@pytest.mark.parametrize("loader", ["ConstructorFromReduceNode", "ObjectNode", "FunctionNode"])
def test_malicious_skops_file_never_runs(tmp_path, saved, loader):
    marker = tmp_path / "pwned"
    path = _os_system_file(tmp_path, saved, marker, loader)
    with pytest.raises(ModelFileError, match="os.system.*may have been crafted"):
        load(path)
    result = CliRunner().invoke(cli, ["score", str(path), str(path)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert not marker.exists()


def test_the_crafted_skops_file_is_a_real_exploit(tmp_path, saved, monkeypatch):
    """Proof the test above is meaningful: a loader trusting os.system would call it."""
    calls = []
    monkeypatch.setattr("os.system", calls.append)  # record instead of running
    sio.load(_os_system_file(tmp_path, saved, "marker"), trusted=["os.system"])
    assert calls == ["touch marker"]


def test_corrupted_and_truncated_files(tmp_path, saved, X):
    data = saved.read_bytes()
    truncated = tmp_path / "truncated.skops"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="corrupted or truncated"):
        load(truncated)
    # Flip bytes inside the stored weights: the zip's CRC catches it.
    flipped = bytearray(data)
    middle = len(flipped) // 3
    flipped[middle : middle + 8] = bytes(b ^ 0xFF for b in flipped[middle : middle + 8])
    corrupted = tmp_path / "corrupted.skops"
    corrupted.write_bytes(bytes(flipped))
    with pytest.raises(ModelFileError, match="corrupted"):
        load(corrupted)
    broken_schema = _rewrite(saved, lambda n, d: b"{not json" if n == "schema.json" else d)
    with pytest.raises(ModelFileError, match="corrupted"):
        load(broken_schema)


def test_foreign_and_newer_files(tmp_path, saved):
    foreign = tmp_path / "foreign.skops"
    foreign.write_bytes(sio.dumps({"a": 1}))
    with pytest.raises(ModelFileError, match="not an ae_anomaly model file"):
        load(foreign)
    empty = tmp_path / "empty.skops"
    empty.write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty"):
        load(empty)

    def bump(name, data):
        if name != HEADER:
            return data
        header = json.loads(data)
        header["format_version"] = 99
        header["versions"]["ae_anomaly"] = "9.0"
        return json.dumps(header).encode()

    with pytest.raises(ModelFileError, match="ae_anomaly 9.0 in model format 99.*upgrade"):
        load(_rewrite(saved, bump))


def test_what_is_not_a_file_is_refused_in_one_line_without_leaking_a_descriptor(
    tmp_path, saved, monkeypatch
):
    fifo = tmp_path / "pipe.skops"
    os.mkfifo(fifo)
    monkeypatch.setattr("ae_anomaly.persistence.archive.MAX_FILE_BYTES", 100)
    cases = {tmp_path: "is a directory, not a model file", fifo: "not a regular file",
             saved: "over the limit of 100"}  # fmt: skip
    open_before = len(os.listdir("/proc/self/fd"))
    for path, message in cases.items():
        for _ in range(3):
            with pytest.raises(ModelFileError, match=message):
                load(path)
    assert len(os.listdir("/proc/self/fd")) == open_before


def test_save_is_atomic(tmp_path, X, monkeypatch):
    path = tmp_path / "model.skops"
    path.write_text("previous")
    with pytest.raises(TypeError, match="estimator"):
        save(lambda: None, path)

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", disk_full)
    with pytest.raises(OSError, match="No space"):
        save(Autoencoder(max_iter=1).fit(X), path)  # fails half-way: nothing replaced
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["model.skops"]


def test_image_models_round_trip(tmp_path):
    from sklearn.datasets import load_digits

    images = load_digits().data[:100].reshape(-1, 8, 8)
    image_models = {n: c for n, c in autoencoders().items() if issubclass(c, _ConvMixin)}
    assert image_models
    for name, cls in image_models.items():
        model = cls(max_iter=1, random_state=0).fit(images)
        save(model, tmp_path / f"{name}.skops")
        loaded = load(tmp_path / f"{name}.skops")
        np.testing.assert_array_equal(loaded.score_samples(images), model.score_samples(images))


def test_model_saved_before_score_statistics_existed_keeps_its_behaviour(X):
    # Files written before the parameter existed hold no score_statistics: they get "mean",
    # what they computed, so get_params, clone and partial_fit work and scores are unchanged.
    model = Autoencoder(score_statistics="mean", max_iter=2, random_state=0).fit(X)
    state = model.__getstate__()
    del state["score_statistics"]
    old = Autoencoder.__new__(Autoencoder)
    old.__setstate__(state)
    assert old.get_params()["score_statistics"] == "mean"
    np.testing.assert_array_equal(old.score_samples(X), model.score_samples(X))
    current = pickle.loads(pickle.dumps(model))  # restored the same way, parameter and all
    np.testing.assert_array_equal(
        old.partial_fit(X).error_scale_, current.partial_fit(X).error_scale_
    )


def test_files_from_before_the_subpackages_still_load(tmp_path):
    """Files written when the estimators lived in ``ae_anomaly.autoencoder`` etc. load."""
    X = np.random.RandomState(0).normal(size=(40, 3))
    model = Autoencoder(max_iter=1, random_state=0).fit(X)
    path = tmp_path / "old.skops"
    save(model, path)
    old = tmp_path / "legacy.skops"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == "schema.json":
                content = content.replace(b"ae_anomaly.models.", b"ae_anomaly.")
                assert b"ae_anomaly.autoencoder" in content
            dst.writestr(item, content)
    np.testing.assert_array_equal(load(old).score_samples(X), model.score_samples(X))


def test_image_model_saved_before_error_existed_keeps_the_squared_error():
    from sklearn.datasets import load_digits

    from ae_anomaly import ConvAutoencoder

    images = load_digits().data[:60].reshape(-1, 8, 8)
    model = ConvAutoencoder(error="squared", channels=(2,), max_iter=1, random_state=0)
    state = model.fit(images).__getstate__()
    del state["error"]
    old = ConvAutoencoder.__new__(ConvAutoencoder)
    old.__setstate__(state)
    assert old.get_params()["error"] == "squared"
    np.testing.assert_array_equal(old.score_samples(images), model.score_samples(images))
