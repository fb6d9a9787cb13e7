"""Score and train on Dask DataFrames: a cluster's data never has to fit on one machine.

Needs the optional extra ``pip install "ae-anomaly[dask]"``. The fitted model is shipped to
the workers once (``Client.scatter(..., broadcast=True)``, or a single graph key without a
distributed client) and every partition is scored where it lives; a row's score is the
same as with the model's own ``score_samples`` in one process. Training streams the
partitions through ``partial_fit`` (:func:`fit_partitions`) without collecting them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .._quiet import quiet_warnings

try:
    import dask
    import dask.array as da
    import dask.dataframe as dd
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'ae_anomaly.dask needs Dask: pip install "ae-anomaly[dask]" '
        "(or dask[dataframe] and distributed)."
    ) from exc

from ..tables.reader import PANDAS_ROW_LABELS
from ..tables.sources import expand_paths, input_holding, iter_partitions

__all__ = [
    "apply_model",
    "fit_partitions",
    "iter_partitions",
    "open_client",
    "score_parquet",
    "ship",
]


def _current_client():
    """The active ``distributed.Client``, or None (Dask's local scheduler is then used)."""
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:
        return None


def ship(model, client=None):
    """Send ``model`` to the workers once; return a handle tasks can take as an argument.

    With a distributed client (``client`` or the current one) the model is scattered to
    every worker and a ``Future`` is returned; otherwise a ``Delayed`` that the local
    scheduler computes once. Either way the model is serialized once per worker, not once
    per partition.

    Parameters
    ----------
    model : fitted estimator or Pipeline
    client : distributed.Client, optional

    Returns
    -------
    handle : distributed.Future or dask.delayed.Delayed
    """
    client = client or _current_client()
    if client is None:
        return dask.delayed(model, pure=False)
    return client.scatter(model, broadcast=True, hash=False)


#: The methods :func:`apply_model` calls: one value per row.
ROW_METHODS = ("score_samples", "decision_function", "predict")


def apply_model(model, ddf, method="score_samples", *, columns=None, client=None):
    """Call ``model.<method>`` on every partition of ``ddf``: a lazy Dask Series.

    Parameters
    ----------
    model : fitted estimator or Pipeline
        Anything with ``method`` returning one value per row (``score_samples``,
        ``decision_function``, ``predict``).
    ddf : dask.dataframe.DataFrame
    method : {"score_samples", "decision_function", "predict"}, default="score_samples"
    columns : list of str, optional
        The columns passed to the model; default its ``feature_names_in_`` when it has
        them, else every column.
    client : distributed.Client, optional
        Where to ship the model; default the current client, if any.

    Returns
    -------
    result : dask.dataframe.Series
        Named ``method``, with ``ddf``'s index and partitions.

    Notes
    -----
    The result stays lazy: nothing is computed here. A row the model cannot score gets
    ``-inf`` from ``score_samples`` as in one process, and each partition that holds such
    rows warns, where it is computed, how many and the first by its index label (Dask
    computes partitions one by one: the total is ``np.isinf(result).sum()`` on the
    computed scores, with no second pass). :func:`score_parquet`, which computes, warns
    once for the whole run instead.

    Examples
    --------
    >>> import numpy as np, pandas as pd, dask.dataframe as dd
    >>> from ae_anomaly import Autoencoder
    >>> X = pd.DataFrame(np.random.RandomState(0).normal(size=(300, 3)), columns=list("abc"))
    >>> ae = Autoencoder(max_iter=5, random_state=0).fit(X)
    >>> scores = apply_model(ae, dd.from_pandas(X, npartitions=3)).compute()
    >>> bool(np.array_equal(scores.to_numpy(), ae.score_samples(X)))
    True
    """
    if method not in ROW_METHODS:
        raise ValueError(
            f"apply_model gives one value per row: method must be one of {ROW_METHODS}, got "
            f"{method!r} (for a table per partition, such as transform's codes, use "
            "ddf.map_partitions)."
        )
    if not hasattr(model, method):
        raise AttributeError(f"{type(model).__name__} has no method {method!r}.")
    return _apply(model, ddf, method, columns, client, quiet=False)


def _apply(model, ddf, method, columns, client, *, quiet):
    """:func:`apply_model`; ``quiet``: ``score_samples`` without its warning per
    partition (the caller counts the rows that could not be scored over the whole run)."""
    columns = _model_columns(model, ddf, columns)
    dtype = np.int64 if method == "predict" else np.float64
    return ddf.map_partitions(
        _apply_partition,
        ship(model, client),
        method,
        columns,
        quiet,
        meta=pd.Series([], dtype=dtype, name=method),
    )


def _apply_partition(frame, model, method, columns, quiet=False):
    X = frame[columns]
    values = _quiet_scores(model, X) if quiet else getattr(model, method)(X)
    return pd.Series(np.asarray(values), index=frame.index, name=method)


def _quiet_scores(model, X):
    """``model.score_samples(X)`` without the warning of an ae_anomaly model (alone or
    ending a Pipeline) on rows it cannot score: those score ``-inf`` all the same."""
    final = model[-1] if hasattr(model, "steps") else model
    quiet = getattr(final, "_quiet_scores", None)
    if quiet is None:
        return model.score_samples(X)
    return quiet(model[:-1].transform(X) if final is not model else X)


def _model_columns(model, ddf, columns):
    if columns is None:
        names = getattr(model, "feature_names_in_", None)
        columns = list(ddf.columns) if names is None else list(names)
    missing = [c for c in columns if c not in ddf.columns]
    if missing:
        raise ValueError(f"Column(s) {missing} not found; the data has {list(ddf.columns)}.")
    return list(columns)


def score_parquet(model, inputs, output_dir, *, transform=None, meta=None, client=None,
                  columns=None):  # fmt: skip
    """Score Parquet files partition by partition; write one Parquet file per partition.

    ``output_dir`` appears complete or not at all: the files are written to a temporary
    directory beside it, ``.<name>.<pid>.<random>.ae-anomaly.part`` (as the single-file
    outputs' temporary files, :func:`~ae_anomaly.tables.writer.atomic_path`), renamed into
    place at the end; such directories left by runs that were killed are removed first.

    Parameters
    ----------
    model : fitted estimator or Pipeline
    inputs : str, path or list
        A Parquet file, directory or glob pattern such as ``"data/*.parquet"``.
    output_dir : str or path
        Must not exist yet, nor be where ``inputs`` finds files (inside an input
        directory): a later run over the same inputs would read the scores as data.
    transform : callable ``(model, frame) -> DataFrame``, optional
        Builds each output partition; default one ``score_samples`` column.
    meta : DataFrame, optional
        An empty frame with ``transform``'s output columns and dtypes (required with it).
    client : distributed.Client, optional
        Default the current client, if any (see :func:`open_client`).
    columns : list of str, optional
        The columns to read (the others are never decoded); default all.

    Returns
    -------
    n_rows : int
        Rows written.

    Warns
    -----
    UserWarning
        Once for the whole run, without ``transform``: how many rows the model could not
        score (their values overflow in its arithmetic; they score ``-inf``, as with
        ``score_samples``) and the first, by its 1-based row in the inputs taken in
        order. They are counted as the partitions are written, in the same pass.
    """
    n_rows, unscorable, first = score_parquet_counting(
        model, inputs, output_dir, transform=transform, meta=meta, client=client,
        columns=columns, unscorable=None if transform is not None else "score_samples",
    )  # fmt: skip
    if unscorable:
        warnings.warn(
            f"{unscorable:,} row(s) could not be scored: their values overflow to infinity "
            f"or NaN in the model's arithmetic (first: row {first:,} of the inputs). They "
            "are scored -inf, the most anomalous score there is.",
            UserWarning,
            stacklevel=2,
        )
    return n_rows


def score_parquet_counting(model, inputs, output_dir, *, transform=None, meta=None,
                           client=None, columns=None, unscorable=None):  # fmt: skip
    """:func:`score_parquet` without its warning, counting the rows that could not be
    scored: those whose ``unscorable`` column of the output is not finite (None: none).

    The count is computed with the output, in the one pass that writes it (each partition
    is scored once), never by a second reading of the data.

    Parameters
    ----------
    model, inputs, output_dir, transform, meta, client, columns
        As for :func:`score_parquet`.
    unscorable : str, optional
        The output column whose infinite or NaN values mark the rows that could not be
        scored (``score_samples`` by default in :func:`score_parquet`, ``anomaly_score``
        for the command line's output); None counts nothing.

    Returns
    -------
    n_rows : int
        Rows written.
    unscorable : int
        Rows that could not be scored.
    first : int or None
        The first of them, by its 1-based row in the inputs taken in order (as the output
        files are, ``part.0.parquet`` first).
    """
    from ..tables.writer import PART_SUFFIX, clean_stale_parts

    output_dir = Path(output_dir)
    if output_dir.exists():
        raise FileExistsError(f"{str(output_dir)!r} already exists.")
    holder = input_holding(output_dir, inputs)
    if holder is not None:
        raise ValueError(f"{str(output_dir)!r} is inside the input {holder!r}: choose another.")
    ddf = _read_parquet(inputs, columns)
    if transform is None:
        result = _apply(model, ddf, "score_samples", None, client, quiet=True).to_frame()
    else:
        if meta is None:
            raise ValueError("score_parquet needs meta= with transform=.")
        result = ddf.map_partitions(_transform_partition, ship(model, client), transform, meta=meta)
    target = output_dir.resolve()
    clean_stale_parts(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=PART_SUFFIX,
                                dir=target.parent))  # fmt: skip
    try:
        written = result.to_parquet(tmp, write_index=False, compute=False)
        if unscorable is None:
            dask.compute(written)
            counts = None
        else:  # computed together: the partitions are scored once, for both
            counts = result.map_partitions(_count_unscorable, unscorable, meta=_COUNTS)
            counts = dask.compute(written, counts)[1]
        n_rows = sum(_parquet_rows(p) for p in tmp.glob("*.parquet"))
        try:
            target.mkdir()  # claims the name: a run that created it meanwhile keeps it
        except FileExistsError:
            raise FileExistsError(
                f"{str(output_dir)!r} was created by someone else while this ran; not replacing it."
            ) from None
        os.replace(tmp, target)  # over the empty directory just made
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return (n_rows, *_first_unscorable(counts))


