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


ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def csv_texts(draw):
    """A table ``id,a,note`` whose lines end in ``\\n``, ``\\r\\n`` or ``\\r``: the header
    its own way, the rows in two runs (two exports joined) or each its own way; notes
    plain, or quoted holding delimiters, quotes and line breaks of every kind."""
    n = draw(st.integers(1, 40))
    quoting = draw(st.booleans())
    notes = st.sampled_from(["x", "", "plain words", *(QUOTED if quoting else [])])
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
    """Whatever the line endings and where the head (the first MiB, here smaller) and the
    pieces end: the ids pandas.read_csv reads, in order, and in text the notes as written."""
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_bytes(data)
    expected = pd.read_csv(path, dtype=str, keep_default_na=False)
    with monkeypatch.context() as patch:
        patch.setattr(reader_module, "_HEAD_BYTES", head)
        frame = TableReader(path, block_size=block_size, **READS[read]).read_all()
    assert frame["id"].tolist() == expected["id"].tolist()
    if read == "text":
        assert frame["note"].tolist() == expected["note"].tolist()
