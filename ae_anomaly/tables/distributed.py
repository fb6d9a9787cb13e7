"""Score Parquet files on a Dask cluster, one output file per partition (``--engine dask``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ParameterError, escape, literal
from .fitting import TableModel
from .formats import OutputError
from .reader import TableReader
from .schema import SCORE, output_names, score_chunk, with_types
from .scoring import warn_unscorable
from .sources import expand_paths, input_holding


@dataclass
class DaskResult:
    """What :func:`score_files_dask` did.

    Attributes
    ----------
    rows : int
        Rows scored.
    files : int
        Parquet files written.
    workers : int
        The cluster's workers.
    threshold : float
        The anomaly-score cut used.
    unscorable : int
        Rows the model could not score (an infinite value, or one that overflows in its
        arithmetic): ``anomaly_score`` ``inf``, flagged, as with ``score_table``.
    first_unscorable : int or None
        The first of them, as a 1-based row of the inputs taken in order.
    """

    rows: int
    files: int
    workers: int
    threshold: float
    unscorable: int = 0
    first_unscorable: int | None = None


def score_files_dask(model, source, output, *, threshold=None, contamination=None, explain=0,
                     scheduler=None, ignore_extra=False):  # fmt: skip
    """Score Parquet files on Dask; write one Parquet file per partition under ``output``.

    The scores equal :func:`~ae_anomaly.tables.scoring.score_table`'s, row for row.

    Parameters
    ----------
    model : TableModel or path
    source : path, directory, glob pattern or list of those
        Parquet files (a directory: its ``*.parquet`` files, recursively).
    output : path
        A new directory.
    threshold, contamination, explain, ignore_extra
        As for :func:`~ae_anomaly.tables.scoring.score_table`.
    scheduler : str, optional
        A Dask scheduler's address, e.g. ``tcp://10.0.0.5:8786``; default a local cluster.

    Returns
    -------
    result : DaskResult

    Warns
    -----
    UserWarning
        Once for the whole run, as :func:`~ae_anomaly.tables.scoring.score_table` does:
        how many rows could not be scored, and the first (counted as the partitions are
        written, in the same pass).
    """
    from ..scale.dask import open_client, score_parquet_counting

    model = model if isinstance(model, TableModel) else TableModel.load(model)
    if output is None or str(output) == "-":
        raise ParameterError(
            "Scoring on Dask writes a directory of Parquet files: pass {output=DIR}."
        )
    if Path(output).exists():
        raise ParameterError(f"{literal(str(output))} already exists: choose a new directory.")
    try:
        paths = expand_paths(source)
    except FileNotFoundError as exc:
        raise ParameterError(escape(exc)) from None
    holder = input_holding(output, source)
    if holder is not None:
        raise ParameterError(
            f"{literal(str(output))} is inside the input {literal(holder)}: a later run "
            "would read the scores as data; choose a directory outside it."
        )
    folder = Path(os.path.realpath(output)).parent
    if not folder.is_dir():
        raise ParameterError(f"The directory of the output {literal(str(output))} does not exist.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ParameterError(f"Cannot write {literal(str(output))}: its directory is read-only.")
    not_parquet = [p for p in paths if Path(p).suffix.lower() not in (".parquet", ".pq")]
    if not_parquet:
        raise ParameterError(
            f"Scoring on Dask reads Parquet files; {literal(not_parquet[0])} is not one."
        )
    cut = model.threshold(threshold=threshold, contamination=contamination)
    pipeline, schema = model.pipeline, model.schema
    first = TableReader(paths[0])
    schema.check_columns(first.columns, first.name, allow_extra=ignore_extra)
    types = schema.arrow_types()

    def transform(fitted, frame):
        frame = with_types(frame, types)
        schema.check_missing_values(frame, "the data")
        if schema.encoded:  # a mixed-table model (TableEncoder)
            from .mixed import score_encoded

            return score_encoded(fitted, schema, frame, threshold=cut, explain=explain)[0]
        return score_chunk(fitted, schema, frame, threshold=cut, explain=explain)

    needed = [*schema.features, *schema.ids]  # other columns are never decoded
    sample = next(iter(first.select(needed).with_types(types)))
    meta = transform(pipeline, sample.iloc[:1]).iloc[:0]
    with open_client(scheduler) as client:
        workers = len(client.scheduler_info()["workers"])
        try:
            n_rows, unscorable, first = score_parquet_counting(
                pipeline, paths, output, transform=transform, meta=meta, client=client,
                columns=needed, unscorable=output_names(schema.ids, explain)[SCORE],
            )  # fmt: skip
        except FileExistsError as exc:  # another run created it meanwhile
            raise OutputError(escape(exc)) from None
        except OSError as exc:  # disk full, I/O error: nothing is left behind
            raise OutputError(f"Cannot write {str(output)!r}: {exc.strerror or exc}.") from None
    warn_unscorable(unscorable, first)
    return DaskResult(n_rows, len(list(Path(output).glob("*.parquet"))), workers, cut,
                      unscorable, first)  # fmt: skip


__all__ = ["DaskResult", "score_files_dask"]
