"""The command line of ``python -m benchmarks.tabular`` (kept apart from its runner)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def build_parser(*, results, seeds, anchors, quick_datasets):
    """The command line of :mod:`benchmarks.tabular` (its defaults given by that module)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.tabular",
        description="ADBench's unsupervised protocol: autoencoders vs PCA, IsolationForest, PyOD.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="Folder of ADBench .npz files (default: the offline suite of ae_anomaly.datasets).",
    )
    parser.add_argument("--out", type=Path, default=results, help="Output folder.")
    parser.add_argument("--seeds", default=",".join(map(str, seeds)), help="e.g. 1,2,3")
    parser.add_argument(
        "--models", help="Comma-separated model names to run (default: all available)."
    )
    parser.add_argument(
        "--pyod",
        choices=("auto", "run", "anchors", "none"),
        default="auto",
        help="PyOD rows: 'run' them (needs pyod), take them from the data folder's "
        f"{anchors} ('anchors'), or 'none'. 'auto' takes the anchors when the file is "
        "there, else runs PyOD when it is installed.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"Smoke run: the {quick_datasets} smallest datasets, seed 1, no PyOD.",
    )
    parser.add_argument(
        "--levers",
        action="store_true",
        help="Also run EnsembleAutoencoder with each lever of baselines.ENSEMBLE_LEVERS moved.",
    )
    parser.add_argument(
        "--fit-ratio",
        action="store_true",
        help="Only time EnsembleAutoencoder's default fit against IsolationForest(100 trees) "
        "in this process at default threads (best of 3, ten datasets) and write "
        "<out>/<suite>_fit_ratio.md.",
    )
    parser.add_argument("--fresh", action="store_true", help="Discard earlier results first.")
    parser.add_argument(
        "--rerun",
        metavar="MODELS",
        help="Comma-separated model names whose rows (on the chosen datasets and seeds) are "
        "dropped from the results file and measured again, the other rows kept. Needed "
        "after a change to a model's code that leaves its parameters (and so the hash "
        "that resuming matches rows by) unchanged.",
    )
    parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="Worker processes, one thread each (default: the number of cores, "
        f"{os.cpu_count()} here); 1 runs in this process. The rows do not depend on it.",
    )
    return parser
