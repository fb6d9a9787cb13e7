"""Bad input at the command line: one clear line on stderr, a non-zero exit, no traceback,
and no partial output file."""

import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import ae_anomaly.tables.formats
import ae_anomaly.tables.reader
import ae_anomaly.tables.scoring
from ae_anomaly import Autoencoder, save
from ae_anomaly.cli import cli
from tests.cli_checks import assert_error

FAST = ["--set", "max_iter=2", "--set", "random_state=0"]


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


@pytest.fixture
def data(tmp_path):
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.normal(size=(60, 3)).round(4), columns=["amount", "age", "score"])
    frame.insert(0, "id", range(60))
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def model(data, tmp_path):
    path = tmp_path / "model.skops"
    result = run("fit", data, "-o", path, "--id-col", "id", *FAST)
    assert result.exit_code == 0, result.output
    return path


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_model_and_table_swapped_say_which_comes_first(model, data):
    for command in ("score", "denoise"):
        assert_error(run(command, data, model), 1, "train.csv' is not an ae_anomaly model "
                     "file (a table? the model file comes first: ae-anomaly score MODEL DATA)")
    for args in (("fit", model, "-o", model.with_name("m2.skops")), ("detect", model)):
        assert_error(run(*args), 2, "model.skops' is a model file, not a table")


def test_missing_extra_and_renamed_columns_are_named(model, tmp_path):
    missing = write(tmp_path, "m.csv", "id,amount,age\n1,1.0,2.0\n")
    assert_error(run("score", model, missing), 1, "missing column(s) 'score'")
    extra = write(tmp_path, "x.csv", "id,amount,age,score,label\n1,1.0,2.0,3.0,0\n")
    assert_error(run("score", model, extra), 1, "unknown column(s) 'label'", "--ignore-extra")
    assert run("score", model, extra, "--ignore-extra").exit_code == 0
    renamed = write(tmp_path, "r.csv", "id,amt,age,score\n1,1.0,2.0,3.0\n")
    assert_error(run("score", model, renamed), 1, "'amount'", "'amt'", "renamed?")


def test_names_that_differ_by_blanks_or_case_are_paired_up(model, tmp_path):
    """A later export with ``id, amount`` or ``Amount`` in its header: the message pairs
    each name with the model's, and does not offer --ignore-extra, which cannot help."""
    blanks = write(tmp_path, "b.csv", "id, amount, age,score\n1,1.0,2.0,3.0\n")
    line = assert_error(run("score", model, blanks), 1, "(' amount' is 'amount' but for "
                        "blanks; ' age' is 'age' but for blanks: rename them to the "
                        "model's)")  # fmt: skip
    assert "--ignore-extra" not in line
    case = write(tmp_path, "c.csv", "ID,Amount,age,score,label\n1,1.0,2.0,3.0,0\n")
    line = assert_error(run("score", model, case), 1, "'Amount' is 'amount' but for case",
                        "'ID' is 'id' but for case", "--ignore-extra")  # 'label' is extra
    assert "renamed?" not in line
    from ae_anomaly.tables.api import TableModel, score_table  # names that are not text

    numbered = pd.DataFrame([[1, 1.0, 2.0, 3.0]], columns=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="unknown column.s. 0, 1, 2, 3 .* .renamed.."):
        score_table(TableModel.load(model), numbered)


