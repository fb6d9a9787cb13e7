"""Speed ratios measured in one run: our autoencoder vs PyOD's and IsolationForest.

Three comparisons, each on the same splits (ADBench's protocol, seed 1):

1. *Time to quality*: our ``Autoencoder()`` with its defaults vs PyOD's
   ``AutoEncoder()`` with its defaults: fit seconds and ROC-AUC.
2. *The loop itself*: identical layer widths (d-64-32-64-d), 10 epochs, batch 32, no
   dropout, batch norm or early stopping, on both sides.
3. Our default fit vs ``IsolationForest(n_estimators=100)``.

Ratios are medians over datasets of per-dataset time ratios. *Warm* figures: every model
runs in this process, one after another, after an untimed fit of each. The harness sets no
thread count: each library runs with its own defaults, as users run it.

Two figures as users meet them, for ours, PyOD's default AutoEncoder and IsolationForest:

- *cold*: a fresh process per fit (:mod:`benchmarks._cold_fit`), reported with the
  model's imports excluded (time from after ``import``) and included; for ours the same
  process then fits again, the *in-process warm* fit that the cold one is compared with;
- *contended*: the cold fits again while another process keeps one core busy
  (``python -c "while True: pass"``).

``--runtime`` adds a row "ours + nn.runtime": ours with :mod:`ae_anomaly.nn.runtime`'s
Adam and thread policy patched in (what the package does once they are wired).

Examples
--------
::

    python -m benchmarks.speed --data-dir ../shared/data/adbench
    python -m benchmarks.speed --data-dir ../shared/data/adbench --quick --runtime
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
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
QUICK_DATASETS = ("4_breastw", "18_Ionosphere", "6_cardio")
SAME_NET = dict(epochs=10, batch_size=32, hidden=64, code=32)
#: cold contender -> (benchmarks._cold_fit arguments)
COLD = {
    "ours default": ["ours"],
    "PyOD default": ["pyod"],
    "IsolationForest": ["iforest"],
}


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


@contextlib.contextmanager
def busy_core():
    """Another process keeping one core busy for the duration of the block."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        yield
    finally:
        spinner.kill()
        spinner.wait()


