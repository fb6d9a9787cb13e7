"""Column types that change from chunk to chunk, as the outputs are written.

A table is read, and so typed, one chunk at a time: an id column empty throughout the first
chunk is null (or NaN floats) there and text later; a column copied with --keep-columns is
integers, then meets a 2.5 or a word in a later chunk. The writer cast every chunk to the
first one's types: a traceback (cast string to null) or a message naming no column
("Float value 2.5 was truncated"). Now CSV cells are written as each chunk holds them, and a
Parquet column gets the type pandas gives the whole table, or a one-line refusal naming the
column and the row.
"""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ae_anomaly.tables import formats
from ae_anomaly.tables.formats import OutputError
from ae_anomaly.tables.writer import TableWriter
from tests.cli_checks import FAST, ROWS, no_leftovers, run

#: How a column's chunks hold it, read one at a time as the reader does.
COLUMN_KINDS = ["text", "integers", "integers then floats", "integers then text"]


@st.composite
def chunked_columns(draw):
    """``(chunk sizes, {name: (kind, first chunk with values, chunk where the second
    type starts, how an empty chunk holds the column: None or NaN)})``."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=5))
    columns = {}
    for j, kind in enumerate(draw(st.lists(st.sampled_from(COLUMN_KINDS), min_size=1,
                                           max_size=3))):  # fmt: skip
        start = draw(st.integers(0, len(sizes)))  # len(sizes): empty throughout
        switch = draw(st.integers(start, len(sizes)))
        columns[f"c{j}"] = (kind, start, switch, draw(st.sampled_from([None, np.nan])))
    return sizes, columns


def chunk_frames(sizes, columns):
    frames, first = [], 0
    for k, size in enumerate(sizes):
        rows = list(range(first, first + size))
        frame = {}
        for name, (kind, start, switch, empty) in columns.items():
            later = k >= switch
            if k < start:
                frame[name] = pd.Series([empty] * size, dtype=object if empty is None else float)
            elif kind == "text" or (kind == "integers then text" and later):
                frame[name] = pd.Series([f"r{i}" for i in rows], dtype=object)
            elif kind == "integers then floats" and later:
                frame[name] = pd.Series([i + 0.5 for i in rows])
            else:
                frame[name] = pd.Series(rows, dtype="int64")
        frames.append(pd.DataFrame(frame).set_axis(rows))
        first += size
    return frames


@settings(max_examples=60, deadline=None)
@given(chunked_columns())
def test_a_column_typed_differently_by_chunk_is_written_as_pandas_types_the_table(chunked):
    """Any mix of chunk types: CSV cells as each chunk holds them; Parquet columns typed
    as ``pd.concat(chunks).to_parquet()`` types them, or, for numbers in one chunk and
    text in another (which pandas cannot write either), a refusal naming the column and
    the row; no temporary file is left (the spare file of a rewrite included)."""
    sizes, columns = chunked
    frames = chunk_frames(sizes, columns)
    whole = pd.concat(frames, ignore_index=True)
    with tempfile.TemporaryDirectory() as folder:
        with TableWriter(Path(folder) / "out.csv") as writer:
            for frame in frames:
                writer.write(frame)
        text = pd.read_csv(
            Path(folder) / "out.csv", dtype=str, keep_default_na=False, skip_blank_lines=False
        )  # one column: an empty cell is a blank line
        cells = [frame.map(lambda v: "" if pd.isna(v) else str(v)) for frame in frames]
        expected = pd.concat(cells, ignore_index=True)  # each chunk's cells as it holds them
        pd.testing.assert_frame_equal(text, expected, check_dtype=False)

        clash = sorted(
            (switch, name)
            for name, (kind, start, switch, _) in columns.items()
            if kind == "integers then text" and start < switch < len(sizes)
        )
        out = Path(folder) / "out.parquet"
        if clash:  # integers, then text from the first row of chunk `switch`
            switch, name = clash[0]
            row = sum(sizes[:switch]) + 1
            with pytest.raises(
                OutputError,
                match=f"column '{name}' holds text from row {row} .* but integers before it",
            ):
                with TableWriter(out) as writer:
                    for frame in frames:
                        writer.write(frame)
            assert not out.exists()
        else:
            with TableWriter(out) as writer:
                for frame in frames:
                    writer.write(frame)
            whole.to_parquet(Path(folder) / "whole.parquet")  # what pandas writes
            pd.testing.assert_frame_equal(
                pd.read_parquet(out), pd.read_parquet(Path(folder) / "whole.parquet")
            )
        assert [p.name for p in Path(folder).iterdir() if p.name.startswith(".")] == []


def late_table(path, ids=None, codes=None):
    """ROWS with these ids and a ``code`` column (default: the row numbers, ``i % 9``)."""
    lines = [line.split(",", 1)[1] for line in ROWS.splitlines()]
    ids = ids or [str(i) for i in range(len(lines))]
    codes = codes or [str(i % 9) for i in range(len(lines))]
    path.write_text(
        "id,amount,age,score,code\n"
        + "".join(
            f"{id_},{line},{code}\n" for id_, line, code in zip(ids, lines, codes, strict=True)
        )
    )
    return path


@pytest.fixture(scope="module")
def chunked_model(tmp_path_factory):
    """A ``--chunksize`` model: numbers read as numbers, ids as text, chunk by chunk."""
    folder = tmp_path_factory.mktemp("chunked")
    result = run("fit", late_table(folder / "train.csv"), "-o", folder / "m.skops",
                 "--id-col", "id", "--exclude", "code", "--chunksize", "1000", *FAST)  # fmt: skip
    assert result.exit_code == 0, result.output
    return folder / "m.skops"


def score_chunked(model, data, out, *extra):
    """``score`` to ``out`` in chunks of ~3 rows (of 8 MiB outside tests)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(formats, "BLOCK_SIZE", 64)
        return run("score", model, data, "-o", out, *extra)


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(first=st.integers(0, 59))
def test_ids_empty_until_a_later_chunk_come_back_in_csv_and_parquet(chunked_model, tmp_path,
                                                                     first):  # fmt: skip
    """The issue's case: a ``--chunksize`` model scoring a file whose id column is empty
    throughout the first chunk ended in a traceback (ArrowNotImplementedError: cast
    string to null), whichever chunk held the first id."""
    ids = ["" if i < first else f"r{i}" for i in range(60)]
    data = late_table(tmp_path / f"late{first}.csv", ids=ids)
    for out in (tmp_path / f"s{first}.csv", tmp_path / f"s{first}.parquet"):
        result = score_chunked(chunked_model, data, out)
        assert result.exit_code == 0, result.output
        back = pd.read_parquet(out) if out.suffix == ".parquet" else pd.read_csv(out, dtype=str)
        assert back["id"].fillna("").tolist() == ids
    no_leftovers(tmp_path)


