"""Score or denoise a table chunk by chunk: :func:`score_table`, :func:`denoise_table`.

The engine, :func:`map_chunks`, reads ahead (the reader parses in a background thread) and
transforms ``SCORING_THREADS`` chunks at once, each running torch on one thread: parsing and
scoring both release the GIL, so every core stays busy while memory stays flat. Results come
out, and errors surface, in the input's order.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pandas as pd

from .fitting import Table, TableModel
from .formats import DataError
from .reader import TableReader
from .schema import FLAG, denoise_chunk, score_chunk, with_types
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
    """

    rows: int
    anomalies: int | None = None
    threshold: float | None = None
    frame: pd.DataFrame | None = None


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
                delimiter=None, ignore_extra=False, progress=None):  # fmt: skip
    """Score a table with a model fitted on a table: ids, ``anomaly_score``, ``is_anomaly``.

    ``anomaly_score`` is ``-score_samples`` (higher = more anomalous) and ``is_anomaly`` 1
    where it is above the threshold. Files are streamed: memory stays flat in their size.

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
        Add the ``explain`` columns with the largest share of each row's error.
    delimiter : str, optional
        Of the input and the output, overriding their extensions.
    ignore_extra : bool, default=False
        Ignore columns the model does not know instead of refusing them.
    progress : callable, optional
        Called with each output chunk, in order (a progress bar).

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
    model = model if isinstance(model, TableModel) else TableModel.load(model)
    cut = model.threshold(threshold=threshold, contamination=contamination)
    pipeline, schema = model.pipeline, model.schema

    def transform(chunk):
        return score_chunk(pipeline, schema, chunk, threshold=cut, explain=explain)

    result = _run(model, source, output, transform, delimiter, ignore_extra, progress)
    result.threshold = cut
    return result


def denoise_table(model, source, output=None, *, delimiter=None, ignore_extra=False,
                  progress=None):  # fmt: skip
    """The table with its feature columns replaced by the model's reconstructions.

    Numbers come back in their own units; a categorical column gets its most likely
    category; id and ignored columns are copied unchanged. Parameters as
    :func:`score_table`'s.

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
    model = model if isinstance(model, TableModel) else TableModel.load(model)
    pipeline, schema = model.pipeline, model.schema

    def transform(chunk):
        return denoise_chunk(pipeline, schema, chunk)

    return _run(model, source, output, transform, delimiter, ignore_extra, progress)


def _run(model, source, output, transform, delimiter, ignore_extra, progress):
    """Read ``source`` in chunks, transform them on the engine, write or collect the output."""
    schema = model.schema
    name, chunks = _chunks(schema, source, delimiter, ignore_extra)
    result = TableResult(rows=0)
    collected = []

    def work(chunk):
        schema.check_missing_values(chunk, name)
        return transform(chunk)

    def consume(out, write):
        write(out)
        result.rows += len(out)
        if FLAG in out:
            result.anomalies = (result.anomalies or 0) + int(out[FLAG].sum())
        if progress is not None:
            progress(out)

    if output is None:
        map_chunks(chunks, work, lambda out: consume(out, collected.append))
        _check_rows(result, name)
        result.frame = pd.concat(collected) if collected else None
        return result
    with TableWriter(output, delimiter=delimiter) as writer:
        map_chunks(chunks, work, lambda out: consume(out, writer.write))
        _check_rows(result, name)  # inside: no output file appears
    return result


def _check_rows(result, name):
    if result.rows == 0:
        raise DataError(f"{name} has a header but no data rows.")


def _chunks(schema, source, delimiter, ignore_extra):
    """``(name, iterator of DataFrames)`` of a path, a Table or a DataFrame."""
    if isinstance(source, Table | pd.DataFrame):
        name = source.name if isinstance(source, Table) else "the table"
        frame = source.frame if isinstance(source, Table) else source
        schema.check_columns(list(frame.columns), name, allow_extra=ignore_extra)
        if not isinstance(source, Table):
            frame = with_types(frame, schema.arrow_types())
        return name, (frame.iloc[i : i + FRAME_CHUNK] for i in range(0, len(frame), FRAME_CHUNK))
    reader = TableReader(source, delimiter=delimiter, column_types=schema.arrow_types())
    schema.check_columns(reader.columns, reader.name, allow_extra=ignore_extra)
    return reader.name, iter(reader)


__all__ = [
    "FRAME_CHUNK",
    "SCORING_THREADS",
    "TableResult",
    "denoise_table",
    "map_chunks",
    "score_table",
]
