"""CSV outputs read back as written, whatever the delimiter and however many columns.

Two silent losses: a delimiter that occurs in a written value (``--delimiter .`` and the
score 0.25, ``--delimiter space`` and the timestamp 2020-01-02 10:00:00) split the value
across two columns, unquoted; and a one-column table wrote its missing cell as a blank
line, which pandas (and this package's reader) skip, so the rows after it moved up one.
"""

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ae_anomaly.tables.writer import TableWriter
from tests.cli_checks import FAST, ROWS, run

DELIMITERS = [",", ";", "\t", "|", ".", " ", "-", "+", ":", "e", "1", "x"]
TEXT = st.text(st.sampled_from("ab .-:,;|\t1e+x"), min_size=1, max_size=6).map("v".__add__)


def _write_and_read(frame, path, delimiter, chunks=1):
    with TableWriter(path, delimiter=delimiter) as writer:
        for part in np.array_split(np.arange(len(frame)), chunks):
            writer.write(frame.iloc[part])
    return pd.read_csv(path, sep=delimiter)


@st.composite
def tables(draw):
    rows = draw(st.integers(1, 8))
    floats = st.floats(allow_nan=True, allow_infinity=False, width=64)
    kinds = {
        "float": lambda: draw(st.lists(floats, min_size=rows, max_size=rows)),
        "int": lambda: draw(st.lists(st.integers(-(10**6), 10**6), min_size=rows, max_size=rows)),
        "bool": lambda: draw(st.lists(st.booleans(), min_size=rows, max_size=rows)),
        "text": lambda: draw(st.lists(st.none() | TEXT, min_size=rows, max_size=rows)),
    }
    names = draw(st.lists(st.sampled_from(sorted(kinds)), min_size=1, max_size=4))
    return pd.DataFrame({f"{kind}{i}": kinds[kind]() for i, kind in enumerate(names)})


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(frame=tables(), delimiter=st.sampled_from(DELIMITERS), chunks=st.integers(1, 3))
def test_every_table_reads_back_as_written_whatever_the_delimiter(tmp_path, frame, delimiter,
                                                                   chunks):  # fmt: skip
    chunks = min(chunks, len(frame))
    back = _write_and_read(frame, tmp_path / "out.csv", delimiter, chunks)
    assert list(back.columns) == list(frame.columns)
    assert len(back) == len(frame)
    for name in frame.columns:
        if name.startswith("text"):
            assert _cells(back[name]) == _cells(frame[name])
        else:
            np.testing.assert_array_equal(back[name].to_numpy(float), frame[name].to_numpy(float))


def _cells(column):
    return [None if pd.isna(value) else value for value in column]


@pytest.mark.parametrize("delimiter", [".", " ", "-", ":"])
def test_a_delimiter_found_in_numbers_and_dates_quotes_every_value(tmp_path, delimiter):
    """The values that used to be split: scores, negative numbers, timestamps, booleans."""
    frame = pd.DataFrame({
        "anomaly_score": [0.25, -1.5e-07],
        "seen": pd.to_datetime(["2020-01-02 10:00:00", "2021-12-31 23:59:59"]),
        "flag": [True, False],
    })  # fmt: skip
    back = _write_and_read(frame, tmp_path / "out.csv", delimiter)
    assert back["anomaly_score"].tolist() == [0.25, -1.5e-07]
    assert pd.to_datetime(back["seen"]).tolist() == frame["seen"].tolist()
    assert back["flag"].tolist() == [True, False]


@pytest.mark.parametrize("values", [[1.0, np.nan, 2.5], ["a", None, "  "], [None, None],
                                    ["a", "", "b"], ["a", "  ", "\t"]])  # fmt: skip
def test_a_missing_or_blank_cell_of_a_one_column_table_is_not_a_blank_line(tmp_path, values):
    """Missing cells, empty texts and blank ones: pandas and this package's reader skip a
    blank line. An empty text reads back missing, as pandas reads what it writes."""
    frame = pd.DataFrame({"x": values})
    path = tmp_path / "out.csv"
    back = _write_and_read(frame, path, ",")
    assert len(back) == len(frame), path.read_text()
    assert back["x"].isna().tolist() == [pd.isna(v) or v == "" for v in values]
    assert all(line.strip() for line in path.read_text().splitlines())


def test_a_one_column_table_without_missing_cells_is_written_plainly(tmp_path):
    with TableWriter(tmp_path / "out.csv") as writer:
        writer.write(pd.DataFrame({"x": [1.0, 2.5]}))
    assert (tmp_path / "out.csv").read_text() == "x\n1\n2.5\n"


