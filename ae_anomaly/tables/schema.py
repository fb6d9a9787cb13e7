"""From a table's columns to a fitted pipeline and back, chunk by chunk.

A :class:`Schema` says which columns are numeric features, categorical features (one-hot
encoded inside the saved pipeline), ids (copied to the outputs) or ignored. The pipeline
is ``ColumnTransformer -> estimator``; scoring and denoising work chunk by chunk.
"""

from __future__ import annotations

import collections
import math
import re
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder

from .errors import ColumnOptionError, TableError, escape, literal
from .thresholds import anomaly_scores

NUMERIC, CATEGORICAL = "numeric", "categorical"
#: Output column names of ``score``: nobody can misread the direction of the score.
SCORE, FLAG = "anomaly_score", "is_anomaly"


#: Feature names that are answers, not measurements: ``score``'s own outputs (a scored
#: file fitted again) and, holding two values at most, the usual names of a label.
_OUTPUT_NAME = re.compile(r"(anomaly_score|is_anomaly|top\d+_(column|share))(_\d+)?")
_LABEL_NAMES = {"label", "labels", "target", "y", "class", "is_anomaly", "anomaly", "outlier",
                "is_outlier", "is_fraud", "fraud", "ground_truth"}  # fmt: skip


class LabelColumnWarning(UserWarning):
    """A feature column that looks like the answer: a label, or a score written before."""


#: A whole number as text (``12``, `` -3``, ``7.0``): a cheap first look for row numbers.
_WHOLE = re.compile(r"\s*[+-]?\d+(\.0*)?\s*", re.ASCII)


class IdColumnWarning(UserWarning):
    """A feature column that looks like a row number or a key, not a measurement."""


#: Names of keys: ``id``, ``index``, ``customer_id``, ``order no``, ``customerId``...
_ID_NAME = re.compile(
    r"(?i:id|idx|index|key|uuid|row|rowid|no|nr|(.+[_ .#-])?(id|idx|key|no|nr|num|number))"
    r"|.*[a-z](Id|ID|Idx|Key|No|Nr|Num|Number)"
)


def warn_label_columns(frame, features):
    """Warn about feature columns of ``frame`` that look like the answer a detector is to
    find: ``score``'s outputs (``anomaly_score``, ``is_anomaly``...: a scored file fitted
    again) or a column named like a label (``label``, ``target``, ``is_fraud``...) with
    two values at most. A model that sees them learns them, and finds what it was told.

    Examples
    --------
    >>> import warnings, pandas as pd
    >>> frame = pd.DataFrame({"x": [0.1, 0.5, 0.3], "Label": ["0", "1", "0"]})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_label_columns(frame, ["x", "Label"])
    >>> str(caught[0].message)[:60]
    "feature column(s) 'Label' look like the answer, not a measur"
    """
    found = []
    for name in features:
        key = str(name).strip().casefold()
        if _OUTPUT_NAME.fullmatch(key):
            found.append(name)
        elif key in _LABEL_NAMES and _at_most_two_values(frame[name]):
            found.append(name)
    if found:
        warnings.warn(
            f"feature column(s) {_names(found)} look like the answer, not a measurement (a "
            "label, or scores written by a run before): a model fitted on them finds what "
            "they say. Leave them out (--exclude; exclude= in Python) unless they are "
            "measurements.",
            LabelColumnWarning,
            stacklevel=3,
        )


def _at_most_two_values(column):
    try:
        return column.nunique(dropna=True) <= 2
    except TypeError:  # lists, records (Parquet): no label; refused as features later
        return False


