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

from .errors import Phrased, cell_repr, escape, user_stacklevel

#: A whole number with ``.`` between groups of three digits (``1.817``, ``12.345.678``).
_DOTTED_THOUSANDS = re.compile(r"\s*[+-]?\d{1,3}(?:\.\d{3})+\s*", re.ASCII)
#: A whole number that needs no thousands separator (``419``, ``-7``).
_UNDER_A_THOUSAND = re.compile(r"\s*[+-]?\d{1,3}\s*", re.ASCII)
#: The dotted cells looked at first: a column of ordinary decimals fails on one of them.
_PROBE = 64


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


__all__ = ["ThousandsLikeWarning", "warn_thousands_like"]
