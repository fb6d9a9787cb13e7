"""What each column of a table holds: numbers, categories, booleans or dates.

:func:`classify_columns` types the columns of a DataFrame sample (strings as read from a
CSV, or the typed columns of a Parquet file, decimals included); the ``parse_*`` functions
turn one column into numbers with the same rules, and return a mask of the cells that do
not fit. :class:`ae_anomaly.tables.encoder.TableEncoder` uses both, at fit and at
transform time, so a typo is caught the same way in the training and the scored data.

The rules, in order, for a column that no option names:

1. a numeric, decimal or missing-only column is **numeric**; a pandas ``category`` column
   **categorical**; a bool column **boolean**; a datetime or period column (or one of
   ``datetime.date`` objects) **datetime**; durations, complex numbers, lists and records
   are refused;
2. cells that read as numbers (``decimal``, ``thousands``, a ``%`` suffix: ``12.3%`` is
   0.123): **numeric**; when at least :data:`MIN_TYPED_FRACTION` of them do, the others are
   typos (``1O5``, ``1.66x``): an error naming row, column and value, or, with
   ``coerce=True``, a :class:`CoercedValueWarning` and those cells become missing;
   whole numbers of 3+ digits written with leading zeros (``02134``: codes) are numbers,
   with a :class:`~ae_anomaly.tables.lookalike.CodeLikeNumbersWarning`, whole numbers
   under 1000 beside numbers with three decimals only (``419``, ``1.817``: thousands?) with
   a :class:`~ae_anomaly.tables.exports.ThousandsLikeWarning`;
3. all ``true``/``false`` or ``yes``/``no`` (any case) or Python bools: **boolean** (1/0);
4. ISO dates (``2024-05-31``, ``2024-05-31T13:45:00+02:00``): **datetime**, with the same
   rule for the few cells that are not;
5. numbers or dates written in a way the options do not read (``$1,234.50``, ``70.5 kg``,
   ``0,25`` with ``decimal="."``, ``03/15/2024`` without ``date_format``) are refused with
   the option that reads them (:func:`~ae_anomaly.tables.lookalike.refuse_lookalike`);
6. anything else is **categorical**, unless more than half of its rows hold a value no
   other row has: then it looks like an id or free text and is refused (pass it as an id
   column, or as ``categorical`` to force it) -- or, when most of its cells are numbers
   (dates), it is numeric (datetime) with the others reported as in 2.

Missing cells: ``NaN``/``None``/``NaT``, and the strings of ``na_values`` and, with
``keep_default_na=True`` (the default, as in :func:`pandas.read_csv`), pandas' own list
(:data:`DEFAULT_NA_VALUES`: ``"NA"``, ``"None"``, ``"null"``, ``"N/A"``, ``""``...). Pass
``keep_default_na=False`` to keep a region called ``"NA"`` as a category.

Rows in messages are the DataFrame's index labels, with their position where a label repeats
(:func:`~ae_anomaly.tables.errors.row_name`).
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import functools
import math
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import (
    TableError,
    cell_note,
    cell_repr,
    escape,
    lookalike_note,
    row_name,
    user_stacklevel,
)
from .exports import warn_thousands_like
from .lookalike import marks_advice, number_pattern, refit_advice, refuse_lookalike, warn_code_like
from .nonfeatures import refuse_non_features
from .zones import numpy_times

NUMERIC, CATEGORICAL, BOOLEAN, DATETIME = "numeric", "categorical", "boolean", "datetime"
KINDS = (NUMERIC, CATEGORICAL, BOOLEAN, DATETIME)
#: pandas' default missing-value strings (``pandas.read_csv``'s ``keep_default_na``).
DEFAULT_NA_VALUES = frozenset(
    ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
     "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]
)  # fmt: skip
#: A text column is numeric (or datetime) when at least this share of its cells parse;
#: the other cells are then typos, reported by row.
MIN_TYPED_FRACTION = 0.9
TRUE_WORDS, FALSE_WORDS = frozenset({"true", "yes"}), frozenset({"false", "no"})
_SPECIAL_NUMBERS = re.compile(r"[+-]?(inf|infinity|nan)", re.IGNORECASE)
_ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?", re.ASCII
)
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


class CoercedValueWarning(UserWarning):
    """Cells that do not fit their column's type were read as missing (``coerce=True``)."""


