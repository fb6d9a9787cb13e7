"""The refusals of CSV text: rows with other field counts than the header, quotes never
closed, text that is not in its encoding -- each one line naming the file and the line.

:class:`CsvChecks` is the part of :class:`~ae_anomaly.tables.reader.TableReader` that
finds and words them (it reads the reader's ``name``, ``path``, ``columns``,
``delimiter``, ``encoding``, ``_skipped_lines`` and ``_open``).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings

import numpy as np
import pandas as pd

from .formats import STDIO, DataError, UsageProblem, input_stream
from .streams import count_lines, field_counts, inside_quotes

_RAGGED_ROW = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_UNCLOSED_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")
_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


#: The byte-order marks of UTF-16 text (Excel's "Unicode Text" export).
UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
#: Bytes no text holds (control characters other than tab, line feed, carriage return).
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: The first bytes of files that are not text, and what to do with them.
_NOT_TEXT = (
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook is one): unzip it, or save the "
                    "sheet as CSV"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 .xls workbook: save the sheet as CSV"),
    (b"\x1f\x8b", "gzip-compressed data: name it .csv.gz (or .tsv.gz)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data: name it .csv.zst"),
    (b"BZh91AY&SY", "bzip2-compressed data: name it .csv.bz2"),
    (b"\xfd7zXZ\x00", "xz-compressed data: name it .csv.xz"),
    (b"PAR1", "a Parquet file: name it .parquet"),
)  # fmt: skip


class HeaderWarning(UserWarning):
    """The header line of a CSV file looks like a row of data."""


class EncodingWarning(UserWarning):
    """A CSV file read with ``--encoding`` reads as UTF-8 text."""


class CsvChecks:
    """Checks and error messages of a CSV reader (a mixin of ``TableReader``)."""

    def _check_no_utf8_mark(self):
        """Refuse another encoding for a file that says it is UTF-8 (a byte-order mark:
        read as cp1252 it would become part of the first column's name); warn when its
        first lines are UTF-8 text beyond ASCII (``Café`` would read ``CafÃ©``)."""
        with input_stream(self.path) as stream:
            head = stream.read(1 << 16)
        if head.startswith(codecs.BOM_UTF8):
            raise DataError(
                f"{self.name} starts with a UTF-8 byte-order mark: it is UTF-8 text, not "
                f"{self.encoding}; drop --encoding."
            )
        lines = head.splitlines()[:-1] if len(head) == 1 << 16 else head.splitlines()
        try:
            text = [line.decode("utf-8") for line in lines]
        except UnicodeDecodeError:
            return  # not UTF-8: the encoding given is needed
        number, line = next(((i, t) for i, t in enumerate(text, 1) if not t.isascii()), (0, ""))
        if number:
            words = re.split(r"[ ,;|\t]+", line)  # not \s: a no-break space is the word
            word = next((w for w in words if not w.isascii()), line)[:40]
            misread = word.encode("utf-8").decode(self.encoding, errors="replace")
            warnings.warn(
                f"{self.name} reads as UTF-8 text (line {number}: {word!r}), which "
                f"--encoding {self.encoding} reads as {misread!r}: drop --encoding unless "
                "that is meant.",
                EncodingWarning,
                stacklevel=2,
            )

    def _check_header(self, names):
        """Warn when every name of the header is a number and one at least is not a whole
        number (``0.126,-1.5,3``): a data row, the file's header line missing, which
        pandas would take for the names (and lose the row). Whole numbers (``0,1,2``,
        years) are names often enough to pass."""
        if all(_NUMBER.fullmatch(n) for n in names) and not all(n.strip().isdigit() for n in names):
            shown = self.delimiter.join(names)
            warnings.warn(
                f"{self.name}: the header line {shown[:80]!r} is all numbers, like a data "
                "row; if the file has no header line, add one: its first row is being "
                "read as the column names.",
                HeaderWarning,
                stacklevel=2,
            )

    def _check_fields(self, piece, first, lines, expected=None):
        """Refuse a record of ``piece`` whose field count differs from the header's
        (``expected``); ``lines``: the line breaks before ``piece``."""
        expected = len(self.columns) if expected is None else expected
        delimiter = self.delimiter.encode()
        if len(delimiter) != 1:  # not a delimiter pandas' C parser reads
            return
        starts, counts = field_counts(piece, delimiter)
        if first and len(counts):
            starts, counts = starts[1:], counts[1:]  # the header
        bad = np.flatnonzero(counts != expected)
        if len(bad):
            start = int(starts[bad[0]])
            line = lines + count_lines(piece, start) + 1
            got = int(counts[bad[0]])
            why = "an unclosed quote or a wrong delimiter?"
            if got > expected and (counts[bad[0] : -1] == got).all():  # the last may be cut
                why = "a delimiter ending every row, or a title line above the header?"
            raise DataError(
                f"{self.name}: malformed CSV at line {line}: expected {expected} fields like "
                f"the header, got {got} ({why})."
            )

    def _located(self, error, piece, first, lines, expected=None):
        """``error``, or the field-count error naming the line of ``piece`` where the field
        count first differs: pandas counts records, which quoted cells holding line breaks
        make fewer than the lines (line 203 named for line 304)."""
        try:
            self._check_fields(piece, first, lines, expected)
        except DataError as precise:
            return precise
        return error

    def _refuse_empty_rows(self, piece, first, lines, rows):
        """Refuse a record of ``piece`` whose every field is empty (``,,,``): a blank row
        of a spreadsheet, which it exports so; read, it is a row of missing values only,
        which ``impute`` would fill and score. ``lines``/``rows``: the line breaks and the
        data rows before ``piece``. Looked for with one search of the bytes (fast), the
        records counted only when one is found."""
        empty = self.delimiter.encode() * (len(self.columns) - 1)
        if len(empty) != len(self.columns) - 1 or not empty:
            return  # one column (a blank line), or a delimiter of several bytes
        if b"\n" + empty not in piece and (b"\r" not in piece or b"\r" + empty not in piece):
            if first or not piece.startswith(empty):
                return  # no line starts so: the common case, at memchr's speed
        inside = inside_quotes(piece, empty[:1]) if b'"' in piece else None
        for match in re.finditer(re.escape(empty) + rb"(?=\r|\n|\Z)", piece):
            start = match.start()
            if start == 0 and first or start and piece[start - 1] not in b"\r\n":
                continue  # the header; the end of a line of other fields
            if inside is not None and start and inside[start - 1]:
                continue  # a line inside a quoted field
            starts = field_counts(piece, empty[:1])[0]
            row = rows + int(np.searchsorted(starts, start)) + 1 - first
            line = lines + count_lines(piece, start) + 1
            raise DataError(
                f"{self.name}: row {row} (line {line}) is empty, every cell blank, as "
                "spreadsheets export blank rows: delete the empty rows from the file."
            )

    def _check_index(self, frame, piece, first, lines, expected=None):
        """Refuse rows with more fields than the header, which pandas reads silently as
        an index made of their first fields."""
        if not isinstance(frame.index, pd.RangeIndex):
            self._check_fields(piece, first, lines, expected)
            raise DataError(f"{self.name}: malformed CSV: rows have more fields than the header.")

    def _csv_error(self, exc, lines=0, rows=0):
        """One line for a parser error; ``lines``/``rows`` before the piece parsed."""
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, UnicodeDecodeError):
            return self._not_text(exc)
        if isinstance(exc, pd.errors.EmptyDataError):
            return DataError(f"{self.name} is empty: expected a header line and data rows.")
        ragged = _RAGGED_ROW.search(message)
        if ragged:
            expected, line, got = (int(g) for g in ragged.groups())
            line += lines
            return DataError(
                f"{self.name}: malformed CSV at line {line}: expected {expected} fields like "
                f"the header, got {got} (an unclosed quote or a wrong delimiter?)."
            )
        quote = _UNCLOSED_QUOTE.search(message)
        if quote:
            return DataError(
                f"{self.name}: malformed CSV: a quote opened at line "
                f"{int(quote.group(1)) + 1 + lines} "
                "is never closed."
            )
        return DataError(f"{self.name}: unreadable CSV ({message}).")

    def _not_text(self, exc):
        """The error for text that is not in its encoding, naming the first line that is
        not UTF-8 (the text as transcoded, when the encoding is another)."""
        if self.encoding:
            return DataError(
                f"{self.name} is not {self.encoding} text ({exc.reason}: byte "
                f"0x{exc.object[exc.start]:02x}); check --encoding."
            )
        where = ""
        if self.path != STDIO:
            with self._open() as stream, io.BufferedReader(stream) as lines:
                for number, line in enumerate(lines, start=1):
                    try:
                        line.decode("utf-8")
                    except UnicodeDecodeError as error:
                        byte = line[error.start]
                        where = f" (line {number}: byte 0x{byte:02x}, {line[:60]!r})"
                        break
        return DataError(
            f"{self.name} is not UTF-8{where}; pass --encoding, e.g. cp1252 for a Windows "
            "or Excel export, or save it as UTF-8."
        )

    def _check_short_rows(self):
        """Raise on the first row with fewer fields than the header (file paths only)."""
        if self.path == STDIO:
            return
        rows = self._text_rows()
        for _ in range(self._skipped_lines):  # Excel's sep= line
            next(rows, None)
        expected = len(next(rows, []))
        for number, row in enumerate(rows, start=2 + self._skipped_lines):
            if row and len(row) < expected:
                raise DataError(
                    f"{self.name}: malformed CSV at line {number}: expected {expected} fields "
                    f"like the header, got {len(row)} (an unclosed quote or a wrong delimiter?)."
                )

    def _text_rows(self):
        """The file's rows as lists of strings, through Python's csv module (error paths only)."""
        with (
            self._open() as stream,
            io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="") as text,
        ):
            yield from csv.reader(text, delimiter=self.delimiter)

    def _refuse_binary(self, head):
        """Name what a file that is not text is, from its first bytes (a zip archive, a
        workbook, gzip or Parquet under a .csv name), rather than read it as a header."""
        control = _CONTROL.search(head[:64]) is not None  # no text: "PAR1,PAR2" may be
        for magic, what in _NOT_TEXT if control else ():
            if head.startswith(magic):
                raise DataError(f"{self.name} is not a text table: {what}.")
        if head.startswith(UTF16_MARKS):  # from stdin, which is read once
            raise DataError(
                f"{self.name} is UTF-16 text (it starts with a UTF-16 byte-order mark, as "
                "Excel's \"Unicode Text\" does): pass --encoding utf-16."
            )
        even, odd = head[:256:2], head[1:256:2]  # UTF-16 without a mark: ASCII, then a 0
        for zeros, other, order in ((odd, even, "le"), (even, odd, "be")):
            if len(zeros) >= 4 and zeros.count(0) == len(zeros) and other.count(0) == 0:
                raise DataError(f"{self.name} looks like UTF-16 text without a byte-order "
                                f"mark (every other byte is 0): pass --encoding utf-16{order}.")


def codec_of(encoding):
    """The Python codec named ``encoding``; None for UTF-8 (the text is read as it is).

    Examples
    --------
    >>> codec_of("Windows-1252"), codec_of("UTF8"), codec_of(None)
    ('cp1252', None, None)
    """
    if encoding is None:
        return None
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise UsageProblem(
            f"--encoding: no text encoding named {encoding!r} (e.g. utf-8, cp1252, latin-1)."
        ) from None
    return None if name in ("utf-8", "utf-8-sig") else name


__all__ = ["CsvChecks", "EncodingWarning", "HeaderWarning", "codec_of"]
