"""What ``ae-anomaly fit --chunksize``, ``score --engine dask`` and ``export`` do.

Kept apart from :mod:`ae_anomaly.cli`, which only wires these into its commands.
"""

from __future__ import annotations

import glob
import time
from pathlib import Path

import click
import numpy as np

from ..scale.outofcore import OFFSET_MIN_SAMPLE, fit_chunks
from ..tables.schema import SCORE, Schema, build_pipeline, prepare, score_chunk
from ..tables.sources import Reservoir, expand_paths
from ..tables.writer import STDIO, DataError, TableReader, UsageProblem


class DataPath(click.Path):
    """A table path as ``click.Path(exists=True)`` checks it, or a glob pattern (for Dask)."""

    def __init__(self):
        super().__init__(exists=True, dir_okay=True, allow_dash=True)

    def convert(self, value, param, ctx):
        if isinstance(value, str) and glob.has_magic(value):
            return value
        return super().convert(value, param, ctx)


def check_single_table(data):
    """The pandas engine reads one file: a directory or a pattern needs ``--engine dask``."""
    if data != STDIO and (glob.has_magic(data) or Path(data).is_dir()):
        raise UsageProblem(
            f"{data!r} is a directory or a pattern: score it with --engine dask, or name one file."
        )


# ----------------------------------------------------------------------------- fit --chunksize
def fit_out_of_core(estimator, data, *, chunksize, delimiter, schema_options):
    """Fit ``ColumnTransformer -> estimator`` streaming ``data`` in chunks of ``chunksize``.

    Only numeric features stream (one-hot categories and imputation need every row first).

    Returns
    -------
    source : str
    n_rows : int
    schema : Schema
    pipeline : Pipeline
    seconds : float
    scores : ndarray
        A uniform sample of the training anomaly scores (all when they are few).
    flagged : int
        Training rows above the model's threshold, counted over every row.
    """
    if data == STDIO:
        raise UsageProblem("--chunksize streams a file: it cannot read stdin twice.")
    reader = TableReader(data, delimiter=delimiter)
    schema = Schema.infer(reader.arrow_types, **schema_options)
    if schema.categorical or schema.impute:
        needs = (
            f"categorical column(s) {', '.join(map(repr, schema.categorical))}"
            if schema.categorical
            else "--impute"
        )
        raise UsageProblem(
            f"--chunksize trains on numeric columns only, without --impute; this needs {needs}"
            ": --exclude those columns, or fit without --chunksize."
        )
    reader = reader.with_types(schema.arrow_types())

    def chunks():
        for chunk in reader:
            schema.check_missing_values(chunk, reader.name)
            yield prepare(chunk, schema)

    first = next(chunks(), None)
    if first is None:
        raise DataError(f"{reader.name} has a header but no data rows.")
    pipeline = build_pipeline(schema, estimator)
    columns = pipeline[0].fit(first)  # numeric passthrough: nothing is learned from rows

    def transformed():
        return (columns.transform(chunk) for chunk in chunks())

    started = time.perf_counter()
    fit_chunks(estimator, transformed, chunksize=chunksize)
    seconds = time.perf_counter() - started
    threshold = -float(estimator.offset_)
    sample = Reservoir(max(chunksize, OFFSET_MIN_SAMPLE), np.random.default_rng(0))
    n_rows = flagged = 0
    for X in transformed():
        scores = -estimator.score_samples(X)
        sample.add(scores)
        n_rows += len(scores)
        flagged += int((scores > threshold).sum())
    return reader.name, n_rows, schema, pipeline, seconds, sample.sample, flagged


# ----------------------------------------------------------------------------- score --engine dask
def score_with_dask(pipeline, schema, data, output, *, threshold, explain, scheduler,
                    ignore_extra):  # fmt: skip
    """Score Parquet files on Dask; write one Parquet file per partition under ``output``.

    Returns ``(rows, files written, workers)``.
    """
    from ..scale.dask import open_client, score_parquet

    if output is None or output == STDIO:
        raise UsageProblem("--engine dask writes a directory of Parquet files: pass -o DIR.")
    if Path(output).exists():
        raise UsageProblem(f"{output!r} already exists: choose a new directory.")
    try:
        paths = expand_paths(data)
    except FileNotFoundError as exc:
        raise UsageProblem(str(exc)) from None
    not_parquet = [p for p in paths if Path(p).suffix.lower() not in (".parquet", ".pq")]
    if not_parquet:
        raise UsageProblem(f"--engine dask reads Parquet files; {not_parquet[0]!r} is not one.")
    first = TableReader(paths[0])
    schema.check_columns(first.columns, first.name, allow_extra=ignore_extra)
    types = schema.arrow_types()

    def transform(model, frame):
        frame = _with_types(frame, types)
        schema.check_missing_values(frame, "the data")
        return score_chunk(model, schema, frame, threshold=threshold, explain=explain)

    sample = next(iter(first.with_types(types)))
    meta = transform(pipeline, sample.iloc[:1]).iloc[:0]
    with open_client(scheduler) as client:
        workers = len(client.scheduler_info()["workers"])
        n_rows = score_parquet(
            pipeline, paths, output, transform=transform, meta=meta, client=client
        )
    return n_rows, len(list(Path(output).glob("*.parquet"))), workers


def _with_types(frame, types):
    """The partition with the column types the single-process reader would give it."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name, arrow_type in types.items():
        if name in table.column_names:
            index = table.schema.get_field_index(name)
            try:
                table = table.set_column(index, name, table.column(index).cast(arrow_type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise DataError(
                    f"column {name!r} holds {table.column(index).type} values, not {arrow_type}."
                ) from None
    out = table.to_pandas()
    out.index = frame.index
    return out


__all__ = ["SCORE", "DataPath", "check_single_table", "fit_out_of_core", "score_with_dask"]