def cold_fit(args, X_train, seed):
    """One :mod:`benchmarks._cold_fit` child: its timings plus the whole process's wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "X_train.npy"
        np.save(path, X_train)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks._cold_fit", *args, str(path), "--seed", str(seed)],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        process_s = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"Cold fit {args} failed:\n{done.stderr}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "process_s": process_s}


def measure_cold(datasets, contenders, seed=1):
    """Fresh-process fits, quiet then contended: one row per (dataset, contender, condition)."""
    rows = []
    for condition in ("cold", "contended"):
        with busy_core() if condition == "contended" else contextlib.nullcontext():
            for ds in datasets:
                X_train = split(*ds.load(), seed)[0]
                for name, args in contenders.items():
                    r = cold_fit(args, X_train, seed)
                    rows.append({"dataset": ds.name, "model": name, "condition": condition, **r})
                    print(
                        f"{ds.name:>20} {name:>18} {condition:>9} fit {r['fit_s']:7.3f} s, "
                        f"imports {r['import_s']:6.3f} s, warm {r['warm_fit_s']:7.3f} s",
                        file=sys.stderr,
                        flush=True,
                    )
    return pd.DataFrame(rows)


def _median_ratio(table, numerator, denominator):
    return float((table[numerator] / table[denominator]).median())


def ratios(rows, cold=None):
    """The headline ratios (medians of per-dataset ratios) and mean ROC-AUC per model."""
    fit = rows.pivot(index="dataset", columns="model", values="fit_s")
    roc = rows.pivot(index="dataset", columns="model", values="roc_auc")
    out = {
        "warm: PyOD default / ours default (fit time)": _median_ratio(
            fit, "PyOD default", "ours default"
        ),
        "warm: PyOD same net / ours same net (fit time)": _median_ratio(
            fit, "PyOD same net", "ours same net"
        ),
        "warm: ours default / IsolationForest (fit time)": _median_ratio(
            fit, "ours default", "IsolationForest"
        ),
    }
    if cold is not None:
        cold = cold.assign(with_imports_s=cold["fit_s"] + cold["import_s"])
        ours = [m for m in cold["model"].unique() if m.startswith("ours")]
        for condition in ("cold", "contended"):
            part = cold[cold["condition"] == condition]
            for value, label in (("fit_s", "imports excluded"), ("with_imports_s", "included")):
                t = part.pivot(index="dataset", columns="model", values=value)
                for name in ours:
                    out[f"{condition}: PyOD default / {name} (fit, {label})"] = _median_ratio(
                        t, "PyOD default", name
                    )
                    out[f"{condition}: {name} / IsolationForest (fit, {label})"] = _median_ratio(
                        t, name, "IsolationForest"
                    )
            t = part.pivot(index="dataset", columns="model", values="fit_s")
            w = part.pivot(index="dataset", columns="model", values="warm_fit_s")
            for name in ours:  # the others' children fit once
                out[f"{condition}: {name}, first fit / in-process warm fit"] = float(
                    (t[name] / w[name]).median()
                )
    out.update({f"mean ROC-AUC {name}": float(roc[name].mean()) for name in roc.columns})
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="ADBench .npz folder (default: offline).")
    parser.add_argument(
        "--datasets",
        default=None,
        help="Comma-separated dataset names from --data-dir ('all' for every file; default: "
        f"{', '.join(DEFAULT_DATASETS)}; with --quick: {', '.join(QUICK_DATASETS)}).",
    )
    parser.add_argument("--repeats", type=int, default=1, help="Fits per model; best kept.")
    parser.add_argument(
        "--quick", action="store_true", help=f"Only {len(QUICK_DATASETS)} datasets."
    )
    parser.add_argument("--no-cold", action="store_true", help="Warm figures only.")
    parser.add_argument(
        "--runtime",
        action="store_true",
        help="Add the cold row 'ours + nn.runtime' (its Adam and thread policy patched in).",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    try:
        import pyod  # noqa: F401
    except ImportError:
        parser.error("PyOD is needed: pip install -e '.[benchmarks]'")
    if args.data_dir is None:
        datasets = offline_suite()
        if args.quick:
            datasets = datasets[: len(QUICK_DATASETS)]
    else:
        datasets = adbench_suite(args.data_dir)
        wanted = args.datasets or ",".join(QUICK_DATASETS if args.quick else DEFAULT_DATASETS)
        if wanted != "all":
            datasets = [ds for ds in datasets if ds.name in wanted.split(",")]
    command = "python -m benchmarks.speed " + " ".join(sys.argv[1:] if argv is None else argv)
    rows = measure(datasets, repeats=args.repeats)
    cold = None
    if not args.no_cold:
        contenders = dict(COLD)
        if args.runtime:
            contenders["ours + nn.runtime"] = ["ours", "--runtime"]
        cold = measure_cold(datasets, contenders)
    summary = ratios(rows, cold)
    args.out.mkdir(parents=True, exist_ok=True)
    rows.to_csv(args.out / "speed_raw.csv", index=False)
    lines = [
        "# Speed (one run; fit seconds)",
        "",
        f"Command: `{command}`.",
        "",
        f"Machine: {machine()} (no thread count set by the harness). Load average at the "
        f"end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}.",
        "",
        *(f"- {key}: {value:.3f}" for key, value in summary.items()),
        "",
        "## Warm: all models in one process, after an untimed fit of each",
        "",
        to_markdown(rows.pivot(index="dataset", columns="model", values="fit_s")),
        "",
    ]
    if cold is not None:
        cold.to_csv(args.out / "speed_cold_raw.csv", index=False)
        for condition, title in (
            ("cold", "Cold: a fresh process per fit"),
            ("contended", "Contended: a fresh process per fit, another process busy on a core"),
        ):
            part = cold[cold["condition"] == condition]
            for value, label in (
                ("fit_s", "first fit, imports excluded"),
                ("import_s", "the model's imports"),
                ("warm_fit_s", "second fit in the same process"),
            ):
                lines += [
                    f"## {title}: {label}",
                    "",
                    to_markdown(part.pivot(index="dataset", columns="model", values=value)),
                    "",
                ]
    (args.out / "speed.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
