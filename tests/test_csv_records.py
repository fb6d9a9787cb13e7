"""Where a CSV record ends: every reading path reads the rows ``pandas.read_csv`` reads.

A line break inside a quoted cell where the first MiB (the head that names the columns)
ends, any mixture of line endings (``\\n``, ``\\r\\n``, a bare ``\\r``), a quote inside an
unquoted cell (``12" LCD``): the reader cuts the text between records and counts their
fields on the raw bytes, and each of those must agree with pandas' C parser.
"""

import io

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ae_anomaly.tables import reader as reader_module
from ae_anomaly.tables.reader import TableReader
from ae_anomaly.tables.streams import field_counts, record_end
from tests.cli_checks import FAST, ROWS, run

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _ids(text):
    """The ``id`` column of a CSV written by the CLI."""
    return pd.read_csv(io.StringIO(text), dtype=str)["id"].tolist()


# --------------------------------------------- a quoted line break at the head's end
def test_a_quoted_cell_across_the_first_mib_is_read(tmp_path):
    """The head (the first MiB) was cut at its last line break, inside a quoted cell:
    fit, detect and score refused the valid file ("a quote opened at line 2360 is never
    closed")."""
    path = tmp_path / "notes.csv"
    note = '"first line\nsecond line ' + "z" * 4000 + '"'
    rows = [f"r{i},{i % 7}.5,{i % 5}.25,{note}" for i in range(300)]
    path.write_text("id,a,b,note\n" + "\n".join(rows) + "\n")
    data = path.read_bytes()
    mark = reader_module._HEAD_BYTES
    assert data.count(b'"', 0, mark) % 2 == 1  # the first MiB ends inside a quoted cell
    expected = pd.read_csv(path, dtype=str)["id"].tolist()
    options = ["--id-col", "id", "--exclude", "note", "--model", "autoencoder", *FAST]
    detected = run("detect", path, *options)
    assert detected.exit_code == 0, detected.output
    assert _ids(detected.stdout) == expected
    model = tmp_path / "m.skops"
    assert run("fit", path, "-o", model, *options).exit_code == 0
    scored = run("score", model, path)
    assert scored.exit_code == 0, scored.output
    assert _ids(scored.stdout) == expected


# ------------------------------------------------------------ line endings mixed
#: A header line ended by a bare CR above LF rows; two exports joined, one from an old
#: Mac (CR only), one not. pandas' C parser ends a line at any of them.
MIXTURES = {
    "cr header, lf rows": lambda lines: lines[0] + "\r" + "\n".join(lines[1:]) + "\n",
    "cr first half, lf after": lambda lines: "\r".join(lines[:31]) + "\r" + "\n".join(lines[31:]),
    "lf first half, cr after": lambda lines: "\n".join(lines[:31]) + "\n" + "\r".join(lines[31:]),
}
#: Four columns of numbers and a note no model reads.
TABLE = ["id,amount,age,score,note"] + [f"{row},n{i}" for i, row in enumerate(ROWS.splitlines())]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A model of ``TABLE`` without its note: score reads the other columns only."""
    folder = tmp_path_factory.mktemp("model")
    (folder / "train.csv").write_text("\n".join(TABLE) + "\n")
    result = run("fit", folder / "train.csv", "-o", folder / "m.skops", "--id-col", "id",
                 "--exclude", "note", "--model", "autoencoder", *FAST)  # fmt: skip
    assert result.exit_code == 0, result.output
    return folder / "m.skops"


@pytest.mark.parametrize("mixture", MIXTURES)
def test_line_endings_mixed_in_one_file_lose_no_row(model, tmp_path, mixture):
    """detect, score and fit --chunksize read every row pandas reads (detect and score
    dropped the rows above the first LF, exit 0; score refused a file turning to CR)."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(MIXTURES[mixture](TABLE).encode())
    expected = pd.read_csv(path, dtype=str)["id"].tolist()
    assert len(expected) == 60
    options = ["--id-col", "id", "--exclude", "note", "--model", "autoencoder", *FAST]
    detected = run("detect", path, *options)
    assert detected.exit_code == 0, detected.output
    assert _ids(detected.stdout) == expected
    scored = run("score", model, path)
    assert scored.exit_code == 0, scored.output
    assert _ids(scored.stdout) == expected
    fitted = run("fit", path, *options, "--chunksize", "16", "-o", tmp_path / "m.skops")
    assert fitted.exit_code == 0, fitted.output
    assert "on 60 rows" in fitted.output


#: How each reading path opens a table: fit and detect (text), score (the model's columns,
#: its numbers parsed while read), fit --chunksize (pandas' types).
READS = {
    "text": {"text": True},
    "some columns": {"text": True, "usecols": ["id", "a"]},
    "numbers": {"text": True, "usecols": ["id", "a"], "numbers": ["a"]},
    "typed": {},
}
QUOTED = ['"two\nlines"', '"a, b"', '"cr\rinside"', '"say ""hi"""', '""', '"x\r\ny"']
#: Quotes that open no quoted field: inside a field, or after a quoted part closed.
STRAY = ['12" LCD', 'a"b"c', ' "y', '"q"x"', "5'11\""]
ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def csv_texts(draw):
    """A table ``id,a,note`` whose lines end in ``\\n``, ``\\r\\n`` or ``\\r``: the header
    its own way, the rows in two runs (two exports joined) or each its own way; notes
    plain, quoted holding delimiters, quotes and line breaks of every kind, or holding
    quotes that open no quoted field (``12" LCD``)."""
    n = draw(st.integers(1, 40))
    quoting = draw(st.sampled_from([[], QUOTED, STRAY, QUOTED + STRAY]))
    notes = st.sampled_from(["x", "", "plain words", *quoting])
    lines = ["id,a,note"] + [f"r{i},{i}.5,{draw(notes)}" for i in range(n)]
    if draw(st.booleans()):
        split = draw(st.integers(0, n))
        endings = [draw(ENDINGS)] + [draw(ENDINGS)] * split + [draw(ENDINGS)] * (n - split)
    else:
        endings = draw(st.lists(ENDINGS, min_size=n + 1, max_size=n + 1))
    return "".join(line + end for line, end in zip(lines, endings, strict=True)).encode()


