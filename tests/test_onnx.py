"""ONNX export: the graph's scores against the estimator's, run by onnxruntime."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxscript")

import ae_anomaly  # noqa: E402
from ae_anomaly import Autoencoder, EnsembleAutoencoder, export_onnx  # noqa: E402
from ae_anomaly.datasets import load_task  # noqa: E402
from ae_anomaly.models._conv_base import _ConvMixin  # noqa: E402
from ae_anomaly.models.base import BaseAutoencoder  # noqa: E402
from ae_anomaly.tables.schema import CATEGORICAL, NUMERIC, Schema, build_pipeline  # noqa: E402

pytestmark = pytest.mark.slow  # each export traces the model with torch.export: 3-20 s

#: Every public estimator: a new one is checked (or shows up here failing) automatically.
ESTIMATORS = sorted(
    name
    for name in ae_anomaly.__all__
    if isinstance(getattr(ae_anomaly, name), type)
    and issubclass(getattr(ae_anomaly, name), BaseAutoencoder)
)
#: ``max |score difference| / |score| <= 1e-5`` for every row: the acceptance bound.
RTOL = 1e-5


def real_data(name):
    """Images (8x8 digits) for the convolutional models, breast cancer rows for the rest."""
    if issubclass(getattr(ae_anomaly, name), _ConvMixin):
        return load_digits().data[:400]  # convolutions train slowly: a few hundred images
    return load_task("breast_cancer")[0]


def run(path, X):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    dtype = np.float32 if session.get_inputs()[0].type == "tensor(float)" else np.float64
    return session.run(None, {"X": X.astype(dtype)})


def max_relative(a, b):
    return float(np.max(np.abs(a - b) / np.abs(b)))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_onnx_scores_match_the_estimator(name, tmp_path):
    X = real_data(name)
    estimator = getattr(ae_anomaly, name)(max_iter=3, random_state=0).fit(X)
    path = export_onnx(estimator, tmp_path / "model.onnx")
    score, reconstruction = run(path, X)
    expected = estimator.score_samples(X)
    assert score.shape == expected.shape
    assert max_relative(score, expected) <= RTOL
    np.testing.assert_allclose(reconstruction, estimator.reconstruct(X), rtol=1e-4, atol=1e-4)
    # a batch of one row runs too (the batch axis is dynamic)
    assert max_relative(run(path, X[:1])[0], expected[:1]) <= RTOL


def test_float64_graph_reproduces_scores_to_rounding(tmp_path):
    X = load_task("breast_cancer")[0]
    # Unscaled, the inputs reach 4,000 and the scores 1.5e8 (a code unit with a tiny MAD):
    # float64 sums of such magnitudes round to about 2e-11 relative (measured); scaled,
    # the graph agrees to 1e-15.
    for scaling, rtol in [("robust", 1e-12), (None, 1e-10)]:
        ae = Autoencoder(scaling=scaling, activation="tanh", max_iter=3, random_state=0).fit(X)
        score, reconstruction = run(export_onnx(ae, tmp_path / f"{scaling}.onnx"), X)
        assert max_relative(score, ae.score_samples(X)) <= rtol
        np.testing.assert_allclose(reconstruction, ae.reconstruct(X), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("n_features, error_cap", [(5, 16.0), (5, None), (3, 16.0), (4, 10.1)])
def test_float64_graph_keeps_python_numbers_in_float64(n_features, error_cap, tmp_path):
    # The exporter writes a Python number meeting a float64 tensor as a constant: the
    # ensemble's cap / k (3.2 with 5 columns, 16 / 3) and a cap of 10.1 were float32 in
    # the graph (up to 2e-7 off, 3e-5 relative); 4 columns (cap / k = 4) were exact.
    X = np.random.RandomState(n_features).normal(size=(200, n_features))
    X = X * np.arange(1, n_features + 1)
    ens = EnsembleAutoencoder(error_cap=error_cap, max_iter=2, random_state=0).fit(X)
    (score,) = run(export_onnx(ens, tmp_path / "ens.onnx", reconstruction=False), X)
    expected = ens.score_samples(X)
    error = float(np.max(np.abs(score - expected)))
    assert error <= 1e-13, error
    assert max_relative(score, expected) <= 1e-12


def test_gelu_minmax_float32_and_score_only(tmp_path):
    X = pd.DataFrame(load_task("wine")[0]).add_prefix("c")
    ae = Autoencoder(activation="gelu", scaling="minmax", max_iter=5, random_state=0).fit(X)
    expected = ae.score_samples(X)
    # float64: GELU's erf runs in float32 (onnxruntime has no float64 Erf)
    score, _ = run(export_onnx(ae, tmp_path / "f64.onnx"), X.to_numpy())
    assert max_relative(score, expected) <= RTOL
    path = export_onnx(ae, tmp_path / "f32.onnx", dtype="float32", reconstruction=False)
    outputs = run(path, X.to_numpy())
    assert len(outputs) == 1 and outputs[0].dtype == np.float32
    assert max_relative(outputs[0], expected) <= RTOL
    metadata = {p.key: p.value for p in onnx.load(path).metadata_props}
    assert json.loads(metadata["feature_names"]) == list(X.columns)
    assert float(metadata["offset"]) == ae.offset_
    assert metadata["estimator"] == "Autoencoder" and metadata["dtype"] == "float32"
    flagged = outputs[0] < float(metadata["offset"])
    np.testing.assert_array_equal(np.where(flagged, -1, 1), ae.predict(X))


def test_cli_style_numeric_pipeline_exports(tmp_path):
    X = pd.DataFrame(load_task("breast_cancer")[0]).add_prefix("m")
    schema = Schema(features={c: NUMERIC for c in ["m3", "m0", "m7"]}, ids=[])
    pipeline = build_pipeline(schema, Autoencoder(max_iter=3, random_state=0)).fit(X)
    path = export_onnx(pipeline, tmp_path / "pipeline.onnx")
    metadata = {p.key: p.value for p in onnx.load(path).metadata_props}
    assert json.loads(metadata["feature_names"]) == ["m3", "m0", "m7"]
    score, _ = run(path, X[["m3", "m0", "m7"]].to_numpy())
    assert max_relative(score, pipeline.score_samples(X)) <= 1e-12


def test_what_cannot_be_exported_says_why(tmp_path):
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": ["x", "y", "x", "y"]})
    schema = Schema(features={"a": NUMERIC, "b": CATEGORICAL})
    one_hot = build_pipeline(schema, Autoencoder(max_iter=1, random_state=0)).fit(X)
    with pytest.raises(ValueError, match="'categorical' columns .*one-hot"):
        export_onnx(one_hot, tmp_path / "x.onnx")
    scaled = make_pipeline(StandardScaler(), Autoencoder(max_iter=1)).fit(X[["a"]].assign(c=1.0))
    with pytest.raises(ValueError, match="Pipeline step StandardScaler"):
        export_onnx(scaled, tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="needs an ae_anomaly autoencoder"):
        export_onnx(StandardScaler().fit(X[["a"]]), tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="dtype must be one of"):
        export_onnx(one_hot[-1], tmp_path / "x.onnx", dtype="float16")
    if hasattr(ae_anomaly, "ConvAutoencoder"):
        conv = ae_anomaly.ConvAutoencoder(max_iter=1, random_state=0).fit(load_digits().data[:50])
        with pytest.raises(ValueError, match="cannot run in float64"):
            export_onnx(conv, tmp_path / "x.onnx", dtype="float64")
        # no convolution, but the structural error's average pooling
        dense = ae_anomaly.ImageAutoencoder(max_iter=1, random_state=0)
        dense.fit(load_digits().data[:50])
        with pytest.raises(ValueError, match="SSIM error"):
            export_onnx(dense, tmp_path / "x.onnx", dtype="float64")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_cli_export_matches_cli_scores(tmp_path):
    from click.testing import CliRunner

    from ae_anomaly.cli import cli

    def invoke(*args):
        return CliRunner().invoke(cli, [str(a) for a in args])

    X = (
        pd.DataFrame(load_task("wine")[0])
        .add_prefix("w")
        .assign(id=range(len(load_task("wine")[0])))
    )
    data, model, graph = tmp_path / "d.csv", tmp_path / "m.skops", tmp_path / "m.onnx"
    X.to_csv(data, index=False)
    fit = ["fit", data, "-o", model, "--id-col", "id", "--set", "max_iter=3"]
    assert invoke(*fit, "--model", "autoencoder").exit_code == 0
    result = invoke("export", model, graph)
    assert result.exit_code == 0, result.output
    assert invoke("score", model, data, "-o", tmp_path / "s.csv").exit_code == 0
    expected = pd.read_csv(tmp_path / "s.csv")["anomaly_score"].to_numpy()
    score, _ = run(graph, X.drop(columns="id").to_numpy())
    assert max_relative(-score, expected) <= 1e-12  # anomaly_score is -score
    # The CLI's default model (the ensemble): its float64 graph is off by float32-level
    # rounding in onnxruntime (about 1e-7 of the largest score; the traced torch module is
    # exact), so it is held to that bound, not to the last bits.
    default = tmp_path / "default.skops"
    assert invoke(*fit[:3], default, *fit[4:]).exit_code == 0
    assert invoke("export", default, tmp_path / "default.onnx").exit_code == 0
    assert invoke("score", default, data, "-o", tmp_path / "ds.csv").exit_code == 0
    expected = pd.read_csv(tmp_path / "ds.csv")["anomaly_score"].to_numpy()
    score, _ = run(tmp_path / "default.onnx", X.drop(columns="id").to_numpy())
    assert np.max(np.abs(-score - expected)) <= 1e-6 * np.max(np.abs(expected))
    refused = invoke("export", model, graph)
    assert refused.exit_code == 2 and "already exists" in refused.output
