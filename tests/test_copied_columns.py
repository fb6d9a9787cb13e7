"""What ``denoise`` and ``score`` copy from the input stays as it was.

- A row the model cannot score (a value overflowing in its arithmetic, ``1e308``, or
  ``inf``) is flagged by ``score``; ``denoise`` wrote ``inf`` in its place (or, with a
  denoising model, values made up for every column) with no word, and a file mixing
  such a row with others ended in a traceback (text and floats in one column). Now the
  row is copied unchanged, with a warning.
- A row the model scores (``qty = 1e30``, finite) but whose reconstruction does not fit
  its column: ``denoise`` wrote -9223372036854775808 (a float -> int64 cast wrapping,
  NumPy's "invalid value encountered in cast" leaking) in an integer column, and stopped
  with "cannot convert input with unit 's'" for a date column. Now the row is copied
  unchanged, counted in the same warning.
- ``--float-format`` rewrote the input's own columns kept by ``--keep-columns`` (and ids
  read as numbers: 1249.52 written 1250), for a model fitted with ``--chunksize``.
"""

import numpy as np
import pandas as pd
import pytest

from tests.cli_checks import FAST, run

ROWS = "".join(f"{i},{i % 7}.5,{i % 5}.25,{i % 3}.125\n" for i in range(60))


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("copied")
    (folder / "train.csv").write_text("id,a,b,c\n" + ROWS)
    models = {}
    for kind in ("autoencoder", "denoising"):
        models[kind] = folder / f"{kind}.skops"
        args = ["fit", folder / "train.csv", "-o", models[kind], "--id-col", "id"]
        assert run(*args, "--model", kind, *FAST).exit_code == 0
    models["chunked"] = folder / "chunked.skops"
    args = ["fit", folder / "train.csv", "-o", models["chunked"], "--id-col", "id"]
    assert run(*args, "--chunksize", "20", *FAST).exit_code == 0
    return folder, models


@pytest.mark.parametrize("kind", ["autoencoder", "denoising", "chunked"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_rows_the_model_cannot_score_are_copied_unchanged_by_denoise(fitted, kind, suffix):
    folder, models = fitted
    data = folder / f"odd_{kind}{suffix}.csv"
    data.write_text("id,a,b,c\n0,1.5,2.25,0.125\n1,1e308,0.25,0.125\n2,inf,1.25,2.125\n"
                    "3,2.5,3.25,1.125\n")  # fmt: skip
    out = folder / f"d_{kind}{suffix}"
    result = run("denoise", models[kind], data, "-o", out, "--force")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "copied unchanged, not denoised" in result.stderr
    back = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    assert back["a"].astype(float).tolist()[1:3] == [1e308, np.inf]
    assert back[["b", "c"]].astype(float).iloc[1].tolist() == [0.25, 0.125]
    assert np.isfinite(back.drop(index=[1, 2])[["a", "b", "c"]].astype(float)).all().all()


def test_float_format_leaves_the_kept_columns_as_they_were(fitted):
    folder, models = fitted
    out = folder / "kept.csv"
    result = run("score", models["chunked"], folder / "train.csv", "-o", out, "--force",
                 "--keep-columns", "--float-format", "%.0f")  # fmt: skip
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, dtype=str)
    given = pd.read_csv(folder / "train.csv", dtype=str)
    pd.testing.assert_frame_equal(written[list(given.columns)], given)
    assert written["anomaly_score"].str.fullmatch(r"-?\d+|inf").all()  # the model's: formatted


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_rows_whose_reconstruction_does_not_fit_are_copied_unchanged(tmp_path, suffix):
    days = pd.date_range("2020-01-01", periods=60, freq="D").strftime("%Y-%m-%d")
    train = pd.DataFrame({"id": [f"r{i}" for i in range(60)], "amount": np.arange(60) * 7.25,
                          "qty": np.arange(60) % 9 + 1, "day": days})  # fmt: skip
    train.to_csv(tmp_path / "train.csv", index=False)
    model = tmp_path / "m.skops"
    result = run("fit", tmp_path / "train.csv", "-o", model, "--id-col", "id", *FAST)
    assert result.exit_code == 0, result.output
    new = train.head(6).astype(object)
    new.loc[2, "qty"] = "1e30"  # finite: scored, reconstructed far beyond int64
    new.loc[4, "amount"] = "1e30"  # and the dates' reconstruction beyond pandas' timestamps
    new.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / f"out{suffix}"
    result = run("denoise", model, tmp_path / "new.csv", "-o", out, "--force")
    assert result.exit_code == 0, result.output
    assert "copied unchanged, not denoised" in result.stderr
    assert "invalid value" not in result.stderr
    back = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out, dtype=str)
    back = back.astype(str)
    assert back.loc[2].tolist() == ["r2", "14.5", "1e30", "2020-01-03"]
    assert back.loc[4].tolist() == ["r4", "1e30", "5", "2020-01-05"]
    assert "-9223372036854775808" not in back.to_numpy()
