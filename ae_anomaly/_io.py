"""Tables in and out: CSV/TSV/Parquet read in chunks, outputs written atomically.

Reading uses pyarrow's streaming CSV reader and Parquet row-group iterator, so memory stays
bounded by the chunk size whatever the file size. Every error about the data's content is a
:class:`DataError` with a one-line message naming the row and column when they are known.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

#: Delimiter of each delimited-text extension; a compression suffix may follow (.csv.gz).
TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
COMPRESSION_SUFFIXES = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4"}
#: Bytes of text parsed per chunk (about 28,000 rows of 30 numbers).
BLOCK_SIZE = 16 << 20
STDIO = "-"
_RAGGED_ROW = re.compile(r"Expected (\d+) columns, got (\d+)")
_CONVERSION_ERROR = re.compile(
    r"In CSV column #(\d+): .*conversion error to \w+: invalid value '(.*)'"
)


class DataError(ValueError):
    """The data is unreadable or does not fit the model (the CLI exits with status 1)."""


class UsageProblem(ValueError):
    """A path or option cannot work (unknown extension, output exists...): exit status 2."""


def table_format(path, delimiter=None):
    """``("csv", delimiter)`` or ``("parquet", None)`` from a path's extension.

    ``"-"`` (stdin/stdout) is CSV. ``delimiter`` overrides the extension's.

    Examples
    --------
    >>> table_format("scores.tsv")
    ('csv', '\\t')
    >>> table_format("data.csv.gz")
    ('csv', ',')
    >>> table_format("data.parquet")
    ('parquet', None)
    """
    if path == STDIO:
        return "csv", delimiter or ","
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in PARQUET_SUFFIXES:
        return "parquet", None
    if suffix in TEXT_SUFFIXES:
        return "csv", delimiter or TEXT_SUFFIXES[suffix]
    if delimiter:
        return "csv", delimiter
    known = ", ".join(sorted([*TEXT_SUFFIXES, *PARQUET_SUFFIXES]))
    raise UsageProblem(
        f"Cannot tell the format of {str(path)!r} from its extension (known: {known}, "
        "optionally compressed: .gz, .bz2, .zst); pass --delimiter for other text files."
    )


def _binary_stdin():
    return getattr(sys.stdin, "buffer", sys.stdin)


class TableReader:
    """Iterate over a CSV/TSV/Parquet table in chunks of pandas DataFrames.

    Each chunk's index holds its 0-based row numbers in the whole file, so errors can name
    rows. Text columns stay strings; ``column_types`` (``{name: pyarrow type}``) fixes the
    types of the named columns, which turns a stray word in a numeric column into an error.

    Parameters
    ----------
    path : str or path-like
        A file, or ``"-"`` for CSV on stdin.
    column_types : dict, optional
    delimiter : str, optional
        Overrides the extension's delimiter.
    block_size : int, optional
        Bytes of text per chunk (Parquet: about as many bytes per chunk); ``BLOCK_SIZE``
        by default.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("a,b\\n1,x\\n2,y\\n")
    >>> reader = TableReader(path)
    >>> reader.columns
    ['a', 'b']
    >>> [len(chunk) for chunk in reader]
    [2]
    """

    def __init__(self, path, *, column_types=None, delimiter=None, block_size=None):
        self.path = path
        self.kind, self.delimiter = table_format(path, delimiter)
        self.column_types = dict(column_types or {})
        self.block_size = block_size or BLOCK_SIZE
        self._source = None
        if path == STDIO:  # read once; keep the bytes so the schema and the rows can be read
            self._source = _binary_stdin().read()
        self.columns, self.arrow_types = self._read_schema()

    def with_types(self, column_types):
        """A reader of the same table (stdin too: its bytes are kept) with ``column_types``."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__, column_types=dict(column_types))
        other.columns, other.arrow_types = other._read_schema()
        return other

    @property
    def name(self):
        return "stdin" if self.path == STDIO else str(self.path)

    def _open_csv(self, column_types):
        source = pa.BufferReader(self._source) if self._source is not None else str(self.path)
        try:
            return pa_csv.open_csv(
                source,
                read_options=pa_csv.ReadOptions(block_size=self.block_size),
                parse_options=pa_csv.ParseOptions(delimiter=self.delimiter),
                convert_options=pa_csv.ConvertOptions(
                    column_types=column_types, strings_can_be_null=True
                ),
            )
        except (pa.ArrowInvalid, OSError) as exc:
            raise self._csv_error(exc) from None

    def _read_schema(self):
        if self.kind == "parquet":
            try:
                schema = pq.read_schema(str(self.path))
            except (pa.ArrowInvalid, OSError) as exc:
                raise DataError(f"{self.name}: not a readable Parquet file ({exc}).") from None
            return list(schema.names), dict(zip(schema.names, schema.types, strict=True))
        reader = self._open_csv(self.column_types)
        schema = reader.schema
        reader.close()
        names = list(schema.names)
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise DataError(f"{self.name}: duplicated column name(s) {_names(duplicated)}.")
        if len(names) == 1 and self.delimiter not in names[0]:
            for other in [",", ";", "\t", "|"]:
                if other != self.delimiter and other in names[0]:
                    raise DataError(
                        f"{self.name}: the header has a single column {names[0]!r}: the "
                        f"file looks {other!r}-delimited; pass --delimiter {other!r}."
                    )
        return names, dict(zip(schema.names, schema.types, strict=True))

    def __iter__(self):
        if self.kind == "parquet":
            yield from self._iter_parquet()
            return
        reader = self._open_csv(self.column_types)
        offset = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:
                raise self._csv_error(exc, offset) from None
            yield _to_pandas(batch, offset)
            offset += batch.num_rows

    def _iter_parquet(self):
        parquet = pq.ParquetFile(str(self.path))
        row_bytes = max(1, parquet.metadata.serialized_size // max(1, parquet.metadata.num_rows))
        batch_rows = max(1024, self.block_size // max(row_bytes, 8 * len(self.columns)))
        offset = 0
        for batch in parquet.iter_batches(batch_size=batch_rows):
            for name, arrow_type in self.column_types.items():
                if name in batch.schema.names:
                    batch = _cast_column(batch, name, arrow_type, self.name, offset)
            yield _to_pandas(batch, offset)
            offset += batch.num_rows

    def read_all(self):
        """The whole table as one DataFrame (for fitting)."""
        chunks = list(self)
        if not chunks:
            return _to_pandas(pa.RecordBatch.from_pylist([], schema=self._empty_schema()), 0)
        return chunks[0] if len(chunks) == 1 else _concat(chunks)

    def _empty_schema(self):
        return pa.schema([(n, self.column_types.get(n, pa.string())) for n in self.columns])

    def _csv_error(self, exc, offset=0):
        message = str(exc).splitlines()[0]
        if message.startswith("Empty CSV file"):
            return DataError(f"{self.name} is empty: expected a header line and data rows.")
        ragged = _RAGGED_ROW.search(message)
        if ragged:
            expected, got = int(ragged.group(1)), int(ragged.group(2))
            return DataError(
                f"{self.name}: malformed CSV at {self._find_ragged_row(expected)}: expected "
                f"{expected} fields like the header, got {got} (an unclosed quote or a "
                "wrong delimiter?)."
            )
        match = _CONVERSION_ERROR.match(message)
        if match:
            header = next(self._text_rows(), [])
            number = int(match.group(1))
            column = header[number] if number < len(header) else f"#{number}"
            where = self._find_value(column, match.group(2), offset)
            return DataError(
                f"{self.name}: non-numeric value {match.group(2)!r} in numeric column "
                f"{column!r}{where}."
            )
        return DataError(f"{self.name}: unreadable CSV ({message}).")

    def _find_ragged_row(self, expected):
        """``line N`` of the first row without ``expected`` fields, as Python's csv reads it."""
        for number, row in enumerate(self._text_rows(), start=1):
            if row and len(row) != expected:
                return f"line {number}"
        return "a row"

    def _find_value(self, column, value, offset):
        """`` at row N`` (1-based data row) of the first ``value`` in ``column`` from ``offset``."""
        rows = self._text_rows()
        header = next(rows, [])
        if column not in header:
            return ""
        index = header.index(column)
        for number, row in enumerate(rows, start=1):
            if number > offset and index < len(row) and row[index].strip() == value:
                return f" at row {number}"
        return ""

    def _text_rows(self):
        """The file's rows as lists of strings, through Python's csv module (error paths only)."""
        if self._source is not None:
            stream = pa.BufferReader(self._source)
        else:
            stream = pa.input_stream(str(self.path), compression="detect")
        with stream, io.TextIOWrapper(stream, errors="replace", newline="") as text:
            yield from csv.reader(text, delimiter=self.delimiter)


def _cast_column(batch, name, arrow_type, source, offset):
    index = batch.schema.get_field_index(name)
    column = batch.column(index)
    if column.type == arrow_type:
        return batch
    try:
        cast = column.cast(arrow_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise DataError(
            f"{source}: column {name!r} holds {column.type} values, not numbers "
            f"(rows {offset + 1}-{offset + batch.num_rows})."
        ) from None
    return batch.set_column(index, name, cast)


def _to_pandas(batch, offset):
    frame = batch.to_pandas()
    frame.index = range(offset, offset + len(frame))
    return frame


def _concat(chunks):
    import pandas as pd

    return pd.concat(chunks, copy=False)


def _names(names):
    return ", ".join(repr(n) for n in names)


# ----------------------------------------------------------------------------- output
def check_output(output, inputs=(), *, force=False):
    """Refuse an output that exists (unless ``force``) or that is one of the ``inputs``.

    Examples
    --------
    >>> check_output("-")
    >>> check_output(__file__, [__file__])
    Traceback (most recent call last):
    ...
    ae_anomaly._io.UsageProblem: The output ... is also an input: choose another path.
    """
    if output is None or output == STDIO:
        return
    out = Path(output)
    for path in inputs:
        if path in (None, STDIO):
            continue
        if os.path.realpath(out) == os.path.realpath(path) or (
            out.exists() and Path(path).exists() and out.samefile(path)
        ):
            raise UsageProblem(f"The output {str(output)!r} is also an input: choose another path.")
    if out.is_dir():
        raise UsageProblem(f"The output {str(output)!r} is a directory.")
    if out.exists() and not force:
        raise UsageProblem(f"{str(output)!r} already exists; pass --force to overwrite it.")
    if not out.resolve().parent.is_dir():
        raise UsageProblem(f"The directory of the output {str(output)!r} does not exist.")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it to ``path`` only on success.

    An interrupted or failed write leaves no partial file (and an existing ``path``
    untouched).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = pathlib.Path(tmp).write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.resolve().parent)
    os.close(fd)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class TableWriter:
    """Write DataFrames chunk by chunk to CSV/TSV/Parquet (by extension) or to stdout.

    Use as a context manager: the file appears, complete, only when the block exits
    without an error.

    Examples
    --------
    >>> import pathlib, tempfile, pandas as pd
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.csv"
    >>> with TableWriter(target) as writer:
    ...     writer.write(pd.DataFrame({"anomaly_score": [0.5, 2.0], "is_anomaly": [0, 1]}))
    >>> print(target.read_text().strip())
    anomaly_score,is_anomaly
    0.5,0
    2,1
    """

    def __init__(self, path=None, *, delimiter=None):
        self.path = STDIO if path is None else path
        self.kind, self.delimiter = table_format(self.path, delimiter)
        self._stack = contextlib.ExitStack()
        self._writer = None
        self._sink = None

    def __enter__(self):
        if self.path == STDIO:
            self._sink = getattr(sys.stdout, "buffer", sys.stdout)
        else:
            tmp = self._stack.enter_context(atomic_path(self.path))
            suffix = Path(self.path).suffix.lower()
            self._sink = self._stack.enter_context(
                pa.output_stream(tmp, compression=COMPRESSION_SUFFIXES.get(suffix))
            )
        return self

    def write(self, frame):
        """Append the rows of a DataFrame (the first call fixes the columns and their types)."""
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            self._schema = table.schema
            if self.kind == "parquet":
                self._writer = pq.ParquetWriter(self._sink, table.schema)
            else:  # a plain header (Arrow would quote every name), then Arrow's fast writer
                header = io.StringIO()
                csv.writer(header, delimiter=self.delimiter, lineterminator="\n").writerow(
                    table.schema.names
                )
                self._sink.write(header.getvalue().encode())
                options = pa_csv.WriteOptions(
                    include_header=False, delimiter=self.delimiter, batch_size=65536
                )
                self._writer = pa_csv.CSVWriter(self._sink, table.schema, write_options=options)
        self._writer.write_table(table.cast(self._schema))

    def __exit__(self, exc_type, exc, tb):
        try:
            if self._writer is not None:
                self._writer.close()
            if self.path == STDIO:
                self._sink.flush()
        finally:
            self._stack.__exit__(exc_type, exc, tb)
        return False
