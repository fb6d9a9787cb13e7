"""The ``ae-anomaly`` command line: every command, on small files, through CliRunner."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import ae_anomaly.tables.formats
from ae_anomaly import load
from ae_anomaly.cli import cli
from ae_anomaly.cli.options import DEFAULT_MODEL
from ae_anomaly.models.registry import autoencoders

FEATURES = ["a", "b", "c", "d", "e"]
FAST = ["--set", "max_iter=3", "--set", "random_state=0"]


@pytest.fixture
def frame():
    """300 rows where b = 2a; row 7 breaks the rule; an id and a categorical column."""
    rng = np.random.RandomState(0)
    df = pd.DataFrame(rng.normal(size=(300, 5)), columns=FEATURES)
    df["b"] = 2 * df["a"]
    df.loc[7, "b"] = -8.0
    df.insert(0, "id", [f"row{i:03d}" for i in range(300)])
    df["color"] = rng.choice(["red", "green", "blue"], size=300)
    return df


@pytest.fixture
def files(tmp_path, frame):
    numeric = frame[["id", *FEATURES]]
    numeric.to_csv(tmp_path / "num.csv", index=False)
    numeric.to_parquet(tmp_path / "num.parquet")
    frame.to_csv(tmp_path / "mixed.csv", index=False)
    return tmp_path


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def read(path):
    if str(path).endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path)


def fit_model(files, data="num.csv", *extra):
    model = files / "model.skops"
    result = run("fit", files / data, "-o", model, "--id-col", "id", *FAST, *extra)
    assert result.exit_code == 0, result.output
    return model


def test_help_has_a_runnable_example_for_every_command():
    for command in cli.commands:
        result = run(command, "-h")
        assert result.exit_code == 0
        assert "Example:" in result.output and "ae-anomaly " + command in result.output
    assert "0.1.0" in run("--version").output


def test_model_choices_come_from_the_registry():
    result = run("fit", "-h")
    for name in autoencoders():
        assert name in result.output


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_fit_then_score_gives_exactly_the_python_scores(files, frame, suffix):
    model = fit_model(files)
    out = files / f"scores{suffix}"
    result = run("score", model, files / "num.csv", "-o", out, "--float-format", "%.17g")
    assert result.exit_code == 0, result.output
    scores = read(out)

    default = autoencoders()[DEFAULT_MODEL]  # what fit trains when --model is not given
    python = default(max_iter=3, random_state=0).fit(frame[FEATURES])
    assert list(scores.columns) == ["id", "anomaly_score", "is_anomaly"]
    assert list(scores["id"]) == list(frame["id"])
    # the same model up to the last bits: the encoder hands torch a differently laid out
    # (column-major) matrix, so sums are taken in another order
    np.testing.assert_allclose(
        scores["anomaly_score"], -python.score_samples(frame[FEATURES]), rtol=1e-12
    )
    np.testing.assert_array_equal(scores["is_anomaly"], python.predict(frame[FEATURES]) == -1)
    # The saved pipeline is the Python API too.
    np.testing.assert_allclose(
        load(model).score_samples(frame[FEATURES]), -scores["anomaly_score"], rtol=1e-12
    )


def test_parquet_input_and_chunked_reading_give_the_same_scores(files, monkeypatch):
    model = fit_model(files)
    whole = run("score", model, files / "num.csv").stdout
    assert run("score", model, files / "num.parquet").stdout == whole
    monkeypatch.setattr(ae_anomaly.tables.formats, "BLOCK_SIZE", 1024)  # ~20 rows per chunk
    chunked = read_stdout(run("score", model, files / "num.csv").stdout)
    # Float64 scoring: a row's score moves at most by an ulp with the size of its chunk.
    np.testing.assert_allclose(
        chunked["anomaly_score"], read_stdout(whole)["anomaly_score"], rtol=1e-13
    )


def read_stdout(text):
    import io

    return pd.read_csv(io.StringIO(text))


def test_score_reads_stdin_and_tsv(files, frame):
    model = fit_model(files)
    text = (files / "num.csv").read_text()
    from_stdin = run("score", model, "-", input=text)
    assert from_stdin.exit_code == 0, from_stdin.output
    frame[["id", *FEATURES]].to_csv(files / "num.tsv", sep="\t", index=False)
    tsv_out = files / "scores.tsv"
    assert run("score", model, files / "num.tsv", "-o", tsv_out).exit_code == 0
    np.testing.assert_array_equal(
        pd.read_csv(tsv_out, sep="\t")["anomaly_score"],
        read_stdout(from_stdin.stdout)["anomaly_score"],
    )


def test_threshold_and_contamination(files):
    model = fit_model(files)
    data = files / "num.csv"
    # below every score (the default ensemble's normalized errors can be negative)
    everything = read_stdout(run("score", model, data, "--threshold", "-1e9").stdout)
    assert everything["is_anomaly"].all()
    five = read_stdout(run("score", model, data, "--contamination", "0.05").stdout)
    assert 0.03 <= five["is_anomaly"].mean() <= 0.07  # same rows as training: ~5% flagged
    both = run("score", model, data, "--threshold", "1", "--contamination", "0.1")
    assert both.exit_code == 2 and "exclude each other" in both.stderr


def test_explain_names_the_broken_column(files):
    model = fit_model(files, "num.csv", "--set", "max_iter=40")
    scores = read_stdout(run("score", model, files / "num.csv", "--explain", "2").stdout)
    assert list(scores.columns[-4:]) == ["top1_column", "top1_share", "top2_column", "top2_share"]
    assert scores.loc[7, "top1_column"] in {"a", "b"}  # row 7 broke b = 2a
    assert (scores["top1_share"] >= scores["top2_share"]).all()
    assert (scores["top1_share"] + scores["top2_share"] <= 1 + 1e-6).all()


def test_categorical_columns_are_one_hot_encoded(files):
    model = fit_model(files, "mixed.csv")
    meta = json.loads(run("info", model, "--json").stdout)
    assert meta["schema"]["features"]["color"] == "categorical"
    assert meta["schema"]["ids"] == ["id"]
    scores = read_stdout(run("score", model, files / "mixed.csv", "--explain", "6").stdout)
    assert "color" in set(scores["top1_column"]) | set(scores["top6_column"])


def test_detect_flags_the_outlier_and_saves_the_model(files, frame):
    out, saved = files / "flagged.csv", files / "m.skops"
    result = run(
        "detect", files / "num.csv", "--id-col", "id", "-o", out, "--save-model", saved,
        "--set", "max_iter=40", "--contamination", "0.01", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    flagged = read(out)
    assert flagged.loc[7, "is_anomaly"] == 1
    assert flagged["is_anomaly"].sum() == 3  # 1% of 300 rows
    summary = json.loads(result.stderr.strip().splitlines()[-1])
    assert summary["command"] == "detect" and summary["anomalies"] == 3
    rescored = read_stdout(run("score", saved, files / "num.csv").stdout)
    np.testing.assert_array_equal(rescored["anomaly_score"], flagged["anomaly_score"])


@pytest.mark.parametrize("model_name", ["autoencoder", "denoising", "variational"])
def test_denoise_keeps_the_columns(files, frame, model_name):
    model = fit_model(files, "mixed.csv", "--model", model_name)
    out = files / "clean.parquet"
    result = run("denoise", model, files / "mixed.csv", "-o", out)
    assert result.exit_code == 0, result.output
    clean = read(out)
    assert list(clean.columns) == list(frame.columns)
    assert list(clean["id"]) == list(frame["id"])
    assert set(clean["color"]) <= {"red", "green", "blue"}
    assert not np.allclose(clean["a"], frame["a"])


def test_info_describes_the_model(files):
    model = fit_model(files, "mixed.csv", "--model", "denoising")
    text = run("info", model).stdout
    for expected in ["denoising", "DenoisingAutoencoder", "color (categorical)", "300 rows",
                     "anomaly_score >", "scikit-learn", "torch", "max_iter=3"]:  # fmt: skip
        assert expected in text


def test_info_of_a_table_pipeline_saved_from_python_keeps_ids_out_of_the_features(files, frame):
    """A ``make_table_pipeline`` fitted with ``id_cols`` and saved by ``ae_anomaly.save``
    (no column schema in its header) is described as the CLI's models are: its features
    with their kinds, its id column as an id column, not as a feature."""
    from ae_anomaly import Autoencoder, make_table_pipeline, save

    pipeline = make_table_pipeline(Autoencoder(max_iter=2, random_state=0), id_cols=["id"],
                                   impute="median").fit(frame)  # fmt: skip
    save(pipeline, files / "python.skops")
    result = run("info", files / "python.skops")
    assert result.exit_code == 0, result.output
    lines = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in result.stdout.splitlines())
    features = ", ".join(f"{name} (numeric)" for name in FEATURES) + ", color (categorical)"
    assert lines["features"] == features
    assert lines["id columns"] == "id" and lines["ignored columns"] == "-"
    assert lines["missing values"] == "median" and "training" not in lines


def test_impute_fills_missing_values(files, frame):
    frame.loc[[3, 50], "c"] = np.nan
    frame.loc[4, "color"] = np.nan
    frame.to_csv(files / "holes.csv", index=False)
    refused = run("fit", files / "holes.csv", "-o", files / "m.skops", "--id-col", "id", *FAST)
    assert refused.exit_code == 1
    assert "missing value (empty or NaN) in column 'c' at row 4" in refused.stderr
    model = fit_model(files, "holes.csv", "--impute", "median")
    result = run("score", model, files / "holes.csv", "-o", files / "s.csv", "--json")
    assert np.isfinite(pd.read_csv(files / "s.csv")["anomaly_score"]).all()
    # filling at score time is said, counted per column: a column blank in a new export
    # scores every row as typical there
    assert (f"Warning: 3 missing cell(s) filled by the model's impute='median' (2 of "
            f"{len(frame)} in 'c', 1 of {len(frame)} in 'color')") in result.stderr
    assert json.loads(result.stderr.splitlines()[-1])["imputed_by_column"] == {"c": 2, "color": 1}
    complete = run("score", model, files / "mixed.csv", "-o", files / "s.csv", "--json")
    assert "filled" not in complete.stderr


def test_columns_and_exclude_choose_the_features(files):
    model = fit_model(files, "mixed.csv", "--columns", "a,b", "--columns", "c", "--exclude", "c")
    meta = json.loads(run("info", model, "--json").stdout)
    assert list(meta["schema"]["features"]) == ["a", "b"]
    assert set(meta["schema"]["ignored"]) == {"c", "d", "e", "color"}


def test_python_m_entry_point():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "ae_anomaly", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "0.1.0" in result.stdout


def test_fit_from_stdin_and_quiet_progress_off_a_terminal(files, frame):
    model = files / "stdin.skops"
    text = (files / "num.csv").read_text()
    fitted = run("fit", "-", "-o", model, "--id-col", "id", *FAST, "-v", input=text)
    assert fitted.exit_code == 0, fitted.output
    assert f"Fitted {DEFAULT_MODEL} on 300 rows x 5 features" in fitted.stderr
    scored = run("score", model, files / "num.csv", "-v", "-o", files / "s.csv")
    assert scored.exit_code == 0, scored.output
    assert scored.stderr.startswith("score: 300 rows in")  # a summary, no bar (not a tty)
    assert "it/s" not in scored.stderr and "rows/s" not in scored.stderr
