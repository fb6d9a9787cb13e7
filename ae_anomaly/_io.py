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
import threading
from pathlib import Path
from queue import Full, Queue

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pa_compute
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

#: Delimiter of each delimited-text extension; a compression suffix may follow (.csv.gz).
TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
COMPRESSION_SUFFIXES = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4"}
#: Bytes of text parsed per chunk (about 28,000 rows of 30 numbers).
BLOCK_SIZE = 16 << 20
STDIO = "-"
_RAGGED_ROW = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_UNCLOSED_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")
#: Bytes read ahead to learn the columns, their types and the typical row length.
_HEAD_BYTES = 1 << 20


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


class _Prefixed(io.RawIOBase):
    """A binary stream that replays ``head`` and then continues with ``rest``."""

    def __init__(self, head, rest):
        self._head = memoryview(head)
        self._rest = rest

    def readable(self):
        return True

    def readinto(self, buffer):
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _prefetch(chunks, depth=1):
    """Iterate ``chunks`` in a background thread, ``depth`` chunks ahead.

    Parsing (pandas' tokenizer, pyarrow) and scoring (torch) release the GIL, so on two
    cores the next chunk is parsed while this one is scored. Errors surface in order.
    """
    queue = Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def hand_over(item):
        """Put ``item`` in the queue unless the consumer has stopped; False if it has."""
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce():
        try:
            for chunk in chunks:
                if not hand_over((chunk, None)):
                    return
            hand_over((done, None))
        except BaseException as exc:  # handed to the consumer, raised there
            hand_over((done, exc))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            chunk, error = queue.get()
            if error is not None:
                raise error
            if chunk is done:
                return
            yield chunk
    finally:
        stop.set()  # the producer stops at its next hand-over, whatever the consumer did
        thread.join()


class TableReader:
    """Iterate over a CSV/TSV/Parquet table in chunks of pandas DataFrames.

    Each chunk's index holds its 0-based row numbers in the whole file, so errors can name
    rows. Text columns stay strings; ``column_types`` (``{name: pyarrow type}``) fixes the
    types of the named columns, which turns a stray word in a numeric column into an error.
    CSV is parsed by pandas' C parser, one chunk ahead in a background thread; Parquet is
    read by pyarrow, row group by row group.

    Parameters
    ----------
    path : str or path-like
        A file, or ``"-"`` for CSV on stdin (then the table can be iterated once).
    column_types : dict, optional
    delimiter : str, optional
        Overrides the extension's delimiter.
    block_size : int, optional
        About how many bytes of the file make a chunk; ``BLOCK_SIZE`` by default.

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
        self._stdin = None
        self._head = b""
        if self.kind == "csv":
            self._head = self._read_head()
        self.columns, self.arrow_types = self._read_schema()

    def with_types(self, column_types):
        """A reader of the same table with ``column_types`` (before any iteration)."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__, column_types=dict(column_types))
        other.columns, other.arrow_types = other._read_schema()
        return other

    @property
    def name(self):
        return "stdin" if self.path == STDIO else str(self.path)

    # -------------------------------------------------------------------- CSV
    def _read_head(self):
        """The first ``_HEAD_BYTES`` of the text, cut after its last complete line."""
        try:
            if self.path == STDIO:
                self._stdin = _binary_stdin()
                head = self._stdin.read(_HEAD_BYTES)
            else:
                with pa.input_stream(str(self.path), compression="detect") as stream:
                    head = stream.read(_HEAD_BYTES)
        except OSError as exc:
            raise DataError(f"{self.name}: unreadable ({exc}).") from None
        return head

    def _head_lines(self):
        complete = (
            self._head
            if len(self._head) < _HEAD_BYTES
            else self._head[: self._head.rfind(b"\n") + 1]
        )
        return complete

    def _pandas_types(self):
        """Text columns are read as text (ids keep their zeros); numbers are parsed by
        inference and checked per chunk, which is much faster than a ``float64`` dtype."""
        return {name: object for name, t in self.column_types.items() if pa.types.is_string(t)}

    def _numeric(self, chunk):
        """Cast the numeric columns of a chunk to float64; name a value that is not a number."""
        for name, arrow_type in self.column_types.items():
            if not pa.types.is_floating(arrow_type) or name not in chunk:
                continue
            column = chunk[name]
            if column.dtype == np.float64:
                continue
            if pd.api.types.is_numeric_dtype(column.dtype) and column.dtype != bool:
                chunk[name] = column.astype(np.float64)
                continue
            numbers = pd.to_numeric(column, errors="coerce")
            bad = numbers.isna() & column.notna()
            if bad.any():
                row = bad.idxmax()
                raise DataError(
                    f"{self.name}: non-numeric value {str(column[row])!r} in numeric column "
                    f"{name!r} at row {row + 1}."
                )
            chunk[name] = numbers.astype(np.float64)
        return chunk

    def _read_schema(self):
        if self.kind == "parquet":
            try:
                schema = pq.read_schema(str(self.path))
            except (pa.ArrowInvalid, OSError) as exc:
                raise DataError(f"{self.name}: not a readable Parquet file ({exc}).") from None
            return list(schema.names), dict(zip(schema.names, schema.types, strict=True))
        head = self._head_lines()
        names = next(
            csv.reader(io.StringIO(head.decode(errors="replace")), delimiter=self.delimiter), []
        )
        if not names:
            raise DataError(f"{self.name} is empty: expected a header line and data rows.")
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise DataError(f"{self.name}: duplicated column name(s) {_names(duplicated)}.")
        if len(names) == 1:
            for other in [",", ";", "\t", "|"]:
                if other != self.delimiter and other in names[0]:
                    raise DataError(
                        f"{self.name}: the header has a single column {names[0]!r}: the "
                        f"file looks {other!r}-delimited; pass --delimiter {other!r}."
                    )
        sample = self._parse(io.BytesIO(head), chunksize=None)
        types = {}
        for name in names:
            dtype = sample[name].dtype
            if name in self.column_types:
                types[name] = self.column_types[name]
            elif pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
                types[name] = pa.string()
            else:
                types[name] = pa.from_numpy_dtype(dtype)
        return names, types

    def _parse(self, source, chunksize):
        try:
            return pd.read_csv(
                source,
                sep=self.delimiter,
                dtype=self._pandas_types(),
                chunksize=chunksize,
                engine="c",
                low_memory=False,  # one type per column and chunk
                compression=None if not isinstance(source, str | Path) else "infer",
            )
        except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise self._csv_error(exc) from None

    def _chunk_rows(self):
        lines = max(1, self._head.count(b"\n"))
        return max(1000, self.block_size * lines // max(1, len(self._head)))

    def _iter_csv(self):
        if self.path == STDIO:
            source = io.BufferedReader(_Prefixed(self._head, self._stdin))
        else:
            source = str(self.path)
        chunks = self._parse(source, self._chunk_rows())
        offset = 0
        checked_short_rows = False
        with chunks:
            while True:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    return
                except (ValueError, pd.errors.ParserError) as exc:
                    raise self._csv_error(exc) from None
                if chunk.empty:
                    continue
                chunk = self._numeric(chunk)
                if not checked_short_rows and chunk.iloc[:, -1].isna().any():
                    self._check_short_rows()  # a short row is padded with missing values
                    checked_short_rows = True
                yield chunk
                offset += len(chunk)

    def __iter__(self):
        if self.kind == "parquet":
            return _prefetch(self._iter_parquet())
        return _prefetch(self._iter_csv())

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
            return pd.DataFrame(
                {
                    name: pd.Series(dtype="float64" if pa.types.is_floating(t) else object)
                    for name, t in self.arrow_types.items()
                }
            )
        return chunks[0] if len(chunks) == 1 else pd.concat(chunks)

    # -------------------------------------------------------------------- errors
    def _csv_error(self, exc):
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, pd.errors.EmptyDataError):
            return DataError(f"{self.name} is empty: expected a header line and data rows.")
        ragged = _RAGGED_ROW.search(message)
        if ragged:
            expected, line, got = (int(g) for g in ragged.groups())
            return DataError(
                f"{self.name}: malformed CSV at line {line}: expected {expected} fields like "
                f"the header, got {got} (an unclosed quote or a wrong delimiter?)."
            )
        quote = _UNCLOSED_QUOTE.search(message)
        if quote:
            return DataError(
                f"{self.name}: malformed CSV: a quote opened at line {int(quote.group(1)) + 1} "
                "is never closed."
            )
        return DataError(f"{self.name}: unreadable CSV ({message}).")

    def _check_short_rows(self):
        """Raise on the first row with fewer fields than the header (file paths only)."""
        if self.path == STDIO:
            return
        rows = self._text_rows()
        expected = len(next(rows, []))
        for number, row in enumerate(rows, start=2):
            if row and len(row) < expected:
                raise DataError(
                    f"{self.name}: malformed CSV at line {number}: expected {expected} fields "
                    f"like the header, got {len(row)} (an unclosed quote or a wrong delimiter?)."
                )

    def _text_rows(self):
        """The file's rows as lists of strings, through Python's csv module (error paths only)."""
        with (
            pa.input_stream(str(self.path), compression="detect") as stream,
            io.TextIOWrapper(stream, errors="replace", newline="") as text,
        ):
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


