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


# ----------------------------------------------------------------------------- input types
def typed_table(path, n=120):
    """A Parquet table of narrow types: features, an id and ignored columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.RandomState(0)
    days = pd.date_range("2024-01-01", periods=n).date
    pq.write_table(pa.table({
        "id": pa.array(np.arange(n), pa.int32()),
        "u8": pa.array(rng.randint(0, 200, n), pa.uint8()),
        "i32": pa.array(rng.randint(-1000, 1000, n), pa.int32()),
        "f32": pa.array(rng.normal(size=n).astype(np.float32)),
        "day": pa.array(days, pa.date32()),
        "cat": pa.array(pd.Categorical(rng.choice(["x", "y", "z"], n))),
        "kept_i16": pa.array(rng.randint(0, 9, n), pa.int16()),
        "kept_day": pa.array(days, pa.date32()),
        "kept_cat": pa.array(pd.Categorical(rng.choice(["p", "q"], n))),
    }), path)  # fmt: skip
    return path


def test_denoise_to_parquet_keeps_the_input_types(tmp_path):
    """uint8 and int32 columns came back int64, float32 float64, a date32 and a category
    as text. Denoised columns now keep their input types where the values fit (integers
    are rounded by denoise; float32 as scikit-learn keeps it), and every copied one."""
    import pyarrow.parquet as pq

    data = typed_table(tmp_path / "typed.parquet")
    model = tmp_path / "m.skops"
    fitted = run("fit", data, "-o", model, "--id-col", "id", "--exclude", "kept_i16",
                 "--exclude", "kept_day", "--exclude", "kept_cat", *FAST)  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    given = pq.read_schema(data)
    for command, extra in [("denoise", []), ("score", ["--keep-columns"])]:
        out = tmp_path / f"{command}.parquet"
        result = run(command, model, data, "-o", out, *extra)
        assert result.exit_code == 0, result.output
        written = pq.read_schema(out)
        assert [written.field(name).type for name in given.names] == given.types, written
        back, before = pd.read_parquet(out), pd.read_parquet(data)
        assert back[given.names].dtypes.astype(str).tolist() == before.dtypes.astype(str).tolist()
        assert back["id"].tolist() == before["id"].tolist()  # copied, as they were
        for name in ["kept_i16", "kept_day", "kept_cat"]:
            assert back[name].tolist() == before[name].tolist()
    assert set(back["cat"]) <= {"x", "y", "z"} and back["u8"].between(0, 255).all()


def test_values_that_do_not_fit_the_input_type_widen_the_column(tmp_path):
    """A denoised integer column whose reconstructions leave the input's range (-3 in a
    uint8 column), or a column of floats for an integer input, is written in the wider
    type, every value as it is, never wrapped or truncated; a date column that meets a
    text that is no date, as text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    chunks = [pd.DataFrame({"u8": [1, 200], "i8": [1.0, 2.0], "day": ["2024-01-31", None]}),
              pd.DataFrame({"u8": [-3, 7], "i8": [2.5, 3.0], "day": ["2024-02-01", "x"]})]
    types = {"u8": pa.uint8(), "i8": pa.int8(), "day": pa.date32()}
    with TableWriter(tmp_path / "out.parquet", types=types) as writer:
        writer.write(chunks[0])
        writer.write(chunks[1])
    schema = pq.read_schema(tmp_path / "out.parquet")
    assert [schema.field(n).type for n in types] == [pa.int64(), pa.float64(),
                                                     pa.large_string()]  # fmt: skip
    back = pd.read_parquet(tmp_path / "out.parquet")
    assert back["u8"].tolist() == [1, 200, -3, 7] and back["i8"].tolist() == [1, 2, 2.5, 3]
    assert back["day"].fillna("").tolist() == ["2024-01-31", "", "2024-02-01", "x"]  # then text


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    dtype=st.sampled_from(["int8", "uint8", "int16", "uint16", "int32", "uint32", "float32"]),
    chunks=st.lists(st.lists(st.none() | st.integers(-70_000, 70_000), min_size=1,
                             max_size=4), min_size=1, max_size=3),
)  # fmt: skip
def test_a_numeric_column_keeps_its_input_type_exactly_when_every_value_fits(tmp_path, dtype,
                                                                            chunks):  # fmt: skip
    """Integers keep the input's integer type when all of them are in its range, else the
    column is int64; float32 is kept; missing values stay missing; every value reads back
    as written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    wanted = pa.from_numpy_dtype(np.dtype(dtype))
    frames = [pd.DataFrame({"n": pd.array(chunk, dtype="Int64")}) for chunk in chunks]
    path = tmp_path / f"{dtype}.parquet"
    path.unlink(missing_ok=True)
    with TableWriter(path, types={"n": wanted}) as writer:
        for frame in frames:
            writer.write(frame)
    values = [v for chunk in chunks for v in chunk]
    present = [v for v in values if v is not None]
    if dtype == "float32":
        fits = True
    else:
        info = np.iinfo(dtype)
        fits = all(info.min <= v <= info.max for v in present)
    written = pq.read_schema(path).field("n").type
    assert written == (wanted if fits or not present else pa.int64())
    back = pd.read_parquet(path)["n"]
    assert [None if pd.isna(v) else v for v in back] == values
