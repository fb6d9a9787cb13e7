"""A Parquet output written chunk by chunk whose column types follow the whole table.

Chunks are read, and so typed, one at a time: an id column empty throughout the first
chunk is null there and text later; a copied column of integers meets a 2.5 in a later
chunk. A CSV cell is text whatever its chunk's type, but a Parquet column has one type,
and casting every chunk to the first chunk's types failed on such columns (a traceback,
or "Float value 2.5 was truncated" naming no column). :class:`ParquetOut` types each
column as pandas types the whole table (``pd.concat(chunks).to_parquet()``):

- a column with no value so far takes the type of the first chunk that holds one;
- a chunk of a narrower type is written in the column's (integers in a float column);
- a wider one widens the column by Arrow's lossless promotions (``promote_options=
  "permissive"``: integers to floats, small integers to large, text to large text, a
  category's codes to wider ones), as pandas makes an integer column with a missing
  value floats; the row groups written so far are then rewritten, one at a time, in a
  second temporary file (a few times per column at most: memory stays flat);
- dates or categories of text, then text (a column an input's types made dates, see
  :func:`in_input_types`, where a later chunk holds other text) widen to text, the dates
  as their ISO text;
- any other change (numbers in one chunk, text in another) is refused naming the column
  and the row: pandas cannot write such a column to Parquet either.
"""

from __future__ import annotations

import contextlib
import json
import os

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pa_compute
import pyarrow.parquet as pq

from .formats import OutputError


