"""What a text column may hold when it reads as neither numbers, booleans nor ISO dates.

Such a column becomes categories: one indicator per distinct value. That is right for
regions or product codes, and silently wrong for amounts written ``$1,234.50``, weights
``70.5 kg``, numbers with a decimal comma in a comma-separated file (``"0,25"``) or dates
written ``03/15/2024``: each value would be a category of its own, and a model would learn
nothing of their size or order. The functions here recognise those columns from their
distinct values; :func:`refuse_lookalike`, called by
:func:`ae_anomaly.tables.typing.classify_column`, refuses them with the option that reads
them.

The recognisers take the distinct texts of a column and how many rows hold each
(``weights``), and ask that at least ``min_fraction`` of the rows fit.
"""

from __future__ import annotations

import collections
import re
import unicodedata
import warnings

import numpy as np
import pandas as pd

from .errors import Phrased, TableError, cell_repr, escape, row_name, user_stacklevel

#: Blanks written between groups of digits: a space, and the no-break spaces that French
#: and other locales' spreadsheets write (``1\u202f234,50``), which look like a space.
_BLANKS = (" ", "\u00a0", "\u202f")
#: ``(decimal, thousands)`` marks tried on a column that does not read as numbers.
NUMBER_MARKS = (
    (".", None), (",", None), (".", ","), (",", "."),
    *((decimal, blank) for blank in _BLANKS for decimal in ".,"), (".", "'"),
)  # fmt: skip
#: Date formats tried on a column that does not read as ISO 8601 dates, and times of day
#: (read as on 1900-01-01: their seconds since 1970 order them).
DATE_FORMATS = tuple(
    day + time
    for day in (
        "%m/%d/%Y", "%d/%m/%Y", "%m/%d/%y", "%d/%m/%y", "%Y/%m/%d", "%d.%m.%Y", "%d.%m.%y",
        "%d-%m-%Y", "%m-%d-%Y", "%d %b %Y", "%d-%b-%Y", "%d-%b-%y", "%b %d, %Y", "%d %B %Y",
        "%B %d, %Y",
    )
    for time in ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
) + ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M:%S %p")  # fmt: skip
_PROBE = 256
#: A whole number of three digits or more written with leading zeros: a code (``02134``,
#: ``007``), not an amount (two digits, ``05``, are months, days, hours or minutes).
_LEADING_ZEROS = r"\s*[+-]?0\d{2,}\s*"
_ACCOUNTING = re.compile(
    r"^(?:\(\s*(?P<paren>\d[\d.,' \u00a0\u202f]*)\s*\)|(?P<trailing>\d[\d.,' \u00a0\u202f]*?)\s*-)$"
)
# A number with an amount's sign, digits and marks, and one unit before or after it.
_WITH_UNIT = re.compile(
    r"\s*(?P<sign>[+-]?)\s*(?P<pre>[^\w\s.,+-]{1,3})?\s*"
    r"(?P<number>[+-]?\d(?:[\d.,' \u00a0\u202f]*\d)?)"
    r"(?P<post>\s*[^\w\s.,'%+-]{1,3}|\s+[^\W\d_]{1,8}(?:/[^\W\d_]{1,3})?)?\s*"
)