@SETTINGS
@given(
    data=csv_texts(),
    read=st.sampled_from(sorted(READS)),
    head=st.sampled_from([32, 256, 1 << 20]),
    block_size=st.sampled_from([16, 64, 1 << 20]),
)
def test_every_reading_path_reads_the_rows_pandas_reads(
    tmp_path_factory, monkeypatch, data, read, head, block_size
):
    """Whatever the line endings and quotes, and where the head (the first MiB, here
    smaller) and the pieces end: the ids pandas.read_csv reads, in order, and in text the
    notes as written."""
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_bytes(data)
    expected = pd.read_csv(path, dtype=str, keep_default_na=False)
    with monkeypatch.context() as patch:
        patch.setattr(reader_module, "_HEAD_BYTES", head)
        frame = TableReader(path, block_size=block_size, **READS[read]).read_all()
    assert frame["id"].tolist() == expected["id"].tolist()
    if read == "text":
        assert frame["note"].tolist() == expected["note"].tolist()


# ---------------------------------------------------------- a quote inside a field
def test_score_reads_a_quote_inside_a_field_as_fit_did(model, tmp_path):
    """``12" LCD``: score, which reads the model's columns only, refused the file the model
    was fitted on ("malformed CSV at line 7 ... got 1"), while fit and detect read it."""
    path = tmp_path / "screens.csv"
    notes = [line.rsplit(",", 1) for line in TABLE]  # the note first, as a file may have it
    notes[6][1], notes[40][1] = '12" LCD', '"a ""quoted"" note"'
    path.write_text("".join(f"{note},{rest}\n" for rest, note in notes))
    expected = pd.read_csv(path, dtype=str)
    assert expected["note"][5] == '12" LCD' and len(expected) == 60
    scored = run("score", model, path)
    assert scored.exit_code == 0, scored.output
    assert _ids(scored.stdout) == expected["id"].tolist()
    kept = run("score", model, path, "--keep-columns")
    assert kept.exit_code == 0, kept.output
    assert pd.read_csv(io.StringIO(kept.stdout))["note"].tolist() == expected["note"].tolist()


@pytest.mark.parametrize("blanks", ["   ", " \t ", "  \r"])
def test_score_skips_a_line_of_blanks_as_fit_does(model, tmp_path, blanks):
    """pandas skips a line of spaces; score, reading the model's columns only, refused it
    ("malformed CSV at line 11 ... got 1"), while fit and detect read the file."""
    path = tmp_path / "blanks.csv"
    path.write_text("\n".join([*TABLE[:10], blanks, *TABLE[10:]]) + "\n", newline="")
    expected = pd.read_csv(path, dtype=str)["id"].tolist()
    assert len(expected) == 60
    scored = run("score", model, path)
    assert scored.exit_code == 0, scored.output
    assert _ids(scored.stdout) == expected


@st.composite
def records(draw):
    """``(text, record ends, field counts)``: rows of unquoted fields (quotes inside them
    are characters), quoted ones (doubled quotes, delimiters, line breaks) and quoted
    ones with text after their closing quote, each row ended by ``\\n``, ``\\r\\n`` or
    ``\\r``, its delimiter ``,``."""
    unquoted = st.text(alphabet='ab "', max_size=4).filter(lambda t: not t.startswith('"'))
    inner = st.lists(st.sampled_from(["a", ",", "\n", "\r", "\r\n", '""']), max_size=4)
    after = st.text(alphabet='b"', max_size=3).filter(lambda t: not t.startswith('"'))
    quoted = st.builds(lambda i, a: '"' + "".join(i) + '"' + a, inner, after)
    text, ends, counts = "", [], []
    for _ in range(draw(st.integers(1, 8))):
        fields = draw(st.lists(st.one_of(unquoted, quoted), min_size=1, max_size=4))
        row = ",".join(fields)
        row = row if row.strip(" ") else "x"  # an empty line, or one of spaces, is no record
        text += row + draw(ENDINGS)
        ends.append(len(text.encode()))
        counts.append(len(fields))
    return text.encode(), ends, counts


@SETTINGS
@given(records(), st.data())
def test_records_end_where_the_parser_ends_them(case, data):
    """The raw-byte record cutting and field counting, against rows built field by field:
    a quote opens a quoted field only at the start of a field (pandas, Python's csv and
    pyarrow read ``12" LCD`` as written)."""
    text, ends, counts = case
    starts, got = field_counts(text, b",")
    assert got.tolist() == counts
    assert starts.tolist() == [0, *ends[:-1]]
    cut = data.draw(st.integers(0, len(text)))
    whole = [e for e in ends if e < cut or (e == cut and text[cut - 1 : cut] != b"\r")]
    assert record_end(text[:cut], b",") == (whole[-1] if whole else -1)