class ParquetOut:
    """Write Arrow tables to the Parquet file ``path``, widening column types as needed.

    ``spare`` names the second temporary file a rewrite uses (it ends as ``path`` on
    :meth:`close`; :meth:`abort` removes it).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> out = ParquetOut(folder / "out.parquet", folder / "spare.parquet")
    >>> out.write(pa.table({"id": pa.nulls(2), "x": [1, 2]}))
    >>> out.write(pa.table({"id": ["a", None], "x": [2.5, 3.0]}))
    >>> out.close()
    >>> pq.read_table(folder / "out.parquet").to_pydict()
    {'id': [None, None, 'a', None], 'x': [1.0, 2.0, 2.5, 3.0]}
    """

    def __init__(self, path, spare):
        self.path, self.spare = str(path), str(spare)
        self.rows = 0  # written so far: a chunk's first row is self.rows + 1
        self._current = self.path  # the file being written (the spare after a rewrite)
        self._writer = None
        self._schema = None
        self._valued = set()  # the positions of the columns that held a value so far

    def write(self, table):
        """Append ``table`` (the first one fixes the column names)."""
        if self._writer is None:
            self._schema = table.schema
            self._writer = pq.ParquetWriter(self._current, table.schema)
        else:
            schema = self._settle(table)
            if not schema.equals(self._schema):
                self._rewrite(schema)
            table = self._cast(table, schema)
        self._writer.write_table(table)
        self._valued.update(
            i for i, column in enumerate(table.columns) if column.null_count < len(column)
        )
        self.rows += table.num_rows

    def close(self):
        """Finish the file; it is ``path`` whichever temporary file was written last."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._current != self.path:
            os.replace(self._current, self.path)
            self._current = self.path

    def abort(self):
        """Remove the spare file (the caller removes ``path``)."""
        with contextlib.suppress(Exception):
            if self._writer is not None:
                self._writer.close()
        self._writer = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.spare)

    def _settle(self, table):
        """The file's schema, widened where ``table`` needs it (or an error)."""
        fields, described = list(self._schema), {}
        for i, (field, column) in enumerate(zip(fields, table.columns, strict=True)):
            if column.type == field.type or column.null_count == len(column):
                continue  # nothing new: an empty column goes in any type
            if i not in self._valued:  # no value so far: this chunk's type
                wider = column.type
            else:
                wider = _promoted(field.type, column.type)
                if wider is None:
                    raise self._refusal(field, column, "a Parquet column holds one type")
            if wider != field.type:
                fields[i] = field.with_type(wider)
                described[field.name] = _pandas_columns(table.schema).get(field.name)
        if not described:
            return self._schema
        return pa.schema(fields, metadata=_with_pandas_columns(self._schema, described))

    def _cast(self, table, schema):
        """``table`` in ``schema``'s types; a value they cannot hold is refused."""
        for i, (field, column) in enumerate(zip(schema, table.columns, strict=True)):
            if column.type == field.type:
                continue
            try:
                column = _cast_column(column, field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise self._refusal(field, column, _first_line(exc)) from None
            table = table.set_column(i, field, column)
        return table.replace_schema_metadata(schema.metadata)

    def _rewrite(self, schema):
        """Copy what was written into the other temporary file in ``schema``'s types."""
        self._writer.close()
        self._writer = None
        target = self.spare if self._current == self.path else self.path
        writer = None
        try:
            writer = pq.ParquetWriter(target, schema)
            with contextlib.closing(pq.ParquetFile(self._current)) as written:
                for group in range(written.num_row_groups):
                    part = written.read_row_group(group)
                    writer.write_table(self._cast_written(part, schema))
        except BaseException:
            with contextlib.suppress(Exception):
                if writer is not None:
                    writer.close()
            raise
        self._current, self._writer, self._schema = target, writer, schema

    def _cast_written(self, part, schema):
        for i, (field, column) in enumerate(zip(schema, part.columns, strict=True)):
            if column.type != field.type:
                try:
                    part = part.set_column(i, field, _cast_column(column, field.type))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise OutputError(
                        f"column {field.name!r} cannot be written to Parquet as "
                        f"{_kind(field.type)}, which a later chunk holds: its "
                        f"{_kind(column.type)} before row {self.rows + 1} do not all fit "
                        f"({_first_line(exc)}); write CSV (an output ending in .csv)."
                    ) from None
        return part.replace_schema_metadata(schema.metadata)

    def _refusal(self, field, column, why):
        """An :class:`OutputError` naming the column, the row and the value of ``column``'s
        (this chunk's) first value that the file's ``field`` cannot hold."""
        first = pa_compute.index(column.is_valid(), True).as_py()
        row = self.rows + first + 1
        value = column[first].as_py()
        return OutputError(
            f"column {field.name!r} holds {_kind(column.type)} from row {row} ({value!r}) "
            f"but {_kind(field.type)} before it: {why}; write CSV (an output ending in "
            ".csv), which keeps each cell's text."
        )


def in_input_types(table, types):
    """``table`` with each column that ``types`` names (``{name: Arrow type}``, the input's)
    in that type where its values fit it, as pandas would have kept it: integers in range
    (``uint8``, ``int32``...; a fraction or a value out of range keeps the wider type,
    and :class:`ParquetOut` widens the column), floats in ``float32`` (rounded to it, as
    scikit-learn keeps float32 data float32), ISO dates as dates, text as categories, times
    in the input's unit. Numbers never become text, nor text numbers. The pandas metadata
    follows, so pandas reads the column back in its input's dtype.

    Examples
    --------
    >>> table = pa.table({"n": [1, 2], "m": [1, 300], "x": [0.5, 1.5], "day": ["2024-01-31", None]})
    >>> types = {"n": pa.uint8(), "m": pa.uint8(), "x": pa.float32(), "day": pa.date32()}
    >>> in_input_types(table, types).schema.types
    [DataType(uint8), DataType(int64), DataType(float), DataType(date32[day])]
    """
    described = {}
    for i, field in enumerate(table.schema):
        wanted = types.get(field.name)
        if wanted is None or wanted == field.type or not _fits_kind(field.type, wanted):
            continue
        try:
            column = table.column(i).cast(wanted)  # safe: a value that does not fit refuses
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            continue
        mapper = _NULLABLE.get if pa.types.is_integer(wanted) and column.null_count else None
        series = column.to_pandas(types_mapper=mapper)  # what pandas holds, and describes
        one = pa.Table.from_pandas(series.to_frame(field.name), preserve_index=False)
        table = table.set_column(i, field.with_type(wanted), one.column(0).cast(wanted))
        described[field.name] = _pandas_columns(one.schema).get(field.name)
    if not described:
        return table
    return table.replace_schema_metadata(_with_pandas_columns(table.schema, described))


#: pandas' nullable integer types, for an integer column with missing values.
_NULLABLE = {pa.from_numpy_dtype(dtype.numpy_dtype): dtype for dtype in (
    pd.Int8Dtype(), pd.Int16Dtype(), pd.Int32Dtype(), pd.Int64Dtype(),
    pd.UInt8Dtype(), pd.UInt16Dtype(), pd.UInt32Dtype(), pd.UInt64Dtype())}  # fmt: skip


def _fits_kind(written, wanted):
    """Whether a column written as ``written`` may go back to ``wanted``: numbers to
    numbers, text to text, categories or dates, times to times, categories to categories."""
    number = pa.types.is_integer(written) or pa.types.is_floating(written)
    text = _is_text(written)
    if pa.types.is_integer(wanted) or pa.types.is_floating(wanted):
        return number
    if _is_text(wanted):
        return text
    if pa.types.is_date(wanted):
        return text or pa.types.is_date(written)
    if pa.types.is_dictionary(wanted):
        return text or pa.types.is_dictionary(written)
    return pa.types.is_timestamp(wanted) and pa.types.is_timestamp(written)


def _cast_column(column, arrow_type):
    """``column`` as ``arrow_type`` (safely: no value changed); no value casts to any."""
    if column.null_count == len(column):
        return pa.nulls(len(column), arrow_type)
    return column.cast(arrow_type)


def _promoted(old, new):
    """The type both ``old`` and ``new`` values fit in without loss, or None: dates and
    categories of text, then text, are text (a date as its ISO text)."""
    try:
        both = pa.unify_schemas(
            [pa.schema([("c", old)]), pa.schema([("c", new)])], promote_options="permissive"
        )
    except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if _is_text(new) and (pa.types.is_date(old) or (
                pa.types.is_dictionary(old) and _is_text(old.value_type))):  # fmt: skip
            return pa.large_string()
        return None
    return both.field("c").type


def _is_text(arrow_type):
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _kind(arrow_type):
    """A type in words: ``text``, ``integers``, ``floats``..."""
    if pa.types.is_dictionary(arrow_type):
        return f"categories of {_kind(arrow_type.value_type)}"
    for test, words in (
        (pa.types.is_string, "text"),
        (pa.types.is_large_string, "text"),
        (pa.types.is_integer, "integers"),
        (pa.types.is_floating, "floats"),
        (pa.types.is_boolean, "booleans"),
        (pa.types.is_timestamp, "timestamps"),
    ):
        if test(arrow_type):
            return words
    return f"{arrow_type} values"


def _pandas_columns(schema):
    """``{name: pandas' description of the column}`` from a schema's pandas metadata."""
    meta = (schema.metadata or {}).get(b"pandas")
    if meta is None:
        return {}
    return {c["field_name"]: c for c in json.loads(meta)["columns"] if "field_name" in c}


def _with_pandas_columns(schema, columns):
    """``schema``'s metadata with the pandas descriptions of ``columns`` (of the chunk that
    widened them: pandas reads the dtype of a nullable integer column from them)."""
    metadata = dict(schema.metadata or {})
    if b"pandas" not in metadata:
        return metadata or None
    meta = json.loads(metadata[b"pandas"])
    meta["columns"] = [columns.get(c.get("field_name")) or c for c in meta["columns"]]
    metadata[b"pandas"] = json.dumps(meta).encode()
    return metadata


def _first_line(exc):
    return (str(exc).splitlines() or [type(exc).__name__])[0]


__all__ = ["ParquetOut", "in_input_types"]