def number_pattern(decimal=".", thousands=None):
    """The regular expression of a number written with these marks.

    Examples
    --------
    >>> bool(number_pattern(",", ".").fullmatch("-1.234,5e3"))
    True
    >>> bool(number_pattern(".", ",").fullmatch("12,34"))  # groups of 3 digits only
    False
    >>> bool(number_pattern(".", ",").fullmatch("12,34,567.50"))  # or of 2, then 3: India's
    True
    >>> bool(number_pattern().fullmatch("\uff11\uff12"))  # full-width digits: not a number
    False
    """
    d = re.escape(decimal)
    digits = r"\d+"
    if thousands is not None:
        t = re.escape(thousands)  # 1,234,567 or, in India, 12,34,567 (lakh and crore)
        digits = rf"(?:\d{{1,3}}(?:{t}\d{{3}})+|\d{{1,2}}(?:{t}\d{{2}})+{t}\d{{3}}|\d+)"
    # ASCII digits only: \d matches '１' (full-width) or '٣', which no number parser reads
    return re.compile(rf"[+-]?(?:{digits}(?:{d}\d*)?|{d}\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def other_number_marks(texts, weights, *, decimal, thousands, min_fraction):
    """The ``(decimal, thousands)`` of :data:`NUMBER_MARKS`, other than those given, that
    read the texts as numbers.

    Examples
    --------
    >>> other_number_marks(["0,25", "1,5"], [3, 1], decimal=".", thousands=None,
    ...                    min_fraction=0.9)[:3]
    [(',', None), (',', '.'), (',', ' ')]
    >>> other_number_marks(["63,7 %", "27,0 %"], [1, 1], decimal=".", thousands=None,
    ...                    min_fraction=1)[0]  # percentages, as the typing reads them
    (',', None)
    """
    texts = _numbers_text(texts)
    found = []
    for marks in NUMBER_MARKS:
        if marks == (decimal, thousands) or (thousands is not None and marks[1] is None):
            continue  # the same marks, or no word of the thousands separator to drop
        if _share(texts.str.fullmatch(number_pattern(*marks)), weights) >= min_fraction:
            found.append(marks)
    return found


def _numbers_text(texts):
    """The texts as the typing reads numbers: stripped, without a ``%`` (``12,5 %``)."""
    texts = pd.Series(texts, dtype=object).astype(str).str.strip()
    return texts.str.removesuffix("%").str.rstrip()


def unit_of(texts, weights, *, min_fraction):
    """``(unit, numbers)`` when the texts are numbers written with one unit, else None.

    The unit is a currency sign before or after the number (``$12``, ``12 €``), or a word
    after a blank (``70.5 kg``, ``3 km/h``): never letters glued to digits, which are codes
    (``Q1``, ``12A``). ``numbers`` are the texts without it.

    Examples
    --------
    >>> unit_of(["$1,200.50", "-$3", "$40"], [1, 1, 1], min_fraction=0.9)
    ('$', ['1,200.50', '-3', '40'])
    >>> unit_of(["70.5 kg", "81 kg"], [2, 1], min_fraction=0.9)
    ('kg', ['70.5', '81'])
    >>> unit_of(["Q1", "Q2", "12A"], [1, 1, 1], min_fraction=0.9) is None
    True
    """
    units, numbers = [], []
    for text in texts:
        match = _WITH_UNIT.fullmatch(str(text))
        unit = None
        if match and bool(match["pre"]) != bool(match["post"]):
            unit = (match["pre"] or match["post"]).strip()
            if match["pre"] and not _is_currency(unit):
                unit = None
            elif match["post"] and not (_is_currency(unit) or unit[0].isalpha()):
                unit = None
        units.append(unit)
        numbers.append(match["sign"] + match["number"] if unit else None)
    weights = np.asarray(weights, dtype=float)
    rows = collections.Counter()
    for found, weight in zip(units, weights, strict=True):
        if found is not None:
            rows[found] += weight
    if not rows:
        return None
    unit = rows.most_common(1)[0][0]
    fits = np.array([u == unit for u in units])
    if _share(fits, weights) < min_fraction:
        return None
    return unit, [n for n, f in zip(numbers, fits, strict=True) if f]


def date_formats(texts, weights, *, min_fraction):
    """The :data:`DATE_FORMATS` that read the texts as dates (several when ambiguous:
    ``01/02/2024`` is a date month first and day first).

    Examples
    --------
    >>> date_formats(["03/15/2024", "04/01/2024"], [2, 1], min_fraction=0.9)
    ['%m/%d/%Y']
    >>> date_formats(["01/02/2024", "04/01/2024"], [1, 1], min_fraction=0.9)
    ['%m/%d/%Y', '%d/%m/%Y']
    """
    texts = pd.Series(texts, dtype=object).astype(str).str.strip()
    if not texts.str.contains(r"\d", regex=True).any():
        return []
    weights = np.asarray(weights, dtype=float)
    probe = slice(None, None, max(1, len(texts) // _PROBE))  # a spread of the values first

    def fits(fmt, part):
        dates = pd.to_datetime(texts.iloc[part], format=fmt, errors="coerce")
        return _share(dates.notna(), weights[part]) >= min_fraction

    everything = probe if probe.step == 1 else slice(None)
    return [fmt for fmt in DATE_FORMATS if fits(fmt, probe) and fits(fmt, everything)]


def refuse_lookalike(series, labels, distinct, counts, options, *, min_fraction):
    """Raise a :class:`~ae_anomaly.tables.errors.TableError` when a column about to be
    categories holds numbers or dates written in a way ``options`` do not read.

    Parameters
    ----------
    series : Series
        The column, as read.
    labels : ndarray of object
        Its cells as category labels (None where missing).
    distinct, counts : ndarray
        The distinct labels and how many rows hold each.
    options : ParseOptions
        How the table's text is read (:class:`ae_anomaly.tables.typing.ParseOptions`).
    min_fraction : float
        The share of the rows that must fit.

    Examples
    --------
    >>> from ae_anomaly.tables.typing import ParseOptions
    >>> cells = pd.Series(["$1,200", "$35", "$35"], name="amount")
    >>> refuse_lookalike(cells, cells.to_numpy(), *np.unique(cells, return_counts=True),
    ...                  ParseOptions(), min_fraction=0.9)
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.errors.TableError: column 'amount' holds numbers with a unit, '$', ...
    """
    fraction = min_fraction

    def refuse(holds, fitting, advice):
        fitting = set(fitting)
        first = next(i for i, label in enumerate(labels) if label in fitting)
        where = f"row {row_name(series, first)}: {cell_repr(series.iloc[first])}"
        raise TableError(
            f"column {escape(repr(series.name))} holds {holds}, e.g. {escape(where)}; {advice}, "
            "or list the column in {categorical} to encode its values as categories."
        )

    signed, negatives = accounting_negatives(distinct)
    if negatives.any():  # (56.00) or 56.00-: read with the sign in front, then as below
        plain = pd.Series(signed).str.fullmatch(options.number_pattern()).to_numpy(bool)
        read = _share(plain, counts) >= fraction
        marks = None if read else marks_advice(signed, counts, options, min_fraction=fraction)
        if read or marks:
            then = f" and {marks}" if marks else " to read them as numbers"
            refuse("numbers with negatives in accounting style", distinct[negatives],
                   f"write them -56.00, not (56.00) or 56.00-,{then}")  # fmt: skip
    marks = other_number_marks(distinct, counts, **_marks(options), min_fraction=fraction)
    if marks:
        bodies = _numbers_text(distinct)
        fits = distinct[np.array(bodies.str.fullmatch(number_pattern(*marks[0])), dtype=bool)]
        refuse("numbers written another way", fits, _advice(marks, options))
    found = unit_of(distinct, counts, min_fraction=fraction)
    if found:
        unit, numbers = found
        fits = [t for t in distinct if unit in t and _WITH_UNIT.fullmatch(str(t))]  # the example
        then = ""
        if not pd.Series(numbers).str.fullmatch(options.number_pattern()).all():
            also = other_number_marks(numbers, np.ones(len(numbers)), **_marks(options),
                                      min_fraction=fraction)  # fmt: skip
            then = f" and pass {_spell_marks(also, options)}" if also else ""
        unit = escape(repr(unit))
        refuse(f"numbers with a unit, {unit}", fits,
               f"remove {unit} from the cells{then} to read them as numbers")  # fmt: skip
    formats = date_formats(distinct, counts, min_fraction=fraction)
    if formats:
        fmt = escape(formats[0])
        either = f" (or {escape(formats[1])}: both read every cell)" if len(formats) > 1 else ""
        advice = (
            f"pass {{date_format={fmt}}}{either} to read them as dates"
            if options.date_format is None
            else f"rewrite them as the {{date_format}} given ({escape(options.date_format)})"
        )
        fits = distinct[~pd.to_datetime(distinct, format=formats[0], errors="coerce").isna()]
        refuse(f"dates or times written as {fmt}, not ISO 8601 (2024-03-15)", fits, advice)


def marks_advice(texts, weights, options, *, min_fraction):
    """``"pass {decimal=,} to read them as numbers"`` (a template naming the marks that
    read the texts, see :mod:`ae_anomaly.tables.errors`), or None when no other marks do.

    Examples
    --------
    >>> from ae_anomaly.tables.typing import ParseOptions
    >>> marks_advice(["1,000.50", "12.25"], [1, 9], ParseOptions(), min_fraction=1.0)
    'pass {thousands=,} to read them as numbers'
    """
    marks = other_number_marks(texts, weights, **_marks(options), min_fraction=min_fraction)
    return _advice(marks, options) if marks else None


def refit_advice(texts, kind, options):
    """For cells a fitted model's typing does not read, how other marks or a date format
    would: a template (see :mod:`ae_anomaly.tables.errors`), or None when none reads
    every one. A table exported with other settings than the fitted one (a decimal comma,
    US dates) fails on every row, and ``coerce`` would make every cell missing.

    Examples
    --------
    >>> from ae_anomaly.tables.typing import ParseOptions
    >>> refit_advice(["28,38", "0,5"], "numeric", ParseOptions())
    "the cells read as numbers with decimal mark ',': write them as the fitted table was, or fit the model again with {decimal=,}"
    >>> refit_advice(["1O5"], "numeric", ParseOptions()) is None
    True
    >>> refit_advice(["7.7%", "12%"], "numeric", ParseOptions())
    "the cells are percentages and the fitted column's were plain numbers: write them as the fitted table was"
    """  # noqa: E501
    distinct, counts = np.unique(np.asarray(texts, dtype=str), return_counts=True)
    percent = _percent_mismatch(distinct, options) if kind == "numeric" else None
    if percent:
        return f"the cells are {percent}: write them as the fitted table was"
    if kind == "numeric":
        marks = other_number_marks(distinct, counts, **_marks(options), min_fraction=1)
        if not marks:
            return None
        (decimal, thousands), spelled = marks[0], _spell_marks(marks[:1], options)
        holds = [f"decimal mark {decimal!r}"] if decimal != options.decimal else []
        if thousands != options.thousands:
            holds.append(f"thousands separator {thousands!r}")
        holds = f"numbers with {' and '.join(holds)}"
    elif kind == "datetime":
        formats = date_formats(distinct, counts, min_fraction=1)
        if not formats:
            return None
        spelled, holds = f"{{date_format={formats[0]}}}", f"dates written {formats[0]}"
        if len(formats) > 1:
            holds += f" (or {formats[1]}: both read every one)"
    else:
        return None
    return (
        f"the cells read as {escape(holds)}: write them as the fitted table was, or fit the "
        f"model again with {spelled}"
    )


def _percent_mismatch(texts, options):
    """What differs when every cell is a percentage where the fitted column held plain
    numbers, or the other way round; both read with the model's own marks (``7.7`` for a
    decimal-comma model is written with another mark, not short of a ``%``). None
    otherwise."""
    cells = [t.strip() for t in texts]
    number = number_pattern(options.decimal, options.thousands)  # the model's own marks
    if all(t.endswith("%") and number.fullmatch(t[:-1].rstrip()) for t in cells):
        return "percentages and the fitted column's were plain numbers"
    if all(number.fullmatch(t) for t in cells):
        return "plain numbers and the fitted column's were percentages (such as 48.3%)"
    return None


def _advice(marks, options):
    advice = f"pass {_spell_marks(marks, options)} to read them as numbers"
    if (options.decimal, options.thousands) != NUMBER_MARKS[0]:
        advice += " (the marks hold for every column of the table)"
    return advice


def _marks(options):
    return {"decimal": options.decimal, "thousands": options.thousands}


def _spell_marks(marks, options):
    """``{decimal=,}`` and/or ``{thousands=.}`` for the first marks; the first with the
    other decimal mark as an alternative."""

    def spell(decimal, thousands):
        parts = [f"{{decimal={decimal}}}"] if decimal != options.decimal else []
        if thousands != options.thousands:
            parts.append(f"{{thousands={thousands}}}")
        return " and ".join(parts)

    first = marks[0]
    other = next((m for m in marks if m[0] != first[0]), None)
    return spell(*first) + (f" (or {spell(*other)})" if other else "")


def accounting_negatives(texts):
    """``(texts with a sign in front, which were negatives in accounting style)``: a
    number in parentheses or with a trailing minus, as spreadsheets and ledgers write them.

    Examples
    --------
    >>> signed, negative = accounting_negatives(np.array(["(1,200.50)", "35", "7.25-"]))
    >>> signed.tolist(), negative.tolist()
    (['-1,200.50', '35', '-7.25'], [True, False, True])
    """
    texts = pd.Series(texts, dtype=object).astype(str).str.strip()
    parts = texts.str.extract(_ACCOUNTING)
    inner = parts["paren"].fillna(parts["trailing"])
    negative = inner.notna().to_numpy()
    return np.where(negative, "-" + inner.fillna(""), texts.to_numpy()), negative


def _is_currency(text):
    return all(unicodedata.category(ch) == "Sc" for ch in text)


def _share(fits, weights):
    weights = np.asarray(weights, dtype=float)
    return float(weights[np.asarray(fits, dtype=bool)].sum() / weights.sum())


class CodeLikeNumbersWarning(Phrased, UserWarning):
    """A column read as numbers writes some of them with leading zeros (``02134``): codes,
    probably (zip codes, account numbers), which the model would rank by size.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_code_like(pd.Series(["02134", "10001"], name="zip"), np.ones(2, bool))
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    column 'zip' holds numbers written with leading zeros (e.g. '02134'): read as numbers...
    """


def warn_code_like(series, numbers):
    """Warn with :class:`CodeLikeNumbersWarning` when one of the cells ``numbers`` (a
    mask) of a text column read as numbers is a whole number of three digits or more
    written with leading zeros."""
    text = series if isinstance(series.dtype, pd.StringDtype) else series.astype(str)
    # cheap looks first (a 0 after any sign, no decimal mark), the regular expression on
    # the few cells left
    maybe = text.str.lstrip(" \t+-").str.startswith("0") & ~text.str.contains(".", regex=False)
    texts = text[np.asarray(maybe, dtype=bool) & np.asarray(numbers, dtype=bool)]
    coded = texts[np.asarray(texts.str.fullmatch(_LEADING_ZEROS), dtype=bool)]
    name = series.name
    if len(coded):
        warnings.warn(CodeLikeNumbersWarning(
            f"column {escape(repr(name))} holds numbers written with leading zeros (e.g. "
            f"{escape(cell_repr(coded.iloc[0]))}): read as numbers, the zeros are lost and "
            "the values ranked by size; if they are codes (zip codes, account numbers), list "
            "the column in {categorical}, or in {id_cols} to leave it out; if numbers, in "
            "{numeric}."
        ), stacklevel=user_stacklevel())  # fmt: skip


def refuse_typed_percentages(series, percent):
    """Refuse numbers (a float column) for a column fitted from percentages (``percent``):
    5.7 may mean 5.7% or 570%, and read as it is, it was 100 times the fitted 0.057.

    Examples
    --------
    >>> refuse_typed_percentages(pd.Series(["5.7%"], name="rate"), True)  # text: parsed later
    >>> refuse_typed_percentages(pd.Series([5.7], name="rate"), True)
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.errors.TableError: column 'rate' was fitted from percentages, read ...
    """
    present = np.flatnonzero(series.notna().to_numpy())
    if not percent or not len(present) or not pd.api.types.is_numeric_dtype(series.dtype):
        return
    value = series.iloc[present[0]]
    raise TableError(
        f"column {escape(repr(series.name))} was fitted from percentages, read as fractions "
        f"(48.3% is 0.483), but holds numbers: row {row_name(series, present[0])}: "
        f"{cell_repr(value)} may mean {value:g}% or {100 * value:g}%; pass the cells as "
        "the fitted table wrote them, as text ending in %."
    )


__all__ = ["DATE_FORMATS", "NUMBER_MARKS", "CodeLikeNumbersWarning", "accounting_negatives",
           "date_formats", "marks_advice", "number_pattern", "other_number_marks",
           "refit_advice", "refuse_lookalike", "refuse_typed_percentages", "unit_of",
           "warn_code_like"]  # fmt: skip