def warn_id_columns(frame, features, *, min_rows=20):
    """Warn about feature columns of ``frame`` that look like row numbers or keys: a
    different whole number on every row (of ``min_rows`` at least) that counts the rows
    (every number from the smallest to the largest, in any order), sits in a column named
    like a key (``id``, ``customer_id``, ``orderNo``...) or has 16 digits or more (card
    numbers: no measurement is written so, and float64 cannot tell them apart). A model
    fitted on them scores a row by its number: new rows, numbered past the training ones,
    look unusual.

    Examples
    --------
    >>> import warnings, numpy as np, pandas as pd
    >>> frame = pd.DataFrame({"row": np.arange(30), "x": np.linspace(0, 1, 30)})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_id_columns(frame, ["row", "x"])
    >>> str(caught[0].message)[:57]
    "feature column(s) 'row' look like row numbers or keys (a "
    """
    if len(frame) < min_rows:
        return
    head = frame[list(features)].iloc[:20].to_numpy(dtype=object)  # one cheap first look
    maybe = [name for name, cells in zip(features, head.T, strict=True) if _whole(cells)]
    found = [name for name in maybe if _looks_like_ids(frame[name], str(name))]
    if found:
        warnings.warn(
            f"feature column(s) {_names(found)} look like row numbers or keys (a different "
            "whole number on every row), not measurements: a model fitted on them scores "
            "rows by their number. Pass them in --id-col (ids= in Python) to keep them with "
            "the scores, or --exclude them, unless they are measurements.",
            IdColumnWarning,
            stacklevel=3,
        )


def _whole(cells):
    """True if every one of ``cells`` (Python objects) is a whole number or its text."""
    for cell in cells:
        if isinstance(cell, str):
            if not _WHOLE.fullmatch(cell):
                return False
        elif isinstance(cell, bool | np.bool_) or not isinstance(cell, int | float | np.number):
            return False
        elif not (math.isfinite(cell) and cell == round(cell)):
            return False
    return True


def _looks_like_ids(column, name):
    """True if every cell of ``column`` is a distinct whole number (read from text too)
    that count the rows, are 16 digits long or sit in a column named like a key (see
    :func:`warn_id_columns`). The first thousand cells are looked at first: most columns
    fail there. Integers are compared as integers (19 digits do not fit a float64)."""
    if pd.api.types.is_bool_dtype(column.dtype):
        return False
    for cells in (column.iloc[:1000], column) if len(column) > 1000 else (column,):
        if not pd.api.types.is_numeric_dtype(cells.dtype):
            cells = pd.to_numeric(cells.astype(str).str.strip(), errors="coerce")
        if cells.isna().any() or not cells.is_unique:
            return False
        if not pd.api.types.is_integer_dtype(cells.dtype):
            values = cells.to_numpy(dtype=np.float64)
            if not np.isfinite(values).all() or (values != np.round(values)).any():
                return False
    low, high = int(cells.min()), int(cells.max())
    counts = high - low == len(cells) - 1
    long = min(abs(low), abs(high)) >= 10**15 and (low > 0) == (high > 0)
    return counts or long or _ID_NAME.fullmatch(name.strip()) is not None


def _renamed_hint(missing, unknown, shown=3):
    """Which unknown header names are missing ones but for blanks or case (a later export
    written ``id, amount`` or ``Amount``), for a message, and those names: a file's names
    must match."""
    found, renamed = [], set()
    for name in missing:
        for other in unknown:
            if str(other).strip().casefold() == str(name).strip().casefold():
                how = "blanks" if str(other).strip() == str(name).strip() else "case"
                found.append(f"{literal(other)} is {literal(name)} but for {how}")
                renamed.add(other)
                break
    if not found:
        return "", renamed
    more = f"... ({len(found)} in all)" if len(found) > shown else ""
    return f" ({'; '.join(found[:shown])}{more}: rename them to the model's)", renamed


def _comma_hint(names, unknown):
    """A note for names given split at the commas of a column's name (``id,x`` given
    as ``id`` and ``x``): the command line reads ``id\\,x`` as one name."""
    for name in names:
        parts = [part.strip() for part in name.split(",")]
        if len(parts) > 1 and set(parts) <= {u.strip() for u in unknown}:
            escaped = name.replace(",", "\\,")
            return escape(f" ({name!r} holds a comma: on the command line, write it '{escaped}')")
    return ""


def resolve_names(names, **given):
    """The column names given in each option, as columns of ``names``: a name that is no
    column's but for the blanks around one header name (``amount`` for `` amount``, from
    a header written ``id, amount``) is that column's; others are left as given, for
    :meth:`Schema.select` to refuse.

    Examples
    --------
    >>> resolve_names(["id", " amount", " region"], ids=["id"], columns=["amount", "x"])
    {'ids': ['id'], 'columns': [' amount', 'x']}
    """
    loose = collections.defaultdict(list)
    for name in names:
        loose[name.strip()].append(name)
    exact = set(names)

    def resolve(name):
        if name in exact or len(loose.get(name.strip(), ())) != 1:
            return name
        return loose[name.strip()][0]

    return {option: [resolve(name) for name in chosen] for option, chosen in given.items()}