def test_non_numeric_value_gives_row_and_column(model, tmp_path, monkeypatch):
    rows = "".join(f"{i},1.0,2.0,3.0\n" for i in range(1, 200))
    bad = write(tmp_path, "bad.csv", "id,amount,age,score\n" + rows + "200,1.0,oops,3.0\n")
    assert_error(run("score", model, bad), 1, "'oops'", "column 'age'", "row 200")
    monkeypatch.setattr(ae_anomaly.tables.formats, "BLOCK_SIZE", 512)  # bad value later
    out = tmp_path / "scores.csv"
    assert_error(run("score", model, bad, "-o", out), 1, "'oops'", "column 'age'", "row 200")
    assert not out.exists()  # atomic: no partial output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_failed_run_leaves_an_existing_output_untouched(model, tmp_path, monkeypatch):
    out = write(tmp_path, "scores.csv", "previous results\n")
    rows = "".join(f"{i},1.0,2.0,3.0\n" for i in range(1, 200))
    bad = write(tmp_path, "bad.csv", "id,amount,age,score\n" + rows + "200,,2.0,3.0\n")
    monkeypatch.setattr(ae_anomaly.tables.formats, "BLOCK_SIZE", 512)
    result = run("score", model, bad, "-o", out, "--force")
    fragment = "missing value (empty or NaN) in column 'amount' at row 200"
    assert_error(result, 1, fragment, "--impute")
    assert out.read_text() == "previous results\n"


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("", ["is empty"]),
        ("id,amount,age,score\n", ["header but no data rows"]),
        ("id,amount,age,score\n1,1.0,2.0,3.0\n2,1.0,2.0\n", ["malformed CSV at line 3", "got 3"]),
        ('id,amount,age,score\n1,"1.0,2.0,3.0\n2,1,2,3\n', ["malformed CSV", "quote"]),
        ("id;amount;age;score\n1;1.0;2.0;3.0\n", ["looks ';'-delimited", "--delimiter"]),
        # pandas reads these silently, the first field of each row as an index
        ("id,amount,age,score\n1,1.0,2.0,3.0,\n2,1.0,2.0,3.0,\n",
         ["malformed CSV at line 2", "got 5", "a delimiter ending every row"]),
        ("Exported 2026-12-07\nid,amount,age,score\n1,1.0,2.0,3.0\n",
         ["malformed CSV at line 2", "expected 1 fields", "title line above the header"]),
    ],
    ids=["empty", "header-only", "ragged", "unclosed-quote", "wrong-delimiter",
         "trailing-delimiters", "title-line"],
)  # fmt: skip
def test_unreadable_tables(model, tmp_path, text, fragments):
    path = write(tmp_path, "input.csv", text)
    assert_error(run("score", model, path), 1, *fragments)
    assert_error(run("fit", path, "-o", tmp_path / "m2.skops"), 1, *fragments)


@pytest.mark.parametrize("bad", [201, 70_001])  # in the head read for the types; later
def test_a_ragged_row_is_named_by_its_line_after_cells_with_line_breaks(tmp_path, bad):
    # pandas counts records: with a two-line note in every other row before it, the error
    # named line 203 for the row on line 304
    lines = ["id,a,b,note"]
    for i in range(80_000):  # 1.8 MB: past the first MiB, which is read for the types
        note = '"two\nlines"' if i % 2 == 0 else "x"
        lines.append(f"r{i},{i % 7}.5,{i % 5}.25,{note}" + (",EXTRA" if i == bad else ""))
    text = "\n".join(lines) + "\n"
    path = write(tmp_path, "notes.csv", text)
    line = 1 + text.split("\n").index(f"r{bad},{bad % 7}.5,{bad % 5}.25,x,EXTRA")
    assert_error(run("detect", path, "--id-col", "id", "--exclude", "note", *FAST), 1,
                 f"notes.csv: malformed CSV at line {line}: expected 4 fields like the "
                 "header, got 5")  # fmt: skip


def test_rows_with_more_fields_than_the_header_later_in_the_file(model, tmp_path, monkeypatch):
    header, rows = "id,amount,age,score\n", "".join(f"{i},1.0,2.0,3.0\n" for i in range(100, 130))
    late = "".join(f"{i},1.0,2.0,3.0,\n" for i in range(130, 230))  # a delimiter too many
    path = write(tmp_path, "late.csv", header + rows + late)
    # the first chunk ends where the longer rows start: pandas would read the next chunk
    # silently, the first field of each row as an index (the typing sample sees none)
    monkeypatch.setattr(ae_anomaly.tables.formats, "BLOCK_SIZE", len(header + rows))
    monkeypatch.setattr(ae_anomaly.tables.reader, "_HEAD_BYTES", 256)
    for command in [("score", model, path), ("fit", path, "-o", tmp_path / "m2.skops")]:
        assert_error(run(*command), 1, "malformed CSV at line 32", "got 5")