@dataclass(frozen=True)
class ParseOptions:
    """How text cells are read; the parameters of :func:`classify_columns`.

    Examples
    --------
    >>> options = ParseOptions(decimal=",", thousands=".")
    >>> parse_numbers(pd.Series(["1.234,5", "3,14", "12%"]), options)[0].tolist()
    [1234.5, 3.14, nan]
    >>> sorted(ParseOptions(keep_default_na=False, na_values=["?"]).missing_strings("x"))
    ['?']
    """

    decimal: str = "."
    thousands: str | None = None
    na_values: object = None
    keep_default_na: bool = True
    coerce: bool = False
    date_format: str | None = None

    def __post_init__(self):
        if len(self.decimal) != 1 or (self.thousands is not None and len(self.thousands) != 1):
            raise ValueError("decimal and thousands must be single characters.")
        if self.decimal == self.thousands:
            raise ValueError(f"decimal and thousands are both {self.decimal!r}.")

    def missing_strings(self, column):
        """The strings that mean "missing" in ``column`` (pandas' ``na_values`` rules)."""
        extra = self.na_values
        if isinstance(extra, dict):
            extra = extra.get(column, ())
        if extra is None:
            extra = ()
        elif isinstance(extra, str):
            extra = (extra,)
        base = DEFAULT_NA_VALUES if self.keep_default_na else frozenset()
        return base | {str(v) for v in extra}

    def number_pattern(self):
        return number_pattern(self.decimal, self.thousands)


@dataclass(frozen=True)
class ColumnType:
    """The type of one column: ``kind`` in :data:`KINDS`; ``percent`` for numbers read
    from ``12.3%`` cells (stored as fractions)."""

    kind: str
    percent: bool = False


def missing_mask(series, options):
    """True where a cell is missing: NaN/None/NaT or one of the column's NA strings."""
    missing = np.array(series.isna(), dtype=bool)
    if _is_text(series.dtype):
        strings = options.missing_strings(series.name)
        if strings:
            missing |= series.isin(list(strings)).to_numpy()
    return missing


def parse_numbers(series, options, *, percent=None):
    """``(values, bad, percent)``: the cells as floats, NaN where missing or ``bad``.

    ``bad`` marks the cells present but not numbers. ``percent=None`` decides from the
    cells (most end with ``%``): in a percent column the cells without ``%`` are bad, in
    another the cells with ``%`` are.
    """
    dtype = series.dtype
    if _is_number_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.zeros(len(series), dtype=bool), bool(percent)
    plain = not percent and options.decimal == "." and options.thousands is None
    if plain:
        values = _all_plain_floats(series, options)
        if values is not None:
            return values, np.zeros(len(series), dtype=bool), False
    present = ~missing_mask(series, options)
    values = np.full(len(series), np.nan)
    bad = np.zeros(len(series), dtype=bool)
    positions = np.flatnonzero(present)
    cells = series.iloc[positions]
    if plain:
        fast = _plain_floats(cells)
        if fast is not None:  # every cell a plain number: the common case, vectorised
            values[positions] = fast
            return values, bad, False
    is_object = np.zeros(len(cells), dtype=bool)
    if pd.api.types.is_object_dtype(dtype):
        is_object = cells.map(_is_number_object).to_numpy(dtype=bool)
    text = cells[~is_object].astype(str).str.strip()
    is_pct = np.array(text.str.endswith("%"), dtype=bool)
    if percent is None:
        percent = bool(is_pct.sum() * 2 > len(cells))
    body = text.str.removesuffix("%").str.rstrip()
    pattern = options.number_pattern()
    ok = np.array(body.str.fullmatch(pattern) | body.str.fullmatch(_SPECIAL_NUMBERS), bool)
    ok &= is_pct == percent
    if options.thousands is not None:
        body = body.str.replace(options.thousands, "", regex=False)
    body = body.str.replace(options.decimal, ".", regex=False)
    parsed = pd.to_numeric(body.where(ok, "nan"), errors="coerce").to_numpy(dtype=np.float64)
    if percent:
        parsed = parsed / 100.0
    text_positions = positions[~is_object]
    values[text_positions] = np.where(ok, parsed, np.nan)
    bad[text_positions] = ~ok
    object_positions = positions[is_object]
    values[object_positions] = [float(v) for v in cells[is_object]]
    bad[object_positions] = percent  # a plain number in a column of percentages
    values[bad] = np.nan
    return values, bad, percent


