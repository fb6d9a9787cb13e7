"""Where a CSV record ends: every reading path reads the rows ``pandas.read_csv`` reads.

A line break inside a quoted cell where the first MiB (the head that names the columns)
ends, any mixture of line endings (``\\n``, ``\\r\\n``, a bare ``\\r``), a quote inside an
unquoted cell (``12" LCD``): the reader cuts the text between records and counts their
fields on the raw bytes, and each of those must agree with pandas' C parser.
"""

import io

import pandas as pd

from ae_anomaly.tables import reader as reader_module
from tests.cli_checks import FAST, run


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