def _names(names):
    return ", ".join(repr(n) for n in names)


# ----------------------------------------------------------------------------- output
def check_output(output, inputs=(), *, force=False, table=True):
    """Refuse an output that exists (unless ``force``) or that is one of the ``inputs``.

    With ``table``, also refuse an extension that is not a table format.

    Examples
    --------
    >>> check_output("-")
    >>> check_output(__file__, [__file__], table=False)
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
    if table:
        table_format(output)  # a known extension, before any work
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
        self._schema = None
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
        if self._schema is None:
            self._schema = table.schema
            if self.kind == "parquet":
                self._writer = pq.ParquetWriter(self._sink, table.schema)
            else:  # a plain header: Arrow would quote every name
                header = io.StringIO()
                csv.writer(header, delimiter=self.delimiter, lineterminator="\n").writerow(
                    table.schema.names
                )
                self._sink.write(header.getvalue().encode())
        table = table.cast(self._schema)
        if self._writer is not None:
            self._writer.write_table(table)
            return
        # Arrow quotes every text value unless told not to: quote only when a value needs it.
        special = f'[{re.escape(self.delimiter)}"\\n\\r]'
        needs_quotes = any(
            pa_compute.any(pa_compute.match_substring_regex(column, special)).as_py()
            for column in table.columns
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        )
        options = pa_csv.WriteOptions(
            include_header=False,
            delimiter=self.delimiter,
            batch_size=65536,
            quoting_style="needed" if needs_quotes else "none",
        )
        pa_csv.write_csv(table, self._sink, options)

    def __exit__(self, exc_type, exc, tb):
        try:
            if self._writer is not None:
                self._writer.close()
            if self.path == STDIO:
                self._sink.flush()
        finally:
            self._stack.__exit__(exc_type, exc, tb)
        return False