def forced_columns(columns, given):
    """``{column: option}`` for the columns named in the options ``given`` (``{option:
    names}``, in order) of a :class:`~ae_anomaly.tables.encoder.TableEncoder`.

    Raises
    ------
    ColumnOptionError
        For a name that is none of ``columns``, or one given in two options.

    Examples
    --------
    >>> forced_columns(["id", "zip"], {"categorical": ["zip"], "id_cols": ["id"]})
    {'zip': 'categorical', 'id': 'id_cols'}
    >>> forced_columns(["zip"], {"numeric": ["zip"], "categorical": ["zip"]})
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.errors.ColumnOptionError: column 'zip' is given in both numeric and ...
    """
    forced = {}
    for param, names in given.items():
        for name in names:
            if name not in columns:
                raise ColumnOptionError(
                    f"no column named {escape(repr(name))} (given in {{{param}}}); the columns "
                    f"are {escape(', '.join(repr(c) for c in columns))}."
                )
            if forced.get(name, param) != param:
                raise ColumnOptionError(
                    f"column {escape(repr(name))} is given in both {{{forced[name]}}} and "
                    f"{{{param}}}."
                )
            forced[name] = param
    return forced


@dataclass
class Schema:
    """The columns a model was fitted on.

    Examples
    --------
    >>> schema = Schema(features={"amount": NUMERIC, "country": CATEGORICAL}, ids=["id"])
    >>> schema.check_columns(["id", "amount", "country"], "new.csv")
    >>> schema.check_columns(["id", "amt", "country"], "new.csv")
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.errors.TableError: new.csv: missing column(s) 'amount' ... 'amt' ...
    """

    features: dict = field(default_factory=dict)
    ids: list = field(default_factory=list)
    ignored: list = field(default_factory=list)
    impute: str | None = None
    #: True for a model whose pipeline starts with a ``TableEncoder`` (typed columns:
    #: numeric, categorical, boolean, datetime); False for the numeric/categorical
    #: ``ColumnTransformer`` of older model files and of streamed fits.
    encoded: bool = False
    #: Numeric feature columns whose training values were all integers / all 0 or 1
    #: (``denoise`` rounds them back).
    integers: list = field(default_factory=list)
    binary: list = field(default_factory=list)
    #: The decimals of the other numeric feature columns, where every training value has at
    #: most 12 (``denoise`` rounds to them: 2 for amounts written 1243.56).
    decimals: dict = field(default_factory=dict)

    @staticmethod
    def select(names, *, columns=(), exclude=(), ids=(), categorical=(), **typed):
        """The feature columns among ``names``; unknown names in the options (and in
        ``typed``: ``numeric``, ``date_cols``...) are errors."""
        given = {"columns": columns, "exclude": exclude, "ids": ids, "categorical": categorical,
                 **typed}  # fmt: skip
        for param, chosen in given.items():
            unknown = [c for c in chosen if c not in names]
            if unknown:
                raise ColumnOptionError(
                    f"{{{param}}}: no column named {_names(unknown)}{_comma_hint(names, unknown)};"
                    f" the columns are {_names(names)}."
                )
        chosen = list(columns) or [c for c in names if c not in set(ids)]
        chosen = [c for c in chosen if c not in set(exclude) and c not in set(ids)]
        if not chosen:
            raise TableError("No feature columns left to fit on (check {columns}/{exclude}).")
        return chosen

    @classmethod
    def infer(cls, arrow_types, *, columns=(), exclude=(), ids=(), categorical=(), impute=None):
        """The schema of a table: numbers are numeric, every other type categorical."""
        names = list(arrow_types)
        columns, exclude, ids, categorical = resolve_names(
            names, columns=columns, exclude=exclude, ids=ids, categorical=categorical
        ).values()
        chosen = cls.select(
            names, columns=columns, exclude=exclude, ids=ids, categorical=categorical
        )
        features = {}
        for name in chosen:
            arrow_type = arrow_types[name]
            numeric = pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type)
            numeric = numeric or pa.types.is_null(arrow_type)  # empty in the first block
            features[name] = NUMERIC if numeric and name not in categorical else CATEGORICAL
        ignored = [c for c in names if c not in features and c not in ids]
        return cls(features=features, ids=list(ids), ignored=ignored, impute=impute)

    @classmethod
    def from_json(cls, data):
        return cls(**data)

    def to_json(self):
        return asdict(self)

    @property
    def numeric(self):
        return [c for c, kind in self.features.items() if kind == NUMERIC]

    @property
    def categorical(self):
        return [c for c, kind in self.features.items() if kind == CATEGORICAL]

    def arrow_types(self):
        """Column types to read a file with: numbers as float64, the rest as strings.

        An ``encoded`` schema fixes none: its CSV files are read as text, as written.
        """
        if self.encoded:
            return {}
        types = {c: pa.float64() for c in self.numeric}
        types.update({c: pa.string() for c in [*self.categorical, *self.ids]})
        return types

    def check_columns(self, columns, source, *, allow_extra=False):
        """Name the missing and the unknown columns of a file to score."""
        missing = [c for c in [*self.features, *self.ids] if c not in columns]
        known = {*self.features, *self.ids, *self.ignored}
        extra = [] if allow_extra else [c for c in columns if c not in known]
        if not missing and not extra:
            return
        parts = []
        if missing:
            parts.append(f"missing column(s) {_names(missing)} that the model needs")
        hint, renamed = _renamed_hint(missing, [c for c in columns if c not in known])
        if extra:
            ignore = "" if set(extra) <= renamed else " (pass {ignore_extra=True} to ignore them)"
            parts.append(f"unknown column(s) {_names(extra)} the model was not fitted with{ignore}")
        hint = hint or (" (renamed?)" if missing and extra else "")
        raise TableError(f"{escape(source)}: {'; '.join(parts)}{hint}.")

    def check_missing_values(self, frame, source):
        """Name the first missing value of a feature column (unless the model imputes)."""
        if self.impute is not None or self.encoded:  # the encoder checks its own
            return
        missing = frame[list(self.features)].isna().to_numpy()
        if missing.any():
            row, col = (int(i[0]) for i in np.nonzero(missing))
            column = list(self.features)[col]
            raise TableError(  # a streamed fit's schema: it cannot impute
                f"{escape(source)}: missing value in column {literal(column)} at row "
                f"{frame.index[row] + 1} ({int(missing.sum())} missing in this chunk); fix or "
                "drop those rows, or fit without {chunksize} and with {impute=median} or "
                "{impute=most_frequent}."
            )