def _plain_floats(cells):
    """The cells as floats when every one is text of a plain number (``1.5``, ``-2e3``,
    ``inf``), else None: the regular path then finds and reports the others."""
    import pyarrow as pa

    if not len(cells):
        return None
    text = _arrow_text(cells)
    if text is None:  # Python strings: through an Arrow copy, parsed the same way
        if pd.api.types.infer_dtype(cells, skipna=False) != "string":
            return None
        text = pa.array(cells.to_numpy(dtype=object), type=pa.string())
    try:  # Arrow's parser: no spaces, no "1_000"; those go the regular way
        return text.cast(pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None


def _all_plain_floats(series, options):
    """The floats of an Arrow text column when every cell is a plain number, none a missing
    value and none NaN, else None (then :func:`parse_numbers`' steps decide, as here).

    Exactly the regular path's result without its missing-value mask: no cell is missing
    when all parse as numbers (only ``nan`` strings would, and NaN sends the column the
    regular way) unless a missing-value string is itself a number (``na_values=["-999"]``).
    """
    import pyarrow as pa

    text = _arrow_text(series)
    if text is None or not len(text) or _numeric_missing_strings(options, series.name):
        return None
    try:
        values = text.cast(pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return None if np.isnan(values).any() else values


def floats_read_as_text(options, column):
    """Whether float64 values a CSV reader parsed from ``column``'s text (plain numbers,
    blanks around them allowed, none NaN) are what :func:`parse_numbers` makes of it.

    True unless the options read other numbers (a ``decimal`` comma, ``thousands``) or a
    missing-value string of the column is such a number (``na_values=[" -999"]``).

    Examples
    --------
    >>> floats_read_as_text(ParseOptions(), "x")
    True
    >>> floats_read_as_text(ParseOptions(decimal=","), "x")
    False
    >>> floats_read_as_text(ParseOptions(na_values=[" -999"]), "x")
    False
    """
    if options.decimal != "." or options.thousands is not None:
        return False
    stripped = frozenset(s.strip(" \t") for s in options.missing_strings(column))
    return not _numeric_strings(stripped)


def _numeric_missing_strings(options, column):
    """The column's missing-value strings that parse as numbers (not NaN)."""
    return _numeric_strings(frozenset(options.missing_strings(column)))


@functools.lru_cache(maxsize=64)
def _numeric_strings(strings):
    import pyarrow as pa

    found = []
    for text in sorted(strings):
        try:
            value = pa.scalar(text).cast(pa.float64()).as_py()
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            continue
        if value == value:  # not NaN
            found.append(text)
    return found


def _arrow_text(cells):
    """The Arrow strings behind a ``str``/``string[pyarrow]`` column without missing cells
    (what the CSV reader gives), without making a Python string per cell; else None."""
    import pyarrow as pa

    dtype = cells.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    text = pa.chunked_array(pa.array(cells.array))
    return text if text.null_count == 0 else None


def parse_booleans(series, options):
    """``(values, bad)``: 1.0 for true/yes/1, 0.0 for false/no/0, NaN where missing or bad."""
    present = ~missing_mask(series, options)
    values = np.full(len(series), np.nan)
    bad = np.zeros(len(series), dtype=bool)
    if pd.api.types.is_numeric_dtype(series.dtype):  # bools, or numbers of which 0/1 only
        numbers = series[present].to_numpy(dtype=np.float64)
        bad[present] = ~np.isin(numbers, (0.0, 1.0))
        values[present] = np.where(bad[present], np.nan, numbers)
        return values, bad
    positions = np.flatnonzero(present)
    cells = series.iloc[positions]
    is_object = np.zeros(len(cells), dtype=bool)
    if pd.api.types.is_object_dtype(series.dtype):  # Python bools, numbers 0/1, text
        is_object = np.array([not isinstance(v, str) for v in cells], dtype=bool)
        for position, cell in zip(positions[is_object], cells[is_object], strict=True):
            if isinstance(cell, (bool, np.bool_)) or (_is_number_object(cell) and cell in (0, 1)):
                values[position] = float(cell)
            else:
                bad[position] = True
    words = cells[~is_object].astype(str).str.strip().str.lower()
    true = np.array(words.isin(TRUE_WORDS), dtype=bool)
    false = np.array(words.isin(FALSE_WORDS), dtype=bool)
    text_positions = positions[~is_object]
    values[text_positions] = np.where(true, 1.0, np.where(false, 0.0, np.nan))
    bad[text_positions] = ~(true | false)
    return values, bad


def parse_datetimes(series, options):
    """``(timestamps, bad)``: the cells as UTC timestamps (NaT where missing or bad).

    Naive times are taken as UTC. Text is read as ISO 8601, or with ``date_format`` (and
    ISO 8601, which no other format can be mistaken for: another column's dates). Arrow
    timestamps are read as NumPy's (:func:`~ae_anomaly.tables.zones.numpy_times`).
    """
    series = numpy_times(series)
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC"), np.zeros(len(series), dtype=bool)
    if pd.api.types.is_datetime64_dtype(dtype):
        return series.dt.tz_localize("UTC"), np.zeros(len(series), dtype=bool)
    if isinstance(dtype, pd.PeriodDtype):  # a month, a quarter: its first instant
        stamps = series.dt.start_time.dt.tz_localize("UTC").dt.as_unit("us")
        return stamps, np.zeros(len(series), dtype=bool)
    present = ~missing_mask(series, options)
    stamps = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us, UTC]")
    positions = np.flatnonzero(present)
    cells = series.iloc[positions]
    is_date = np.zeros(len(cells), dtype=bool)
    if pd.api.types.is_object_dtype(dtype):
        is_date = np.array([isinstance(v, (_dt.date, pd.Timestamp)) for v in cells], dtype=bool)
    if is_date.any():
        dates = pd.to_datetime([pd.Timestamp(v) for v in cells[is_date]], utc=True)
        stamps.iloc[positions[is_date]] = dates.as_unit("us")
    text = cells[~is_date].astype(str).str.strip()
    # a format is always given: pandas does not infer one, nor warn that it could not (no
    # catch_warnings here: chunks are parsed on threads, and it is not thread-safe)
    fmt = options.date_format or "ISO8601"
    parsed = pd.to_datetime(text, utc=True, format=fmt, errors="coerce")
    if options.date_format is None:  # ISO: no bare numbers ("2024" is not a date)
        parsed = parsed.where(np.array(text.str.fullmatch(_ISO_DATE), dtype=bool))
    elif parsed.isna().any():  # ISO is unambiguous: another column's dates, written so,
        unread = np.flatnonzero(parsed.isna().to_numpy())  # read with any date_format
        iso = unread[np.array(text.iloc[unread].str.fullmatch(_ISO_DATE), dtype=bool)]
        parsed = parsed.copy()  # only the cells the format missed are looked at again
        parsed.iloc[iso] = pd.to_datetime(text.iloc[iso], utc=True, format="ISO8601",
                                          errors="coerce").to_numpy()  # fmt: skip
    stamps.iloc[positions[~is_date]] = parsed.dt.as_unit("us").to_numpy()
    bad = present & np.array(stamps.isna(), dtype=bool)
    return stamps, bad


def epoch_seconds(stamps):
    """Seconds since 1970-01-01 UTC of UTC timestamps (NaN for NaT)."""
    return ((stamps - _EPOCH) / pd.Timedelta(seconds=1)).to_numpy(dtype=np.float64)


def category_labels(series, options):
    """The cells as category labels (strings; None where missing).

    Numbers become text, integral floats without ``.0`` (``3.0`` -> ``"3"``), so a column
    read as integers in one file and as floats in another has the same categories.
    """
    missing = missing_mask(series, options)
    if _is_text(series.dtype) and not pd.api.types.is_object_dtype(series.dtype):
        labels = np.array(series.astype(object), dtype=object)  # strings already
    else:
        labels = np.array([_label(cell) for cell in series.array], dtype=object)
    labels[missing] = None
    return labels


def _label(cell):
    if isinstance(cell, (float, np.floating)) and math.isfinite(cell) and cell == int(cell):
        return str(int(cell))
    return str(cell)


def check_cells(series, bad, kind, options, *, values=None, fitting=True):
    """Raise on the ``bad`` cells of a column, or with ``coerce`` warn (and set ``values``
    there to NaN). The message names the first one's row and value and the count, and
    what may be done: while ``fitting``, the typing options; later, fitting again."""
    if not bad.any():
        return values
    name, n_bad = series.name, int(bad.sum())
    first = int(np.flatnonzero(bad)[0])
    cell = series.iloc[first]
    where = f"row {row_name(series, first)}: {cell_repr(cell)}{lookalike_note(cell)}"
    noted = cell_note(cell, name)  # the header again, a spreadsheet's error: not a typing
    where += noted
    others = f" and {n_bad - 1} more" if n_bad > 1 else ""
    what = {NUMERIC: "a number", BOOLEAN: "true/false", DATETIME: "a date"}[kind]
    if options.coerce:
        warnings.warn(
            f"column {name!r}: {n_bad} cell(s) not {what} read as missing ({where}{others}).",
            CoercedValueWarning,
            stacklevel=user_stacklevel(),
        )
        if values is not None:
            values = values.copy()
            values[bad] = np.nan
        return values
    if not fitting:  # the column's type and the typing options are the model's now
        advice = "fix the data, or fit the model again with {coerce=True} to read such cells as "
        advice += "missing"
        if _is_text(series.dtype):
            advice = refit_advice(series[bad].astype(str), kind, options) or advice
        raise TableError(
            f"column {escape(repr(name))} is {kind} but {escape(where)} is not {what}{others};"
            f" {advice}."
        )
    hint = ""
    if noted:
        raise TableError(
            f"column {escape(repr(name))} is {kind} but {escape(where)} is not {what}{others}; "
            "fix the data, or pass {coerce=True} to read such cells as missing."
        )
    if kind == DATETIME and _ISO_DATE.fullmatch(str(cell).strip()):
        where += " (no such date or time)"  # written right: 2024-02-30, 25:00
        hint = ""
    elif kind == DATETIME and options.date_format is None:
        hint = " or pass {date_format} for non-ISO dates,"
    elif kind == NUMERIC:
        hint = " check {decimal} and {thousands},"
        if _is_text(series.dtype):  # every cell read by other marks: name them
            texts = series[~missing_mask(series, options)].astype(str)
            advice = marks_advice(*np.unique(texts, return_counts=True), options, min_fraction=1)
            hint = f" {advice}," if advice else hint
    raise TableError(
        f"column {escape(repr(name))} is {kind} but {escape(where)} is not {what}{others}; "
        f"fix the data,{hint} pass {{coerce=True}} to read such cells as missing, or list the "
        "column in {categorical}."
    )


def classify_column(series, options, *, kind=None):
    """The :class:`ColumnType` of one column (``kind`` forces it), by the module's rules.

    Raises :class:`~ae_anomaly.tables.errors.TableError` (a ``DataError``) for the few
    cells of a numeric or date column that are not numbers or dates (a warning with
    ``coerce``) and for an id-like text column.

    Examples
    --------
    >>> options = ParseOptions()
    >>> classify_column(pd.Series(["1.5", "2", "12"], name="x"), options).kind
    'numeric'
    >>> classify_column(pd.Series(["yes", "no", "no"], name="x"), options).kind
    'boolean'
    >>> classify_column(pd.Series(["2024-05-31", "2024-06-01"], name="d"), options).kind
    'datetime'
    >>> classify_column(pd.Series(["a", "b", "a"], name="x"), options).kind
    'categorical'
    >>> classify_column(pd.Series(["1O5", *map(str, range(31))], name="x"), options)
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.errors.TableError: column 'x' is numeric but row 0: '1O5' is not ...
    """
    dtype = series.dtype
    if kind == CATEGORICAL:
        return ColumnType(CATEGORICAL)
    refuse_non_features(series)  # a kind forced too: complex numbers, cast, lose a part
    if kind == NUMERIC or (kind is None and (_is_number_dtype(dtype) or series.isna().all())):
        values, bad, percent = parse_numbers(series, options)
        check_cells(series, bad, NUMERIC, options)
        return ColumnType(NUMERIC, percent=percent)
    if kind is None and isinstance(dtype, pd.CategoricalDtype):  # categories by the user's word
        return ColumnType(CATEGORICAL)
    if kind == BOOLEAN or (kind is None and pd.api.types.is_bool_dtype(dtype)):
        check_cells(series, parse_booleans(series, options)[1], BOOLEAN, options)
        return ColumnType(BOOLEAN)
    if kind == DATETIME or (kind is None and _is_date_dtype(dtype)):
        check_cells(series, parse_datetimes(series, options)[1], DATETIME, options)
        return ColumnType(DATETIME)
    present = ~missing_mask(series, options)
    n_present = int(present.sum())
    if n_present == 0:  # nothing but missing values
        return ColumnType(NUMERIC)
    number_bad, percent = parse_numbers(series, options)[1:]
    if (~number_bad[present]).mean() >= MIN_TYPED_FRACTION:
        check_cells(series, number_bad, NUMERIC, options)
        warn_code_like(series, present & ~number_bad)
        if options.decimal == "." and options.thousands is None:
            warn_thousands_like(series, present & ~number_bad)
        return ColumnType(NUMERIC, percent=percent)
    if not parse_booleans(series, options)[1].any():
        return ColumnType(BOOLEAN)
    date_bad = parse_datetimes(series, options)[1]
    if (~date_bad[present]).mean() >= MIN_TYPED_FRACTION:
        check_cells(series, date_bad, DATETIME, options)
        return ColumnType(DATETIME)
    labels = category_labels(series, options)
    distinct, counts = np.unique(labels[present].astype(str), return_counts=True)
    refuse_lookalike(series, labels, distinct, counts, options, min_fraction=MIN_TYPED_FRACTION)
    once = int(counts[counts == 1].sum())
    if n_present >= 2 and once * 2 > n_present:
        # refused as categories: if most cells are numbers or dates, the others are the news
        for kind, bad in [(NUMERIC, number_bad), (DATETIME, date_bad)]:
            if (~bad[present]).mean() > 0.5:
                check_cells(series, bad, kind, options)  # raises, or warns with coerce
                return ColumnType(kind, percent=percent and kind == NUMERIC)
        example = escape(repr(labels[present][0]))
        what = (
            f"has a different value on each of its {n_present} rows (e.g. {example})"
            if once == n_present
            else f"has {len(distinct)} distinct values in its {n_present} rows, {once} of them "
            f"on one row only (e.g. {example}): too many to learn as categories"
        )
        raise TableError(
            f"column {escape(repr(series.name))} {what}; it looks like an id or free text; "
            "pass it in {id_cols} to keep it out of the features, or in {categorical} to "
            "encode it anyway."
        )
    return ColumnType(CATEGORICAL)


def classify_columns(
    frame,
    *,
    categorical=(),
    numeric=(),
    date_cols=(),
    boolean=(),
    id_cols=(),
    options=None,
):
    """``{column: ColumnType}`` for every column of ``frame`` not in ``id_cols``.

    Parameters
    ----------
    frame : DataFrame
        A sample of the table (e.g. its first chunk), as read: text or typed columns.
    categorical, numeric, date_cols, boolean : sequence of str, default=()
        Columns whose type is forced (the others are detected).
    id_cols : sequence of str, default=()
        Columns left out (never parsed nor refused).
    options : ParseOptions, default=None
        How text is read (``ParseOptions()``: ``.`` decimals, pandas' missing strings).

    Returns
    -------
    types : dict of str to ColumnType

    Examples
    --------
    >>> frame = pd.DataFrame({"id": ["a1", "a2", "a3"], "price": ["1,5", "2", "3,25"],
    ...                       "paid": ["yes", "no", "yes"], "region": ["NA", "EU", "NA"]})
    >>> options = ParseOptions(decimal=",", keep_default_na=False)
    >>> types = classify_columns(frame, id_cols=["id"], options=options)
    >>> {name: t.kind for name, t in types.items()}
    {'price': 'numeric', 'paid': 'boolean', 'region': 'categorical'}
    """
    from .schema import forced_columns  # the column options' check, with Schema.select's

    options = ParseOptions() if options is None else options
    forced = forced_columns(frame.columns, {
        "categorical": categorical, "numeric": numeric, "date_cols": date_cols,
        "boolean": boolean, "id_cols": id_cols,
    })  # fmt: skip
    kinds = {"categorical": CATEGORICAL, "numeric": NUMERIC, "date_cols": DATETIME}
    kinds["boolean"] = BOOLEAN
    return {
        name: classify_column(frame[name], options, kind=kinds.get(forced.get(name)))
        for name in frame.columns
        if forced.get(name) != "id_cols"
    }


def _is_text(dtype):
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def _is_date_dtype(dtype):
    return pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype)


def _is_number_dtype(dtype):
    """Numbers (including Arrow decimals), not booleans."""
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _is_number_object(value):
    return isinstance(
        value, (int, float, _decimal.Decimal, np.integer, np.floating)
    ) and not isinstance(value, (bool, np.bool_))
