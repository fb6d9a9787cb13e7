"""Speed ratios measured in one run: our autoencoder vs PyOD's and IsolationForest.

Three comparisons, each on the same splits (ADBench's protocol, seed 1):

1. *Time to quality*: our ``Autoencoder()`` with its defaults vs PyOD's
   ``AutoEncoder()`` with its defaults: fit seconds and ROC-AUC.
2. *The loop itself*: identical layer widths (d-64-32-64-d), 10 epochs, batch 32, no
   dropout, batch norm or early stopping, on both sides.
3. Our default fit vs ``IsolationForest(n_estimators=100)``.

Ratios are medians over datasets of per-dataset time ratios. Every model runs in this
process, one after another, with one torch thread, so they share the same machine load.

Examples
--------
::

    python -m benchmarks.speed --data-dir ../shared/data/adbench
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from ae_anomaly import Autoencoder

from .protocol import adbench_suite, offline_suite, seed_everything, split
from .report import to_markdown
from .tabular import RESULTS, machine

#: A spread of sizes and widths from ADBench's classical sets (the default selection).
DEFAULT_DATASETS = (
    "4_breastw",
    "6_cardio",
    "18_Ionosphere",
    "20_letter",
    "24_mnist",
    "28_pendigits",
    "31_satimage-2",
    "32_shuttle",
    "38_thyroid",
    "44_Wilt",
)
SAME_NET = dict(epochs=10, batch_size=32, hidden=64, code=32)


def contenders():
    """name -> ``seed -> (estimator, anomaly score function)``."""
    from pyod.models.auto_encoder import AutoEncoder

    def ours(**params):
        def make(seed):
            est = Autoencoder(random_state=seed, **params)
            return est, lambda X: -est.score_samples(X)

        return make

    def pyod(**params):
        def make(seed):
            est = AutoEncoder(random_state=seed, verbose=0, **params)
            return est, est.decision_function

        return make

    def iforest(seed):
        est = IsolationForest(n_estimators=100, random_state=seed)
        return est, lambda X: -est.score_samples(X)

    same = SAME_NET
    return {
        "ours default": ours(),
        "PyOD default": pyod(),
        "IsolationForest": iforest,
        "ours same net": ours(
            hidden_layer_sizes=(same["hidden"],),
            n_components=same["code"],
            max_iter=same["epochs"],
            batch_size=same["batch_size"],
            early_stopping=False,
        ),
        "PyOD same net": pyod(
            hidden_neuron_list=[same["hidden"], same["code"]],
            epoch_num=same["epochs"],
            batch_size=same["batch_size"],
            batch_norm=False,
            dropout_rate=0.0,
            optimizer_params={"weight_decay": 0.0},
        ),
    }


def measure(datasets, seed=1, repeats=1):
    """One row per (dataset, contender): fit seconds (best of ``repeats``) and ROC-AUC."""
    rows = []
    makers = contenders()
    # One untimed fit of each first: imports, allocator and thread-pool start-up.
    X_warm = split(*datasets[0].load(), seed)[0][:200]
    for make in makers.values():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make(seed)[0].fit(X_warm)
    for ds in datasets:
        X_train, X_test, _, y_test = split(*ds.load(), seed)
        for name, make in makers.items():
            best = np.inf
            for _ in range(repeats):
                seed_everything(seed)
                est, score = make(seed)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    start = time.perf_counter()
                    est.fit(X_train)
                    best = min(best, time.perf_counter() - start)
            rows.append(
                {
                    "dataset": ds.name,
                    "model": name,
                    "fit_s": best,
                    "roc_auc": roc_auc_score(y_test, score(X_test)),
                    "n_train": len(X_train),
                    "n_features": X_train.shape[1],
                }
            )
            print(f"{ds.name:>20} {name:>16} {best:8.3f} s", file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def ratios(rows):
    """The headline ratios (medians of per-dataset ratios) and mean ROC-AUC per model."""
    fit = rows.pivot(index="dataset", columns="model", values="fit_s")
    roc = rows.pivot(index="dataset", columns="model", values="roc_auc")
    return {
        "PyOD default / ours default (fit time)": float(
            (fit["PyOD default"] / fit["ours default"]).median()
        ),
        "PyOD same net / ours same net (fit time)": float(
            (fit["PyOD same net"] / fit["ours same net"]).median()
        ),
        "ours default / IsolationForest (fit time)": float(
            (fit["ours default"] / fit["IsolationForest"]).median()
        ),
        **{f"mean ROC-AUC {name}": float(roc[name].mean()) for name in roc.columns},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="ADBench .npz folder (default: offline).")
    parser.add_argument(
        "--datasets",
        default=",".join(DEFAULT_DATASETS),
        help="Comma-separated dataset names from --data-dir ('all' for every file).",
    )
    parser.add_argument("--repeats", type=int, default=1, help="Fits per model; best kept.")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    try:
        import pyod  # noqa: F401
    except ImportError:
        parser.error("PyOD is needed: pip install -e '.[benchmarks]'")
    torch.set_num_threads(1)
    if args.data_dir is None:
        datasets = offline_suite()
    else:
        datasets = adbench_suite(args.data_dir)
        if args.datasets != "all":
            wanted = args.datasets.split(",")
            datasets = [ds for ds in datasets if ds.name in wanted]
    rows = measure(datasets, repeats=args.repeats)
    summary = ratios(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    rows.to_csv(args.out / "speed_raw.csv", index=False)
    table = rows.pivot(index="dataset", columns="model", values="fit_s")
    lines = [
        "# Speed (one run, fit seconds; all models in one process, one torch thread)",
        "",
        f"Machine: {machine()}.",
        "",
        *(f"- {key}: {value:.3f}" for key, value in summary.items()),
        "",
        to_markdown(table),
        "",
    ]
    (args.out / "speed.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