def test_paths(model, data, tmp_path):
    result = run("score", model, tmp_path / "nope.csv")
    assert result.exit_code == 2 and "does not exist" in result.stderr
    result = run("score", model, tmp_path)
    assert result.exit_code == 2 and "is a directory" in result.stderr
    assert_error(run("score", model, data, "-o", data), 2, "is also an input")
    assert_error(run("score", model, data, "-o", model), 2, "is also an input")
    existing = write(tmp_path, "scores.csv", "keep me\n")
    assert_error(run("score", model, data, "-o", existing), 2, "already exists", "--force")
    assert existing.read_text() == "keep me\n"
    assert run("score", model, data, "-o", existing, "--force").exit_code == 0
    assert_error(run("fit", data, "-o", model), 2, "already exists")
    for output in ("s.xlsx", "s.zip"):  # an output's advice: what to name it, not to convert
        assert_error(run("score", model, data, "-o", tmp_path / output), 2,
                     "outputs are CSV/TSV or Parquet files; name a .csv file")  # fmt: skip
    workbook = write(tmp_path, "export.xlsx", "PK\x03\x04")
    for delimiter in [(), ("--delimiter", ";")]:  # never read as text
        assert_error(run("score", model, workbook, *delimiter), 2, "save the sheet as CSV")
    assert_error(run("score", model, write(tmp_path, "d.dat", "x")), 2, "extension")
    assert_error(run("score", model, data, "-o", tmp_path / "no" / "s.csv"), 2, "directory")


def test_bad_output_options_are_refused_before_any_work(model, data, tmp_path):
    out = tmp_path / "scores.csv"
    # a Python format wrote itself in place of every number; '%x' failed after the work
    for fmt in ("{:.3f}", "%x", "%.2f %.2f", "%d", "%s", "3 decimals"):
        assert_error(run("score", model, data, "-o", out, "--float-format", fmt), 2,
                     f"Invalid value for '--float-format': {fmt!r} is not a printf format")
    # NaN flagged nothing; infinity not even the rows that could not be scored
    for threshold in ("nan", "inf", "-inf"):
        assert_error(run("score", model, data, "-o", out, "--threshold", threshold), 2,
                     "Invalid value for '--threshold'", "is not a finite number")
    assert not out.exists()
    score_table = ae_anomaly.tables.scoring.score_table  # the Python API refuses them too
    with pytest.raises(ValueError, match=r"^float_format='\{:.3f\}' is not a printf format"):
        score_table(model, data, float_format="{:.3f}")
    with pytest.raises(ValueError, match="^threshold must be a finite number, got nan"):
        score_table(model, data, threshold=float("nan"))
    result = run("score", model, data, "-o", out, "--float-format", "%.3f", "--threshold", "1")
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, dtype=str)["anomaly_score"]
    assert written.str.fullmatch(r"-?\d+\.\d{3}").all()


def test_bad_fit_options(data, tmp_path):
    out = tmp_path / "m.skops"
    assert_error(run("fit", data, "-o", out, "--set", "max_itr=3"), 2, "'max_itr'", "max_iter")
    assert_error(run("fit", data, "-o", out, "--set", "max_iter"), 2, "KEY=VALUE")
    assert_error(run("fit", data, "-o", out, "--set", "max_iter=-1"), 2, "max_iter")
    assert_error(run("fit", data, "-o", out, "--id-col", "ident"), 2, "'ident'", "'id'")
    assert_error(run("fit", data, "-o", out, "--exclude", "id,amount,age,score"), 1, "No feature")
    # a name given twice is one column: detect failed after the fit on duplicated outputs
    result = run("detect", data, "--id-col", "id,id", "--id-col", "id", *FAST)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "id,anomaly_score,is_anomaly"
    result = run("fit", data, "-o", out, "--model", "nonsense")
    assert result.exit_code == 2 and "nonsense" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("command", ["fit", "detect"])
def test_bad_option_values_and_unknown_columns_are_usage_errors(command, data, tmp_path):
    """A --set value the estimator refuses and a column option naming no column of the
    file exit 2, like every other usage error, with the same one line; a bad cell of
    the file stays a data error (1)."""
    out = tmp_path / ("m.skops" if command == "fit" else "scores.csv")
    args = [command, data, "-o", out]
    assert_error(run(*args, "--set", "max_iter=abc"), 2,
                 "The 'max_iter' parameter of EnsembleAutoencoder must be an int", "'abc'")
    for option in ("--columns", "--exclude", "--id-col", "--categorical"):
        assert_error(run(*args, "--id-col", "id", option, "nosuch", *FAST), 2,
                     f"{option}: no column named 'nosuch'; the columns are 'id', 'amount'")
    assert_error(run(*args, "--id-col", "id", "--date-cols", "nosuch", *FAST), 2,
                 "--date-cols: no column named 'nosuch'; the columns are 'id', 'amount'")
    assert_error(run(*args, "--id-col", "id", "--date-cols", "id", *FAST), 2,
                 "--date-cols: 'id' is not a feature column.")
    bad = write(tmp_path, "bad.csv", "id,amount,age\n" + "".join(
        f"{i},{i}.5,{i % 7}\n" for i in range(59)) + "59,1O5,3\n")  # fmt: skip
    assert_error(run(command, bad, "-o", out, "--id-col", "id", *FAST), 1, "'1O5'")
    assert not out.exists()


