"""Tables in and out: CSV/TSV/Parquet read in chunks, outputs written atomically.

Reading lives in :mod:`ae_anomaly.tables.reader` (re-exported here), formats and errors in
:mod:`ae_anomaly.tables.formats`; this module writes: :func:`check_output`, :func:`atomic_path`
and :class:`TableWriter` (Parquet through :mod:`ae_anomaly.tables.parquetout`).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pa_compute
import pyarrow.csv as pa_csv

from .formats import (
    BLOCK_SIZE,
    COMPRESSION_SUFFIXES,
    PARQUET_SUFFIXES,
    STDIO,
    TEXT_SUFFIXES,
    DataError,
    OutputError,
    UsageProblem,
    table_format,
)
from .parquetout import ParquetOut, in_input_types
from .reader import TableReader
from .sinks import whole_writes
from .zones import zoned_text

__all__ = [
    "BLOCK_SIZE",
    "COMPRESSION_SUFFIXES",
    "PARQUET_SUFFIXES",
    "STDIO",
    "TEXT_SUFFIXES",
    "DataError",
    "OutputError",
    "PART_SUFFIX",
    "TableReader",
    "TableWriter",
    "UsageProblem",
    "atomic_path",
    "check_output",
    "clean_stale_parts",
    "forget_checked_outputs",
    "table_format",
]


def check_output(output, inputs=(), *, force=False, table=True, delimiter=None):
    """Refuse an output that exists (unless ``force``), that is one of the ``inputs``, that
    is not a regular file, or whose directory cannot be written: before any work.

    With ``table``, also refuse an extension that is not a table format (any name is
    text with a ``delimiter``, as :class:`TableWriter` writes it). Whether the output
    exists is remembered: the next :func:`atomic_path` to it in this process replaces only
    a file that existed at this check (with ``force``), never one that another run
    created meanwhile (that run's file is kept, and this one fails).

    Examples
    --------
    >>> check_output("-")
    >>> check_output(__file__, [__file__], table=False)
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.formats.UsageProblem: The output ... is also an input: choose another path.
    """
    if output is None or output == STDIO:
        if sys.stdout is None:  # started with stdout closed (>&-): nowhere to write
            raise UsageProblem("stdout is closed: name an output file with -o.")
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
        table_format(output, delimiter, output=True)  # a known extension, before any work
    if out.is_dir():
        raise UsageProblem(f"The output {str(output)!r} is a directory.")
    _check_regular(output)
    if out.exists() and not force:
        raise UsageProblem(f"{str(output)!r} already exists; pass --force to overwrite it.")
    folder = Path(os.path.realpath(out)).parent
    if not folder.is_dir():
        raise UsageProblem(f"The directory of the output {str(output)!r} does not exist.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageProblem(f"Cannot write {str(output)!r}: its directory is read-only.")
    with _CHECKED_LOCK:
        _CHECKED[os.path.realpath(out)] = out.exists()


#: ``{real path: existed}`` of the outputs :func:`check_output` passed, for :func:`atomic_path`.
_CHECKED = {}
_CHECKED_LOCK = threading.Lock()


def forget_checked_outputs():
    """Forget what :func:`check_output` saw (the CLI does after each command)."""
    with _CHECKED_LOCK:
        _CHECKED.clear()


def _check_regular(path):
    """An existing output (or a symlink's target) must be a regular file we can replace."""
    try:
        mode = os.stat(path).st_mode  # follows links, /proc/self/fd/1's to the pipe too
    except OSError:
        return
    if not stat.S_ISREG(mode):
        raise UsageProblem(
            f"The output {str(path)!r} is not a regular file (a device, pipe or terminal): "
            "write to stdout with -o - (or omit -o)."
        )


#: Temporary outputs are named ``.<name>.<pid>.<random>.ae-anomaly.part``: recognisable,
#: and removable once the process that wrote them is gone (killed with -9, power loss).
PART_SUFFIX = ".ae-anomaly.part"


def clean_stale_parts(path):
    """Remove the temporary files left beside ``path`` by runs that no longer exist.

    Returns the paths removed.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / ".out.csv.999999999.x1.ae-anomaly.part").write_text("half")
    >>> [p.name for p in clean_stale_parts(folder / "out.csv")]
    ['.out.csv.999999999.x1.ae-anomaly.part']
    """
    path = Path(os.path.realpath(path))
    removed = []
    prefix = f".{path.name}."
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(PART_SUFFIX)):
            continue
        pid = name[len(prefix) :].split(".", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    return removed


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid < 2**31  # another user's process, or an impossible pid
    return True


@contextlib.contextmanager
def atomic_path(path, *, replace=None):
    """Yield a temporary path beside ``path``; move it to ``path`` only on success.

    An interrupted or failed write leaves no partial file (and an existing ``path``
    untouched). A symlink is followed: its target is replaced, the link kept. An existing
    file keeps its permissions. ``replace=False`` never replaces a file: if ``path`` exists
    at the end (another run created it meanwhile), :class:`OutputError` is raised and the
    other file is kept. The default, ``None``, replaces only a file that existed when
    :func:`check_output` checked ``path`` (which the CLI does before any work, refusing
    an existing one without ``--force``), or, unchecked, when this starts. Temporary
    files of killed runs are removed first (:func:`clean_stale_parts`).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = pathlib.Path(tmp).write_text("done")
    >>> target.read_text()
    'done'
    """
    _check_regular(path)
    target = Path(os.path.realpath(path))
    clean_stale_parts(target)
    try:
        previous = os.stat(target)
    except FileNotFoundError:
        previous = None
    with _CHECKED_LOCK:
        checked = _CHECKED.pop(str(target), None)
    if replace is None:
        replace = previous is not None if checked is None else checked
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=PART_SUFFIX, dir=target.parent
        )
    except OSError as exc:
        raise OutputError(f"Cannot write {str(path)!r}: {exc.strerror}.") from None
    os.close(fd)
    try:
        yield tmp
        try:
            if previous is not None:
                os.chmod(tmp, stat.S_IMODE(previous.st_mode))
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
            if replace:
                os.replace(tmp, target)
            else:
                _link_new(tmp, target, path)
        except OSError as exc:
            raise OutputError(f"Cannot write {str(path)!r}: {exc.strerror or exc}.") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _link_new(tmp, target, shown):
    """Give ``tmp`` the name ``target`` unless that name exists (atomic: a hard link)."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise OutputError(
            f"{str(shown)!r} was created by someone else while this ran; not replacing it."
        ) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # no hard links here (FAT, some network file systems): claim the name, then fill it
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            raise OutputError(
                f"{str(shown)!r} was created by someone else while this ran; not replacing it."
            ) from None
        os.replace(tmp, target)


#: Characters other than letters and digits that numbers, dates, times and booleans are
#: written with (-1.5e+03, 2020-01-02 10:00:00.5, 2020-01-02 10:00:00+01:00).
_IN_WRITTEN_VALUES = ".+-: "


class TableWriter:
    """Write DataFrames chunk by chunk to CSV/TSV/Parquet (by extension) or to stdout.

    Use as a context manager: the file appears, complete, only when the block exits
    without an error. The first chunk fixes the columns, not their types: chunks read
    one at a time may type a column differently (empty, then text). CSV/TSV cells are
    text, each written as its chunk holds it: byte strings (UTF-8) and durations as
    text, times with a zone as pandas writes them (``2024-01-01 02:37:36+01:00``,
    :func:`~ae_anomaly.tables.zones.zoned_text`), categories as their values, lists and
    records refused (:func:`check_columns`).
    A Parquet column takes the type pandas gives the whole table, or is refused naming
    the row where it changes (:class:`~ae_anomaly.tables.parquetout.ParquetOut`); with
    ``types`` (``{name: Arrow type}``, an input's), the named columns take those types
    where their values fit (:func:`~ae_anomaly.tables.parquetout.in_input_types`).

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

    def __init__(self, path=None, *, delimiter=None, replace=None, types=None):
        self.path = STDIO if path is None else path
        self.types = types or {}  # the input's Arrow types, kept in Parquet where they fit
        self.replace = replace  # see atomic_path: the CLI passes --force
        self.kind, self.delimiter = table_format(self.path, delimiter, output=True)
        self._stack = contextlib.ExitStack()
        self._parquet = None
        self._names = None  # the first chunk's columns, every chunk's
        self._sink = None

    def __enter__(self):
        if self.path == STDIO:
            if sys.stdout is None:  # started with stdout closed (>&-)
                raise OutputError("Cannot write to stdout: it is closed.")
            self._sink = whole_writes(getattr(sys.stdout, "buffer", sys.stdout))  # python -u
        else:
            tmp = self._stack.enter_context(atomic_path(self.path, replace=self.replace))
            if self.kind == "parquet":  # its file, and the spare a rewrite uses (removed)
                spare = f"{tmp.removesuffix(PART_SUFFIX)}.spare{PART_SUFFIX}"
                self._parquet = ParquetOut(tmp, spare)
                self._stack.callback(self._parquet.abort)
                return self
            suffix = Path(self.path).suffix.lower()
            self._sink = self._stack.enter_context(
                pa.output_stream(tmp, compression=COMPRESSION_SUFFIXES.get(suffix))
            )
        return self

    def write(self, frame):
        """Append the rows of a DataFrame (the first call fixes the columns)."""
        try:
            self._write(frame)
        except OSError as exc:  # disk full, I/O error, file size limit: one line
            raise self._failed(exc) from None

    def _write(self, frame):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        first, self._names = self._names is None, self._names or table.schema.names
        if table.schema.names != self._names:  # their cells would go under other names
            raise OutputError(
                f"Cannot write {str(self.path)!r}: a chunk has the columns "
                f"{table.schema.names}, the first one had {self._names}."
            )
        if self._parquet is not None:
            self._parquet.write(in_input_types(table, self.types) if self.types else table)
            return
        table = _as_text_columns(table)  # each chunk as it is: a cell is text whatever its type
        if first:  # a plain header: Arrow would quote every name
            header = io.StringIO()
            csv.writer(header, delimiter=self.delimiter, lineterminator="\n").writerow(
                table.schema.names
            )
            self._sink.write(header.getvalue().encode())
        quoting = _quoting(table, self.delimiter)
        if table.num_columns == 1:
            table, quoting = _one_column(table, quoting)
        pa_csv.write_csv(table, self._sink, pa_csv.WriteOptions(
            include_header=False, delimiter=self.delimiter, batch_size=65536,
            quoting_style=quoting,
        ))  # fmt: skip

    def __exit__(self, exc_type, exc, tb):
        try:
            try:
                if self._parquet is not None:
                    if exc_type is None:
                        self._parquet.close()
                elif self.path == STDIO:
                    self._sink.flush()
                else:
                    self._sink.close()  # flushes: a full disk shows here
            except OSError as error:
                if exc_type is None:
                    raise self._failed(error) from None
                # else the error that stopped the writing is the one to tell
        except BaseException:
            self._stack.__exit__(*sys.exc_info())
            raise
        self._stack.__exit__(exc_type, exc, tb)
        return False

    def _failed(self, exc):
        """The one-line error of a failed write; a reader that went away (``| head``)
        stays a BrokenPipeError, which click ends quietly, as Unix tools do."""
        if self.path != STDIO:
            return OutputError(f"Cannot write {str(self.path)!r}: {_reason(exc)}.")
        if isinstance(exc, BrokenPipeError):
            return exc
        return OutputError(f"Cannot write to stdout: {_reason(exc)}.")


def check_columns(frame, path=None, *, delimiter=None):
    """Raise :class:`OutputError` now if ``frame``'s columns cannot go to ``path``'s format
    (lists or records to CSV/TSV), rather than after a long fit.

    Examples
    --------
    >>> check_columns(pd.DataFrame({"tags": [[1, 2]]}), "out.csv")
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.formats.OutputError: column 'tags' holds lists, which a CSV or TSV ...
    >>> check_columns(pd.DataFrame({"tags": [[1, 2]]}), "out.parquet")
    """
    if table_format(STDIO if path is None else path, delimiter)[0] != "parquet":
        _as_text_columns(pa.Table.from_pandas(frame.head(64), preserve_index=False))


def _as_text_columns(table):
    """The table with UTF-8 bytes, durations and times with a zone as text, categories as
    their values and every text as plain strings (the only ones checked for characters
    that need quotes); lists, records and bytes that are not text refused: a CSV cell
    holds text."""
    for i in range(table.num_columns):
        field = table.schema.field(i)
        if pa.types.is_dictionary(field.type):  # pandas' category: written as its values
            table = table.set_column(i, field.name, table.column(i).cast(field.type.value_type))
            field = table.schema.field(i)
        if _is_string_view(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
            continue
        what = None
        if pa.types.is_nested(field.type):
            what = "records" if pa.types.is_struct(field.type) else "lists"
        elif pa.types.is_timestamp(field.type) and field.type.tz is not None:
            table = table.set_column(i, field.name, zoned_text(table.column(i)))  # +01:00
        elif pa.types.is_duration(field.type):  # as pandas writes them: 0 days 00:01:30
            text = table.column(i).to_pandas().map(lambda v: None if pd.isna(v) else str(v))
            table = table.set_column(i, field.name, pa.array(text, type=pa.string()))
        elif pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            try:
                table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
            except pa.ArrowInvalid:
                what = "bytes that are not UTF-8 text"
        if what:
            raise OutputError(
                f"column {field.name!r} holds {what}, which a CSV or TSV file cannot hold; "
                "write Parquet (an output ending in .parquet) or leave the column out."
            )
    return table


def _quoting(table, delimiter):
    """Arrow's quoting style for ``table``: Arrow quotes every text value unless told not
    to, so only when one needs it; every value when the delimiter can occur in a number, a
    date or a boolean as written (``--delimiter .`` would split 0.25 in two)."""
    if delimiter.isalnum() or delimiter in _IN_WRITTEN_VALUES:
        return "all_valid"
    special = f'[{re.escape(delimiter)}"\\n\\r]'
    needs_quotes = any(
        pa_compute.any(pa_compute.match_substring_regex(column, special)).as_py()
        for column in table.columns
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
    )
    return "needed" if needs_quotes else "none"


def _one_column(table, quoting):
    """A one-column table and its quoting, such that no line is blank: a missing cell, an
    empty or a blank text alone on its line is a blank line, which readers (pandas, this
    package's) skip. Such cells are written ``""`` or quoted, as pandas writes them."""
    column = table.column(0)
    if column.null_count:  # as text, missing cells empty
        column = pa_compute.fill_null(column.cast(pa.string()), "")
        table = table.set_column(0, table.schema.names[0], column)
    text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
    if quoting == "none" and text:  # Arrow's "needed" quotes every text value
        blank = pa_compute.any(pa_compute.match_substring_regex(column, r"^\s*$")).as_py()
        quoting = "needed" if blank else quoting
    return table, quoting


def _is_string_view(arrow_type):
    """Arrow's string_view (pyarrow 16+), which its regex functions do not take."""
    is_view = getattr(pa.types, "is_string_view", None)
    return is_view is not None and is_view(arrow_type)


def _reason(exc):
    """An OSError's reason in a few words (pyarrow's carry no strerror)."""
    if exc.strerror:
        return exc.strerror
    return (str(exc).splitlines() or [type(exc).__name__])[0]
