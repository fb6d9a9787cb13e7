"""Rows whose every cell is empty (``,,,``), as a spreadsheet exports its blank rows.

pandas reads such a row as a row of missing values; the error then advised
``--impute median``, which filled it with the training rows' medians: fabricated rows
with a blank id, trained on and scored. Every reading path now refuses the first one,
naming it an empty row, its data row (as pandas numbers it) and its line, with the edit
that fixes the file; rows with some cells filled, and lines of a quoted cell, are read as
before.
"""

import io

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ae_anomaly.tables.formats import DataError
from ae_anomaly.tables.reader import TableReader
from tests.cli_checks import FAST, ROWS, assert_error, run

HEADER = "id,amount,age,score\n"


def test_detect_refuses_empty_rows_naming_them_with_or_without_impute(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(HEADER + ROWS + ",,,\n,,,\n")
    message = "row 61 (line 62) is empty, every cell blank, as spreadsheets export blank rows"
    assert_error(run("detect", path, "--id-col", "id", *FAST), 1, message, "delete")
    assert_error(run("detect", path, "--id-col", "id", "--impute", "median", *FAST), 1, message)


def test_score_refuses_them_too(tmp_path):
    train = tmp_path / "train.csv"
    train.write_text(HEADER + ROWS)
    model = tmp_path / "m.skops"
    fitted = run("fit", train, "-o", model, "--id-col", "id", "--impute", "median", *FAST)
    assert fitted.exit_code == 0, fitted.output
    scored = tmp_path / "new.csv"
    rows = ROWS.splitlines(keepends=True)
    scored.write_bytes((HEADER + "".join(rows[:40]) + ",,,\r\n" + "".join(rows[40:])).encode())
    assert_error(run("score", model, scored), 1, "row 41 (line 42) is empty")
    streamed = run("fit", scored, "-o", tmp_path / "m2.skops", "--id-col", "id",
                   "--chunksize", "16", *FAST)  # fmt: skip
    assert_error(streamed, 1, "row 41 (line 42) is empty")


@pytest.mark.parametrize(
    "row",
    [",,,5", "r9,,,", ",,,,", '"",,,'],  # cells filled, one field too many, a quoted empty
)
def test_rows_with_a_field_of_their_own_are_not_called_empty(tmp_path, row):
    path = tmp_path / "t.csv"
    path.write_text(HEADER + ROWS + row + "\n")
    result = run("detect", path, "--id-col", "id", *FAST)
    assert "is empty" not in result.output


SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
NOTES = ["x", "", "a b", '"q, r"', '"two\n,,\nlines"', '"x\r\n,,"']


@SETTINGS
@given(
    notes=st.lists(st.sampled_from(NOTES), min_size=1, max_size=30),
    empty=st.lists(st.integers(0, 30), max_size=3),
    ending=st.sampled_from(["\n", "\r\n"]),
    block_size=st.sampled_from([8, 40, 1 << 20]),
    read=st.sampled_from([{"text": True}, {"text": True, "usecols": ["id"]}, {}]),
)
def test_the_first_empty_row_is_named_as_pandas_numbers_it(tmp_path_factory, notes, empty,
                                                            ending, block_size, read):  # fmt: skip
    lines = [f"r{i},{i}.5,{note}" for i, note in enumerate(notes)]
    for position in sorted(empty, reverse=True):
        lines.insert(min(position, len(lines)), ",,")
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_bytes(ending.join(["id,a,note", *lines, ""]).encode())
    expected = pd.read_csv(path, dtype=str, keep_default_na=False)
    blank = (expected == "").all(axis=1)
    reader = TableReader(path, block_size=block_size, **read)
    if not blank.any():
        assert reader.read_all()["id"].tolist() == expected["id"].tolist()
        return
    with pytest.raises(DataError, match=rf"row {blank.idxmax() + 1} \(line \d+\) is empty"):
        reader.read_all()


def test_the_line_named_is_the_files(tmp_path):
    text = "id,a,note\n" + 'r0,1,"two\nlines"\n' + "r1,2,x\n" + ",,\n"
    path = tmp_path / "t.csv"
    path.write_text(text)
    assert len(pd.read_csv(io.StringIO(text))) == 3
    with pytest.raises(DataError, match=r"row 3 \(line 5\) is empty"):
        TableReader(path, text=True).read_all()
