"""Parse a piece of CSV text with pyarrow when the result is provably pandas' own.

:class:`~ae_anomaly.tables.reader.TableReader` reads CSV as text (every cell a string, as
written) for the table encoder. pandas' C parser builds a Python string per cell before
storing them as Arrow strings, which made it ~8x slower than reading numbers. pyarrow's
CSV reader produces the same Arrow strings directly. The two parsers differ on malformed
or unusual input, so :func:`arrow_text_frame` parses a piece only when none of those cases
can occur, and returns ``None`` otherwise (the caller then uses pandas, whose errors and
results stay the reference):

- a quote character anywhere after the header line (quoting rules differ on malformed
  quotes, e.g. an unclosed quote at the end of a piece);
- a carriage return not followed by a line feed, the header line's included (pandas
  starts a line there differently);
- a line of blanks only (pandas skips it) where it could parse as a row: one column, or a
  blank delimiter;
- anything pyarrow refuses (a ragged row, invalid UTF-8): pandas reports it.

A differential fuzz test (``tests/test_fastcsv.py``) checks equality with pandas.

Where the reader knows a column holds numbers (a model's numeric column, see
:func:`~ae_anomaly.tables.mixed.plain_number_columns`), ``numbers`` has pyarrow parse its
cells as float64 while it reads them, instead of a cast of the text later: the same
parser (the cast's, plus blanks around a number; the encoder strips those too), one pass
fewer. A piece whose column holds anything else (a missing value, a word, ``nan``) keeps
that column as text, so the encoder sees it and reports it as before.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

#: pandas' ``str`` dtype: what ``read_csv(dtype=str)`` gives.
TEXT_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)
_BLANK = "^[ \\t\\x0b\\x0c]*$"
_LINE_END = re.compile(rb"\r\n?|\n")


def header_end(piece):
    """The index after the first line of ``piece`` (ended by ``\\n``, ``\\r\\n`` or a bare
    ``\\r``) when that line is a whole record (its quotes closed), else -1 (a quoted line
    break in the header: left to pandas)."""
    end = _LINE_END.search(piece)
    if end is None or piece.count(b'"', 0, end.start()) % 2:
        return -1
    return end.end()


def arrow_text_frame(piece, columns, delimiter, *, first, usecols=None, numbers=()):
    """The piece's rows as a DataFrame of ``str`` columns (float64 for the plain
    ``numbers``), or None to leave the piece to pandas.

    Parameters
    ----------
    piece : bytes
        Whole records (cut after a line end); the first piece starts with the header.
    columns : list of str
        The header's names.
    delimiter : str
    first : bool
        Whether ``piece`` starts with the header line (skipped).
    usecols : list of str, optional
        Keep only these columns (in file order, as pandas does).
    numbers : collection of str, optional
        Columns returned as float64 where every cell of the piece is a plain number that
        is not NaN (``1.5``, `` -2e3``, ``inf``); the others of them stay text.

    Examples
    --------
    >>> arrow_text_frame(b"a,b\\n1, x\\n", ["a", "b"], ",", first=True).to_dict("list")
    {'a': ['1'], 'b': [' x']}
    >>> arrow_text_frame(b'1,"x"\\n', ["a", "b"], ",", first=False) is None  # quoted
    True
    >>> arrow_text_frame(b"1.5,x\\n", ["a", "b"], ",", first=False, numbers={"a"}).dtypes.a
    dtype('float64')
    """
    if piece.find(b"\r") >= 0 and piece.count(b"\r") != piece.count(b"\r\n"):
        return None  # a bare CR anywhere, after the header line or ending it
    start = header_end(piece) if first else 0
    if start < 0 or start == len(piece) or piece.find(b'"', start) >= 0:
        return None
    keep = columns if usecols is None else [c for c in columns if c in set(usecols)]
    read = functools.partial(_read, pa.py_buffer(piece)[start:], columns, delimiter, keep)
    wanted = [c for c in keep if c in set(numbers)]
    try:
        table = read(wanted) if wanted else None
    except pa.ArrowInvalid:  # a cell that is not a number: find the column below
        table = None
    if table is None or _holds_nan(table, wanted):
        try:
            table = _plain_numbers(read(()), wanted)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
    if (len(columns) == 1 or delimiter in " \t") and _has_blank_row(table):
        return None
    return table.to_pandas(types_mapper={pa.string(): TEXT_DTYPE}.get)


def _read(buffer, columns, delimiter, keep, numbers):
    """The Arrow table of the records in ``buffer``: ``numbers`` as float64, the rest text."""
    types = {c: pa.float64() if c in numbers else pa.string() for c in keep}
    return pa_csv.read_csv(
        pa.BufferReader(buffer),
        read_options=pa_csv.ReadOptions(column_names=columns, use_threads=False),
        parse_options=pa_csv.ParseOptions(
            delimiter=delimiter, quote_char=False, newlines_in_values=False,
            ignore_empty_lines=True,
        ),  # fmt: skip
        convert_options=pa_csv.ConvertOptions(
            column_types=types, include_columns=keep, strings_can_be_null=False,
            quoted_strings_can_be_null=False, null_values=[],
        ),  # fmt: skip
    )


def _holds_nan(table, names):
    return any(pc.any(pc.is_nan(table.column(name))).as_py() for name in names)


def _plain_numbers(table, names):
    """``table`` with those of the text columns ``names`` cast to float64 whose every cell
    is a number (no blanks around it) and none NaN; the others unchanged."""
    for name in names:
        index = table.schema.get_field_index(name)
        try:
            values = table.column(index).cast(pa.float64())
        except pa.ArrowInvalid:
            continue
        if not pc.any(pc.is_nan(values)).as_py():
            table = table.set_column(index, name, values)
    return table


def _has_blank_row(table):
    """Whether a row has only blanks in every cell (a line pandas skips)."""
    if any(not pa.types.is_string(t) for t in table.schema.types):
        return False  # a number is never blank
    blank = None
    for column in table.columns:
        mask = pc.match_substring_regex(column, _BLANK)
        blank = mask if blank is None else pc.and_(blank, mask)
        if not pc.any(blank).as_py():
            return False
    return blank is not None


__all__ = ["TEXT_DTYPE", "arrow_text_frame", "header_end"]