#: Per partition: its rows, those that could not be scored, the first of them (0-based
#: in the partition, -1 for none).
_COUNTS = pd.DataFrame({"rows": [0], "unscorable": [0], "first": [0]}).iloc[:0]


def _count_unscorable(frame, column):
    bad = np.flatnonzero(~np.isfinite(frame[column].to_numpy(dtype=np.float64)))
    first = int(bad[0]) if len(bad) else -1
    return pd.DataFrame({"rows": [len(frame)], "unscorable": [len(bad)], "first": [first]})


def _first_unscorable(counts):
    """``(count, first)`` over the partitions' counts, in order: ``first`` is the 1-based
    row in all of them (None when no row failed)."""
    if counts is None or not counts["unscorable"].any():
        return 0, None
    rows, failed, first = (counts[c].to_numpy() for c in ("rows", "unscorable", "first"))
    k = int(np.flatnonzero(failed)[0])
    return int(failed.sum()), int(rows[:k].sum() + first[k] + 1)


def _read_parquet(inputs, columns):
    """The Parquet files as a Dask DataFrame of ``columns`` (default all), read as
    :class:`~ae_anomaly.tables.reader.TableReader` reads them: a named index pandas wrote
    (``set_index("key")``) is a column, its nameless row labels are not data.

    Dask restores pandas' index itself: asked for the index's column, it fails ("not in
    index"); with ``index=False`` it resets each partition's index in place, which pandas
    3.1 warns of once per partition. Asked for the named index as the index, it does
    neither; the warning of its one-off reading of the schema is silenced here."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(expand_paths(inputs)[0])
    names = [n for n in schema.names if not PANDAS_ROW_LABELS.fullmatch(n)]
    labels = (schema.pandas_metadata or {}).get("index_columns", [])
    wanted = columns if columns is not None else names
    index = [c for c in labels if isinstance(c, str) and c in wanted]
    read = [c for c in wanted if c not in index]
    with quiet_warnings("The inplace keyword in DataFrame"):
        ddf = dd.read_parquet(_parquet_inputs(inputs), columns=read, index=index or None)
    return ddf.reset_index()[list(wanted)] if index else ddf


def _transform_partition(frame, model, transform):
    return transform(model, frame)


def _parquet_rows(path):
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _parquet_inputs(inputs):
    """Dask's ``read_parquet`` takes a path, a directory or a list; expand glob patterns."""
    return expand_paths(inputs)


