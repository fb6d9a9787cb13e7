"""Errors of the tables layer that name parameters, so a front end can name its own options.

The library speaks of parameters (``threshold``, ``impute='median'``); the command line of
flags (``--threshold``, ``--impute median``). A message is written once, as a template whose
``{name}`` and ``{name=value}`` fields are parameters: :func:`str` renders them the Python
way, :meth:`Phrased.rephrase` with any spelling (the CLI passes its flags).
"""

from __future__ import annotations

import re
import sys
import unicodedata

from .._rows import name_row
from .formats import DataError, UsageProblem

_FIELD = re.compile(r"\{\{|\}\}|\{(\w+)(?:=([^{}]*))?\}")


def escape(text):
    """Text for a template, taken literally: braces doubled."""
    return str(text).replace("{", "{{").replace("}", "}}")


def cell_repr(value):
    """``repr`` of a cell or an index label, NumPy scalars as Python ones (``inf``, ``3``),
    in a tuple too (a MultiIndex label).

    Examples
    --------
    >>> import numpy as np
    >>> cell_repr(np.float64("inf")), cell_repr(np.int64(3)), cell_repr("a")
    ('inf', '3', "'a'")
    >>> cell_repr((np.int64(2), "b"))
    "(2, 'b')"
    """
    import numpy as np  # here: the command line's --help imports this module, not NumPy

    if isinstance(value, tuple):  # a MultiIndex label: (2, 5), not (np.int64(2), np.int64(5))
        value = tuple(v.item() if isinstance(v, np.generic) else v for v in value)
    return repr(value.item() if isinstance(value, np.generic) else value)


def row_name(rows, position):
    """The row at ``position`` (from 0) of ``rows`` (a DataFrame or a Series; an Index),
    for a message: its label (:func:`cell_repr`), and its position too when another row of
    the data has that label (``5 (position 12)``: ``pd.concat([jan, feb])`` repeats the
    labels, and ``df.loc[5]`` holds two rows).

    A chunk of larger data (a slice of a DataFrame, rows of files) carries where its rows
    are (:func:`ae_anomaly._rows.mark`): the position printed is then the row's in the
    whole data, never in the chunk, and uniqueness is the whole data's; a row read from
    one of several files is named as that file does (``15 of part2.csv``). Without it,
    ``rows`` is taken for the whole data.

    Examples
    --------
    >>> import pandas as pd
    >>> row_name(pd.Index([3, 4, 5]), 2), row_name(pd.Series(0, index=[0, 1, 0, 1]), 2)
    ('5', '0 (position 2)')
    >>> row_name(pd.MultiIndex.from_product([[1, 2], ["a", "b"]]), 3)
    "(2, 'b')"
    """
    index = getattr(rows, "index", rows)  # an Index has no index
    return name_row(rows, position, cell_repr(index[position]))


def lookalike_note(text):
    """`` (its '−' is U+2212 MINUS SIGN, not '-')`` for the first character of a cell that
    passes for an ASCII one and is not (a Unicode minus or dash, a no-break space, a
    full-width digit), else ``""``: the cell's ``repr`` alone shows nothing wrong.

    Examples
    --------
    >>> lookalike_note("\u22121.5")
    " (its '−' is U+2212 MINUS SIGN, not '-')"
    >>> lookalike_note("1O5")
    ''
    """
    for char in str(text):
        if char.isascii():
            continue
        category = unicodedata.category(char)
        plain = "-" if category == "Pd" or char == "\u2212" else unicodedata.normalize("NFKC", char)
        if len(plain) == 1 and plain.isascii():
            name = unicodedata.name(char, "")
            return f" (its {char!r} is U+{ord(char):04X} {name}, not {plain!r})"
    return ""


#: The error values a spreadsheet writes for a formula that failed (``#N/A`` is one of
#: pandas' missing-value strings already).
_SPREADSHEET_ERRORS = frozenset({"#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
                                 "#SPILL!", "#CALC!", "#FIELD!", "#GETTING_DATA"})  # fmt: skip


