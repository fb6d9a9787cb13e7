"""xz-compressed CSV (``to_csv("x.csv.xz")`` in pandas) is read like ``.gz`` and ``.bz2``.

``.csv.xz`` was refused as an unknown extension ("pass --delimiter"), and xz data under a
``.csv`` name gave a dump of its bytes as text that is not UTF-8. pyarrow has no xz codec:
Python's lzma reads it. Outputs are not written xz: a ``.csv.xz`` output is refused in
one line naming those that are.
"""

import lzma

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ae_anomaly.tables.formats import DataError, table_format
from ae_anomaly.tables.reader import TableReader
from tests.cli_checks import FAST, ROWS, assert_error, run

TEXT = "id,amount,age,score\n" + ROWS


@pytest.mark.parametrize("name, delimiter", [("t.csv.xz", ","), ("t.TSV.XZ", "\t")])
def test_an_xz_table_reads_as_its_text(tmp_path, name, delimiter):
    path = tmp_path / name
    path.write_bytes(lzma.compress(TEXT.replace(",", delimiter).encode()))
    assert table_format(path) == ("csv", delimiter)
    frame = TableReader(path, text=True).read_all()
    plain = tmp_path / "plain.csv"
    plain.write_text(TEXT)
    assert frame.equals(TableReader(plain, text=True).read_all())


def test_the_cli_fits_detects_and_scores_an_xz_table(tmp_path):
    path = tmp_path / "t.csv.xz"
    path.write_bytes(lzma.compress(TEXT.encode()))
    detected = run("detect", path, "--id-col", "id", *FAST)
    assert detected.exit_code == 0, detected.output
    model = tmp_path / "m.skops"
    assert run("fit", path, "-o", model, "--id-col", "id", *FAST).exit_code == 0
    scored = run("score", model, path)
    assert scored.exit_code == 0, scored.output
    assert scored.stdout == run("score", model, _plain(tmp_path)).stdout


def _plain(folder):
    path = folder / "plain.csv"
    path.write_text(TEXT)
    return path


def test_an_xz_output_is_refused_naming_those_written(tmp_path):
    out = tmp_path / "scores.csv.xz"
    result = run("detect", _plain(tmp_path), "--id-col", "id", "-o", out, *FAST)
    assert_error(result, 2, "xz-compressed tables are read, not written", ".csv.gz")
    assert not out.exists()


def test_xz_data_under_a_csv_name_is_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(lzma.compress(TEXT.encode()))
    assert_error(run("detect", path, *FAST), 1, "is not a text table: xz-compressed data: "
                 "name it .csv.xz")  # fmt: skip


def test_an_xz_file_in_another_encoding_is_transcoded(tmp_path):
    path = tmp_path / "t.csv.xz"
    path.write_bytes(lzma.compress("id,city,x\n1,Köln,1.5\n2,Bonn,2\n".encode("cp1252")))
    frame = TableReader(path, text=True, encoding="cp1252").read_all()
    assert frame["city"].tolist() == ["Köln", "Bonn"]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(cut=st.integers(0, 10_000))
def test_a_truncated_xz_file_is_a_one_line_error(tmp_path_factory, cut):
    data = lzma.compress(TEXT.encode())
    path = tmp_path_factory.mktemp("xz") / "t.csv.xz"
    path.write_bytes(data[: cut % len(data)])
    with pytest.raises(DataError) as error:
        TableReader(path, text=True).read_all()
    assert "\n" not in str(error.value)
    assert str(path.name) in str(error.value)


def test_pandas_reads_what_it_wrote(tmp_path):
    path = tmp_path / "p.csv.xz"
    frame = pd.DataFrame({"a": range(50), "b": [i * 0.5 for i in range(50)]})
    frame.to_csv(path, index=False)
    read = TableReader(path).read_all()
    assert read["a"].tolist() == list(range(50)) and read["b"].tolist() == frame["b"].tolist()