def fit_partitions(estimator, ddf, *, epochs=None, chunksize=65_536, columns=None):
    """Train ``estimator`` by streaming the partitions of ``ddf`` through its epoch driver.

    Partitions are computed where they live and brought over one at a time (a partition
    larger than ``chunksize`` is split), so the dataframe is never collected: this is
    :func:`ae_anomaly.fit_chunks` with a Dask DataFrame as its source (the estimator's
    ``fit_stream``: the same training step, stopping rule and warning as ``fit``).

    Parameters
    ----------
    estimator : BaseAutoencoder
    ddf : dask.dataframe.DataFrame or 2-D dask.array.Array
        A Dask array is read by its blocks of rows (columns whole).
    epochs, chunksize, columns
        As in :func:`ae_anomaly.fit_chunks`.

    Returns
    -------
    estimator : BaseAutoencoder
        Fitted in place.

    Examples
    --------
    >>> import numpy as np, pandas as pd, dask.dataframe as dd
    >>> from ae_anomaly import Autoencoder
    >>> X = pd.DataFrame(np.random.RandomState(0).normal(size=(600, 3)), columns=list("abc"))
    >>> ae = fit_partitions(Autoencoder(random_state=0), dd.from_pandas(X, npartitions=3),
    ...                     epochs=2)
    >>> ae.n_iter_, list(ae.feature_names_in_)
    (2, ['a', 'b', 'c'])
    """
    from .outofcore import fit_chunks

    if isinstance(ddf, da.Array) and ddf.ndim == 2:  # row blocks as frames, columns whole
        ddf = dd.from_dask_array(ddf.rechunk({1: -1}))
    if not isinstance(ddf, dd.DataFrame):
        raise TypeError(
            "fit_partitions needs a Dask DataFrame or a 2-D Dask array, got "
            f"{type(ddf).__name__}."
        )
    return fit_chunks(estimator, ddf, chunksize=chunksize, epochs=epochs, columns=columns)


