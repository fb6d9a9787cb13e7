"""Signs that a spreadsheet's export is read as something it is not.

A spreadsheet saves its view of the numbers: the separators of its locale, a totals row
below the data. Read as plain CSV they give tables that type and fit without an error and
mean something else: whole numbers written ``1.817`` (one thousand eight hundred
seventeen, German style) read as 1.817 beside ``419``, or a row of column sums trained on
as one more observation. The checks here look at a table in memory when a model is
fitted, and warn naming the column or the row and the option or the edit that fixes it.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from .errors import Phrased, cell_repr, escape, row_name, user_stacklevel

#: A whole number with ``.`` between groups of three digits (``1.817``, ``12.345.678``).
_DOTTED_THOUSANDS = re.compile(r"\s*[+-]?\d{1,3}(?:\.\d{3})+\s*", re.ASCII)
#: A whole number that needs no thousands separator (``419``, ``-7``).
_UNDER_A_THOUSAND = re.compile(r"\s*[+-]?\d{1,3}\s*", re.ASCII)
#: The dotted cells looked at first: a column of ordinary decimals fails on one of them.
_PROBE = 64
#: What the label cell of a totals row says (English, German, French, Spanish, Italian,
#: Dutch, Portuguese), any case, a colon after it allowed.
_TOTAL = re.compile(
    r"\s*(?:(?:grand\s+|sub-?)?totals?|sum|summe|gesamt(?:summe)?|somme|total\s+g[ée]n[ée]ral|"
    r"suma|totale|totaal|soma)\s*:?\s*",
    re.IGNORECASE,
)
#: Rows a table needs (the totals row included) for sums alone to tell a totals row.
_MIN_ROWS = 5
#: A number as a spreadsheet writes one in a CSV file: its decimals tell its rounding.
_WRITTEN_NUMBER = re.compile(r"\s*[+-]?\d+(?:\.(\d*))?\s*", re.ASCII)


class ThousandsLikeWarning(Phrased, UserWarning):
    """A column read as numbers mixes whole numbers under 1000 (``419``) with numbers of
    exactly three decimals (``1.817``): whole numbers with ``.`` separating thousands,
    probably, as a German or Italian spreadsheet writes them, which read as decimals put
    the values on two scales.

    Examples
    --------
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_thousands_like(pd.Series(["419", "1.817", "4.287"], name="qty"))
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    column 'qty' mixes whole numbers (e.g. '419') with numbers of exactly three decimals ...
    """


def warn_thousands_like(series, numbers=None):
    """Warn with :class:`ThousandsLikeWarning` when the cells ``numbers`` (a mask; default
    all) of a text column read as numbers with ``.`` as the decimal mark are whole
    numbers under 1000 and, in at least two cells and in every cell with a ``.``, whole
    numbers with ``.`` between groups of three digits.

    Genuine decimals seldom all have three: software drops trailing zeros (``1.8``), so a
    single ``12.5`` or ``0.25`` clears the column. A column with no whole number under
    1000 (weights ``1.817``, ``2.304``) is not warned about: nothing tells the two
    readings apart.

    Examples
    --------
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error")
    ...     warn_thousands_like(pd.Series(["419", "1.817", "4.25"], name="qty"))  # 4.25
    ...     warn_thousands_like(pd.Series(["1.817", "2.304"], name="kg"))  # no whole number
    """
    dtype = series.dtype
    if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
        return
    text = series if numbers is None else series[np.asarray(numbers, dtype=bool)]
    if not isinstance(text.dtype, pd.StringDtype):
        text = text.astype(str)
    dotted_mask = np.asarray(text.str.contains(".", regex=False), dtype=bool)
    if dotted_mask.sum() < 2 or dotted_mask.all():
        return
    dotted = text[dotted_mask]
    probe = dotted.iloc[:_PROBE]  # cheap looks first: ordinary decimals fail here
    if not probe.str.fullmatch(_DOTTED_THOUSANDS).all():
        return
    if not dotted.str.fullmatch(_DOTTED_THOUSANDS).all():
        return
    whole = text[~dotted_mask]
    if not whole.str.fullmatch(_UNDER_A_THOUSAND).all():
        return
    example = escape(dotted.iloc[0].strip())
    warnings.warn(ThousandsLikeWarning(
        f"column {escape(repr(series.name))} mixes whole numbers (e.g. "
        f"{escape(cell_repr(whole.iloc[0]))}) with numbers of exactly three decimals (e.g. "
        f"{escape(cell_repr(dotted.iloc[0]))}): if '.' separates thousands there ({example} "
        f"for {example.replace('.', '')}, as German spreadsheets write), pass {{decimal=,}} "
        "and {thousands=.} (they read every column of the table), or remove the dots from "
        "its cells."
    ), stacklevel=user_stacklevel())  # fmt: skip


class TotalsRowWarning(UserWarning):
    """The last row of a table is a spreadsheet's totals row, probably: it reads ``Total``
    (or ``Sum``, ``Summe``...), or its numbers are the sums of the rows above. Fitted on,
    it is one more row, far out in every column, that the model learns as normal.

    Examples
    --------
    >>> frame = pd.DataFrame({"id": ["a", "b", "c", "Total"], "x": ["1.5", "2", "4.25", "7.75"]})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_totals_row(frame, ["x"], "t.csv")
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    t.csv: row 3, the last, reads 'Total' and holds the sums of the rows above ('x'): ...
    """


def warn_totals_row(frame, features, name):
    """Warn with :class:`TotalsRowWarning` when the last row of ``frame`` has a text cell
    reading ``Total`` (or ``Sum``, ``Grand total``, ``Summe``...), or when every one of
    its ``features`` cells that is a number, two at least, is the sum of the rows above
    (four at least), to the rounding of its written decimals, and larger than each of
    them (two at least not 0). One column's sum alone is not told from chance.

    A feature column whose other cells are not all numbers is not summed (its total is
    then not told); the columns are cast by Arrow, at most once each.

    Examples
    --------
    >>> frame = pd.DataFrame({"x": [1.5, 2.0, 4.25, 7.75]})  # one column: maybe chance
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error")
    ...     warn_totals_row(frame, ["x"], "the table")
    """
    if len(frame) < 3 or frame.shape[1] == 0:
        return
    last = frame.iloc[-1]
    labels = [c for c in last if isinstance(c, str) and _TOTAL.fullmatch(c)]
    if not labels and len(frame) < _MIN_ROWS:
        return
    named = {str(c): c for c in frame.columns}
    summed = []
    for column in features:
        column = named.get(str(column), column)
        total = _number(last[column])
        if total is None:
            continue
        others = _floats(frame[column].iloc[:-1])
        if others is not None and _is_sum(total, others):
            summed.append(column)
        elif not labels:
            return  # a number that is no sum: no totals row
    if not labels and len(summed) < 2:
        return  # one column's total may be chance (3 after 1 and 2)
    what = f"reads {escape(cell_repr(labels[0].strip()))}" if labels else ""
    if summed:
        sums = f"holds the sums of the rows above ({', '.join(map(repr, summed))})"
        what = f"{what} and {sums}" if what else sums
    row = row_name(frame, len(frame) - 1)
    warnings.warn(TotalsRowWarning(
        f"{name}: row {row}, the last, {what}: a spreadsheet's totals row, probably, which "
        "would be fitted on as one more row; delete it from the file if so."
    ), stacklevel=user_stacklevel())  # fmt: skip


def _number(cell):
    """``(value, rounding)`` of a cell that is a number (text written so, or a number);
    rounding is half a unit of its last written decimal (0 for a typed number)."""
    if isinstance(cell, (bool, np.bool_)):
        return None
    if isinstance(cell, (int, float, np.integer, np.floating)):
        return (float(cell), 0.0) if np.isfinite(cell) else None
    if not isinstance(cell, str):
        return None
    match = _WRITTEN_NUMBER.fullmatch(cell)
    if match is None:
        return None
    return float(cell), 0.5 * 10.0 ** -len(match[1] or "")


def _floats(series):
    """The cells as float64 when every one is a number (missing ones left out), else None."""
    import pyarrow as pa

    if pd.api.types.is_bool_dtype(series.dtype):
        return None
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        try:
            text = pa.array(series, from_pandas=True)
            values = text.cast(pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
            return None
    values = values[~np.isnan(values)]
    return values if np.isfinite(values).all() else None


def _is_sum(total, others):
    value, rounding = total
    if np.count_nonzero(others) < 2 or not np.abs(others).max() < abs(value):
        return False
    expected = float(others.sum())
    return abs(value - expected) <= rounding + 1e-9 * max(abs(expected), 1.0)


__all__ = ["ThousandsLikeWarning", "TotalsRowWarning", "warn_thousands_like", "warn_totals_row"]
