"""Fit an autoencoder on a table, in memory or streamed: :func:`read_table`, :func:`fit_table`.

Both paths return a :class:`TableModel`: the pipeline (in memory:
:func:`~ae_anomaly.tables.pipeline.make_table_pipeline`'s ``TableEncoder -> estimator``,
typing every column; streamed, and in older model files: ``ColumnTransformer -> estimator``
on numeric and one-hot columns),
the table's :class:`~ae_anomaly.tables.schema.Schema` and one :class:`TrainingSummary`,
which is what ``ae-anomaly fit`` saves in the model file's header.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .encoder import check_magnitude
from .errors import (
    ColumnOptionError,
    ParameterError,
    TableError,
    cell_note,
    escape,
    literal,
    lookalike_note,
)
from .exports import warn_totals_row
from .formats import STDIO, DataError
from .reader import TableReader
from .schema import (
    Schema,
    build_pipeline,
    prepare,
    resolve_names,
    warn_id_columns,
    warn_label_columns,
)
from .sources import Reservoir
from .thresholds import anomaly_scores, decision_threshold, training_quantiles

#: A streamed fit keeps the quantiles of a uniform sample of this many training scores
#: (or of one chunk, when chunks are larger).
QUANTILE_SAMPLE = 10_000


@dataclass
class Table:
    """A table read into memory: its name (for messages), its rows, its schema and options.

    ``frame``'s index names the rows in messages: the 1-based data row of a file, a
    DataFrame's own index label. ``options`` are the
    :class:`~ae_anomaly.tables.encoder.TableEncoder` parameters it is typed with.
    """

    name: str
    frame: pd.DataFrame
    schema: Schema
    options: dict = field(default_factory=dict)


@dataclass
class TrainingSummary:
    """What a fit on a table did: rows, time, epochs, losses, flagged rows, score quantiles."""

    source: str
    rows: int
    seconds: float
    n_iter: int
    best_loss: float
    final_loss: float | None
    flagged: int | None = None
    score_quantiles: list | None = field(default=None, repr=False)

    def to_json(self):
        return asdict(self)

    def add_scores(self, scores, cut):
        """Set ``flagged`` and ``score_quantiles`` from the anomaly scores of the training
        rows (a non-finite score is an unscorable row: flagged, left out of the quantiles)."""
        scores = np.where(np.isfinite(scores), scores, np.inf)
        self.flagged = int((scores > cut).sum())
        self.score_quantiles = training_quantiles(scores[np.isfinite(scores)])


@dataclass
class TableModel:
    """A fitted pipeline with the schema of its table and, once fitted here, its summary.

    Attributes
    ----------
    pipeline : Pipeline
        ``TableEncoder -> estimator`` (``schema.encoded``) or ``ColumnTransformer ->
        estimator``: takes the table's feature columns.
    schema : Schema
    metadata : dict
        The model file's header fields: ``kind``, ``schema``, ``threshold``, ``training``.
    """

    pipeline: object
    schema: Schema
    metadata: dict = field(default_factory=dict)

    @property
    def quantiles(self):
        """Quantiles of the training anomaly scores, when the model was fitted on a table."""
        return self.metadata.get("training", {}).get("score_quantiles")

    def threshold(self, *, threshold=None, contamination=None):
        """The anomaly-score cut (see :func:`~ae_anomaly.tables.thresholds.decision_threshold`)."""
        return decision_threshold(
            self.pipeline, threshold=threshold, contamination=contamination,
            quantiles=self.quantiles,
        )  # fmt: skip

    def add_training_scores(self, scores):
        """Complete the summary of a model fitted with ``score_training=False``: the anomaly
        scores of its training rows, in order (``score_table``'s on the same table).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from ae_anomaly import Autoencoder
        >>> X = np.random.RandomState(0).normal(size=(200, 3))
        >>> frame = pd.DataFrame(X, columns=["a", "b", "c"])
        >>> model = fit_table(Autoencoder(max_iter=2, random_state=0), frame, score_training=False)
        >>> model.metadata["training"]["score_quantiles"] is None
        True
        >>> from ae_anomaly.tables.scoring import score_table
        >>> model.add_training_scores(score_table(model, frame).frame["anomaly_score"])
        >>> len(model.metadata["training"]["score_quantiles"])
        1001
        """
        summary = TrainingSummary(**self.metadata["training"])
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != (summary.rows,):
            raise ValueError(f"Expected the scores of {summary.rows} rows, got {scores.shape}.")
        summary.add_scores(scores, decision_threshold(self.pipeline))
        self.metadata["training"] = summary.to_json()

    def save(self, path):
        """Save the pipeline with its schema and summary in the header (atomically)."""
        from ..persistence import save

        if self.metadata.get("training", {}).get("score_quantiles", []) is None:
            raise ValueError("Fitted with score_training=False: add_training_scores first.")
        save(self.pipeline, path, metadata=self.metadata)

    @classmethod
    def load(cls, path):
        """Load a model saved by :meth:`save` (``ae-anomaly fit``); never runs code."""
        from ..persistence import ModelFileError, load_with_metadata

        pipeline, metadata = load_with_metadata(path)
        if "schema" not in metadata:
            raise ModelFileError(
                f"{str(path)!r} was saved without a column schema (by ae_anomaly.save): scoring "
                "a table needs a model fitted on a table (fit_table, `ae-anomaly fit`)."
            )
        return cls(pipeline, Schema.from_json(metadata["schema"]), metadata)


def read_table(source, *, delimiter=None, columns=(), exclude=(), ids=(), categorical=(),
               impute=None, encoding=None, **parse_options):  # fmt: skip
    """Read a table into memory and choose its feature columns (typed when fitting).

    Parameters
    ----------
    source : path, ``"-"`` (CSV on stdin) or DataFrame
        A CSV/TSV/Parquet file, by extension. CSV cells are read as the text written (ids
        pass through unchanged); Parquet columns keep their types.
    delimiter : str, optional
        Overrides the extension's.
    columns, exclude, ids, categorical : list of str
        Feature columns (default: all but ``ids``), columns to leave out, id columns
        (copied to outputs), columns to one-hot encode whatever they hold. A name that is
        a column's but for blanks around it in the header (``id, amount``) names it.
    impute : {"median", "most_frequent"}, optional
        Fill missing values; by default a missing value is an error.
    encoding : str, optional
        A CSV file's text encoding (e.g. ``"cp1252"``); UTF-8 by default.
    **parse_options
        ``decimal``, ``thousands``, ``na_values``, ``keep_default_na``, ``coerce``,
        ``numeric``, ``date_cols``, ``date_format``: see
        :class:`~ae_anomaly.tables.encoder.TableEncoder`.

    Returns
    -------
    table : Table

    Examples
    --------
    >>> import pandas as pd
    >>> table = read_table(pd.DataFrame({"id": ["a", "b"], "x": [1, 2]}), ids=["id"])
    >>> list(table.schema.features), table.schema.ids
    (['x'], ['id'])
    """
    if impute not in (None, "median", "most_frequent"):
        raise ParameterError(
            f"{{impute}}: {literal(impute)} is not a way to fill mixed columns; pass "
            "{impute=median} or {impute=most_frequent}."
        )
    if isinstance(source, pd.DataFrame):
        name, frame = "the table", source
    else:
        reader = TableReader(source, delimiter=delimiter, text=True, encoding=encoding)
        name, frame = reader.name, reader.read_all()
        frame.index = frame.index + 1  # messages name the 1-based data row of the file
        if reader.kind == "csv":  # text read as written: a header line may recur
            _refuse_header_rows(frame, name)
    names = [str(c) for c in frame.columns]
    typed = {option: parse_options.get(option) or () for option in ("numeric", "date_cols")}
    typed = resolve_names(
        names, columns=columns, exclude=exclude, ids=ids, categorical=categorical, **typed,
    )  # fmt: skip
    columns, exclude, ids, categorical = (typed.pop(option) for option in _SCHEMA_OPTIONS)
    features = Schema.select(
        names, columns=columns, exclude=exclude, ids=ids, categorical=categorical, **typed
    )
    for option, chosen in typed.items():  # the columns whose kind they force: features
        if chosen:
            parse_options[option] = chosen
        unknown = [c for c in chosen if c not in features]
        if unknown:
            raise ColumnOptionError(
                f"{{{option}}}: {', '.join(map(literal, unknown))} is not a feature column."
            )
    if len(frame) == 0:
        raise DataError(f"{name} has a header but no data rows.")
    warn_label_columns(frame, features)
    warn_id_columns(frame, features)
    warn_totals_row(frame, features, name)
    schema = Schema(
        features=dict.fromkeys(features), ids=list(ids),
        ignored=[c for c in names if c not in features and c not in ids], impute=impute,
        encoded=True,
    )  # fmt: skip
    options = {"categorical": list(categorical), "impute": impute, **parse_options}
    return Table(name, frame, schema, options)


#: The options of :func:`read_table` that choose the columns (the others type them).
_SCHEMA_OPTIONS = ("columns", "exclude", "ids", "categorical")


def _refuse_header_rows(frame, name):
    """Refuse a data row that is the header line again (files joined one after another:
    ``cat jan.csv feb.csv``); its first cell is looked at first, cheaply."""
    if frame.shape[1] < 2 or not len(frame):
        return
    first = frame.iloc[:, 0]
    for position in np.flatnonzero((first == frame.columns[0]).to_numpy(dtype=bool)):
        row = frame.iloc[position]
        if all(str(cell) == column for cell, column in zip(row, frame.columns, strict=True)):
            raise DataError(
                f"{name}: row {frame.index[position]} is the header line again (files joined "
                "one after another?); keep the first header line only."
            )


def fit_table(estimator, source, *, kind=None, chunksize=None, delimiter=None, verbose=False,
              score_training=True, encoding=None, **schema_options):  # fmt: skip
    """Fit a table pipeline: ``TableEncoder -> estimator`` in memory, or the numeric
    ``ColumnTransformer -> estimator`` streamed in chunks.

    Parameters
    ----------
    estimator : BaseAutoencoder
        Fitted in place.
    source : Table, DataFrame, path or ``"-"``
        What :func:`read_table` reads (a :class:`Table` is used as it is).
    kind : str, optional
        The estimator's name for the header (default: from its class, e.g. ``"denoising"``).
    chunksize : int, optional
        Train out of core with :func:`ae_anomaly.fit_chunks`, reading ``chunksize`` rows at
        a time and never the whole file (numeric features only, no imputation).
    delimiter, encoding : str, optional
        As :func:`read_table`'s.
    verbose : bool, default=False
        Progress on stderr (on a terminal): the training epochs, or the passes over the file.
    score_training : bool, default=True
        Score the training rows for the summary's ``flagged`` and ``score_quantiles`` (in
        memory: one more pass over them). False leaves both None until
        :meth:`TableModel.add_training_scores`, for a caller that scores these rows anyway
        (``ae-anomaly detect``); a streamed fit scores them in any case.
    **schema_options
        ``columns``, ``exclude``, ``ids``, ``categorical``, ``impute``: see :func:`read_table`.

    Returns
    -------
    model : TableModel
        Its ``metadata["training"]`` is the :class:`TrainingSummary` of either path; an in
        memory fit's ``metadata["reading"]`` says how its cells are read (``decimal``,
        ``thousands``, ``date_format``, ``na_values``, ``keep_default_na``, ``coerce``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ae_anomaly import Autoencoder
    >>> frame = pd.DataFrame(np.random.RandomState(0).normal(size=(200, 3)), columns=list("abc"))
    >>> model = fit_table(Autoencoder(max_iter=2, random_state=0), frame)
    >>> model.metadata["training"]["rows"], model.metadata["kind"]
    (200, 'autoencoder')
    """
    if chunksize is None:
        table = source if isinstance(source, Table) else read_table(
            source, delimiter=delimiter, encoding=encoding, **schema_options
        )  # fmt: skip
        pipeline, schema, summary = _fit_in_memory(estimator, table, verbose, score_training)
    else:
        schema, pipeline, summary = _fit_streamed(
            estimator, source, chunksize, (delimiter, encoding), verbose, schema_options
        )
    if kind is None:
        from ..models.registry import cli_name

        kind = cli_name(type(estimator))
    metadata = {
        "kind": kind,
        "schema": schema.to_json(),
        "threshold": decision_threshold(pipeline),
        "training": summary.to_json(),
    }
    if schema.encoded:  # how cells are read, for `ae-anomaly info` (the pipeline holds it)
        metadata["reading"] = {k: pipeline[0].get_params()[k] for k in _READING}
    return TableModel(pipeline, schema, metadata)


#: The options of a mixed table's TableEncoder that say how its cells are read.
_READING = ("decimal", "thousands", "date_format", "na_values", "keep_default_na", "coerce")


def _refuse_typos(source, text_format, columns):
    """Name the first cell that is not a number in a column of numbers but for a few cells
    of the first chunk (a typo there makes the whole column text to the reader's sample)."""
    delimiter, encoding = text_format
    reader = TableReader(source, delimiter=delimiter, encoding=encoding, text=True,
                         usecols=list(columns))  # fmt: skip
    chunk = next(iter(reader), None)
    for name in columns if chunk is not None else ():
        cells = chunk[name]
        present = cells.notna() & (cells.str.strip() != "")
        bad = present & pd.to_numeric(cells, errors="coerce").isna()
        if bad.any() and bad.sum() <= 0.1 * present.sum():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            cell = cells.iloc[row]
            raise TableError(
                f"column {literal(name)} holds numbers, but row {cells.index[row] + 1}: "
                f"{literal(cell)}{escape(lookalike_note(cell) + cell_note(cell, name))} is "
                "not a number; fix the data, "
                "or fit without {chunksize} and with {coerce=True} to read such cells as "
                "missing."
            )


def _fit_in_memory(estimator, table, verbose, score_training):
    from .mixed import encoded_schema
    from .pipeline import make_table_pipeline

    features = list(table.schema.features)
    options = {k: v for k, v in table.options.items() if v is not None}
    options = {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}
    pipeline = make_table_pipeline(estimator, **options)
    frame = table.frame[features]
    started = time.perf_counter()
    with _verbosity(estimator, verbose):
        pipeline.fit(frame)
    seconds = time.perf_counter() - started
    schema = encoded_schema(pipeline, table.frame, features, table.schema.ids)
    summary = _summary(pipeline, table.name, seconds, len(frame))
    if score_training:
        with np.errstate(over="ignore", invalid="ignore"):
            summary.add_scores(anomaly_scores(pipeline, frame), decision_threshold(pipeline))
    return pipeline, schema, summary


#: The options of a streamed fit (numeric columns, the reader's types); the typing options
#: of mixed tables (``decimal``, ``coerce``...) need the whole table in memory.
_STREAMED_OPTIONS = ("columns", "exclude", "ids", "categorical", "impute")
_TYPING_DEFAULTS = {"decimal": ".", "thousands": None, "na_values": None,
                    "keep_default_na": True, "coerce": False, "numeric": (), "date_cols": (),
                    "date_format": None}  # fmt: skip


def _plain(value):
    return tuple(value) if isinstance(value, list) else value


def _fit_streamed(estimator, source, chunksize, text_format, verbose, schema_options):
    from .. import fit_chunks

    typing = [k for k, v in schema_options.items()
              if k not in _STREAMED_OPTIONS and _plain(v) != _TYPING_DEFAULTS.get(k)]  # fmt: skip
    if typing:
        raise ParameterError(
            f"{{chunksize}} reads numbers as numbers only; {{{typing[0]}}} needs the whole "
            "table in memory: fit without {chunksize}."
        )
    schema_options = {k: v for k, v in schema_options.items() if k in _STREAMED_OPTIONS}
    if isinstance(source, Table | pd.DataFrame) or str(source) == STDIO:
        raise ParameterError(
            "{chunksize} streams a file, read once per epoch: not stdin or a table in memory."
        )
    delimiter, encoding = text_format
    reader = TableReader(source, delimiter=delimiter, encoding=encoding)
    schema = Schema.infer(reader.arrow_types, **schema_options)
    if schema.categorical:
        _refuse_typos(source, text_format, schema.categorical)
        raise ParameterError(
            "{chunksize} trains on numeric columns only; categorical column(s) "
            f"{', '.join(map(literal, schema.categorical))}: {{exclude}} them, or fit without "
            "{chunksize}."
        )
    if schema.impute:
        raise ParameterError(
            "{chunksize} cannot impute (the statistics need every row first): fit without "
            "{impute}, or without {chunksize}."
        )
    reader = reader.with_types(schema.arrow_types())
    progress = _Passes(verbose, type(estimator).__name__)

    def chunks():
        for chunk in reader:
            schema.check_missing_values(chunk, reader.name)
            for name in schema.features:  # inf or 1e300: one line, not the array's message
                check_magnitude(chunk[name].set_axis(chunk.index + 1), chunk[name].to_numpy())
            yield prepare(chunk, schema)

    first = next(chunks(), None)
    if first is None:
        raise DataError(f"{reader.name} has a header but no data rows.")
    warn_label_columns(first, list(schema.features))  # as an in-memory fit, on a chunk
    warn_id_columns(first, list(schema.features))
    pipeline = build_pipeline(schema, estimator)
    columns = pipeline[0].fit(first)  # numeric passthrough: nothing is learned from rows

    def transformed():
        return progress.count(columns.transform(chunk) for chunk in chunks())

    with progress:
        started = time.perf_counter()
        fit_chunks(estimator, transformed, chunksize=chunksize)
        seconds = time.perf_counter() - started
        cut = decision_threshold(estimator)
        sample = Reservoir(max(chunksize, QUANTILE_SAMPLE), np.random.default_rng(0))
        n_rows = flagged = 0
        for X in transformed():
            scores = anomaly_scores(estimator, X)
            sample.add(scores)
            n_rows += len(scores)
            flagged += int((scores > cut).sum())
    summary = _summary(pipeline, reader.name, seconds, n_rows)
    summary.flagged, summary.score_quantiles = flagged, training_quantiles(sample.sample)
    return schema, pipeline, summary


def _summary(pipeline, source, seconds, n_rows):
    """The training summary, its scores' fields not yet set: the fitted fields of the model
    header, plus the table's."""
    from ..persistence import describe

    fitted = describe(pipeline)
    return TrainingSummary(
        source=source, rows=int(n_rows), seconds=round(seconds, 3), n_iter=fitted["n_iter"],
        best_loss=fitted["best_loss"], final_loss=fitted["final_loss"],
    )  # fmt: skip


@contextlib.contextmanager
def _verbosity(estimator, verbose):
    """``verbose=1`` on a quiet estimator for the duration of the block only."""
    if not verbose or estimator.verbose:
        yield
        return
    estimator.set_params(verbose=1)
    try:
        yield
    finally:
        estimator.set_params(verbose=0)


class _Passes:
    """A progress bar of rows read, one pass over the file after another (``verbose``)."""

    def __init__(self, verbose, name):
        self.verbose, self.name, self.passes, self.bar = verbose, name, 0, None

    def __enter__(self):
        if self.verbose:
            from tqdm.auto import tqdm

            self.bar = tqdm(unit=" rows", unit_scale=True, file=sys.stderr, leave=False,
                            disable=None, desc=self.name)  # fmt: skip
        return self

    def count(self, chunks):
        self.passes += 1
        if self.bar is not None:
            self.bar.set_description(f"{self.name}: pass {self.passes}")
        for chunk in chunks:
            if self.bar is not None:
                self.bar.update(len(chunk))
            yield chunk

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
        return False


__all__ = ["QUANTILE_SAMPLE", "Table", "TableModel", "TrainingSummary", "fit_table", "read_table"]
