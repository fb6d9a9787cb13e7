"""Run ADBench's unsupervised protocol: every detector on every dataset and seed.

Examples
--------
The full table on ADBench's classical datasets (25 minutes of wall time on a 2-core
machine shared with other jobs, one process per seed: ``--seeds 1`` etc. with the same
``--out``, run one after the other, or in parallel into separate folders whose raw files
are then concatenated)::

    python -m benchmarks.tabular --data-dir ../shared/data/adbench

The offline suite made from scikit-learn's bundled datasets, one seed (the test's run)::

    python -m benchmarks.tabular --quick --out /tmp/quick

Rows are appended to ``<out>/<suite>_raw.csv`` as soon as they are measured; a rerun skips
the (dataset, model, seed, params) rows already there, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import platform
import sys
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from . import report
from .baselines import detectors
from .protocol import SEEDS, adbench_suite, evaluate, offline_suite, split

RESULTS = Path(__file__).parent / "results"
ANCHORS = "measured_anchors.csv"
#: PyOD rows of ``measured_anchors.csv`` and the names they take in our tables.
ANCHOR_MODELS = {"AutoEncoder_pyod": "PyOD-AutoEncoder", "VAE_pyod": "PyOD-VAE"}
QUICK_DATASETS = 3
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
)


def params_key(detector):
    """Short hash of the estimator's parameters, so changed defaults are measured anew."""
    estimator = detector.make(0)
    params = estimator.get_params() if hasattr(estimator, "get_params") else {}
    params.pop("random_state", None)
    text = type(estimator).__name__ + repr(sorted(params.items(), key=lambda kv: kv[0]))
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def read_done(path):
    """Rows already measured in the results file (empty when there is none)."""
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame(columns=FIELDS)
    return pd.read_csv(path)


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


def run(datasets, models, seeds, raw_path, *, progress=True):
    """Measure every (dataset, seed, model) not yet in ``raw_path``, appending rows to it.

    Returns
    -------
    pandas.DataFrame
        Every row of the results file for these datasets, models and seeds.
    """
    keys = {m.name: params_key(m) for m in models}
    done = read_done(raw_path)
    have = set(zip(done["dataset"], done["model"], done["seed"], done["params"], strict=True))
    todo = [
        (ds, seed, [m for m in models if (ds.name, m.name, seed, keys[m.name]) not in have])
        for ds in datasets
        for seed in seeds
    ]
    todo = [(ds, seed, ms) for ds, seed, ms in todo if ms]
    raw_path.parent.mkdir(parents=True, exist_ok=True)
    new_file = not raw_path.exists() or raw_path.stat().st_size == 0
    bar = tqdm(
        total=sum(len(ms) for _, _, ms in todo),
        desc="benchmark",
        unit="fit",
        disable=not progress,
        file=sys.stderr,
    )
    with raw_path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
        loaded = None
        for ds, seed, pending in todo:
            if loaded is None or loaded[0] != ds.name:
                loaded = (ds.name, ds.load())
            X_train, X_test, _, y_test = split(*loaded[1], seed)
            for model in pending:
                bar.set_postfix_str(f"{ds.name} seed {seed} {model.name}", refresh=False)
                row = evaluate(model.build(seed), X_train, X_test, y_test, seed)
                row.update(
                    dataset=ds.name,
                    model=model.name,
                    family=model.family,
                    seed=seed,
                    n_train=len(X_train),
                    n_test=len(X_test),
                    n_features=X_train.shape[1],
                    params=keys[model.name],
                    source="measured",
                )
                writer.writerow(row)
                handle.flush()
                bar.update()
    bar.close()
    results = read_done(raw_path)
    current = results["params"].eq(results["model"].map(keys))
    wanted = results["dataset"].isin([ds.name for ds in datasets]) & results["seed"].isin(seeds)
    return results[current & wanted].drop_duplicates(["dataset", "model", "seed"], keep="last")


def machine():
    """One line naming the machine and library versions, for the report."""
    import sklearn

    import ae_anomaly

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"scikit-learn {sklearn.__version__}, ae_anomaly {ae_anomaly.__version__}, "
        f"Python {platform.python_version()}"
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.tabular",
        description="ADBench's unsupervised protocol: autoencoders vs PCA, IsolationForest, PyOD.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="Folder of ADBench .npz files (default: the offline suite of ae_anomaly.datasets).",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="Output folder.")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="e.g. 1,2,3")
    parser.add_argument(
        "--models", help="Comma-separated model names to run (default: all available)."
    )
    parser.add_argument(
        "--pyod",
        choices=("auto", "run", "anchors", "none"),
        default="auto",
        help="PyOD rows: 'run' them (needs pyod), take them from the data folder's "
        f"{ANCHORS} ('anchors'), or 'none'. 'auto' takes the anchors when the file is "
        "there, else runs PyOD when it is installed.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"Smoke run: the {QUICK_DATASETS} smallest datasets, seed 1, no PyOD.",
    )
    parser.add_argument("--fresh", action="store_true", help="Discard earlier results first.")
    parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(1)  # small networks: threads cost more than they give
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.data_dir is None:
        suite, datasets = "offline", offline_suite()
    else:
        suite, datasets = "adbench", adbench_suite(args.data_dir)
    pyod = args.pyod
    if pyod == "auto":
        has_anchors = args.data_dir is not None and (args.data_dir / ANCHORS).exists()
        pyod = "anchors" if has_anchors else "run"
    if args.quick:
        suite += "_quick"
        seeds = seeds[:1]
        datasets = sorted(datasets, key=lambda ds: len(ds.load()[1]))[:QUICK_DATASETS]
        pyod = "none"
    models = detectors(include_pyod=pyod == "run")
    if args.models:
        wanted = set(args.models.split(","))
        models = [m for m in models if m.name in wanted]
    raw_path = args.out / f"{suite}_raw.csv"
    if args.fresh and raw_path.exists():
        raw_path.unlink()
    results = run(datasets, models, seeds, raw_path, progress=not args.no_progress)
    if pyod == "anchors":
        anchors = anchor_rows(args.data_dir, [ds.name for ds in datasets], seeds)
        results = pd.concat([results, anchors], ignore_index=True)
    published = None
    if args.data_dir is not None and (args.data_dir / report.PUBLISHED).exists():
        published = pd.read_csv(args.data_dir / report.PUBLISHED)
    text = report.write(results, args.out, suite, published=published, machine=machine())
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