def build_pipeline(schema, estimator):
    """``ColumnTransformer`` (passthrough/impute numbers, one-hot categories) -> estimator.

    Examples
    --------
    >>> import pandas as pd
    >>> from ae_anomaly import Autoencoder
    >>> schema = Schema(features={"a": NUMERIC, "b": NUMERIC, "c": CATEGORICAL})
    >>> frame = pd.DataFrame({"a": [0.0, 1.0, 2.0], "b": [1.0, 0.0, 1.0], "c": ["x", "y", "x"]})
    >>> pipeline = build_pipeline(schema, Autoencoder(max_iter=1, random_state=0)).fit(frame)
    >>> pipeline.score_samples(frame).shape
    (3,)
    """
    transformers = []
    if schema.numeric:
        numeric = "passthrough"
        if schema.impute is not None:
            numeric = SimpleImputer(strategy=schema.impute, keep_empty_features=True)
        transformers.append(("numeric", numeric, schema.numeric))
    if schema.categorical:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        if schema.impute is not None:
            imputer = SimpleImputer(strategy="most_frequent", keep_empty_features=True)
            encoder = make_pipeline(imputer, encoder)
        transformers.append(("categorical", encoder, schema.categorical))
    columns = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0)
    return Pipeline([("columns", columns), ("model", estimator)])


def prepare(frame, schema):
    """The feature columns of a chunk, categories as plain strings (NaN stays missing)."""
    features = frame[list(schema.features)]
    if schema.categorical:
        features = features.astype({c: object for c in schema.categorical})
    return features