def test_detect_with_a_dot_delimiter_writes_scores_pandas_reads_back(tmp_path):
    """The CLI writes with the input's ``--delimiter``: ``.`` split every score in two."""
    data = tmp_path / "dots.csv"
    data.write_text("id.a.b.c\n" + ROWS.replace(".", "").replace(",", "."))
    out = tmp_path / "out.csv"
    result = run("detect", data, "-o", out, "--delimiter", ".", "--id-col", "id", *FAST)
    assert result.exit_code == 0, result.output
    back = pd.read_csv(out, sep=".")
    assert list(back.columns) == ["id", "anomaly_score", "is_anomaly"]
    assert back["id"].tolist() == list(range(60))
    assert np.isfinite(back["anomaly_score"]).all() and back["anomaly_score"].nunique() > 1
    assert set(back["is_anomaly"]) <= {0, 1}


def test_times_with_a_zone_are_written_as_pandas_writes_them(tmp_path):
    """Arrow wrote ``2024-01-01 02:37:36.000000+0100``: an offset without its colon, not
    ISO 8601, and six zeros of fraction. Now the cells of pandas' ``to_csv``; times
    without a zone as they were."""
    times = pd.Series(pd.to_datetime(["2024-01-01 02:37:36", "2024-07-01 12:00:00", None]),
                      dtype="datetime64[us]")  # fmt: skip
    frame = pd.DataFrame({
        "paris": times.dt.tz_localize("Europe/Paris"),
        "utc": times.dt.tz_localize("UTC"),
        "kolkata_ms": (times + pd.Timedelta("250ms")).dt.tz_localize("Asia/Kolkata"),
        "old": pd.Series(pd.to_datetime(["1900-01-01", "1850-06-01 08:00", None],
                                        format="ISO8601"))
        .dt.tz_localize("Europe/Paris"),  # local mean time: +00:09:21
        "naive": times,
    })  # fmt: skip
    path = tmp_path / "out.csv"
    with TableWriter(path) as writer:
        writer.write(frame)
    lines = path.read_text().splitlines()
    assert lines[1] == ("2024-01-01 02:37:36+01:00,2024-01-01 02:37:36+00:00,"
                        "2024-01-01 02:37:36.250+05:30,1899-12-31 23:50:39+00:00,"
                        "2024-01-01 02:37:36.000000")  # fmt: skip
    written = pd.read_csv(path, dtype=str, keep_default_na=False)
    zoned = ["paris", "utc", "kolkata_ms"]  # pandas' own cells
    by_pandas = pd.read_csv(io.StringIO(frame[zoned].to_csv(index=False)), dtype=str,
                            keep_default_na=False)  # fmt: skip
    pd.testing.assert_frame_equal(written[zoned], by_pandas)
    # pandas writes 1900-01-01 00:00:00+00:09:21, which no ISO 8601 reader, nor pandas',
    # reads: the same instant in UTC
    assert written["old"].tolist()[1:] == ["1850-06-01 07:50:39+00:00", ""]
    assert written["naive"].tolist()[:2] == ["2024-01-01 02:37:36.000000",
                                             "2024-07-01 12:00:00.000000"]  # fmt: skip


ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
         "Pacific/Chatham", "Etc/GMT+11", "+05:45", "Europe/Amsterdam"]  # fmt: skip


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    times=st.lists(st.none() | st.tuples(st.integers(-9 * 10**9, 9 * 10**9),
                                         st.integers(0, 10**9 - 1)), min_size=1, max_size=6),
    unit=st.sampled_from(["s", "ms", "us", "ns"]),
    zone=st.sampled_from(ZONES),
    delimiter=st.sampled_from(DELIMITERS),
    chunks=st.integers(1, 3),
)  # fmt: skip
def test_times_with_a_zone_read_back_as_the_same_instants(tmp_path, times, unit, zone,
                                                          delimiter, chunks):  # fmt: skip
    """Any instant from 1685 to 2255 (seconds and a fraction, whole in the column's unit),
    in any zone, whatever the delimiter (``+`` and ``:`` quote every value)."""
    per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    ticks = [None if t is None else t[0] * per_second + t[1] * per_second // 10**9
             for t in times]  # fmt: skip
    instants = pd.Series(pd.array(ticks, dtype="Int64")).astype(f"datetime64[{unit}]")
    frame = pd.DataFrame({"seen": instants.dt.tz_localize("UTC").dt.tz_convert(zone)})
    back = _write_and_read(frame, tmp_path / "out.csv", delimiter, min(chunks, len(frame)))
    read = pd.to_datetime(back["seen"].astype("string"), utc=True, format="ISO8601")
    assert read.isna().tolist() == frame["seen"].isna().tolist()
    expected = frame["seen"].dropna().dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    assert read.dropna().astype("datetime64[ns, UTC]").tolist() == expected.tolist()
