"""CSV files in another encoding than UTF-8 (a Windows or Excel export in cp1252).

Before: one line, "unreadable CSV ('utf-8' codec can't decode byte 0xe9 in position 87:
invalid continuation byte)", naming neither the line nor a way out, and no option to read
the file. Now: ``--encoding`` (``encoding=`` in the Python API), and an error naming the
first line that is not UTF-8.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import ae_anomaly.tables.formats
import ae_anomaly.tables.reader
from ae_anomaly.tables.fitting import read_table

from .cli_checks import FAST, assert_error, run

N = 120
SHOPS = ["Café du Nord", "Crème & Brûlée", "Zoë's", "Ångström"]


@pytest.fixture
def windows_csv(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "shop": [SHOPS[i % 4] + f" {i}" for i in range(N)],
        "price": rng.lognormal(3, 1, N).round(2),
        "city": rng.choice(["Besançon", "Orléans", "Nîmes"], N),
        "x": rng.normal(size=N).round(3),
    })  # fmt: skip
    path = tmp_path / "export.csv"
    path.write_bytes(frame.to_csv(index=False).encode("cp1252"))
    return frame, path


def test_encoding_reads_a_windows_export_and_writes_utf8(windows_csv, tmp_path):
    frame, path = windows_csv
    model = tmp_path / "m.skops"
    result = run("fit", path, "-o", model, "--id-col", "shop", "--encoding", "cp1252", *FAST)
    assert result.exit_code == 0, result.output
    out = tmp_path / "scores.csv"
    result = run("score", model, path, "-o", out, "--encoding", "cp1252")
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out, encoding="utf-8")
    assert scores["shop"].tolist() == frame["shop"].tolist()
    assert np.isfinite(scores["anomaly_score"]).all()
    result = run("detect", "-", "--encoding", "cp1252", "--id-col", "shop", *FAST,
                 input=path.read_bytes())  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].startswith("Café du Nord 0,")
    table = read_table(path, ids=["shop"], encoding="cp1252")
    assert sorted(set(table.frame["city"])) == ["Besançon", "Nîmes", "Orléans"]


def test_without_it_the_first_line_not_utf8_is_named(windows_csv, tmp_path, monkeypatch):
    _, path = windows_csv
    assert_error(run("fit", path, "-o", tmp_path / "m.skops"), 1,
                 "export.csv is not UTF-8 (line 2: byte 0xe9", "pass --encoding")  # fmt: skip
    # the first byte that is not UTF-8 far into the file, in a later chunk
    late = tmp_path / "late.csv"
    rows = "".join(f"{i},{i % 7}\n" for i in range(2000))
    late.write_bytes(b"id,x\n" + rows.encode() + "Zoë,1\n".encode("cp1252"))
    monkeypatch.setattr(ae_anomaly.tables.reader, "_HEAD_BYTES", 1024)
    monkeypatch.setattr(ae_anomaly.tables.formats, "BLOCK_SIZE", 4096)
    assert_error(run("detect", late), 1, "late.csv is not UTF-8 (line 2002: byte 0xeb")


def test_a_wrong_or_unknown_encoding_is_one_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n1,\x81\n2,3\n")  # 0x81: no character in cp1252
    assert_error(run("detect", path, "--encoding", "cp1252"), 1,
                 "is not cp1252 text", "byte 0x81", "check --encoding")  # fmt: skip
    assert_error(run("detect", path, "--encoding", "klingon"), 2,
                 "--encoding: no text encoding named 'klingon'")  # fmt: skip
    marked = tmp_path / "marked.csv"  # Excel's "CSV UTF-8": a byte-order mark first
    marked.write_bytes(b"\xef\xbb\xbfid,x\na,1\nb,2\n")
    assert_error(run("detect", marked, "--encoding", "cp1252"), 1,
                 "starts with a UTF-8 byte-order mark", "drop --encoding")  # fmt: skip


def test_a_utf8_file_read_with_another_encoding_is_warned_about(windows_csv, tmp_path):
    """``Café`` in a UTF-8 file read with --encoding cp1252 becomes ``CafÃ©``: nothing
    fails, every name is wrong. The warning names the line, the word and its misreading;
    the same text saved as cp1252 reads without one."""
    frame, path = windows_csv
    utf8 = tmp_path / "utf8.csv"
    utf8.write_text(frame.to_csv(index=False), encoding="utf-8")
    result = run("detect", utf8, "--encoding", "cp1252", "--id-col", "shop", *FAST)
    assert result.exit_code == 0, result.output
    assert ("utf8.csv reads as UTF-8 text (line 2: 'Café'), which --encoding cp1252 reads "
            "as 'CafÃ©': drop --encoding") in result.stderr  # fmt: skip
    result = run("detect", path, "--encoding", "cp1252", "--id-col", "shop", *FAST)
    assert result.exit_code == 0 and "reads as UTF-8" not in result.stderr
    ascii_only = tmp_path / "ascii.csv"  # nothing to misread: no warning
    ascii_only.write_text("id,x\na,1\nb,2\nc,3\n")
    result = run("detect", ascii_only, "--encoding", "cp1252", *FAST)
    assert "reads as UTF-8" not in result.stderr


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.text(st.one_of(
    st.sampled_from(list("aé \u00a0\u202f€ö中;\t")),  # blanks that are not spaces among them
    st.characters(blacklist_categories=["Cs"], blacklist_characters='\r\n"')), max_size=6),
    min_size=3, max_size=12),
       encoding=st.sampled_from(["cp1252", "latin-1"]))  # fmt: skip
@example(cells=["1\u00a0234", "a", "b"], encoding="cp1252")  # its only non-ASCII: a blank
def test_any_utf8_text_given_an_encoding_scores_or_fails_in_one_line(tmp_path, cells,
                                                                     encoding):
    """UTF-8 files of any text, read with another --encoding: a warning at most, then
    scores or one error line -- never a traceback (a no-break space made the warning's
    word search fail)."""
    path = tmp_path / "any.csv"
    rows = "".join(f"{i},{c.replace(',', ' ')},{i % 3}\n" for i, c in enumerate(cells))
    path.write_bytes(("id,text,x\n" + rows).encode("utf-8"))
    result = run("detect", path, "--encoding", encoding, "--id-col", "id,text", *FAST)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    if result.exit_code:
        assert sum(line.startswith("Error:") for line in result.stderr.splitlines()) == 1


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be"])
def test_utf16_with_its_mark_is_read_as_utf16(windows_csv, tmp_path, codec):
    """Excel's "Unicode Text" is UTF-16 with a byte-order mark (tab-separated): it was
    refused as not UTF-8 with advice to pass cp1252. The mark says what it is: read so
    from a file; stdin, read once, is refused naming --encoding utf-16."""
    frame, _ = windows_csv
    text = frame.to_csv(index=False, sep="\t")
    path = tmp_path / "unicode.txt"
    mark = "\ufeff" if codec == "utf-16-be" else ""  # Python's utf-16 writes its own
    path.write_bytes((mark + text).encode(codec))
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    plain = tmp_path / "plain.tsv"
    plain.write_text(text, encoding="utf-8")
    out, expected = tmp_path / "out.csv", tmp_path / "expected.csv"
    ok = run("detect", path, "--delimiter", "tab", "--id-col", "shop", "-o", out, *FAST)
    assert ok.exit_code == 0, ok.output
    same = run("detect", plain, "--delimiter", "tab", "--id-col", "shop", "-o", expected, *FAST)
    assert same.exit_code == 0, same.output
    assert out.read_bytes() == expected.read_bytes()  # the shops' accents included
    assert_error(run("detect", "-", "--delimiter", "tab", input=path.read_bytes()), 1,
                 "stdin is UTF-16 text", "pass --encoding utf-16")  # fmt: skip


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_mark_names_its_encoding(windows_csv, tmp_path, codec):
    """Without the mark, every other byte is 0: the header was read as 'i\\x00d\\x00' and
    score named the columns as unknown; with the --encoding it names, the file is read."""
    frame, _ = windows_csv
    path = tmp_path / "no_mark.csv"
    path.write_bytes(frame.to_csv(index=False).encode(codec))
    order = codec[-2:]
    for source, piped in ((path, None), ("-", path.read_bytes())):
        assert_error(run("detect", source, "--id-col", "shop", *FAST, input=piped), 1,
                     "looks like UTF-16 text without a byte-order mark (every other byte "
                     f"is 0): pass --encoding utf-16{order}.")  # fmt: skip
    out = tmp_path / "out.csv"
    read = run("detect", path, "--encoding", f"utf-16{order}", "--id-col", "shop", "-o", out,
               *FAST)  # fmt: skip
    assert read.exit_code == 0, read.output
    assert pd.read_csv(out)["shop"].tolist() == frame["shop"].tolist()
