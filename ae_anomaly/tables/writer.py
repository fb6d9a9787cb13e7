"""Tables in and out: CSV/TSV/Parquet read in chunks, outputs written atomically.

Reading lives in :mod:`ae_anomaly.tables.reader` (re-exported here), formats and errors in
:mod:`ae_anomaly.tables.formats`; this module writes: :func:`check_output`, :func:`atomic_path`
and :class:`TableWriter`.
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
import pyarrow.compute as pa_compute
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from .formats import (
    BLOCK_SIZE,
    COMPRESSION_SUFFIXES,
    PARQUET_SUFFIXES,
    STDIO,
    TEXT_SUFFIXES,
    DataError,
    UsageProblem,
    table_format,
)
from .reader import TableReader

__all__ = [
    "BLOCK_SIZE",
    "COMPRESSION_SUFFIXES",
    "PARQUET_SUFFIXES",
    "STDIO",
    "TEXT_SUFFIXES",
    "DataError",
    "TableReader",
    "TableWriter",
    "UsageProblem",
    "atomic_path",
    "check_output",
    "table_format",
]


def check_output(output, inputs=(), *, force=False, table=True):
    """Refuse an output that exists (unless ``force``) or that is one of the ``inputs``.

    With ``table``, also refuse an extension that is not a table format.

    Examples
    --------
    >>> check_output("-")
    >>> check_output(__file__, [__file__], table=False)
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.formats.UsageProblem: The output ... is also an input: choose another path.
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