def with_types(frame, types):
    """``frame`` with the column types a :class:`TableReader` reading it as ``types`` gives.

    Examples
    --------
    >>> import pandas as pd
    >>> with_types(pd.DataFrame({"a": [1, 2], "b": [3, 4]}), {"a": pa.float64()}).dtypes.a
    dtype('float64')
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name, arrow_type in types.items():
        if name in table.column_names:
            index = table.schema.get_field_index(name)
            try:
                table = table.set_column(index, name, table.column(index).cast(arrow_type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise TableError(
                    f"column {literal(name)} holds {table.column(index).type} values, not "
                    f"{arrow_type}."
                ) from None
    out = table.to_pandas()
    out.index = frame.index
    return out


def _groups(pipeline, schema):
    """For each feature column, the indices of its transformed columns."""
    transformer = pipeline.named_steps["columns"]
    groups = {}
    for name, _, columns in transformer.transformers_:
        if name == "remainder":
            continue
        indices = np.arange(
            transformer.output_indices_[name].start, transformer.output_indices_[name].stop
        )
        if name == "numeric":
            groups.update({c: [i] for c, i in zip(columns, indices, strict=True)})
        else:
            encoder = transformer.named_transformers_[name]
            encoder = encoder[-1] if isinstance(encoder, Pipeline) else encoder
            start = 0
            for column, categories in zip(columns, encoder.categories_, strict=True):
                groups[column] = list(indices[start : start + len(categories)])
                start += len(categories)
    return {c: groups[c] for c in schema.features}


def score_chunk(pipeline, schema, frame, *, threshold, explain=0, names=None, keep=None):
    """The ``score`` output of one chunk: ids (or the ``keep`` columns), anomaly score,
    flag, top columns.

    ``names`` maps the output names (``anomaly_score``...) to those written (see
    :func:`output_names`).
    """
    keep = schema.ids if keep is None else keep
    names = names or output_names(keep, explain)
    transformed = np.asarray(pipeline[:-1].transform(prepare(frame, schema)), dtype=np.float64)
    model = pipeline[-1]
    # a row with an infinite value cannot be scored: inf and flagged, as mixed tables do
    finite = np.isfinite(transformed).all(axis=1)
    scores = np.full(len(frame), np.inf)
    if finite.any():
        with np.errstate(over="ignore", invalid="ignore"):
            scores[finite] = anomaly_scores(model, transformed[finite])
    scores[~np.isfinite(scores)] = np.inf
    out = frame[keep].copy()
    out[names[SCORE]] = scores
    out[names[FLAG]] = (scores > threshold).astype(np.int8)
    if explain:
        groups = _groups(pipeline, schema)
        columns = np.array(list(groups), dtype=object)
        per_column = np.zeros((len(frame), len(groups)))
        unscored = np.isinf(scores)  # counted by the caller: feature_scores would warn
        if not unscored.all():
            with np.errstate(over="ignore", invalid="ignore"):
                errors = np.asarray(model.feature_scores(transformed[~unscored]))
                per_column[~unscored] = np.column_stack(
                    [errors[:, idx].sum(axis=1) for idx in groups.values()]
                )
        per_column[unscored] = _culprits(transformed[unscored], groups.values())
        total = per_column.sum(axis=1, keepdims=True)
        shares = np.divide(per_column, total, out=np.zeros_like(per_column), where=total > 0)
        top = np.argsort(-shares, axis=1, kind="stable")[:, : min(explain, len(columns))]
        for k in range(top.shape[1]):
            out[names[f"top{k + 1}_column"]] = columns[top[:, k]]
            out[names[f"top{k + 1}_share"]] = np.round(
                np.take_along_axis(shares, top[:, k : k + 1], 1)[:, 0], 6
            )
    return out


def _culprits(values, groups):
    """1 for the column groups of each row holding a value that is not finite or beyond
    1e100 (what overflows a score), else 0 (all 1 when no group does): the error of a row
    that could not be scored is theirs, in equal shares, as mixed tables share it."""
    with np.errstate(invalid="ignore"):
        odd = ~(np.abs(values) <= 1e100)
    culprit = np.column_stack([odd[:, idx].any(axis=1) for idx in groups])
    culprit[~culprit.any(axis=1)] = True
    return culprit.astype(np.float64)


def output_names(ids, explain=0):
    """``{output name: name written}``: an output name taken by an id column gets a
    ``_2`` (``_3``...) suffix, so no input column is ever overwritten.

    Examples
    --------
    >>> output_names(["anomaly_score"])
    {'anomaly_score': 'anomaly_score_2', 'is_anomaly': 'is_anomaly'}
    """
    wanted = [SCORE, FLAG]
    for k in range(1, (explain or 0) + 1):
        wanted += [f"top{k}_column", f"top{k}_share"]
    taken, names = set(ids), {}
    for name in wanted:
        written, n = name, 1
        while written in taken:
            n += 1
            written = f"{name}_{n}"
        taken.add(written)
        names[name] = written
    return names


def denoiser(model):
    """``model.denoise`` (a denoising autoencoder's: blended towards the input, kept in the
    training range) when the model has one, else ``model.reconstruct``."""
    return getattr(model, "denoise", None) or model.reconstruct


def denoise_chunk(pipeline, schema, frame):
    """The chunk with every feature column replaced by its reconstruction (a denoising
    model's ``denoise``, see :func:`denoiser`).

    Numbers come back in their own units; a categorical column gets the category whose
    one-hot column is reconstructed highest. Other columns, and the rows the model
    cannot score (:func:`denoisable`) or whose reconstruction is not finite, are copied
    unchanged (:func:`warn_not_denoised`).
    """
    transformed = pipeline[:-1].transform(prepare(frame, schema))
    rows = denoisable(pipeline[-1], transformed, warn=False)
    out = frame.copy()
    reconstructed = np.empty((0, 0))
    if rows.any():
        reconstructed = np.asarray(denoiser(pipeline[-1])(transformed[rows]), dtype=np.float64)
        fits = np.isfinite(reconstructed).all(axis=1)  # never inf written for a number
        rows[np.flatnonzero(rows)[~fits]] = False
        reconstructed = reconstructed[fits]
    if not rows.all():
        warn_not_denoised()
    if not rows.any():
        return out
    transformer = pipeline.named_steps["columns"]
    groups = _groups(pipeline, schema)
    for column in schema.numeric:
        out.loc[rows, column] = reconstructed[:, groups[column][0]]
    if schema.categorical:
        encoder = transformer.named_transformers_["categorical"]
        encoder = encoder[-1] if isinstance(encoder, Pipeline) else encoder
        for column, categories in zip(schema.categorical, encoder.categories_, strict=True):
            best = np.argmax(reconstructed[:, groups[column]], axis=1)
            out.loc[rows, column] = np.asarray(categories, dtype=object)[best]
    return out


def denoisable(model, X, finite=None, *, warn=True):
    """The mask of the rows of ``X`` (the model's input) that ``model`` can score: every
    value finite (``finite``, when the caller has that mask already), and a finite score
    (``1e308`` overflows in its arithmetic; ``score`` flags such rows). Their
    reconstruction would be infinite or made up: a warning (unless ``warn`` is false,
    :func:`warn_not_denoised`) says that the others are copied unchanged."""
    values = X if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=np.float64)
    rows = np.isfinite(values).all(axis=1) if finite is None else finite.copy()
    rows = np.asarray(rows, dtype=bool)
    if rows.any():
        with np.errstate(over="ignore", invalid="ignore"):
            scores = anomaly_scores(model, values[rows])
        rows[np.flatnonzero(rows)[~np.isfinite(scores)]] = False
    if warn and not rows.all():
        warn_not_denoised(stacklevel=4)
    return rows


def warn_not_denoised(stacklevel=3):
    """The one warning about rows copied unchanged by ``denoise``: rows the model cannot
    score (:func:`denoisable`), or whose reconstruction is not finite or does not fit its
    column (an integer beyond int64, a date beyond pandas' timestamps)."""
    warnings.warn(
        "rows the model cannot score (values that are not finite, or overflow in its "
        "arithmetic) or whose reconstruction does not fit a column (not finite, beyond "
        "an integer's or a date's range) are copied unchanged, not denoised.",
        UserWarning,
        stacklevel=stacklevel,
    )


def _names(names, limit=20):
    """Column names quoted for a message template (the first ``limit``, then a count)."""
    shown = ", ".join(literal(n) for n in names[:limit])
    return shown if len(names) <= limit else f"{shown}... ({len(names)} in all)"
