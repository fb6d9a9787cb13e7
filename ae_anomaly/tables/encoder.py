"""A mixed-type table to the dense float matrix the detectors take: :class:`TableEncoder`.

Typing follows :mod:`ae_anomaly.tables.typing`. Each column becomes:

- numeric: its value (``12.3%`` as 0.123);
- boolean: 1.0 / 0.0;
- datetime: seconds since 1970 (UTC) and sin/cos of the day of the week and of the month
  (and of the hour of the day when the training dates have times);
- categorical: one 0/1 column per training category plus ``<column>_<unseen>``, set to 1
  for a category never seen in fitting. That column is 0 on every training row, so an
  unseen category adds to the reconstruction error (it is never all zeros, which a model
  may find *more* normal); :meth:`TableEncoder.unseen_categories` counts them and
  :meth:`TableEncoder.transform` warns (:class:`UnseenCategoryWarning`).

Missing values are filled (``impute``) or refused with a one-line error naming column and
row. :func:`ae_anomaly.tables.pipeline.make_table_pipeline` puts the encoder before a detector.
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..models._sklearn_compat import StrOptions, _fit_context
from .errors import TableError, cell_repr, escape, row_name, user_stacklevel
from .lookalike import refuse_typed_percentages
from .nonfeatures import refuse_non_features
from .typing import (
    BOOLEAN,
    CATEGORICAL,
    DATETIME,
    NUMERIC,
    ParseOptions,
    category_labels,
    check_cells,
    classify_columns,
    epoch_seconds,
    missing_mask,
    parse_booleans,
    parse_datetimes,
    parse_numbers,
)
from .zones import check_time_zone, time_zone

#: Training values beyond this magnitude are refused: the detectors standardise each column
#: and square the result, which overflows float64 from about 1e154 on.
MAX_ABS = 1e100
#: Most categories one column may have: its one-hot block takes 8 bytes per category per
#: row (30,000 rows of a near-unique text column would take 6.7 GiB).
MAX_CATEGORIES = 1000
UNSEEN = "<unseen>"
_TWO_PI = 2 * np.pi
#: The cyclic date parts a datetime column may have, and their periods.
_PERIODS = {"dow": 7.0, "month": 12.0, "hour": 24.0}


class UnseenCategoryWarning(UserWarning):
    """Rows scored with a category that was never seen in fitting."""


class TableEncoder(TransformerMixin, BaseEstimator):
    """Encode a mixed-type DataFrame (numbers, categories, booleans, dates) as floats.

    Parameters
    ----------
    categorical, numeric, date_cols, boolean : sequence of str, default=()
        Columns whose type is forced; the other columns are typed by the rules of
        :mod:`ae_anomaly.tables.typing` (numbers, ``true``/``false``, ISO dates, categories).
    id_cols : sequence of str, default=()
        Columns left out of the features, untouched (never parsed, typed or refused).
    impute : {"median", "most_frequent"} or None, default=None
        How missing values are filled: numbers and dates by the median or the most frequent
        value of the training rows, categories and booleans by the most frequent one.
        None: a missing value is an error naming its column and row.
    decimal : str, default="."
        Decimal mark of text numbers (``","`` reads ``3,14``).
    thousands : str or None, default=None
        Thousands separator of text numbers (``","`` reads ``15,900``; groups of three
        digits only, so ``3,14`` is not silently read as 314).
    na_values : str, sequence of str, dict of str to sequence or None, default=None
        Extra strings read as missing (per column with a dict), as in ``pandas.read_csv``.
    keep_default_na : bool, default=True
        Whether pandas' missing-value strings (``"NA"``, ``"None"``, ``"null"``, ``""``...)
        are missing too. False keeps a category called ``"NA"``.
    coerce : bool, default=False
        Read the cells that do not fit their column's type (``1O5`` in a numeric column) as
        missing, with a :class:`~ae_anomaly.tables.typing.CoercedValueWarning`, instead of
        raising an error naming them.
    date_format : str or None, default=None
        ``strftime`` format of text dates; None: ISO 8601.

    Attributes
    ----------
    columns_ : dict of str to dict
        For each feature column: ``kind``, ``percent``, ``fill`` (the imputed value or
        None), ``categories`` (categorical) and ``parts`` (datetime features).
    feature_groups_ : dict of str to list of int
        For each feature column, the indices of its output columns.
    feature_means_ : ndarray of shape (n_features_out,)
        Mean of each output column over the training rows: a typical row (used by
        :func:`~ae_anomaly.tables.pipeline.feature_scores_by_column`).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` is a DataFrame with string column names.

    See Also
    --------
    ae_anomaly.tables.pipeline.make_table_pipeline : this encoder, then a detector.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"price": ["1,5", "2", "2,5"], "region": ["EU", "NA", "EU"],
    ...                       "paid": ["yes", "no", "yes"], "day": ["2024-01-01"] * 3})
    >>> encoder = TableEncoder(decimal=",", keep_default_na=False).fit(frame)
    >>> list(encoder.get_feature_names_out())  # doctest: +NORMALIZE_WHITESPACE
    ['price', 'region_EU', 'region_NA', 'region_<unseen>', 'paid', 'day_epoch_s',
     'day_dow_sin', 'day_dow_cos', 'day_month_sin', 'day_month_cos']
    >>> encoder.transform(frame)[:, :5]
    array([[1.5, 1. , 0. , 0. , 1. ],
           [2. , 0. , 1. , 0. , 0. ],
           [2.5, 1. , 0. , 0. , 1. ]])
    """

    _parameter_constraints: dict = {
        "categorical": ["array-like"],
        "numeric": ["array-like"],
        "date_cols": ["array-like"],
        "boolean": ["array-like"],
        "id_cols": ["array-like"],
        "impute": [None, StrOptions({"median", "most_frequent"})],
        "decimal": [str],
        "thousands": [None, str],
        "na_values": [None, str, "array-like", dict],
        "keep_default_na": ["boolean"],
        "coerce": ["boolean"],
        "date_format": [None, str],
    }

    def __init__(
        self,
        *,
        categorical=(),
        numeric=(),
        date_cols=(),
        boolean=(),
        id_cols=(),
        impute=None,
        decimal=".",
        thousands=None,
        na_values=None,
        keep_default_na=True,
        coerce=False,
        date_format=None,
    ):
        self.categorical = categorical
        self.numeric = numeric
        self.date_cols = date_cols
        self.boolean = boolean
        self.id_cols = id_cols
        self.impute = impute
        self.decimal = decimal
        self.thousands = thousands
        self.na_values = na_values
        self.keep_default_na = keep_default_na
        self.coerce = coerce
        self.date_format = date_format

    def _options(self):
        try:
            return ParseOptions(
                decimal=self.decimal,
                thousands=self.thousands,
                na_values=self.na_values,
                keep_default_na=self.keep_default_na,
                coerce=self.coerce,
                date_format=self.date_format,
            )
        except ValueError as exc:
            raise ValueError(f"{type(self).__name__}: {exc}") from None

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Type the columns of ``X`` and learn categories and fill values.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        self : TableEncoder
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """``fit(X).transform(X)``, parsing ``X`` once.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        X_encoded : ndarray of shape (n_samples, n_features_out)
        """
        return self._fit(X)

    def _fit(self, X):
        frame = self._frame(X, reset=True)
        options = self._options()
        types = classify_columns(
            frame,
            categorical=list(self.categorical),
            numeric=list(self.numeric),
            date_cols=list(self.date_cols),
            boolean=list(self.boolean),
            id_cols=list(self.id_cols),
            options=options,
        )
        if not types:
            raise ValueError("No feature columns: every column is an id column.")
        self.columns_, self.feature_groups_, names, blocks = {}, {}, [], []
        for name, column_type in types.items():
            spec = {"kind": column_type.kind, "percent": column_type.percent, "fill": None}
            self.columns_[name] = spec  # _column reads the kind and the percent flag
            values = self._column(frame[name], name, options, fitting=True)
            spec.update(self._learn(frame[name], values, column_type.kind))
            self.feature_groups_[name] = list(range(len(names), len(names) + len(spec["names"])))
            names.extend(spec.pop("names"))
            blocks.append(self._encode(frame[name], values, spec))
        self._names_out = np.asarray(_unique(names), dtype=object)
        encoded = np.column_stack(blocks)
        self.feature_means_ = encoded.mean(axis=0)
        return encoded

    def transform(self, X):
        """The float matrix of ``X``: one block of columns per feature column.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The feature columns seen in fitting (others, e.g. ids, are ignored).

        Returns
        -------
        X_encoded : ndarray of shape (n_samples, n_features_out)
            Column-major (Fortran order), the cheaper layout to fill; the estimators
            score it exactly as the same values row-major.
        """
        return self._transform(X)

    def _transform(self, X, *, warn=True):
        """:meth:`transform`; ``warn=False`` leaves unseen categories to the caller to
        report (the CLI counts them with :meth:`unseen_categories` over all chunks)."""
        check_is_fitted(self)
        frame = self._frame(X, reset=False)
        options = self._options()
        blocks = []
        for name, spec in self.columns_.items():
            column = frame[name]  # once: each lookup costs pandas ~60 us
            values = self._column(column, name, options, fitting=False)
            blocks.append(self._encode(column, values, spec, warn=warn))
        return _side_by_side(blocks, len(frame))

    def unseen_categories(self, X):
        """Which rows of ``X`` have a category never seen in fitting, per column.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        unseen : DataFrame of bool, shape (n_samples, n_categorical_columns)
            With ``X``'s index; ``unseen.sum()`` counts them per column.
        """
        check_is_fitted(self)
        frame = self._frame(X, reset=False)
        options = self._options()
        unseen = {}
        for name, spec in self.columns_.items():
            if spec["kind"] == CATEGORICAL:
                labels = category_labels(frame[name], options)
                known = set(spec["categories"])
                unseen[name] = [label is not None and label not in known for label in labels]
        return pd.DataFrame(unseen, index=frame.index, dtype=bool)

    def unseen_note(self, column, value):
        """An unseen category of ``column`` as a warning shows it: ``'eu', which is 'EU'
        but for case or blanks`` when a fitted category matches it once case and blanks
        are set aside (a table exported another way: every row unseen), else its repr.

        Examples
        --------
        >>> encoder = TableEncoder().fit(pd.DataFrame({"region": ["EU", "US", "EU"]}))
        >>> encoder.unseen_note("region", "eu "), encoder.unseen_note("region", "APAC")
        ("'eu ', which is 'EU' but for case or blanks", "'APAC'")
        """
        loose = _loose(value)
        known = next((c for c in self.columns_[column]["categories"] if _loose(c) == loose), None)
        but = f", which is {cell_repr(known)} but for case or blanks" if known is not None else ""
        return cell_repr(value) + but

    def get_feature_names_out(self, input_features=None):
        """Output column names (e.g. ``region_EU``, ``region_<unseen>``, ``day_epoch_s``).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored beyond a check: the names come from the fitted columns.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        seen = getattr(self, "feature_names_in_", None)
        if input_features is not None and seen is not None:
            if list(input_features) != list(seen):
                raise ValueError("input_features is not equal to feature_names_in_.")
        return self._names_out.copy()

    # ------------------------------------------------------------------ per column
    def _frame(self, X, *, reset):
        """``X`` as a DataFrame; sets or checks ``n_features_in_``/``feature_names_in_``."""
        if isinstance(X, pd.DataFrame):
            frame = X
            names = [str(c) for c in X.columns]
            if len(set(names)) != len(names):
                twice = sorted({n for n in names if names.count(n) > 1})
                raise ValueError(f"X has duplicate column names: {', '.join(map(repr, twice))}.")
            if not all(isinstance(c, str) for c in X.columns):
                frame = X.set_axis(names, axis=1)
        else:
            if sp.issparse(X):
                raise TypeError("Sparse input is not supported: pass a DataFrame or a 2-D array.")
            array = np.asarray(X, dtype=object) if not hasattr(X, "shape") else np.asarray(X)
            if array.ndim != 2:
                raise ValueError(
                    f"Expected a 2-D table (a DataFrame), got {array.ndim}-D input. Reshape "
                    "your data with array.reshape(-1, 1) for one column."
                )
            if np.iscomplexobj(array):
                raise ValueError("Complex data not supported.")
            frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
        if reset:
            if len(frame) == 0:
                raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
            if frame.shape[1] == 0:
                raise ValueError(
                    f"0 feature(s) (shape=({len(frame)}, 0)) while a minimum of 1 is required."
                )
            self.n_features_in_ = frame.shape[1]
            if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
                self.feature_names_in_ = np.asarray(X.columns, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            return frame
        if not isinstance(X, pd.DataFrame) and frame.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {frame.shape[1]} features, but TableEncoder is expecting "
                f"{self.n_features_in_} features as input."
            )
        missing = [c for c in self.columns_ if c not in frame.columns]
        if missing:
            raise TableError(
                f"missing column(s) {escape(', '.join(map(repr, missing)))} that the encoder "
                "was fitted with."
            )
        return frame

    def _column(self, series, name, options, *, fitting):
        """The parsed cells of one column: floats (NaN where missing) or category labels."""
        spec = self.columns_[name]
        kind = spec["kind"]
        if not fitting and (kind != CATEGORICAL or name not in self.categorical):
            refuse_non_features(series, fitted=kind)  # as classify_column does at fit
        if kind == CATEGORICAL:
            return category_labels(series, options)
        if kind == NUMERIC:
            refuse_typed_percentages(series, spec["percent"] and not fitting)
            values, bad, _ = parse_numbers(series, options, percent=spec["percent"])
        elif kind == BOOLEAN:
            values, bad = parse_booleans(series, options)
        else:
            check_time_zone(series, None if fitting else spec.get("zone"))
            values, bad = parse_datetimes(series, options)
            check_cells(series, bad, kind, options, fitting=fitting)  # or warns with coerce
            return values.where(~bad)
        values = check_cells(series, bad, kind, options, values=values, fitting=fitting)
        if fitting and kind == NUMERIC:
            check_magnitude(series, values)
        return values

    def _learn(self, series, values, kind):
        """Categories, datetime parts, fill value and output names of one column."""
        name = series.name
        if kind == CATEGORICAL:
            present = [v for v in values if v is not None]
            _check_not_empty(series, len(present))
            categories = sorted(set(present))
            _check_categories(series, len(categories), len(present))
            fill = Counter(present).most_common(1)[0][0] if self.impute else None
            names = [f"{name}_{c}" for c in categories] + [f"{name}_{UNSEEN}"]
            return {"categories": categories, "fill": fill, "names": names}
        if kind == DATETIME:
            seconds = epoch_seconds(values)
            parts = ["epoch_s", "dow", "month"]
            times = values.dropna()
            if (times.dt.normalize() != times).any():
                parts.append("hour")
            fill = self._fill_value(series, seconds, kind)
            names = [f"{name}_epoch_s"] + [
                f"{name}_{part}_{f}" for part in parts[1:] for f in ("sin", "cos")
            ]
            return {"parts": parts, "fill": fill, "names": names, "zone": time_zone(series)}
        spec = {"fill": self._fill_value(series, values, kind), "names": [name]}
        if kind == BOOLEAN and (words := boolean_words(series, values)) is not None:
            spec["words"] = words  # denoise writes them back as spelled
        return spec

    def _fill_value(self, series, values, kind):
        present = values[~np.isnan(values)]
        _check_not_empty(series, len(present))
        if self.impute is None:
            return None
        if self.impute == "median" and kind != BOOLEAN:
            return float(np.median(present))
        uniques, counts = np.unique(present, return_counts=True)
        return float(uniques[np.argmax(counts)])

    def _encode(self, series, values, spec, *, warn=True):
        """The output block of one column (n_samples, n_outputs)."""
        kind = spec["kind"]
        if kind == CATEGORICAL:
            values = self._filled(series, values, np.array([v is None for v in values]), spec)
            categories = spec["categories"]
            index = {c: i for i, c in enumerate(categories)}
            codes = np.array([index.get(v, len(categories)) for v in values], dtype=np.intp)
            block = np.zeros((len(values), len(categories) + 1))
            block[np.arange(len(values)), codes] = 1.0
            if warn:
                _warn_unseen(self, series, codes == len(categories))
            return block
        if kind == DATETIME:
            seconds = self._filled(series, epoch_seconds(values), None, spec)
            return _date_features(seconds, spec["parts"])
        return self._filled(series, values, None, spec)[:, None]

    def _filled(self, series, values, missing, spec):
        missing = np.isnan(values) if missing is None else missing
        if not missing.any():
            return values
        if spec["fill"] is None:
            first = int(np.flatnonzero(missing)[0])
            cell, hint = series.iloc[first], ""
            what = "(empty or NaN)"
            if isinstance(cell, str) and cell:
                what = escape(repr(cell))
                hint = (
                    f"; if {what} is a value, not a missing one, pass {{keep_default_na=False}} "
                    "or set {na_values}"
                )
                if not missing_mask(series.iloc[[first]], self._options()).any():
                    what += " (read as missing by {coerce=True})"
                    hint = ""
            raise TableError(
                f"missing value {what} in column {escape(repr(series.name))} at row "
                f"{escape(row_name(series, first))} ({int(missing.sum())} missing){hint}; "
                "to fill missing values pass {impute=median} or {impute=most_frequent} when "
                "fitting, or drop those rows."
            )
        values = np.array(values, dtype=object if spec["kind"] == CATEGORICAL else float)
        values[missing] = spec["fill"]
        return values

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.allow_nan = self.impute is not None
        return tags


def _side_by_side(blocks, n_rows):
    """``np.column_stack(blocks)`` of 2-D blocks, in column-major order: each column is
    written in one contiguous pass (a row-major copy strides through memory once per
    column, ~4x the time on a 30-column chunk). The values are the same; what needs rows
    contiguous (torch's batches) copies a batch at a time."""
    out = np.empty((n_rows, sum(block.shape[1] for block in blocks)), order="F")
    start = 0
    for block in blocks:
        out[:, start : start + block.shape[1]] = block
        start += block.shape[1]
    return out


def encoded_width(columns):
    """How many float columns :meth:`TableEncoder.transform` makes from ``columns_``.

    Raises ``ValueError`` for a column whose description transform could not follow (a
    loaded model file is checked with it).

    Examples
    --------
    >>> encoded_width({"x": {"kind": "numeric"}, "c": {"kind": "categorical",
    ...                "categories": ["a", "b"]}, "d": {"kind": "datetime",
    ...                "parts": ["epoch_s", "dow", "month"]}})
    9
    """
    width = 0
    for name, spec in columns.items():
        kind = spec.get("kind")
        if kind == CATEGORICAL:
            width += len(spec["categories"]) + 1  # and <unseen>
        elif kind == DATETIME:
            parts = list(spec["parts"])
            if parts[:1] != ["epoch_s"] or not set(parts[1:]) <= _PERIODS.keys():
                raise ValueError(f"column {name!r} has date parts {parts!r}")
            width += 1 + 2 * (len(parts) - 1)  # epoch seconds, then sin and cos of each cycle
        elif kind in (NUMERIC, BOOLEAN):
            width += 1
        else:
            raise ValueError(f"column {name!r} is of kind {kind!r}")
    return width


def _date_features(seconds, parts):
    """Epoch seconds, then sin/cos of the day of the week, the month and the hour."""
    stamps = pd.to_datetime(seconds, unit="s", utc=True)
    columns = [seconds]
    cycles = {
        "dow": np.asarray(stamps.day_of_week, dtype=float),
        "month": np.asarray(stamps.month, dtype=float) - 1.0,
        "hour": np.asarray(seconds % 86400.0, dtype=float) / 3600.0,
    }
    for part in parts[1:]:
        angle = _TWO_PI * cycles[part] / _PERIODS[part]
        columns += [np.sin(angle), np.cos(angle)]
    return np.column_stack(columns)


def check_magnitude(series, values):
    """Refuse infinite or huge training values, naming the first one's row."""
    with np.errstate(invalid="ignore"):
        bad = np.isinf(values) | (np.abs(values) > MAX_ABS)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise TableError(
            f"column {escape(repr(series.name))} has {escape(cell_repr(series.iloc[first]))} at "
            f"row {escape(row_name(series, first))}"
            f" ({int(bad.sum())} value(s) infinite or beyond {MAX_ABS:.0e}): a model cannot "
            "be fitted on it; fix or drop those rows, or rescale the column."
        )


def _check_not_empty(series, n_present):
    if n_present == 0:
        raise TableError(
            f"column {escape(repr(series.name))} has no values (all {len(series)} missing): "
            "exclude it or pass it in {id_cols}."
        )


def _check_categories(series, n_categories, n_present):
    if n_categories > MAX_CATEGORIES:
        raise TableError(
            f"column {escape(repr(series.name))} has {n_categories} different values in "
            f"{n_present} rows, over the {MAX_CATEGORIES} categories a column may have (one "
            "float column each, for every row): it looks like an id or free text; pass it in "
            "{id_cols} to keep it out of the features."
        )


def boolean_words(series, values):
    """``[true, false]`` as a text column of booleans spells them most often (``["Yes",
    "No"]``), for ``denoise`` to write them back so; None when no cell is text.
    A side never seen is the other's counterpart, in its case.

    Examples
    --------
    >>> from ae_anomaly.tables.typing import ParseOptions, parse_booleans
    >>> cells = pd.Series(["Yes", "No", "Yes", "yes"])
    >>> boolean_words(cells, parse_booleans(cells, ParseOptions())[0])
    ['Yes', 'No']
    >>> cells = pd.Series(["TRUE", "TRUE"])
    >>> boolean_words(cells, parse_booleans(cells, ParseOptions())[0])
    ['TRUE', 'FALSE']
    """
    written = np.array([isinstance(cell, str) for cell in series], dtype=bool)  # not bools
    text = series[written].astype(str).str.strip()
    words = []
    for bit in (1.0, 0.0):
        seen = text[values[written] == bit]
        words.append(seen.value_counts().index[0] if len(seen) else None)
    if words == [None, None]:
        return None
    pairs = {"true": "false", "yes": "no", "false": "true", "no": "yes"}
    known = next(w for w in words if w is not None)
    other = pairs[known.lower()]
    other = other.upper() if known.isupper() else other.title() if known.istitle() else other
    return [w if w is not None else other for w in words]


def _loose(label):
    return " ".join(str(label).split()).casefold()


def _warn_unseen(encoder, series, unseen):
    if unseen.any():
        first = int(np.flatnonzero(unseen)[0])
        note = encoder.unseen_note(series.name, series.iloc[first])
        warnings.warn(
            f"column {series.name!r}: {int(unseen.sum())} row(s) with a category not seen in "
            f"fitting (first at row {row_name(series, first)}: {note}); "
            f"encoded as {series.name}_{UNSEEN}, which adds to their anomaly score.",
            UnseenCategoryWarning,
            stacklevel=user_stacklevel(),
        )


def _unique(names):
    """``names`` with a ``#2``, ``#3``... suffix on repeats (a category may spell a name)."""
    seen, out = Counter(), []
    for name in names:
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return out
