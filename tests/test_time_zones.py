"""Typed date columns whose time zone differs between fit and scoring.

Fitted on times in America/New_York and given the same wall-clock times without a zone,
the encoder read them as UTC: epoch seconds 18,000 off, other hours and days of the
week, and no warning (pandas itself refuses to compare such times). Now refused in one
line naming the column and the pandas call that fixes it, either way round.
"""

import pickle

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from ae_anomaly.tables.encoder import TableEncoder
from ae_anomaly.tables.formats import DataError
from tests.cli_checks import FAST, assert_error, run

WALL = pd.date_range("2024-05-01 08:00", periods=48, freq="7h")  # no DST change in May
LOCAL = WALL.tz_localize("America/New_York")


def _frame(times):
    return pd.DataFrame({"seen": times, "amount": np.arange(len(times), dtype=float)})


def test_naive_times_for_a_model_fitted_with_a_zone_are_refused():
    encoder = TableEncoder().fit(_frame(LOCAL))
    fix = r"tz_localize\('America/New_York'\)"
    with pytest.raises(
        DataError, match=rf"'seen' was fitted with times in America/New_York .*{fix}"
    ):
        encoder.transform(_frame(WALL))


def test_times_with_a_zone_for_a_model_fitted_without_one_are_refused():
    encoder = TableEncoder().fit(_frame(WALL))
    with pytest.raises(DataError, match=r"without a time zone \(read as UTC\) and holds times "
                                        r"in America/New_York"):  # fmt: skip
        encoder.transform(_frame(LOCAL))


ISO_TEXT = LOCAL.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    "other", [LOCAL.tz_convert("UTC"), LOCAL.tz_convert("Asia/Tokyo"), ISO_TEXT]
)
def test_the_same_instants_in_another_zone_or_as_iso_text_encode_the_same(other):
    encoder = TableEncoder().fit(_frame(LOCAL))
    expected = np.asarray(encoder.transform(_frame(LOCAL)), dtype=float)
    np.testing.assert_array_equal(np.asarray(encoder.transform(_frame(other)), dtype=float),
                                  expected)  # fmt: skip


def test_the_fitted_zone_survives_pickling():
    encoder = pickle.loads(pickle.dumps(TableEncoder().fit(_frame(LOCAL))))
    with pytest.raises(DataError, match="fitted with times in America/New_York"):
        encoder.transform(_frame(WALL))


def test_the_cli_refuses_a_parquet_of_naive_times_for_a_model_fitted_on_zoned_ones(tmp_path):
    _frame(LOCAL).to_parquet(tmp_path / "train.parquet")
    _frame(WALL).to_parquet(tmp_path / "new.parquet")
    fitted = run("fit", tmp_path / "train.parquet", "-o", tmp_path / "m.skops", *FAST)
    assert fitted.exit_code == 0, fitted.output
    result = run("score", tmp_path / "m.skops", tmp_path / "new.parquet", "-o", tmp_path / "s.csv")
    assert_error(result, 1, "column 'seen' was fitted with times in America/New_York")


@pytest.mark.parametrize("fit_on,score_on", [("naive", "UTC"), ("UTC", "naive")])
def test_times_in_utc_and_times_without_a_zone_read_alike(fit_on, score_on):
    """Spark, DuckDB and Polars write Parquet timestamps in UTC: refused against a model
    fitted on the same instants without a zone, which are read as UTC anyway."""
    as_zone = {"naive": WALL, "UTC": WALL.tz_localize("UTC")}
    encoder = TableEncoder().fit(_frame(as_zone[fit_on]))
    expected = np.asarray(encoder.transform(_frame(as_zone[fit_on])), dtype=float)
    got = np.asarray(encoder.transform(_frame(as_zone[score_on])), dtype=float)
    np.testing.assert_array_equal(got, expected)


def _arrow(times, unit="us"):
    """``times`` as pandas' Arrow timestamps (``pd.read_parquet(..., dtype_backend="pyarrow")``)."""
    zone = getattr(times.dtype, "tz", None)
    return pd.Series(times).astype(pd.ArrowDtype(pa.timestamp(unit, tz=zone and str(zone))))


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_arrow_timestamps_are_checked_and_encoded_as_numpys(unit):
    """Arrow timestamps with a zone were taken for times without one: scored on a model
    fitted on naive times, Paris midnight became 23:00 UTC of the day before (another day
    of the week, another month) without a word; fitted on, the zone was not recorded."""
    naive = TableEncoder().fit(_frame(WALL))
    with pytest.raises(DataError, match="without a time zone .* in America/New_York"):
        naive.transform(_frame(_arrow(LOCAL, unit)))
    zoned = TableEncoder().fit(_frame(_arrow(LOCAL, unit)))
    assert zoned.columns_["seen"]["zone"] == "America/New_York"
    with pytest.raises(DataError, match="fitted with times in America/New_York"):
        zoned.transform(_frame(WALL))
    for numpy_times, encoder in [(LOCAL, zoned), (WALL, naive)]:
        expected = np.asarray(encoder.transform(_frame(numpy_times)), dtype=float)
        got = np.asarray(encoder.transform(_frame(_arrow(numpy_times, unit))), dtype=float)
        np.testing.assert_array_equal(got, expected)
    assert TableEncoder().fit(_frame(_arrow(WALL, unit))).columns_ == naive.columns_
