"""Files as exports damage them: a title line above the header, a delimiter ending every
row, another encoding, CRLF, a byte-order mark, blank lines, a ragged row, a stray quote,
no last line break, Excel's ``sep=`` line, in any combination (Hypothesis): ``detect``
scores every row with the ids as written, or fails in one line naming the file -- never
a traceback. It found a UTF-8 file with a byte-order mark read under ``--encoding
cp1252`` (the mark in the first column's name).
"""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .test_cli_mixed import error_line, run, text_frame


@st.composite
def damaged_files(draw):
    """``(bytes of a CSV file, options)``: a clean table, then what exports do to files."""
    n = draw(st.integers(5, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "x": rng.normal(size=n).round(3),
                          "shop": rng.choice(["Café", "Zoë", "Nord"], n)})  # fmt: skip
    lines = frame.to_csv(index=False).splitlines()
    damage = draw(st.sets(st.sampled_from(["trailing", "title", "crlf", "bom", "blank",
                                           "ragged", "quote", "cp1252", "truncated",
                                           "excel_sep"])))
    if "trailing" in damage:
        lines[1:] = [line + "," for line in lines[1:]]
    if "ragged" in damage:
        lines[draw(st.integers(1, n))] += ",9"
    if "quote" in damage:
        lines[draw(st.integers(1, n))] += '"'
    if "blank" in damage:
        lines.insert(draw(st.integers(1, n)), "")
    if "title" in damage:
        lines.insert(0, "Export of 2026-12-07")
    if "excel_sep" in damage:  # Excel's line naming the delimiter, above all else
        lines.insert(0, "sep=,")
    text = ("\r\n" if "crlf" in damage else "\n").join(lines)
    text += "" if "truncated" in damage else "\n"
    data = text.encode("cp1252" if "cp1252" in damage else "utf-8")
    options = draw(st.sampled_from([[], ["--encoding", "cp1252"]]))
    return (b"\xef\xbb\xbf" if "bom" in damage else b"") + data, options


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(damaged_files())
def test_damaged_files_score_or_fail_in_one_line_naming_the_file(tmp_path, case):
    """A title line, a delimiter ending each row, another encoding, CRLF, a byte-order
    mark, blank lines, a ragged row, a stray quote, no last line break: finite scores for
    every row and the ids as written, or one line naming the file -- never a traceback."""
    data, options = case
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    result = run("detect", path, "--id-col", "id", "--set", "max_iter=2", *options)
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        line = error_line(result, result.exit_code)
        assert "export.csv" in line or "column '" in line, line
        return
    out = text_frame(result.stdout)
    assert out["id"].str.fullmatch(r"r\d+").all(), out["id"]
    assert np.isfinite(out["anomaly_score"].astype(float)).all()


def test_a_missing_header_line_is_warned_about_once(tmp_path):
    """A file of numbers written without its header line: pandas takes the first row for
    the column names and drops it. A header of numbers that are not all whole (names
    such as 0, 1, 2 or years are common) is warned about, once per command."""
    import warnings

    from ae_anomaly.tables.api import read_table
    from ae_anomaly.tables.csvchecks import HeaderWarning

    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 3)).round(3))
    path = tmp_path / "numbers.csv"
    frame.to_csv(path, index=False, header=False)
    result = run("detect", path, "--set", "max_iter=2")
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "is all numbers" in line]
    assert len(warned) == 1 and "numbers.csv: the header line" in warned[0]
    assert "add one" in warned[0]
    assert len(text_frame(result.stdout)) == 39  # the first row became the names
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_table(path)
    assert [w.category for w in caught] == [HeaderWarning]

    for header in (True, ["0", "1", "2"], ["1990", "2000", "2010"]):  # names, whole numbers
        frame.to_csv(path, index=False, header=header)
        result = run("detect", path, "--set", "max_iter=2")
        assert result.exit_code == 0 and "is all numbers" not in result.stderr


def test_excel_sep_line_names_the_delimiter_and_lines_keep_their_numbers(tmp_path, monkeypatch):
    """Excel writes ``sep=;`` above the header of a CSV it should open with ';': the line
    is read as the delimiter (from a file or stdin), a --delimiter that contradicts it is
    refused, and errors count it in their line numbers."""
    import ae_anomaly.tables.formats
    from ae_anomaly.tables.api import read_table

    frame = pd.DataFrame({"id": [f"r{i}" for i in range(300)],
                          "x": np.random.default_rng(0).normal(size=300).round(3)})  # fmt: skip
    text = "sep=;\n" + frame.to_csv(index=False, sep=";")
    path = tmp_path / "excel.csv"
    path.write_text(text)
    for args, stdin in [((path,), None), (("-",), text)]:
        result = run("detect", *args, "--id-col", "id", "--set", "max_iter=2", input=stdin)
        assert result.exit_code == 0, result.output
        out = text_frame(result.stdout)
        assert out["id"].tolist() == frame["id"].tolist()
    assert read_table(path).frame["x"].astype(float).tolist() == frame["x"].tolist()
    line = error_line(run("detect", path, "--delimiter", ",", "--set", "max_iter=2"))
    assert "its first line says the delimiter is ';' (sep=;), but --delimiter ','" in line

    monkeypatch.setattr(ae_anomaly.tables.formats, "BLOCK_SIZE", 512)  # many pieces
    for row, more in [(250, True), (4, True), (260, False)]:  # a field more, or one less
        lines = text.splitlines()
        lines[row] = lines[row] + ";7" if more else "r1"
        path.write_text("\n".join(lines) + "\n")
        line = error_line(run("detect", path, "--id-col", "id", "--set", "max_iter=2"))
        assert f"malformed CSV at line {row + 1}:" in line, (row, line)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: f"{v:.3f}"),
    st.integers(0, 3000).map(str),
    st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)), min_size=1, max_size=6, unique=True))
def test_the_header_warning_is_for_numbers_that_are_not_all_whole(tmp_path, names):
    """Generated headers: the warning comes exactly when every name is a number and one
    at least is not a whole number."""
    import warnings

    from ae_anomaly.tables.csvchecks import HeaderWarning
    from ae_anomaly.tables.reader import TableReader

    path = tmp_path / "h.csv"
    path.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        TableReader(path)
    warned = [w for w in caught if issubclass(w.category, HeaderWarning)]
    numbers = all(n.lstrip("-").replace(".", "", 1).isdigit() for n in names)
    assert len(warned) == (numbers and not all(n.isdigit() for n in names))
