"""Reading CSV/TSV/Parquet tables in chunks of bounded size (see :class:`TableReader`).

CSV goes through pandas' C parser (in ``text`` mode through pyarrow where the result is
provably pandas' own, :mod:`.fastcsv`), Parquet through pyarrow, one chunk ahead in a
background thread. Every error about the data's content is a :class:`DataError` with a
one-line message naming the row and column when they are known.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import io
import lzma
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import formats as _formats
from .csvchecks import UTF16_MARKS, CsvChecks, codec_of
from .errors import cell_note
from .fastcsv import arrow_text_frame
from .formats import STDIO, DataError, table_format
from .streams import Prefixed, binary_stdin, count_lines, prefetch, record_end
from .typing import DEFAULT_NA_VALUES

_NEWLINE = re.compile(rb"[\r\n]")
#: Bytes read ahead to learn the columns, their types and the typical row length.
_HEAD_BYTES = 1 << 20
#: A header line may be this long (the head is extended to hold it).
_MAX_HEADER_BYTES = 64 << 20
#: The columns pandas writes to Parquet for a DataFrame's nameless row labels (a filtered
#: frame's index): not the data; a named index is a column like any other.
PANDAS_ROW_LABELS = re.compile(r"__index_level_\d+__")
#: The line naming the delimiter that Excel writes above the header (``sep=;``).
_EXCEL_SEP = re.compile(rb"sep=([^\r\n\"])(?:\r\n|\r|\n)")


class TableReader(CsvChecks):
    """Iterate over a CSV/TSV/Parquet table in chunks of pandas DataFrames.

    Each chunk's index holds its 0-based row numbers in the whole file, so errors can name
    rows. Text columns stay strings; ``column_types`` (``{name: pyarrow type}``) fixes the
    types of the named columns, which turns a stray word in a numeric column into an error.
    CSV is parsed by pandas' C parser (with ``text``, by pyarrow where that provably gives
    pandas' result), one chunk ahead in a background thread; Parquet is read by pyarrow,
    row group by row group.

    Parameters
    ----------
    path : str or path-like
        A file, or ``"-"`` for CSV on stdin (then the table can be iterated once).
    column_types : dict, optional
    delimiter : str, optional
        Overrides the extension's delimiter.
    block_size : int, optional
        About how many bytes of the file make a chunk; ``BLOCK_SIZE`` by default. Chunk
        sizes are re-estimated from each chunk, so rows that grow long later in a file do
        not make a chunk larger than a few blocks.
    usecols : list of str, optional
        Read only these columns (the others are never decoded; :meth:`select` after
        checking the header); default all. ``columns`` still lists every column of the
        file, ``arrow_types`` and the chunks only those read. A CSV row with more or fewer
        fields than the header is refused all the same (counted on the raw text).
    text : bool, default=False
        CSV only: read every column as the text written (no type, no missing values).
    encoding : str, optional
        CSV only: the text's encoding (``"cp1252"`` for a Windows export, ``"latin-1"``...),
        any Python codec; UTF-8 by default. Chunks and errors see the text as UTF-8.
    numbers : list of str, optional
        With ``text``: columns known to hold numbers, parsed as float64 while they are read
        in the chunks where every cell is a plain number, not NaN
        (:func:`~ae_anomaly.tables.fastcsv.arrow_text_frame`); the other chunks keep their
        text, and once a column was not all numbers it is read as text to the end.
    as_written : list of str, optional
        CSV only, with ``column_types``: these typed columns (ids) and every untyped one
        are read as the text written (``0017``, ``NA``), the others with pandas' missing
        values; default None reads untyped columns by inference.

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

    def __init__(self, path, *, column_types=None, delimiter=None, block_size=None, usecols=None,
                 text=False, numbers=None, encoding=None, as_written=None):  # fmt: skip
        self.path = path
        self.text = text
        # given (scoring): these typed columns (ids: NA is a name) and the untyped ones
        self.as_written = None if as_written is None else set(as_written)
        self.encoding = codec_of(encoding)
        self.numbers = list(numbers or ())
        self.kind, self.delimiter = table_format(path, delimiter)
        self.column_types = dict(column_types or {})
        self.usecols = None if usecols is None else list(usecols)
        self.block_size = block_size or _formats.BLOCK_SIZE
        self._stdin = None
        self._head = b""
        self._skipped_lines = 0  # Excel's sep= line, read and dropped
        self._delimiter_given = delimiter is not None
        if self.kind == "csv":
            self._head = self._read_head()
        self.columns, self.arrow_types = self._read_schema()

    def with_types(self, column_types):
        """A reader of the same table with ``column_types`` (before any iteration)."""
        return self._changed(column_types=dict(column_types))

    def select(self, columns):
        """A reader of the same table reading only ``columns`` (before any iteration).

        The header is read once (also from stdin): check it with ``columns``, then select
        what is needed, and the other columns are never decoded.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
        >>> _ = path.write_text("a,blob,b\\n1,xxxx,2\\n")
        >>> reader = TableReader(path)
        >>> [list(chunk.columns) for chunk in reader.select(["b", "a"])]
        [['a', 'b']]
        """
        wanted = set(columns)
        usecols = [c for c in self.columns if c in wanted]  # in the file's order
        unknown = [c for c in columns if c not in self.columns]
        if unknown:
            raise DataError(f"{self.name}: no column named {_names(unknown)}.")
        if len(usecols) == len(self.columns):
            return self
        if not set(usecols) <= set(self.arrow_types):  # a selection widened: parse again
            return self._changed(usecols=usecols)
        types = {name: self.arrow_types[name] for name in usecols}  # no second parse
        return self._changed(usecols=usecols, arrow_types=types)

    def _changed(self, **changes):
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__, **changes)
        if "arrow_types" not in changes:
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
                self._stdin = binary_stdin()
                if self.encoding:
                    self._stdin = pa.transcoding_input_stream(
                        pa.PythonFile(self._stdin, mode="r"), self.encoding, "utf-8"
                    )
                head = self._read_head_from(self._stdin)
            else:
                if self.encoding:
                    self._check_no_utf8_mark()
                with self._open() as stream:
                    head = self._read_head_from(stream)
                if self.encoding is None and head.startswith(UTF16_MARKS):
                    self.encoding = "utf-16"  # Excel's "Unicode Text": the mark says so
                    with self._open() as stream:
                        head = self._read_head_from(stream)
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise DataError(f"{self.name}: unreadable ({_reason(exc)}).") from None
        except UnicodeDecodeError as exc:  # not in the --encoding given
            raise self._not_text(exc) from None
        if head.startswith(codecs.BOM_UTF8):  # Excel's "CSV UTF-8"
            head = head[len(codecs.BOM_UTF8) :]
        self._refuse_binary(head)
        return self._drop_sep_line(head)

    def _drop_sep_line(self, head):
        """The head without Excel's ``sep=;`` line, whose delimiter is then the file's."""
        line = _EXCEL_SEP.match(head)
        if not line:
            return head
        said = line[1].decode()
        if self._delimiter_given and said != self.delimiter:
            raise DataError(
                f"{self.name}: its first line says the delimiter is {said!r} (sep={said}), "
                f"but --delimiter {self.delimiter!r} was given."
            )
        self.delimiter, self._skipped_lines = said, 1
        return head[line.end() :]

    def _open(self):
        """The file as a stream of UTF-8 bytes (decompressed, transcoded)."""
        stream = _formats.input_stream(self.path)
        if self.encoding:
            return pa.transcoding_input_stream(stream, self.encoding, "utf-8")
        return stream

    def _read_head_from(self, stream):
        """``_HEAD_BYTES``, more if the header line is longer (up to ``_MAX_HEADER_BYTES``)."""
        head = stream.read(_HEAD_BYTES)
        while len(head) % _HEAD_BYTES == 0 and head and not _NEWLINE.search(head):
            if len(head) >= _MAX_HEADER_BYTES:
                raise DataError(
                    f"{self.name}: the header line is longer than {_MAX_HEADER_BYTES >> 20} MiB "
                    "(no line break): is this a CSV file?"
                )
            more = stream.read(_HEAD_BYTES)
            if not more:
                break
            head += more
        return head

    def _head_lines(self):
        """The head cut after its last whole record: not at a line break inside a quoted
        cell, which would leave the sample a quote that is never closed."""
        if len(self._head) % _HEAD_BYTES:
            return self._head  # the whole text
        end = record_end(self._head, self.delimiter.encode())
        return self._head[:end] if end > 0 else self._head  # pandas names an open quote

    def _pandas_types(self):
        """Text columns are read as text (ids keep their zeros), and with ``as_written`` so
        are the columns no type is given for (kept: ``0017`` was written ``17``); numbers
        are parsed by inference and checked per chunk, much faster than a ``float64`` dtype."""
        types = self.column_types
        if self.as_written is None:
            return {name: object for name, t in types.items() if pa.types.is_string(t)}
        names = self.__dict__.get("columns") or list(types)  # the header's, once read
        return {n: object for n in names if n not in types or pa.types.is_string(types[n])}

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
                    f"{name!r} at row {row + 1}{cell_note(column[row], name)}."
                )
            chunk[name] = numbers.astype(np.float64)
        return chunk

    def _refuse_duplicates(self, names):
        duplicated = sorted(n for n, k in collections.Counter(names).items() if k > 1)
        if duplicated:
            raise DataError(f"{self.name}: duplicated column name(s) {_names(duplicated)}.")

    def _read_schema(self):
        if self.kind == "parquet":
            try:
                schema = pq.read_schema(str(self.path))
            except (pa.ArrowInvalid, OSError) as exc:
                raise DataError(f"{self.name}: not a readable Parquet file ({exc}).") from None
            names = [n for n in schema.names if not PANDAS_ROW_LABELS.fullmatch(n)]
            self._refuse_duplicates(names)
            self._check_usecols(names)
            read = set(self.usecols or names)
            types = {n: t for n, t in zip(schema.names, schema.types, strict=True) if n in read}
            return names, types
        head = self._head_lines()
        names = next(
            csv.reader(
                io.StringIO(head.decode(errors="replace"), newline=""), delimiter=self.delimiter
            ),
            [],
        )
        if not names:
            raise DataError(f"{self.name} is empty: expected a header line and data rows.")
        unnamed = [i + 1 for i, n in enumerate(names) if not n.strip()]
        if unnamed:
            hint = ""
            if unnamed[0] == 1 and len(names) > 1:  # pandas' to_csv writes its index so
                hint = (" A nameless first column is most often the row numbers pandas' "
                        "to_csv writes by default: write the file with index=False, or name "
                        "the column in the header and pass it in --id-col.")  # fmt: skip
            elif unnamed == [len(names)] and len(names) > 1:
                hint = (f" The header line ends with {self.delimiter!r}: if every line does "
                        "(a delimiter after the last field), remove it from the lines.")
            raise DataError(
                f"{self.name}: column {unnamed[0]} of the header has no name; every column "
                f"needs one.{hint}"
            )
        self._check_usecols(names)
        if self.usecols is None:  # not again for a selection of its columns
            self._check_header(names)
        self._refuse_duplicates(names)
        if len(names) == 1:
            for other in [",", ";", "\t", "|"]:
                if other != self.delimiter and other in names[0]:
                    raise DataError(
                        f"{self.name}: the header has a single column {names[0]!r}: the "
                        f"file looks {other!r}-delimited; pass --delimiter {other!r}."
                    )
        try:
            sample = self._parse(io.BytesIO(head), chunksize=None)
        except DataError as error:
            raise self._located(error, head, True, self._skipped_lines, len(names)) from None
        self._check_index(sample, head, True, self._skipped_lines, expected=len(names))
        types, dtypes = {}, sample.dtypes.to_dict()
        for name in self.usecols or names:
            dtype = dtypes[name]
            if name in self.column_types:
                types[name] = self.column_types[name]
            elif pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
                types[name] = pa.string()
            else:
                types[name] = pa.from_numpy_dtype(dtype)
        return names, types

    def _check_usecols(self, names):
        unknown = [c for c in self.usecols or () if c not in names]
        if unknown:
            raise DataError(f"{self.name}: no column named {_names(unknown)}.")

    def _types(self):
        """``read_csv``'s type options: ``text`` reads every cell as written."""
        if self.text:
            return {"dtype": str, "keep_default_na": False, "na_filter": False}
        if self.as_written is None:
            return {"dtype": self._pandas_types()}
        missing = {n: list(DEFAULT_NA_VALUES) for n in self.column_types
                   if n not in self.as_written}  # fmt: skip
        return {"dtype": self._pandas_types(), "keep_default_na": False, "na_values": missing}

    def _parse(self, source, chunksize):
        try:
            return pd.read_csv(
                source,
                sep=self.delimiter,
                **self._types(),
                chunksize=chunksize,
                engine="c",
                low_memory=False,  # one type per column and chunk
                compression=None if not isinstance(source, str | Path) else "infer",
                encoding="utf-8-sig",  # a byte-order mark is not part of the first name
                usecols=self.usecols,
            )  # a line ends at \n, \r\n or a bare \r, mixed too (so record_end cuts)
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise DataError(f"{self.name}: unreadable ({_reason(exc)}).") from None
        except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise self._csv_error(exc, self._skipped_lines) from None

    def _iter_csv(self):
        """Chunks of about ``block_size`` bytes of text each, cut between records: memory
        follows the bytes, however long the rows grow (a row count would not)."""
        if self.path == STDIO:
            stream = io.BufferedReader(Prefixed(self._head, self._stdin))
            context = contextlib.nullcontext(stream)
        else:
            context = self._open()
        offset, lines = 0, self._skipped_lines
        checked_short_rows = False
        numbers = set(self.numbers)  # the columns still read as numbers
        with context as stream:
            for number, piece in enumerate(self._pieces(stream)):
                if self.usecols is not None:  # pandas then accepts any number of fields
                    self._check_fields(piece, number == 0, lines)
                self._refuse_empty_rows(piece, number == 0, lines, offset)
                try:
                    chunk = self._parse_piece(piece, first=number == 0, numbers=numbers)
                except pd.errors.EmptyDataError:
                    lines += count_lines(piece)
                    continue
                except (ValueError, pd.errors.ParserError) as exc:
                    error = self._csv_error(exc, lines - (number > 0), offset)
                    raise self._located(error, piece, number == 0, lines) from None
                self._check_index(chunk, piece, number == 0, lines)
                before, lines = lines, lines + count_lines(piece)
                if chunk.empty:
                    continue
                chunk.index = range(offset, offset + len(chunk))
                chunk = self._numeric(chunk)
                last = chunk.iloc[:, -1]
                padded = last.isna().any() or (self.text and bool((last == "").any()))
                if padded and self.path == STDIO:  # read once: its pieces, as they come
                    self._check_fields(piece, number == 0, before)
                elif not checked_short_rows and padded:
                    self._check_short_rows()  # a short row is padded with missing values
                    checked_short_rows = True
                yield chunk
                offset += len(chunk)

    def _pieces(self, stream):
        """The text in pieces of whole records of about ``block_size`` bytes."""
        carry, first, delimiter = b"", True, self.delimiter.encode()
        while True:
            try:
                data = stream.read(self.block_size)
            except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:  # e.g. a corrupted .gz
                raise DataError(
                    f"{self.name}: unreadable ({_reason(exc)}): corrupted or truncated?"
                ) from None
            except UnicodeDecodeError as exc:  # not in the --encoding given
                raise self._not_text(exc) from None
            if first and data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
            sep_line = first and self._skipped_lines and _EXCEL_SEP.match(data)
            if sep_line:  # Excel's sep= line, read with the head (gone already from stdin's)
                data = data[sep_line.end() :]
            first = False
            if not data:
                if carry:
                    yield carry
                return
            buffer = carry + data if carry else data
            cut = record_end(buffer, delimiter)
            if cut <= 0:  # a record longer than a block: read on
                carry = buffer
                continue
            yield buffer[:cut]
            carry = buffer[cut:]

    def _parse_piece(self, piece, first, numbers=None):
        """One piece as a chunk; ``numbers`` (a set) loses the columns read as text."""
        if self.text:  # pyarrow where it provably equals pandas
            numbers = set() if numbers is None else numbers
            frame = arrow_text_frame(piece, self.columns, self.delimiter, first=first,
                                     usecols=self.usecols, numbers=numbers)  # fmt: skip
            if frame is not None:
                numbers.difference_update(
                    [c for c in numbers if c in frame and frame[c].dtype != np.float64]
                )
                return frame
        return pd.read_csv(
            io.BytesIO(piece),
            sep=self.delimiter,
            header=None,
            names=self.columns,
            skiprows=1 if first else 0,
            **self._types(),
            engine="c",
            low_memory=False,
            encoding="utf-8",
            usecols=self.usecols,
        )

    def __iter__(self):
        if self.kind == "parquet":
            return prefetch(self._iter_parquet())
        return prefetch(self._iter_csv())

    def _iter_parquet(self):
        parquet = pq.ParquetFile(str(self.path))
        columns = self.usecols or self.columns  # not pandas' nameless row labels
        row_bytes = _parquet_row_bytes(parquet.metadata, set(columns))
        batch_rows = max(1024, self.block_size // max(row_bytes, 8 * len(columns)))
        offset = 0
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
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

def _parquet_row_bytes(metadata, columns):
    """Bytes of a row of ``columns`` once decoded, at most over the row groups (the
    uncompressed size of their pages): batches of ``block_size`` bytes, however wide a
    text column (the footer's size per row said ~0 for 20 KB ids: all in one batch)."""
    most = 1
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        size = sum(group.column(i).total_uncompressed_size for i in range(group.num_columns)
                   if group.column(i).path_in_schema.split(".")[0] in columns)  # fmt: skip
        most = max(most, size // max(1, group.num_rows))
    return most


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
    if frame.shape[1] < batch.num_columns:  # a named index pandas wrote: a column here
        frame = frame.reset_index()[batch.schema.names]
    frame.index = range(offset, offset + len(frame))
    return frame


def _names(names):
    return ", ".join(repr(n) for n in names)


def _reason(exc):
    return (str(exc).splitlines() or [type(exc).__name__])[0] or type(exc).__name__


# ----------------------------------------------------------------------------- output
