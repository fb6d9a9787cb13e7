"""Run ADBench's unsupervised protocol: every detector on every dataset and seed.

Examples
--------
The full table on ADBench's classical datasets, in one command::

    python -m benchmarks.tabular --data-dir ../shared/data/adbench

It runs every (dataset, model, seed) task, 36 x 10 x 3 = 1,080 fits, in ``--jobs`` worker
processes (default: one per core), each on one thread (torch and the BLAS / OpenMP pools),
the costliest tasks first, and reads the PyOD rows from the data folder's anchors. Its
time, measured (``results/adbench_walltime.md``, 2026-12-07): seed 1 alone from fresh
(``--seeds 1 --fresh --jobs 2``) took 3 min 11 s of wall time and 130 CPU-seconds on 2
cores at a load average of 4.7-5.6 (about 3 of it other jobs); the 3 seeds, estimated at
three times that (not timed end to end): about 390 CPU-seconds, 10 minutes at that load. Summed
``fit_s`` overstate it on a busy machine (280 s for that seed-1 run): they are wall-clock
times of workers that had less than a core each.

The offline suite made from scikit-learn's bundled datasets, one seed (the test's run)::

    python -m benchmarks.tabular --quick --out /tmp/quick

Rows are appended to ``<out>/<suite>_raw.csv`` as soon as they are measured (by this
process, as the workers hand them back); a rerun skips the (dataset, model, seed, params)
rows already there, so an interrupted run resumes. ``params`` hashes the estimator's
parameters only: after a change to a model's code that leaves its parameters alone, its
old rows still count as done, so measure them again with ``--rerun``::

    python -m benchmarks.tabular --data-dir ../shared/data/adbench --rerun MCD,StackedAutoencoder

Each row is the same whatever ``--jobs`` is: the protocol seeds numpy's and Python's
global RNGs before the split and before each fit, and the estimators seed torch from
``random_state``, in whichever process runs the task.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import multiprocessing
import os
import platform
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from . import flagging, report, tabular_args
from .baselines import _pyod_available, detectors, ensemble_levers
from .fit_ratio import RATIO_DATASETS, fit_time_ratio
from .protocol import (
    MAX_ROWS,
    MIN_ROWS,
    SEEDS,
    TEST_SIZE,
    adbench_suite,
    evaluate,
    offline_suite,
    split,
)

RESULTS = Path(__file__).parent / "results"
ANCHORS = "measured_anchors.csv"
#: PyOD rows of ``measured_anchors.csv`` and the names they take in our tables.
ANCHOR_MODELS = {"AutoEncoder_pyod": "PyOD-AutoEncoder", "VAE_pyod": "PyOD-VAE"}
QUICK_DATASETS = 3
TRAIN_FRACTION = 1 - TEST_SIZE
#: Cost of a fit relative to ``Autoencoder``'s, for scheduling (``task_cost``); from the
#: summed fit seconds of a full run (Autoencoder 18 s, Contractive 26 s, Stacked 67 s).
MODEL_COST = {"ContractiveAutoencoder": 1.5, "StackedAutoencoder": 3.5}
#: Thread-count variables of OpenMP, OpenBLAS, MKL and friends, set to 1 for the workers.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
FIELDS = (
    "dataset",
    "model",
    "family",
    "seed",
    "roc_auc",
    "aucpr",
    "fit_s",
    "score_s",
    "n_train",
    "n_test",
    "n_features",
    "params",
    "source",
    *flagging.FIELDS,
)


def params_key(detector):
    """Short hash of the estimator's parameters, so changed defaults are measured anew."""
    estimator = detector.make(0)
    params = estimator.get_params() if hasattr(estimator, "get_params") else {}
    params.pop("random_state", None)
    text = type(estimator).__name__ + repr(sorted(params.items(), key=lambda kv: kv[0]))
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def read_done(path):
    """Rows already measured in the results file (empty when there is none).

    A file written before columns were added to ``FIELDS`` is rewritten with them (empty
    in its old rows), so that the rows appended next line up with its header.
    """
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame(columns=FIELDS)
    done = pd.read_csv(path)
    if list(done.columns) != list(FIELDS):
        done = done.reindex(columns=FIELDS)
        done.to_csv(path, index=False)
    return done


def anchor_rows(data_dir, datasets, seeds):
    """PyOD rows taken from ``measured_anchors.csv`` (same protocol, measured once)."""
    anchors = pd.read_csv(Path(data_dir) / ANCHORS)
    anchors = anchors[
        anchors["model"].isin(list(ANCHOR_MODELS))
        & anchors["dataset"].isin(datasets)
        & anchors["seed"].isin(seeds)
    ]
    return pd.DataFrame(
        {
            "dataset": anchors["dataset"],
            "model": anchors["model"].map(ANCHOR_MODELS),
            "family": "pyod",
            "seed": anchors["seed"],
            "roc_auc": anchors["roc_auc"],
            "aucpr": anchors["aucpr"],
            "fit_s": anchors["fit_s"],
            "score_s": anchors["score_s"],
            "n_train": anchors["n_train"],
            "n_test": anchors["n_test"],
            "n_features": anchors["d"],
            "params": "defaults",
            "source": ANCHORS,
        }
    )


