"""The pyarrow fast paths of text CSV reading and number parsing equal the pandas paths.

``TableReader(text=True)`` parses a piece with pyarrow only where the result is provably
pandas' own (:mod:`ae_anomaly.tables.fastcsv`), ``parse_numbers`` casts a whole Arrow
text column at once only where that equals its cell-by-cell rules, and ``score_table``
has a model's numeric columns parsed as float64 while they are read
(``TableReader(numbers=...)``): these tests compare each against the reference path on
generated text, errors included.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ae_anomaly import Autoencoder
from ae_anomaly.tables import reader as reader_module
from ae_anomaly.tables import scoring as scoring_module
from ae_anomaly.tables.fastcsv import TEXT_DTYPE, arrow_text_frame
from ae_anomaly.tables.fitting import fit_table
from ae_anomaly.tables.formats import DataError
from ae_anomaly.tables.mixed import plain_number_columns
from ae_anomaly.tables.reader import TableReader
from ae_anomaly.tables.scoring import score_table
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


# ------------------------------------------------ numbers parsed while they are read
def test_numbers_read_as_floats_until_a_piece_holds_text(tmp_path):
    path = tmp_path / "t.csv"
    rows = [f"{i}.5,{i},id{i}" for i in range(40)]
    rows[25] = "25.5,NA,id25"  # a missing value: "b" is text from this piece on
    path.write_text("a,b,id\n" + "\n".join(rows) + "\n")
    reader = TableReader(path, text=True, block_size=64, numbers=["a", "b"])
    chunks = list(reader)
    assert len(chunks) > 4
    assert all(chunk["a"].dtype == np.float64 for chunk in chunks)
    assert all(chunk["id"].dtype == TEXT_DTYPE for chunk in chunks)
    kinds = ["float" if chunk["b"].dtype == np.float64 else "text" for chunk in chunks]
    first_text = kinds.index("text")
    assert kinds[:first_text] == ["float"] * first_text and set(kinds[first_text:]) == {"text"}
    assert "NA" in chunks[first_text]["b"].tolist()
    assert pd.concat(chunks)["a"].tolist() == [i + 0.5 for i in range(40)]


def test_plain_number_columns_leave_out_what_parses_otherwise():
    frame = pd.DataFrame({"n": [0.5, 1.0, 2.0, 3.0], "p": ["1%", "2%", "3%", "4%"],
                          "c": ["a", "b", "a", "b"], "m": [1.0, -999.0, 2.0, 3.0]})  # fmt: skip
    fitted = fit_table(Autoencoder(max_iter=1, random_state=0), frame).pipeline
    assert plain_number_columns(fitted) == ["n", "m"]
    coded = fit_table(Autoencoder(max_iter=1, random_state=0), frame, na_values={"m": [" -999"]})
    assert plain_number_columns(coded.pipeline) == ["n"]  # " -999" reads as the number -999
    comma = frame.assign(n=["0,5", "1,0", "2,0", "3,0"], m=["1", "2", "3", "4"])
    decimal = fit_table(Autoencoder(max_iter=1, random_state=0), comma, decimal=",")
    assert plain_number_columns(decimal.pipeline) == []


@pytest.fixture(scope="module")
def number_models():
    """Models of two numeric columns, an id and an ignored note (never read when scoring):
    one imputing missing values, one not."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "b"]).assign(id="r", note="")
    return {
        impute: fit_table(Autoencoder(max_iter=2, random_state=0), frame, ids=["id"],
                          exclude=["note"], impute=impute)  # fmt: skip
        for impute in ("median", None)
    }


def _scored(model, path):
    """``("ok", frame)`` or ``("error", message)`` of ``score_table``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "ok", score_table(model, path).frame
    except DataError as exc:
        return "error", str(exc)


@SETTINGS
@given(
    cells=st.lists(
        st.tuples(
            st.one_of(NUMBER_TEXT, st.sampled_from(["\t3", " inf", "x", "-0", "1e-320"])),
            st.floats(-5, 5, allow_nan=False).map(repr),
        ),
        min_size=1,
        max_size=30,
    ),
    block_size=st.sampled_from([16, 64, 1 << 20]),
    impute=st.sampled_from(["median", None]),
)
def test_scores_of_numbers_read_as_floats_equal_those_of_their_text(
    tmp_path_factory, monkeypatch, number_models, cells, block_size, impute
):
    """Finite scores or the same one-line error, with or without the float read."""
    number_model = number_models[impute]
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    lines = [f"{a},{b},r{i},x{i}" for i, (a, b) in enumerate(cells)]
    path.write_text("a,b,id,note\n" + "\n".join(lines) + "\n")
    monkeypatch.setattr("ae_anomaly.tables.formats.BLOCK_SIZE", block_size)
    fast = _scored(number_model, path)
    with monkeypatch.context() as patch:
        patch.setattr(scoring_module, "plain_number_columns", lambda pipeline: [])
        reference = _scored(number_model, path)
    assert fast[0] == reference[0], (fast, reference)
    if fast[0] == "error":
        assert fast[1] == reference[1] and "\n" not in fast[1]
        return
    pd.testing.assert_frame_equal(fast[1], reference[1], check_exact=True)
    scores = fast[1]["anomaly_score"].to_numpy()
    assert not np.isnan(scores).any()  # a row that cannot be scored is inf and flagged
