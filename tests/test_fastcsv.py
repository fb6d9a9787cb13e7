"""The pyarrow fast paths of text CSV reading and number parsing equal the pandas paths.

``TableReader(text=True)`` parses a piece with pyarrow only where the result is provably
pandas' own (:mod:`ae_anomaly.tables.fastcsv`), and ``parse_numbers`` casts a whole Arrow
text column at once only where that equals its cell-by-cell rules: these tests compare
both against the reference paths on generated text, errors included.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ae_anomaly.tables import reader as reader_module
from ae_anomaly.tables.fastcsv import TEXT_DTYPE, arrow_text_frame
from ae_anomaly.tables.formats import DataError
from ae_anomaly.tables.reader import TableReader
from ae_anomaly.tables.typing import ParseOptions, parse_numbers

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
#: Bytes that make the parsers disagree when they meet in odd places.
PIECES = ["a", "1", "2.5", " ", ",", ";", "\t", "\n", "\r", "\r\n", '"', '""', "é", "\x00",
          "#", "\\", "'", "-", "e", "NA", "nan", "inf", "1e5"]  # fmt: skip


def _read(path, delimiter):
    """``("ok", chunks)`` or ``("error", message)`` of a text-mode read."""
    try:
        reader = TableReader(path, text=True, delimiter=delimiter, block_size=64)
        return "ok", [chunk for chunk in reader]
    except DataError as exc:
        return "error", str(exc)


@SETTINGS
@given(
    header=st.lists(st.sampled_from(["a", "b", '"c"', "d e"]), min_size=1, max_size=3, unique=True),
    body=st.lists(st.sampled_from(PIECES), max_size=60),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_text_reader_equals_pandas(tmp_path_factory, monkeypatch, header, body, delimiter):
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_bytes((delimiter.join(header) + "\n" + "".join(body)).encode())
    fast = _read(path, delimiter)
    with monkeypatch.context() as patch:
        patch.setattr(reader_module, "arrow_text_frame", lambda *args, **kwargs: None)
        reference = _read(path, delimiter)
    assert fast[0] == reference[0], (fast, reference)
    if fast[0] == "error":
        assert fast[1] == reference[1]
        return
    assert len(fast[1]) == len(reference[1])
    for got, expected in zip(fast[1], reference[1], strict=True):
        pd.testing.assert_frame_equal(got, expected)


def test_fast_path_taken_on_plain_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('"x","y"\n1.5,2\n-3e2,inf\n')
    piece = path.read_bytes()
    frame = arrow_text_frame(piece, ["x", "y"], ",", first=True)
    assert frame.to_dict("list") == {"x": ["1.5", "-3e2"], "y": ["2", "inf"]}
    assert (frame.dtypes == TEXT_DTYPE).all()
    # what pandas gives for the same text
    reference = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    pd.testing.assert_frame_equal(frame, reference)


@pytest.mark.parametrize(
    "piece",
    [b'1,"x"\n', b"1,2\r3,4\n", b" \n1\n"],
    ids=["quoted cell", "lone carriage return", "blank line of one column"],
)
def test_fast_path_declines(piece):
    columns = ["a"] if piece.startswith(b" ") else ["a", "b"]
    assert arrow_text_frame(piece, columns, ",", first=False) is None


NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " 1", "1 ", "NA", "nan", "-nan", "NaN", "-999", "1e400", "+2", ".5",
                     "5.", "1_0", "0x1", "1,5", "12%", "inf", "-Infinity", "None"]),
)  # fmt: skip


@SETTINGS
@given(
    cells=st.lists(NUMBER_TEXT, min_size=1, max_size=20),
    na_values=st.sampled_from([None, ["-999"], ["inf"], {"x": ["1"]}]),
    keep_default_na=st.booleans(),
    coerce=st.booleans(),
)
def test_parse_numbers_arrow_text_equals_python_text(cells, na_values, keep_default_na, coerce):
    options = ParseOptions(na_values=na_values, keep_default_na=keep_default_na, coerce=coerce)
    arrow = pd.Series(cells, name="x", dtype=TEXT_DTYPE)
    python = pd.Series(cells, name="x", dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = parse_numbers(arrow, options)
        expected = parse_numbers(python, options)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    assert got[2] == expected[2]