@contextlib.contextmanager
def open_client(scheduler=None, **cluster_kwargs):
    """A ``distributed.Client`` for a scheduler address, or for a private local cluster.

    The local cluster (the default) runs its scheduler and workers as threads of this
    process and talks to them over in-process queues (``inproc://``): it opens no network
    port at all, neither the scheduler's, the workers' nor a dashboard, so no other user
    of the machine can connect to it and run code in this process. (Dask's default
    ``LocalCluster`` listens on TCP without authentication and serves a dashboard.)

    Parameters
    ----------
    scheduler : str, optional
        An address such as ``"tls://10.0.0.5:8786"``, used as it is. **Securing that
        scheduler is up to whoever runs it**: a ``tcp://`` scheduler without
        ``distributed.Security`` lets anyone who can reach its port run code on its
        workers, and see the data scored there.
    **cluster_kwargs
        For the local cluster: ``n_workers`` (default 1) and ``threads_per_worker``
        (default the number of CPUs); ``processes=True`` is refused (worker processes
        would need network listeners).

    Yields
    ------
    client : distributed.Client

    Examples
    --------
    >>> with open_client() as client:
    ...     client.submit(sum, [1, 2]).result(), client.scheduler.address.split(":")[0]
    (3, 'inproc')
    """
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('A cluster needs distributed: pip install "ae-anomaly[dask]".') from exc
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    with _private_cluster(**cluster_kwargs) as cluster, Client(cluster) as client:
        yield client


def _private_cluster(n_workers=1, threads_per_worker=None, processes=False):
    """A ``SpecCluster`` of in-process workers, reachable only through ``inproc://``."""
    import logging

    from distributed import Scheduler, SpecCluster, Worker

    if processes:
        raise ValueError(
            "open_client() runs its workers as threads of this process (worker processes "
            "would listen on the network); start a secured cluster and pass its address."
        )

    class _Scheduler(Scheduler):
        def start_http_server(self, routes, *args, **kwargs):
            _no_http(self, routes)

    class _Worker(Worker):
        def start_http_server(self, routes, *args, **kwargs):
            _no_http(self, routes)

    common = {"protocol": "inproc://", "dashboard_address": None, "dashboard": False}
    worker = {
        "cls": _Worker,
        "options": {**common, "nthreads": threads_per_worker or os.cpu_count() or 1},
    }
    return SpecCluster(
        scheduler={"cls": _Scheduler, "options": common},
        workers={i: worker for i in range(n_workers)},
        worker=worker,
        silence_logs=logging.ERROR,
        name="ae_anomaly (in-process)",
    )


def _no_http(node, routes):
    """Where distributed would start a node's HTTP server (dashboard, metrics, /health,
    on a TCP port, 8787 for the scheduler even with ``dashboard_address=None``): none."""
    from distributed.http.routing import RoutingApplication

    node.http_application = RoutingApplication([])  # closed by ``stop_services``
    node.http_server = None