def cell_note(cell, column):
    """What a cell that is not a number may be, for a message: `` (the header line again:
    ...)`` when it is its column's name, as in every column of a header line repeated
    among the rows by files joined one after another (``cat jan.csv feb.csv``); `` (a
    spreadsheet's error value: ...)`` for ``#DIV/0!`` and its kin; else ``""``.

    Examples
    --------
    >>> cell_note(" amount", "amount")[:25]
    ' (the header line again: '
    >>> cell_note("#DIV/0!", "amount")[:31]
    " (a spreadsheet's error value: "
    >>> cell_note("12", "amount")
    ''
    """
    if not isinstance(cell, str):
        return ""
    if cell.strip() == str(column).strip():
        return " (the header line again: files joined one after another? keep the first only)"
    if cell.strip().upper() in _SPREADSHEET_ERRORS:
        return " (a spreadsheet's error value: the formula of that cell failed)"
    return ""


def user_stacklevel():
    """The ``stacklevel`` of a warning that points at the first caller outside
    ae_anomaly, scikit-learn and pandas (the user's line)."""
    level, frame = 2, sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
        ("ae_anomaly.", "sklearn.", "pandas.")
    ):
        frame, level = frame.f_back, level + 1
    return level


def literal(value):
    """A value quoted for a template: its ``repr``, taken literally.

    Examples
    --------
    >>> literal("a{b}")
    "'a{{b}}'"
    """
    return escape(repr(value))


def render(template, spell):
    """Fill a template's fields: ``spell(name, value)``; ``value`` is None for ``{name}``.

    Examples
    --------
    >>> render("{impute=median}, not {{braces}}", lambda name, value: f"<{name}:{value}>")
    '<impute:median>, not {braces}'
    """

    def field(match):
        if match[0] in ("{{", "}}"):
            return match[0][0]
        return spell(match[1], match[2])

    return _FIELD.sub(field, template)


def python_spelling(name, value):
    """``{threshold}`` -> ``threshold``; ``{impute=median}`` -> ``impute='median'``."""
    if value is None:
        return name
    return f"{name}={value}" if value in ("True", "False", "None") else f"{name}={value!r}"


class Phrased:
    """Mixin: an error whose message is a template naming parameters (see the module)."""

    def __init__(self, template):
        self.template = template
        self.params = tuple(dict.fromkeys(m[1] for m in _FIELD.finditer(template) if m[1]))
        super().__init__(render(template, python_spelling))

    def rephrase(self, spell):
        """The message with each parameter spelled by ``spell(name, value)``."""
        return render(self.template, spell)


class ParameterError(Phrased, UsageProblem):
    """Parameters that cannot work together, or a value no parameter accepts.

    Examples
    --------
    >>> error = ParameterError("{threshold} and {contamination} exclude each other: pass one.")
    >>> str(error)
    'threshold and contamination exclude each other: pass one.'
    >>> error.rephrase(lambda name, value: "--" + name)
    '--threshold and --contamination exclude each other: pass one.'
    """


class TableError(Phrased, DataError):
    """The data does not fit: a column or a value, with a hint naming a parameter.

    Examples
    --------
    >>> str(TableError("missing values in 'a'; pass {impute=median} when fitting."))
    "missing values in 'a'; pass impute='median' when fitting."
    """


class ColumnOptionError(TableError, UsageProblem):
    """A column option that cannot name what it names: a column the table does not have,
    or one column in two options that exclude each other. A usage error (the command line
    exits with status 2, as for any other bad option), and a :class:`TableError` still, for
    the callers that catch it as one.

    Examples
    --------
    >>> error = ColumnOptionError("{columns}: no column named 'z'.")
    >>> isinstance(error, TableError) and isinstance(error, UsageProblem)
    True
    """


__all__ = ["ColumnOptionError", "ParameterError", "Phrased", "TableError", "cell_repr", "escape",
           "literal", "lookalike_note", "render", "row_name", "user_stacklevel"]  # fmt: skip
