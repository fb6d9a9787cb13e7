"""Hostile or broken input tables: one line on stderr, the right exit status, no
traceback; memory bounded under a cap where rows grow long or a Parquet file carries a
large column nobody needs. (Outputs: ``test_hostile_output.py``.)"""

import gzip
import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ae_anomaly.tables.formats import UsageProblem, table_format
from ae_anomaly.tables.reader import TableReader
from tests.cli_checks import (
    FAST,
    ROOT,
    ROWS,
    assert_error,
    cli_subprocess,
    no_leftovers,
    one_line_error,
    run,
    train_model,
)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return train_model(tmp_path_factory.mktemp("model"))


# -------------------------------------------------------------------------------- inputs
def test_utf8_bom_csv_scores_like_the_plain_file(model, tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("id,amount,age,score\n" + ROWS)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    expected = run("score", model, plain)
    result = run("score", model, bom)
    assert result.exit_code == 0, result.output
    assert result.stdout == expected.stdout
    piped = run("score", model, "-", input=bom.read_bytes())
    assert piped.exit_code == 0 and piped.stdout == expected.stdout


def test_empty_header_name(model, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,amount,,score\n1,1,2,3\n")
    assert_error(run("score", model, path), 1, "column 3 of the header has no name")
    assert "to_csv" not in run("score", model, path).stderr
    path.write_text("id,amount,age,score,\n1,1,2,3,\n")  # a delimiter after the last field
    assert_error(run("score", model, path), 1, "column 5 of the header has no name; every "
                 "column needs one. The header line ends with ',': if every line does")  # fmt: skip
    pd.DataFrame({"amount": [1.0, 2.0], "age": [30, 40]}).to_csv(path)  # index=True
    assert path.read_text().startswith(",amount,age")
    assert_error(run("score", model, path), 1, "column 1 of the header has no name; every "
                 "column needs one. A nameless first column is most often the row numbers "
                 "pandas' to_csv writes by default: write the file with index=False")  # fmt: skip


def test_files_joined_with_their_headers_name_the_repeated_header_line(model, tmp_path):
    """``cat jan.csv feb.csv``: the second header is a row of names; each path that meets
    it as a number says it is the header line again (rows are the file's data rows)."""
    header = "id,amount,age,score\n"
    joined = tmp_path / "joined.csv"
    joined.write_text(header + ROWS + header + ROWS)
    note = "row 61: 'amount' (the header line again: files joined one after another? keep "
    assert_error(run("score", model, joined), 1, note + "the first only) is not a number")
    out = tmp_path / "m.skops"
    assert_error(run("fit", joined, "-o", out, "--id-col", "id", *FAST), 1,
                 "row 61 is the header line again")  # fmt: skip
    assert_error(run("fit", joined, "-o", out, "--id-col", "id", "--chunksize", "25", *FAST),
                 1, note)  # fmt: skip
    assert run("fit", model.parent / "train.csv", "-o", out, "--id-col", "id",
               "--chunksize", "25", *FAST).exit_code == 0  # fmt: skip
    assert_error(run("score", out, joined), 1, "non-numeric value 'amount' in numeric column "
                 "'amount' at row 61 (the header line again")  # fmt: skip
    categories = tmp_path / "categories.csv"  # no number to meet it: a category 'region'
    table = "".join(f"{'EU' if i % 3 else 'US'},t{i % 4}\n" for i in range(40))
    categories.write_text("region,tier\n" + table + "region,tier\n" + table)
    assert_error(run("fit", categories, "-o", out, "--force", *FAST), 1, "categories.csv: row "
                 "41 is the header line again (files joined one after another?); keep the "
                 "first header line only.")  # fmt: skip
    typo = tmp_path / "typo.csv"
    typo.write_text(header + ROWS + "61,amount?,1.5,2.5\n")  # not the column's name
    assert "header line again" not in run("score", model, typo).output


def test_a_spreadsheets_error_value_is_named_as_one_without_typing_advice(model, tmp_path):
    """``#DIV/0!`` in a column of numbers: the formula failed; --decimal, --thousands or
    --categorical would not help (the last would make the column one category per
    value), so they are not offered."""
    path = tmp_path / "export.csv"
    path.write_text("id,amount,age,score\n" + ROWS + "60,#DIV/0!,1.5,2.5\n")
    note = "row 61: '#DIV/0!' (a spreadsheet's error value: the formula of that cell failed)"
    line = assert_error(run("fit", path, "-o", tmp_path / "m.skops", "--id-col", "id", *FAST),
                        1, note + " is not a number; fix the data, or pass --coerce")  # fmt: skip
    assert "--categorical" not in line and "--decimal" not in line
    assert_error(run("score", model, path), 1, note)


def test_files_that_are_not_text_say_what_they_are(model, tmp_path):
    """A zipped or gzipped CSV, a workbook or a Parquet file under a .csv name were read as
    a header of binary garbage ("the file looks ';'-delimited")."""
    train = model.parent / "train.csv"
    table = pd.read_csv(train)
    cases = {
        "gzip-compressed data: name it .csv.gz": gzip.compress(train.read_bytes()),
        "a zip archive (an Excel .xlsx workbook is one)": b"PK\x03\x04" + bytes(60),
        "an Excel 97-2003 .xls workbook": bytes.fromhex("d0cf11e0a1b11ae1") + bytes(60),
        "a Parquet file: name it .parquet": None,
    }
    for what, content in cases.items():
        path = tmp_path / "export.csv"
        if content is None:
            table.to_parquet(path)
        else:
            path.write_bytes(content)
        assert_error(run("score", model, path), 1, f"export.csv is not a text table: {what}")
    text = tmp_path / "parameters.csv"  # text that starts as Parquet does is text
    text.write_text("PAR1,PAR2\n" + "".join(f"{i},{i % 7}\n" for i in range(30)))
    assert run("detect", text, *FAST).exit_code == 0
    (tmp_path / "export.zip").write_bytes(b"PK\x03\x04" + bytes(60))
    assert_error(run("score", model, tmp_path / "export.zip"), 2, "is a zip archive, which "
                 "may hold several files: unzip it")  # fmt: skip


def test_cr_only_line_endings(model, tmp_path):
    path = tmp_path / "mac.csv"
    path.write_text(("id,amount,age,score\n" + ROWS).replace("\n", "\r"))
    expected = run("score", model, model.parent / "train.csv")
    result = run("score", model, path)
    assert result.exit_code == 0, result.output
    assert result.stdout == expected.stdout


def test_delimiter_typed_as_backslash_t_and_two_characters(model, tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(("id,amount,age,score\n" + ROWS).replace(",", "\t"))
    result = run("score", model, path, "--delimiter", "\\t")
    assert result.exit_code == 0, result.output
    assert_error(run("score", model, path, "--delimiter", ";;"), 2, "one character")
    assert table_format("x.txt", "tab") == ("csv", "\t")


def test_gz_corrupted_after_its_first_mib(model, tmp_path):
    rng = np.random.RandomState(0)
    values = rng.normal(size=(200_000, 3))
    lines = [f"{i},{a:.6f},{b:.6f},{c:.6f}" for i, (a, b, c) in enumerate(values)]
    data = gzip.compress(("id,amount,age,score\n" + "\n".join(lines) + "\n").encode())
    out = tmp_path / "scores.csv"
    truncated = tmp_path / "truncated.csv.gz"
    truncated.write_bytes(data[: len(data) * 3 // 4])  # well after the first MiB of text
    assert_error(run("score", model, truncated, "-o", out), 1, "unreadable", "truncated")
    assert not out.exists()
    for seed in range(3):  # damaged bytes: a zlib error, a CRC error or garbled rows
        broken = bytearray(data)
        at = len(broken) * 3 // 4 + seed * 1000
        broken[at : at + 64] = np.random.RandomState(seed).bytes(64)
        path = tmp_path / "broken.csv.gz"
        path.write_bytes(bytes(broken))
        result = run("score", model, path, "-o", out)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert not out.exists()
    no_leftovers(tmp_path)


def test_a_truncated_table_from_stdin_is_refused_as_a_file_is(tmp_path):
    # an interrupted download piped in: the last row's missing fields were read as missing
    # values, which a model fitted with --impute filled without a word
    (tmp_path / "train.csv").write_text("id,amount,age,score\n" + ROWS)
    model = tmp_path / "m.skops"
    assert run("fit", tmp_path / "train.csv", "-o", model, "--id-col", "id", "--impute",
               "median", *FAST).exit_code == 0  # fmt: skip
    cut = "id,amount,age,score\n" + ROWS + "60,1.5"
    message = "malformed CSV at line 62: expected 4 fields like the header, got 2"
    assert_error(run("score", model, "-", input=cut), 1, "stdin: " + message)
    (tmp_path / "cut.csv").write_text(cut)
    assert_error(run("score", model, tmp_path / "cut.csv"), 1, "cut.csv: " + message)
    # missing values written as empty fields are missing values, from stdin too
    blank = "id,amount,age,score\n" + ROWS + "60,1.5,2.5,\n"
    result = run("score", model, "-", input=blank)
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(io.StringIO(result.stdout))) == 61


def test_closed_stdin(model):
    result = cli_subprocess("score", model, "-", stdin=subprocess.DEVNULL)
    assert result.returncode != 0  # an empty table
    script = (
        "import os, sys, runpy; os.close(0); sys.stdin = None; "
        f"sys.argv = ['ae-anomaly', 'score', {str(model)!r}, '-']; "
        "runpy.run_module('ae_anomaly', run_name='__main__')"
    )
    closed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    one_line_error(closed, 1, "stdin is closed")


def test_header_line_over_one_mib_is_not_an_empty_file(model, tmp_path):
    path = tmp_path / "wide.csv"
    names = ["id", "amount", "age", "score"] + [f"extra_column_number_{i}" for i in range(45_000)]
    path.write_text(",".join(names) + "\n" + "1,1,2,3" + ",0" * 45_000 + "\n")
    assert path.stat().st_size > 1 << 20
    result = run("score", model, path)
    assert_error(result, 1, "unknown column(s)", "(45000 in all)")
    assert "empty" not in result.stderr
    assert len(result.stderr) < 2000  # the first names, not 1.2 MB of them


def test_header_line_without_end_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr("ae_anomaly.tables.reader._MAX_HEADER_BYTES", 4 << 20)
    path = tmp_path / "noline.csv"
    path.write_bytes(b"a" * (5 << 20))
    with pytest.raises(Exception, match="header line is longer than 4 MiB"):
        TableReader(path)


def test_usage_problem_for_unknown_delimiter_is_one_line():
    with pytest.raises(UsageProblem, match="one character"):
        TableReader("x.csv", delimiter="ab")


# ------------------------------------------------------------- memory, under a cap
_CAPPED = """
import resource, sys
sys.path.insert(0, {root!r})
from ae_anomaly.tables.reader import TableReader
import pandas, pyarrow  # the baseline: libraries loaded
peak = int(open("/proc/self/status").read().split("VmPeak:")[1].split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (peak + ({extra_mib} << 20), resource.RLIM_INFINITY))
rows = 0
for chunk in TableReader(sys.argv[1], usecols={usecols!r}):
    rows += len(chunk)
print("ROWS", rows)
"""


def _capped_read(path, extra_mib, usecols=None):
    script = _CAPPED.format(root=str(ROOT), extra_mib=extra_mib, usecols=usecols)
    return subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                          text=True, timeout=600)  # fmt: skip


@pytest.mark.slow  # writes ~1 GB of CSV
def test_rows_growing_long_after_the_first_mib_keep_chunks_bounded(tmp_path):
    path = tmp_path / "grow.csv"
    with open(path, "w") as file:
        file.write("a,b\n")
        file.write("1,x\n" * 300_000)  # 1.2 MB of short rows: ~4 M rows per block estimated
        long = "y" * 100_000
        for i in range(10_000):  # then 1 GB of 100 kB rows
            file.write(f"{i},{long}\n")
    result = _capped_read(path, extra_mib=768)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ROWS 310000" in result.stdout


def test_parquet_batches_follow_the_bytes_of_the_rows_not_the_footer(tmp_path):
    # 6,000 rows of 2 kB ids: the footer's size per row (~0) put them all in one batch, so
    # memory grew with the file (1.4 GB for 20,000 rows of 20 kB ids, against 0.55 for CSV)
    n = 6_000
    ids = pa.array([f"{i:05d}" + "x" * 2_000 for i in range(n)])
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table({"id": ids, "a": np.arange(n, dtype=float)}), path)
    sizes = [len(chunk) for chunk in TableReader(path, block_size=1 << 20)]
    assert sum(sizes) == n and max(sizes) == 1024  # 1 MiB / 2 kB rows, at least 1,024
    assert [len(c) for c in TableReader(path, block_size=1 << 20).select(["a"])] == [n]


def test_duplicated_column_names_are_refused_naming_them_in_csv_and_parquet(model, tmp_path):
    # Parquet allows them; the fit and score failed with "zip() argument 2 is longer..."
    table = pa.table([pa.array(np.arange(60.0)), pa.array(np.ones(60)), pa.array(np.ones(60)),
                      pa.array(np.ones(60))], names=["a", "b", "b", "c"])  # fmt: skip
    parquet = tmp_path / "dup.parquet"
    pq.write_table(table, parquet)
    text = tmp_path / "dup.csv"
    text.write_text("a,b,b,c\n" + "".join(f"{i},1,1,1\n" for i in range(60)))
    for path in (parquet, text):
        for args in (("score", model, path), ("detect", path, *FAST)):
            assert_error(run(*args), 1, f"{path.name}: duplicated column name(s) 'b'.")


def test_parquet_reads_only_the_columns_asked_for(tmp_path):
    """An unused dictionary-encoded 1 MiB binary column is never decoded (6 GB if it were)."""
    n = 6_000
    blob = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n, dtype=np.int32)), pa.array([b"z" * (1 << 20)], pa.binary())
    )
    table = pa.table({"a": np.arange(n, dtype=float), "blob": blob})
    path = tmp_path / "t.parquet"
    # without Arrow's schema (as other tools write it): read, the column is decoded
    pq.write_table(table, path, row_group_size=n, store_schema=False)
    assert path.stat().st_size < 4 << 20
    result = _capped_read(path, extra_mib=512, usecols=["a"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"ROWS {n}" in result.stdout
    control = _capped_read(path, extra_mib=512)  # every column: does not fit under the cap
    assert control.returncode != 0 and "MemoryError" in control.stderr, control.stdout


_CAPPED_SCORE = """
import resource, sys
sys.path.insert(0, {root!r})
from click.testing import CliRunner
from ae_anomaly.cli import cli
from ae_anomaly.tables.reader import TableReader

def score(data, out, *extra):
    result = CliRunner().invoke(cli, ["score", sys.argv[1], data, "-o", out, *extra])
    print("EXIT", result.exit_code, "STDERR", result.stderr.replace(chr(10), "|"))

score(sys.argv[2], sys.argv[4])  # a small table: imports, threads, arenas; the baseline
peak = int(open("/proc/self/status").read().split("VmPeak:")[1].split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (peak + (1 << 30), resource.RLIM_INFINITY))
score(sys.argv[3], sys.argv[5], "--ignore-extra")
try:  # the control: decoding every column does not fit under the cap
    sum(len(chunk) for chunk in TableReader(sys.argv[3]))
    print("CONTROL read")
except MemoryError as exc:
    print("CONTROL", type(exc).__name__)
"""


def test_score_ignore_extra_never_decodes_an_unused_column_under_a_memory_cap(model, tmp_path):
    """The issue's case: a small Parquet file with an unused dictionary-encoded 1 MiB
    binary column took 6.2 GB in ``score --ignore-extra``; only the model's feature and
    id columns are read now, under a cap of a small run + 1 GiB."""
    n = 6_000
    rng = np.random.RandomState(0)
    blob = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n, dtype=np.int32)), pa.array([b"z" * (1 << 20)], pa.binary())
    )
    columns = {"id": pa.array([str(i) for i in range(n)])}
    columns.update({c: rng.normal(size=n) for c in ["amount", "age", "score"]})
    path = tmp_path / "blob.parquet"
    # written as other tools write it: without Arrow's schema, pyarrow decodes the
    # dictionary into 6,000 copies of the 1 MiB value
    pq.write_table(pa.table({**columns, "blob": blob}), path, row_group_size=n,
                   store_schema=False)  # fmt: skip
    assert path.stat().st_size < 4 << 20
    out = tmp_path / "scores.csv"
    script = _CAPPED_SCORE.format(root=str(ROOT))
    args = [model, model.parent / "train.csv", path, tmp_path / "small.csv", out]
    result = subprocess.run([sys.executable, "-c", script, *map(str, args)],
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    runs = [line for line in result.stdout.splitlines() if line.startswith("EXIT")]
    assert [line.split(" STDERR")[0] for line in runs] == ["EXIT 0", "EXIT 0"], result.stdout
    assert "6,000 rows" in runs[1] and runs[1].count("|") == 1, runs[1]  # one summary line
    assert "CONTROL MemoryError" in result.stdout or "CONTROL ArrowMemoryError" in result.stdout
    scores = pd.read_csv(out)
    assert list(scores.columns) == ["id", "anomaly_score", "is_anomaly"] and len(scores) == n
    no_leftovers(tmp_path)
    refused = run("score", model, path, "-o", tmp_path / "refused.csv")  # no --ignore-extra
    assert_error(refused, 1, "unknown column(s) 'blob'", "--ignore-extra")
    assert not (tmp_path / "refused.csv").exists()


def test_csv_read_with_only_some_columns_still_refuses_ragged_rows(model, tmp_path, monkeypatch):
    """pandas accepts any number of fields when it reads some columns only: the field
    counts are checked on the raw text instead (quotes, CR-only and stdin included)."""
    header = "id,amount,age,score,note\n"
    good = "".join(f'{i},1.5,2.5,3.5,"a, ""quoted""\nnote"\n' for i in range(300))
    path = tmp_path / "notes.csv"
    path.write_text(header + good)
    result = run("score", model, path, "--ignore-extra")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 301
    out = tmp_path / "scores.csv"
    monkeypatch.setattr("ae_anomaly.tables.formats.BLOCK_SIZE", 512)  # the bad row later
    for bad, got in [("7,1.5,2.5,3.5\n", 4), ("7,1.5,2.5,3.5,x,y\n", 6)]:
        path.write_text(header + good + bad + good)
        expected = "malformed CSV at line "  # 602 as an editor counts (pandas: 302)
        assert_error(run("score", model, path, "--ignore-extra", "-o", out), 1, expected,
                     f"expected 5 fields like the header, got {got}")  # fmt: skip
        assert not out.exists()
        assert_error(run("score", model, "-", "--ignore-extra", input=path.read_bytes()), 1,
                     expected)  # fmt: skip
        mac = tmp_path / "mac.csv"
        mac.write_bytes(path.read_bytes().replace(b"\n", b"\r"))
        assert_error(run("score", model, mac, "--ignore-extra"), 1, "malformed CSV")
    no_leftovers(tmp_path)


_CAPPED_DETECT = """
import resource, sys
sys.path.insert(0, {root!r})
from click.testing import CliRunner
from ae_anomaly.cli import cli

def detect(data, out, *extra):
    result = CliRunner().invoke(cli, ["detect", data, "-o", out, "--set", "max_iter=1", *extra])
    print("EXIT", result.exit_code, type(result.exception).__name__, "STDERR",
          result.stderr.replace(chr(10), "|"))

detect(sys.argv[1], sys.argv[2] + "/small.csv")  # imports, threads, arenas: the baseline
peak = int(open("/proc/self/status").read().split("VmPeak:")[1].split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (peak + (1 << 30), resource.RLIM_INFINITY))
detect(sys.argv[3], sys.argv[2] + "/unique.csv")
detect(sys.argv[4], sys.argv[2] + "/near.csv")
detect(sys.argv[3], sys.argv[2] + "/forced.csv", "--categorical", "tag")
"""


def test_detect_with_a_uuid_column_is_refused_under_a_memory_cap(tmp_path):
    """The issue's case: ``detect`` on 30,000 rows with a uuid text column one-hot encoded
    it densely ("Unable to allocate 6.71 GiB"). Every value distinct, all but one
    distinct, or forced with ``--categorical``: refused in one line, under a cap of a
    small run + 1 GiB, with no output left."""
    rng = np.random.RandomState(0)
    n = 30_000
    tags = [f"{rng.randint(1 << 30):08x}-{i:04x}-4{i % 999:03x}-{i:012x}" for i in range(n)]
    values = rng.normal(size=(n, 2)).round(4)
    frame = pd.DataFrame({"x": values[:, 0], "y": values[:, 1], "tag": tags})
    unique, near, small = tmp_path / "unique.csv", tmp_path / "near.csv", tmp_path / "s.csv"
    frame.to_csv(unique, index=False)
    frame.assign(tag=[tags[0]] + tags[:-1]).to_csv(near, index=False)
    frame[["x", "y"]][:200].to_csv(small, index=False)
    outputs = tmp_path / "out"
    outputs.mkdir()
    script = _CAPPED_DETECT.format(root=str(ROOT))
    result = subprocess.run([sys.executable, "-c", script, str(small), str(outputs),
                             str(unique), str(near)], capture_output=True, text=True,
                            timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    runs = [line for line in result.stdout.splitlines() if line.startswith("EXIT")]
    assert len(runs) == 4 and runs[0].startswith("EXIT 0"), result.stdout
    expected = [(30000, "--categorical"), (29999, "--id-col"), (30000, "--id-col")]
    for line, (count, advice) in zip(runs[1:], expected, strict=True):
        assert line.startswith("EXIT 1 SystemExit STDERR Error: column 'tag' has "), line
        assert line.count("|") == 1 and f"{count}" in line and advice in line, line
    assert [p.name for p in outputs.iterdir()] == ["small.csv"]


def test_memory_error_anywhere_is_one_line_and_leaves_no_output(model, tmp_path, monkeypatch):
    """A limit no check foresaw (RLIMIT_AS, a cgroup): one line, exit 1, nothing written."""
    import ae_anomaly.tables.scoring as scoring

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(scoring, "score_encoded", exhausted)
    out = tmp_path / "scores.csv"
    assert_error(run("score", model, model.parent / "train.csv", "-o", out), 1, "out of memory")
    assert not out.exists()
    no_leftovers(tmp_path)