def limit_threads():
    """One thread for torch and for the BLAS / OpenMP pools of numpy, scipy, scikit-learn.

    Every detector is timed single-threaded (small networks: threads cost more than they
    give). It also matters for the time itself: with
    OpenBLAS's default of one thread per core, each BLAS call synchronizes its threads, and
    on a machine whose cores are busy (other jobs, or the other workers of ``--jobs``) a
    thread waits for one that is descheduled: PCA's full SVD on InternetAds took 110 s per
    fit that way against 1.4 s on one thread.
    """
    torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the environment variables set by ``_pool`` then do it
        return
    threadpool_limits(limits=1)


def task_cost(dataset, model):
    """Rough relative cost of one fit, to start the longest tasks first.

    The rows the protocol fits on (bootstrapped to 1,000, subsampled to 10,000, 70% of
    them) times the features, plus a constant for the per-epoch overhead of small tables;
    times ``MODEL_COST`` (the stacked autoencoder trains a few networks, the contractive one
    adds a penalty).
    """
    n_rows, n_features = dataset.shape()
    rows = TRAIN_FRACTION * min(max(n_rows, MIN_ROWS), MAX_ROWS)
    return MODEL_COST.get(model, 1.0) * rows * (n_features + 32)


def _all_detectors(include_pyod):
    """Every detector a task may name, by name: :func:`detectors` and the lever variants."""
    return {m.name: m for m in [*detectors(include_pyod=include_pyod), *ensemble_levers()]}


# Per worker process: the detectors by name (rebuilt there: they hold lambdas, which do
# not pickle) and the last (dataset, seed) split, reused by the next task on it.
_WORKER = {"detectors": None, "split": (None, None)}


def _init_worker(include_pyod, parent=None):
    limit_threads()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    _WORKER["detectors"] = _all_detectors(include_pyod)
    _WORKER["split"] = (None, None)