def test_a_kept_column_is_copied_as_written_whatever_its_chunks_hold(chunked_model, tmp_path):
    """``--keep-columns`` copies a CSV column as its text, whatever each chunk holds:
    ``007`` was written ``7`` and ``NA`` left empty, integers then 2.5 became floats, and
    integers then text were refused for Parquet."""
    codes = [f"00{i % 9}" for i in range(40)] + ["2.5", "NA"] * 5 + [f"x{i}" for i in range(10)]
    ids = [f"0{i}" for i in range(59)] + ["NA"]  # an id NA was read as missing: left empty
    table = late_table(tmp_path / "codes.csv", ids=ids, codes=codes)
    for out in ("k.parquet", "k.csv"):
        ok = score_chunked(chunked_model, table, tmp_path / out, "--keep-columns")
        assert ok.exit_code == 0, ok.output
    assert pd.read_parquet(tmp_path / "k.parquet")[["id", "code"]].to_dict("list") == {
        "id": ids, "code": codes}
    written = pd.read_csv(tmp_path / "k.csv", dtype=str, keep_default_na=False)
    assert written[["id", "code"]].to_dict("list") == {"id": ids, "code": codes}
    assert run("score", chunked_model, table, "-o", tmp_path / "i.csv").exit_code == 0
    assert pd.read_csv(tmp_path / "i.csv", dtype=str, keep_default_na=False)["id"].tolist() == ids
    no_leftovers(tmp_path)


def test_a_widened_column_is_described_to_pandas_as_its_new_type(tmp_path):
    """pandas reads a nullable integer column by the dtype the file describes: a column
    of Int64 then Float64 chunks, widened to floats, still described as Int64 made the
    file unreadable to pandas ("Float value 2.5 was truncated")."""
    chunks = [pd.DataFrame({"n": pd.array([1, None], dtype="Int64")}),
              pd.DataFrame({"n": pd.array([2.5], dtype="Float64")})]  # fmt: skip
    with TableWriter(tmp_path / "out.parquet") as writer:
        for chunk in chunks:
            writer.write(chunk)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out.parquet"),
                                  pd.concat(chunks, ignore_index=True))  # fmt: skip


@pytest.mark.parametrize("name", ["out.csv", "out.parquet"])
def test_a_chunk_with_other_columns_is_refused(tmp_path, name):
    """Chunks are no longer cast to the first one's types, which also refused other
    names: a chunk with other columns is refused, not written under the first's names."""
    with pytest.raises(OutputError, match=r"a chunk has the columns \['b', 'a'\]"):
        with TableWriter(tmp_path / name) as writer:
            writer.write(pd.DataFrame({"a": [1.0], "b": [2.0]}))
            writer.write(pd.DataFrame({"b": [3.0], "a": [4.0]}))
    assert list(tmp_path.iterdir()) == []
