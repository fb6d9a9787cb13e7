"""Score or denoise a table chunk by chunk: :func:`score_table`, :func:`denoise_table`.

The engine, :func:`map_chunks`, reads ahead (the reader parses in a background thread) and
transforms ``SCORING_THREADS`` chunks at once, each running torch on one thread: parsing and
scoring both release the GIL, so every core stays busy while memory stays flat. Results come
out, and errors surface, in the input's order.
"""

from __future__ import annotations

import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from .._rows import KEY, mark
from .encoder import UnseenCategoryWarning
from .fitting import Table, TableModel
from .formats import DataError
from .mixed import (
    check_float_format,
    denoise_encoded,
    format_floats,
    plain_number_columns,
    score_encoded,
)
from .reader import TableReader
from .schema import FLAG, SCORE, denoise_chunk, output_names, score_chunk, with_types
from .writer import TableWriter

#: Rows per chunk when the table is already in memory.
FRAME_CHUNK = 65536
#: Chunks transformed at once, each with one torch thread.
SCORING_THREADS = 2


@dataclass
class TableResult:
    """What :func:`score_table` or :func:`denoise_table` did.

    Attributes
    ----------
    rows : int
    anomalies : int or None
        Rows flagged (``score_table`` only).
    threshold : float or None
        The anomaly-score cut used (``score_table`` only).
    frame : DataFrame or None
        The output, when no ``output`` path was given.
    unseen_categories : dict of str to int
        Rows per column with a category never seen in fitting.
    unscorable : int
        Rows the model could not score (an infinite value, or one that overflows in its
        arithmetic): ``anomaly_score`` ``inf``, flagged (``score_table`` only).
    first_unscorable : int or None
        The first of them, as a 1-based data row of the input.
    imputed : dict of str to int
        Missing cells per column that a model fitted with ``impute`` filled
        (``score_table`` only).
    names : dict of str to str
        The output column names written (``anomaly_score`` gets a ``_2`` suffix when a
        column copied to the output, an id or any with ``keep_columns``, has that name).
    """

    rows: int
    anomalies: int | None = None
    threshold: float | None = None
    frame: pd.DataFrame | None = None
    unseen_categories: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)
    unscorable: int = 0
    first_unscorable: int | None = None
    imputed: dict = field(default_factory=dict)

    def warn_unscorable(self):
        """One warning for the whole stream: how many rows, and the first by its row."""
        warn_unscorable(self.unscorable, self.first_unscorable, stacklevel=4)


def warn_unscorable(count, first, *, stacklevel=3):
    """The one warning of a scoring run whose ``count`` rows could not be scored (none:
    no warning), the ``first`` by its 1-based data row: ``score_table``'s and the Dask
    engine's alike."""
    if count:
        warnings.warn(
            f"{count:,} row(s) could not be scored (first: row {first:,}): a value is "
            "infinite, or overflows to infinity in the model's arithmetic. Their "
            "anomaly_score is inf and they are flagged.",
            UserWarning,
            stacklevel=stacklevel,
        )