def _exit_with(parent):
    """End this worker once ``parent`` is gone (killed), rather than idle as an orphan."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _measure(dataset, model_name, seed, key):
    """One (dataset, model, seed) row, measured as the sequential protocol does.

    :func:`protocol.split` and :func:`protocol.evaluate` seed numpy's and Python's global
    RNGs themselves, and the estimators seed torch from ``random_state``, so a row does
    not depend on which process runs it nor on what that process ran before.
    """
    model = _WORKER["detectors"][model_name]
    cached_key, cached = _WORKER["split"]
    if cached_key != (dataset, seed):
        cached = split(*dataset.load(), seed)
        _WORKER["split"] = ((dataset, seed), cached)
    X_train, X_test, _, y_test = cached
    detector = model.build(seed)
    row = evaluate(detector, X_train, X_test, y_test, seed)
    row.update(flagging.flag_stats(detector, X_train, X_test, y_test))
    row.update(
        dataset=dataset.name,
        model=model_name,
        family=model.family,
        seed=seed,
        n_train=len(X_train),
        n_test=len(X_test),
        n_features=X_train.shape[1],
        params=key,
        source="measured",
    )
    return row


def _importable(function):
    """``function`` from this module imported by its name, which workers can unpickle.

    Run as ``python -m benchmarks.tabular`` (or through :mod:`runpy`) this module is
    ``__main__``, whose functions a spawned worker may not find by that name.
    """
    name = __spec__.name if __spec__ is not None else __name__
    return getattr(importlib.import_module(name), function.__name__)


@contextmanager
def _pool(jobs, include_pyod):
    """A pool of ``jobs`` fresh (spawned) worker processes, each on one thread."""
    # Read by numpy's and torch's thread pools when a worker imports them (threadpoolctl,
    # in the initializer, does it again where it is installed).
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    try:
        executor = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_importable(_init_worker),
            initargs=(include_pyod, os.getpid()),
        )
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    try:
        yield executor
    except BaseException:
        # A task failed or the run was interrupted: the rows already appended stay, the
        # queued tasks are dropped and the running ones stopped rather than waited for.
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        raise
    executor.shutdown(wait=True)


@contextmanager
def _one_thread():
    """:func:`limit_threads` for a while in this process; the thread counts restored after."""
    threads = torch.get_num_threads()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        limits = nullcontext()
    else:
        limits = threadpool_limits(limits=1)
    torch.set_num_threads(1)
    try:
        with limits:
            yield
    finally:
        torch.set_num_threads(threads)


def _results(jobs, include_pyod, tasks):
    """Yield the row of every ``(dataset, model name, seed, key)`` task as it finishes."""
    jobs = min(jobs, len(tasks))
    if jobs <= 1:  # in this process, one task after the other
        with _one_thread():
            _WORKER["detectors"] = _all_detectors(include_pyod)
            try:
                for task in tasks:
                    yield _measure(*task)
            finally:
                _WORKER["split"] = (None, None)
        return
    with _pool(jobs, include_pyod) as executor:
        measure = _importable(_measure)
        futures = {executor.submit(measure, *task): task for task in tasks}
        for future in as_completed(futures):
            try:
                row = future.result()
            except Exception as error:  # the rows appended so far are kept
                dataset, model, seed, _ = futures[future]
                raise RuntimeError(f"{model} on {dataset.name}, seed {seed}: {error}") from error
            yield row


def forget(raw_path, models, datasets, seeds):
    """Drop the rows of ``models`` (names) on these datasets and seeds from ``raw_path``.

    What ``--rerun`` does before measuring: the resume logic recognises a row by its
    (dataset, model, seed, parameter hash), and a change to a model's code that leaves its
    parameters alone (a new scale floor, a changed training loop, another library version)
    keeps the hash, so the old rows would be kept as if current. Returns the number of
    rows dropped.
    """
    done = read_done(raw_path)
    if done.empty:
        return 0
    drop = (
        done["model"].isin(list(models))
        & done["dataset"].isin([ds.name for ds in datasets])
        & done["seed"].isin(list(seeds))
    )
    if drop.any():  # a whole new file, then renamed: an interruption loses no row
        partial = Path(f"{raw_path}.part")
        done[~drop].to_csv(partial, index=False)
        os.replace(partial, raw_path)
    return int(drop.sum())


def run(datasets, models, seeds, raw_path, *, progress=True, jobs=1):
    """Measure every (dataset, seed, model) not yet in ``raw_path``, appending rows to it.

    Parameters
    ----------
    jobs : int, default=1
        Worker processes. With 1, the tasks run in this process; otherwise in a pool of
        spawned processes, the most costly tasks (:func:`task_cost`) first. Each row is
        the same either way, and this process appends each one to ``raw_path`` as soon as
        it arrives.

    Returns
    -------
    pandas.DataFrame
        Every row of the results file for these datasets, models and seeds, in suite
        order (datasets, then models, then seeds), whatever order they finished in.
    """
    keys = {m.name: params_key(m) for m in models}
    done = read_done(raw_path)
    have = set(zip(done["dataset"], done["model"], done["seed"], done["params"], strict=True))
    tasks = [
        (ds, m.name, seed, keys[m.name])
        for ds in datasets
        for seed in seeds
        for m in models
        if (ds.name, m.name, seed, keys[m.name]) not in have
    ]
    if jobs > 1:
        # The costliest (dataset, seed) groups first, so that the pool does not end on one
        # long task; within a group the costliest model first. A worker reuses the split
        # of its previous task when it is on the same (dataset, seed).
        cost = {(ds, m): task_cost(ds, m) for ds, m, _, _ in tasks}
        group = {}
        for ds, m, seed, _ in tasks:
            group[ds, seed] = group.get((ds, seed), 0.0) + cost[ds, m]
        tasks.sort(key=lambda t: (-group[t[0], t[2]], t[0].name, t[2], -cost[t[0], t[1]]))
    include_pyod = any(m.family == "pyod" for m in models)
    raw_path.parent.mkdir(parents=True, exist_ok=True)
    new_file = not raw_path.exists() or raw_path.stat().st_size == 0
    bar = tqdm(
        total=len(tasks),
        desc="benchmark",
        unit="fit",
        disable=not progress,
        file=sys.stderr,
    )
    with raw_path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
            handle.flush()
        for row in _results(jobs, include_pyod, tasks):
            writer.writerow(row)
            handle.flush()
            bar.set_postfix_str(
                f"{row['dataset']} seed {row['seed']} {row['model']} done", refresh=False
            )
            bar.update()
    bar.close()
    results = read_done(raw_path)
    current = results["params"].eq(results["model"].map(keys))
    wanted = results["dataset"].isin([ds.name for ds in datasets]) & results["seed"].isin(seeds)
    results = results[current & wanted].drop_duplicates(["dataset", "model", "seed"], keep="last")
    order = {
        "dataset": {ds.name: i for i, ds in enumerate(datasets)},
        "model": {m.name: i for i, m in enumerate(models)},
    }
    return results.sort_values(
        ["dataset", "model", "seed"],
        key=lambda column: column.map(order[column.name]) if column.name in order else column,
        kind="stable",
    ).reset_index(drop=True)


def machine(jobs=None):
    """One line naming the machine and library versions, for the report.

    ``jobs``: the worker processes of :func:`run` (each on one thread); when None, the
    torch threads of this process instead.
    """
    import sklearn

    import ae_anomaly

    if jobs is None:
        processes = f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    else:
        workers = f"{jobs} worker processes" if jobs > 1 else "one process"
        processes = f"{workers} of one thread, torch {torch.__version__}"
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{processes}, scikit-learn {sklearn.__version__}, "
        f"ae_anomaly {ae_anomaly.__version__}, Python {platform.python_version()}"
    )


def build_parser():
    return tabular_args.build_parser(
        results=RESULTS, seeds=SEEDS, anchors=ANCHORS, quick_datasets=QUICK_DATASETS
    )


def parse_args(argv=None):
    return build_parser().parse_args(argv)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}.")
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        parser.error(f"--seeds takes comma-separated integers, got {args.seeds!r}.")
    if args.data_dir is None:
        suite, datasets = "offline", offline_suite()
    else:
        if not args.data_dir.is_dir():
            parser.error(f"--data-dir {args.data_dir}: no such folder.")
        if not any(args.data_dir.glob("*.npz")):
            parser.error(f"--data-dir {args.data_dir}: no ADBench .npz file in it.")
        suite, datasets = "adbench", adbench_suite(args.data_dir)
    pyod = args.pyod
    if pyod == "auto":
        has_anchors = args.data_dir is not None and (args.data_dir / ANCHORS).exists()
        pyod = "anchors" if has_anchors else "run" if _pyod_available() else "none"
    elif pyod == "run" and not _pyod_available():
        parser.error("--pyod run needs PyOD, which is not installed (pip install pyod).")
    elif pyod == "anchors" and not (
        args.data_dir is not None and (args.data_dir / ANCHORS).exists()
    ):
        parser.error(f"--pyod anchors needs {ANCHORS} in --data-dir.")
    if args.quick:
        suite += "_quick"
        seeds = seeds[:1]
        datasets = sorted(datasets, key=lambda ds: len(ds.load()[1]))[:QUICK_DATASETS]
        pyod = "none"
    if args.fit_ratio:
        from ae_anomaly.models.ensemble import EnsembleAutoencoder

        chosen = [ds for ds in datasets if ds.name in RATIO_DATASETS] or datasets[:10]
        table = fit_time_ratio(chosen, lambda seed: EnsembleAutoencoder(random_state=seed))
        table.index.name = "dataset"
        text = (
            "EnsembleAutoencoder() fit / IsolationForest(n_estimators=100) fit, best of 3, "
            f"default threads ({machine()}): median ratio {table['ratio'].median():.2f}, "
            f"ratio of summed times {table['model'].sum() / table['IsolationForest'].sum():.2f}"
        )
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"{suite}_fit_ratio.md").write_text(
            f"# Fit time ratio\n\n{text}\n\n{report.to_markdown(table)}\n"
        )
        print(text + "\n" + table.to_string(float_format=lambda v: f"{v:.3f}"))
        return 0
    models = detectors(include_pyod=pyod == "run")
    if args.levers:
        models += ensemble_levers()
    anchored = list(ANCHOR_MODELS.values()) if pyod == "anchors" else []
    if args.models:
        wanted = args.models.split(",")
        known = {m.name for m in models} | set(anchored)
        unknown = [name for name in wanted if name not in known]
        if unknown:
            hint = ""
            if any(name.startswith("PyOD-") for name in unknown):
                hint = (
                    " (the PyOD rows need --pyod run with PyOD installed, or --pyod anchors "
                    f"with {ANCHORS} in --data-dir)"
                )
            parser.error(
                f"--models: unknown for this run: {', '.join(unknown)}{hint}; known: "
                f"{', '.join(sorted(known))}."
            )
        models = [m for m in models if m.name in wanted]
        anchored = [name for name in anchored if name in wanted]
    raw_path = args.out / f"{suite}_raw.csv"
    if args.fresh and raw_path.exists():
        raw_path.unlink()
    if args.rerun:
        rerun = args.rerun.split(",")
        unknown = sorted(set(rerun) - {m.name for m in models})
        if unknown:
            parser.error(f"--rerun names models this run does not measure: {', '.join(unknown)}.")
        forget(raw_path, rerun, datasets, seeds)
    results = run(datasets, models, seeds, raw_path, progress=not args.no_progress, jobs=args.jobs)
    if anchored:
        anchors = anchor_rows(args.data_dir, [ds.name for ds in datasets], seeds)
        anchors = anchors[anchors["model"].isin(anchored)]
        results = pd.concat([results, anchors], ignore_index=True)
    published = None
    if args.data_dir is not None and (args.data_dir / report.PUBLISHED).exists():
        published = pd.read_csv(args.data_dir / report.PUBLISHED)
    text = report.write(results, args.out, suite, published=published, machine=machine(args.jobs))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