def test_non_numeric_value_at_fit_time_names_row_and_column(tmp_path):
    rows = "".join(f"{i},{i}.5\n" for i in range(1, 2000))
    path = write(tmp_path, "t.csv", "a,b\n" + rows + "2000,n/a?\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ae_anomaly.tables.reader, "_HEAD_BYTES", 4096)  # types from 4 kB
        patch.setattr(ae_anomaly.tables.formats, "BLOCK_SIZE", 4096)
        result = run("fit", path, "-o", tmp_path / "m.skops", *FAST)
    assert_error(result, 1, "'n/a?'", "column 'b'", "row 2000")


def test_bad_model_files(data, tmp_path):
    not_a_model = write(tmp_path, "m.skops", "hello")
    assert_error(run("score", not_a_model, data), 1, "not an ae_anomaly model file")
    assert_error(run("info", not_a_model), 1, "not an ae_anomaly model file")
    from_python = tmp_path / "python.skops"
    save(Autoencoder(max_iter=1).fit(np.random.RandomState(0).normal(size=(30, 3))), from_python)
    described = run("info", from_python).stdout
    assert "autoencoder (ae_anomaly.models.autoencoder.Autoencoder)" in described
    assert_error(run("score", from_python, data), 1, "without a column schema")


def test_interrupted_run_leaves_no_output(model, tmp_path, monkeypatch):
    rows = "".join(f"{i},1.0,2.0,3.0\n" for i in range(1, 4000))
    data = write(tmp_path, "big.csv", "id,amount,age,score\n" + rows)
    monkeypatch.setattr(ae_anomaly.tables.formats, "BLOCK_SIZE", 512)  # chunks of 1,000 rows
    calls = []
    real = ae_anomaly.tables.scoring.score_encoded

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # Ctrl-C after two chunks were written
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(ae_anomaly.tables.scoring, "score_encoded", interrupted)
    out = tmp_path / "scores.csv"
    result = run("score", model, data, "-o", out)
    assert result.exit_code == 130  # the shell's status for Ctrl-C; 1 is bad data
    assert result.stderr.strip() == "Interrupted."
    # stopped with the chunks in flight
    assert len(calls) <= 2 + ae_anomaly.tables.scoring.SCORING_THREADS
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_sigterm_mid_run_removes_the_partial_output(model, tmp_path):
    # A scheduler or `timeout` stops the job with SIGTERM while `score` waits for more
    # rows on stdin: the temporary output must go, and no output appear.
    out = tmp_path / "scores.csv"
    process = subprocess.Popen(
        [sys.executable, "-m", "ae_anomaly", "score", str(model), "-", "-o", str(out)],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    rows = "".join(f"{i},0.1,0.2,0.3\n" for i in range(120_000))  # > the 1 MiB head
    process.stdin.write(("id,amount,age,score\n" + rows).encode())
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".scores.csv.*.part")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob(".scores.csv.*.part")), "the output was never started"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    process.stdin.close()
    process.stderr.close()
    assert not out.exists()
    assert not list(tmp_path.glob(".scores.csv*"))


def test_info_shows_control_characters_of_a_header_as_escapes(tmp_path):
    """A crafted column name cannot drive the terminal that reads ``info``."""
    frame = pd.DataFrame(np.random.RandomState(0).normal(size=(40, 2)), columns=["a", "b"])
    frame = frame.rename(columns={"b": "b\x1b[2J\x1b[31m\r"})
    path = tmp_path / "escapes.skops"
    save(Autoencoder(max_iter=1, random_state=0).fit(frame), path)
    result = run("info", path)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\r" not in result.output
    assert "b\\x1b[2J\\x1b[31m\\r" in result.output