def map_chunks(chunks, transform, consume, *, threads=SCORING_THREADS):
    """``consume(transform(chunk))`` for every chunk, in order, ``threads`` chunks at a time.

    At most ``threads`` chunks are in flight (plus the one the reader parses ahead). Torch
    runs one intra-op thread per worker for the duration of the call; the caller's
    ``torch.get_num_threads()`` is restored afterwards, also after an error.

    Examples
    --------
    >>> out = []
    >>> map_chunks(iter([1, 2, 3]), lambda x: 10 * x, out.append)
    >>> out
    [10, 20, 30]
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(threads, thread_name_prefix="ae-score") as pool:
            pending = deque()
            try:
                for chunk in chunks:
                    pending.append(pool.submit(transform, chunk))
                    if len(pending) >= threads:
                        consume(pending.popleft().result())
                while pending:
                    consume(pending.popleft().result())
            finally:
                for future in pending:  # after an error: drop the work not started yet
                    future.cancel()
    finally:
        torch.set_num_threads(previous)


def score_table(model, source, output=None, *, threshold=None, contamination=None, explain=0,
                delimiter=None, ignore_extra=False, progress=None, float_format=None,
                encoding=None, keep_columns=False):  # fmt: skip
    """Score a table with a model fitted on a table: ids, ``anomaly_score``, ``is_anomaly``.

    ``anomaly_score`` is ``-score_samples`` (higher = more anomalous) and ``is_anomaly`` 1
    where it is above the threshold; a row the model cannot score (an infinite or
    overflowing value) gets ``inf`` and is flagged. Files are streamed: memory stays flat
    in their size. Output names never overwrite an id column: an id column called
    ``anomaly_score`` (``is_anomaly``, ``top1_column``...) keeps its name and the output
    is written as ``anomaly_score_2``. A category never seen in fitting is counted
    (``result.unseen_categories``) and warned about once, after the last chunk.

    Parameters
    ----------
    model : TableModel or path
        From :func:`~ae_anomaly.tables.fitting.fit_table` or a model file it saved.
    source : path, ``"-"``, Table or DataFrame
        The table to score (CSV/TSV/Parquet by extension).
    output : path or ``"-"``, optional
        Where to write (atomically; ``"-"``: CSV on stdout). By default the scored table is
        returned in memory, as ``result.frame``.
    threshold : float, optional
        Flag rows whose anomaly score is above this; default the model's.
    contamination : float in (0, 0.5], optional
        Flag this fraction of rows, as the training rows would be flagged.
    explain : int, default=0
        Add the ``explain`` columns with the largest share of each row's error (per
        original column, the code distance as ``_code_distance``).
    delimiter : str, optional
        Of the input and the output, overriding their extensions.
    ignore_extra : bool, default=False
        Ignore columns the model does not know instead of refusing them.
    progress : callable, optional
        Called with each output chunk, in order (a progress bar).
    float_format : str, optional
        ``%``-format of the floats written to CSV/TSV (``"%.6g"``); Parquet keeps floats.
    encoding : str, optional
        The input's text encoding (e.g. ``"cp1252"``); UTF-8 by default. Outputs are UTF-8.
    keep_columns : bool, default=False
        Copy every input column to the output (CSV cells as written; the numeric columns of
        a model fitted with ``chunksize``, which reads numbers as numbers, as read), then the
        scores: the table back with its anomaly scores, instead of the id columns only.

    Returns
    -------
    result : TableResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ae_anomaly import Autoencoder
    >>> from ae_anomaly.tables.fitting import fit_table
    >>> frame = pd.DataFrame(np.random.RandomState(0).normal(size=(200, 3)), columns=list("abc"))
    >>> model = fit_table(Autoencoder(max_iter=2, random_state=0), frame)
    >>> result = score_table(model, frame, contamination=0.05)
    >>> list(result.frame.columns), result.rows, result.anomalies
    (['anomaly_score', 'is_anomaly'], 200, 10)
    """
    check_float_format(float_format)
    model = model if isinstance(model, TableModel) else TableModel.load(model)
    cut = model.threshold(threshold=threshold, contamination=contamination)
    pipeline, schema = model.pipeline, model.schema
    out = {"keep": schema.ids, "names": output_names(schema.ids, explain)}
    unseen = _Unseen()

    def names_for(columns):  # the input's columns, once its header is read
        if keep_columns:
            out["keep"] = list(columns)
            out["names"] = output_names(out["keep"], explain)
        return out["names"]

    def transform(chunk):
        score = score_encoded if schema.encoded else score_chunk
        return score(pipeline, schema, chunk, threshold=cut, explain=explain,
                     names=out["names"], keep=out["keep"])  # fmt: skip

    # kept columns are read as the text written; otherwise plain numbers parse on reading
    numbers = plain_number_columns(pipeline) if schema.encoded and not keep_columns else ()
    result = _run(model, source, output, transform, delimiter, ignore_extra, progress,
                  count=unseen.count, names_for=names_for, float_format=float_format,
                  needed_only=not keep_columns, numbers=numbers, encoding=encoding,
                  written=lambda: list(out["names"].values()),
                  typed=lambda: out["keep"])  # fmt: skip
    result.threshold, result.unseen_categories, result.names = cut, unseen.counts(), out["names"]
    unseen.warn(pipeline[0], "scored as such, which adds to their anomaly score")
    result.imputed = dict(unseen.imputed)
    unseen.warn_imputed(pipeline[0], result.rows)
    result.warn_unscorable()
    return result


def denoise_table(model, source, output=None, *, delimiter=None, ignore_extra=False,
                  progress=None, float_format=None, encoding=None):  # fmt: skip
    """The table with its feature columns replaced by the model's reconstructions.

    Numbers come back in their own units (columns of integers rounded to integers, 0/1
    columns to 0 or 1, others to the decimals of their training values, percentages
    as written: ``48.3%``); booleans as the training text spelled them (``yes``/``no``);
    a categorical column gets its most likely category (also in place of a category
    never seen in fitting, warned about once), a date column an ISO date (a Parquet
    timestamp a timestamp); missing cells stay missing; id and ignored columns are copied
    unchanged. Parameters as :func:`score_table`'s.

    A Parquet output keeps each column's input type (a Parquet file's, a DataFrame's
    dtype): the copied columns always; a denoised one where its values fit, as pandas
    would keep it: integers (rounded by denoise) in ``uint8`` or ``int32`` while they
    are in its range (a reconstruction out of it, -3 for a ``uint8`` column, makes the
    column ``int64``, never a wrapped value), ``float32`` as ``float32`` (scikit-learn
    keeps float32 data float32; the network computes in float32), dates as dates,
    categories as categories (:func:`~ae_anomaly.tables.parquetout.in_input_types`).

    Examples
    --------
    >>> import pandas as pd
    >>> from ae_anomaly.tables.api import fit_table, make_estimator
    >>> noisy = pd.DataFrame({"id": ["a", "b", "c", "d"], "x": [0.0, 1.0, 2.0, 3.1]})
    >>> model = fit_table(make_estimator("denoising", ["max_iter=2"]), noisy, ids=["id"])
    >>> clean = denoise_table(model, noisy).frame
    >>> list(clean.columns), list(clean["id"])
    (['id', 'x'], ['a', 'b', 'c', 'd'])
    """
    check_float_format(float_format)
    model = model if isinstance(model, TableModel) else TableModel.load(model)
    pipeline, schema = model.pipeline, model.schema

    unseen = _Unseen()

    def transform(chunk):
        if schema.encoded:
            return denoise_encoded(pipeline, schema, chunk)
        return denoise_chunk(pipeline, schema, chunk)

    # numbers written as the model reads them (12,5 for a decimal comma) where text
    decimal = getattr(pipeline[0], "decimal", ".") if schema.encoded else "."
    result = _run(model, source, output, transform, delimiter, ignore_extra, progress,
                  count=unseen.count, float_format=float_format, encoding=encoding,
                  decimal=decimal, written=lambda: list(schema.features))  # fmt: skip
    result.unseen_categories = unseen.counts()
    unseen.warn(pipeline[0], "written as the most likely category seen in fitting")
    return result


class _Unseen:
    """Categories never seen in fitting, over a stream's chunks: per column, how many
    rows and the first value (chunks come as ``(out, unseen)`` from the mixed-table
    transforms, see :func:`~ae_anomaly.tables.mixed.score_encoded`)."""

    def __init__(self):
        self.by_column = {}
        self.imputed = {}  # missing cells filled, per column (score_encoded's third part)

    def count(self, out):
        if isinstance(out, tuple):
            out, unseen, *imputed = out
            for column, (n, value) in unseen.items():
                total, first = self.by_column.get(column, (0, value))
                self.by_column[column] = (total + n, first)
            for column, n in (imputed[0] if imputed else {}).items():
                self.imputed[column] = self.imputed.get(column, 0) + n
        return out

    def warn_imputed(self, encoder, rows):
        """One warning for the whole stream: the missing cells the model filled."""
        if not self.imputed:
            return
        detail = ", ".join(f"{n:,} of {rows:,} in {column!r}" for column, n in self.imputed.items())
        warnings.warn(
            f"{sum(self.imputed.values()):,} missing cell(s) filled by the model's impute="
            f"{encoder.impute!r} ({detail}): those rows score as if they held the training "
            "rows' typical values there.",
            UserWarning,
            stacklevel=3,
        )

    def counts(self):
        return {column: n for column, (n, _) in self.by_column.items()}

    def warn(self, encoder, then):
        """One warning for the whole stream, with an example per column."""
        if not self.by_column:
            return
        detail = ", ".join(
            f"{n} in {column!r}, e.g. {encoder.unseen_note(column, value)}"
            for column, (n, value) in self.by_column.items()
        )
        warnings.warn(
            f"{sum(self.counts().values())} row(s) with a category not seen in fitting "
            f"({detail}): {then}.",
            UnseenCategoryWarning,
            stacklevel=3,
        )


def _run(model, source, output, transform, delimiter, ignore_extra, progress, *,
         count=None, names_for=None, float_format=None, needed_only=False, numbers=(),
         encoding=None, decimal=".", written=None, typed=None):  # fmt: skip
    """Read ``source`` in chunks, transform them on the engine, write or collect the output.

    ``names_for(columns)``, given the input's columns before the first chunk, returns the
    output names (:func:`~ae_anomaly.tables.schema.output_names`) of a scoring run.
    ``written()`` gives the columns the model writes (None: all): ``float_format`` and the
    ``decimal`` mark apply to them, never to the columns copied from the input.
    ``typed()`` gives the output columns that are the input's (None: every input column,
    as denoise writes them, copied or denoised): a Parquet output keeps their input types
    where the values fit (a Parquet file's or a DataFrame's; a CSV file declares none)."""
    schema = model.schema
    name, columns, chunks, types = _chunks(schema, source, delimiter, ignore_extra,
                                           needed_only, numbers, encoding)  # fmt: skip
    names = names_for(columns) if names_for is not None else {}
    flag, score = names.get(FLAG), names.get(SCORE)
    result = TableResult(rows=0)
    collected = []

    def work(chunk):
        schema.check_missing_values(chunk, name)
        return transform(chunk)

    def consume(out, write, text):
        out = count(out) if count is not None else out
        if score is not None:
            unscored = np.flatnonzero(np.isinf(out[score].to_numpy()))
            if len(unscored) and not result.unscorable:
                result.first_unscorable = result.rows + int(unscored[0]) + 1
            result.unscorable += len(unscored)
        result.rows += len(out)
        if flag is not None:
            result.anomalies = (result.anomalies or 0) + int(out[flag].sum())
        if progress is not None:
            progress(out)
        own = written() if written is not None else None  # the model's columns
        write(format_floats(out, float_format, decimal, own) if text else out)

    if output is None:
        map_chunks(chunks, work, lambda out: consume(out, collected.append, False))
        _check_rows(result, name)
        result.frame = pd.concat(collected) if collected else None
        if result.frame is not None:  # where the chunks lay is no business of the result's
            result.frame.attrs.pop(KEY, None)
        return result
    kept = set(typed() if typed is not None else columns)
    types = {column: arrow_type for column, arrow_type in types.items() if column in kept}
    with TableWriter(output, delimiter=delimiter, types=types) as writer:
        text = writer.kind != "parquet"
        map_chunks(chunks, work, lambda out: consume(out, writer.write, text))
        _check_rows(result, name)  # inside: no output file appears
    return result


def _check_rows(result, name):
    if result.rows == 0:
        raise DataError(f"{name} has a header but no data rows.")


def _frame_types(frame):
    """``{column: Arrow type}`` of a DataFrame's dtypes (not its object columns, whose
    type is in their values)."""
    try:
        schema = pa.Schema.from_pandas(frame.iloc[:0], preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return {}
    return {name: arrow_type for name, arrow_type in zip(schema.names, schema.types, strict=True)
            if not pa.types.is_null(arrow_type)}  # fmt: skip


def _chunks(schema, source, delimiter, ignore_extra, needed_only=False, numbers=(),
            encoding=None):  # fmt: skip
    """``(name, columns, iterator of DataFrames, types)`` of a path, a Table or a
    DataFrame; ``types`` (``{column: Arrow type}``) are those the input declares: a
    Parquet file's, a DataFrame's dtypes; none for CSV, whose cells are text.

    With an ``encoded`` schema, a CSV file is read as text (the ``numbers`` columns as
    float64 where they hold plain numbers only) and each chunk's index is the 1-based
    data row of the file (what error messages name). With ``needed_only``, a file
    is read with only the model's feature and id columns, once its header has been
    checked: a column nobody needs (ignored, or extra with ``ignore_extra``) is never
    decoded, however large.
    """
    if isinstance(source, Table | pd.DataFrame):
        name = source.name if isinstance(source, Table) else "the table"
        frame = source.frame if isinstance(source, Table) else source
        schema.check_columns(list(frame.columns), name, allow_extra=ignore_extra)
        types = _frame_types(frame)
        if not isinstance(source, Table) and not schema.encoded:
            frame = with_types(frame, schema.arrow_types())
        unique = frame.index.is_unique  # the table's, for the messages naming a row
        chunks = (mark(frame.iloc[i : i + FRAME_CHUNK], offset=i, unique=unique)
                  for i in range(0, len(frame), FRAME_CHUNK))  # fmt: skip
        return name, list(frame.columns), chunks, types
    reader = TableReader(source, delimiter=delimiter, column_types=schema.arrow_types(),
                         text=schema.encoded, numbers=numbers, encoding=encoding,
                         as_written=schema.ids)  # fmt: skip
    schema.check_columns(reader.columns, reader.name, allow_extra=ignore_extra)
    columns = reader.columns
    types = dict(reader.arrow_types) if reader.kind == "parquet" else {}
    if needed_only:
        reader = reader.select([*schema.features, *schema.ids])
    if not schema.encoded:
        return reader.name, columns, iter(reader), types
    return (reader.name, columns, (chunk.set_axis(chunk.index + 1, axis=0) for chunk in reader),
            types)  # fmt: skip


__all__ = [
    "FRAME_CHUNK",
    "SCORING_THREADS",
    "TableResult",
    "denoise_table",
    "map_chunks",
    "score_table",
]
