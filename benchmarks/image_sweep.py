"""Lever sweep of the dense image autoencoder on the full one-class protocol, one seed.

Every training image of each class (about 6,000 on MNIST / Fashion-MNIST), the stratified
2,000 test images of ``benchmarks.images --protocol full``, all 10 classes, one seed. The
base configuration is the full protocol's earlier choice, ``ConvAutoencoder(channels=(),
hidden_layer_sizes=(256,), n_components=32)`` for 3 epochs of batch 64 with the structural
(SSIM) error; each ``--config NAME=JSON`` changes some of its parameters. One row per
(data set, configuration, seed, class) is appended to ``--out`` (CSV); ``--table`` prints
the means.

Run (the sweep of ``results/images_levers.md``)::

    python -m benchmarks.image_sweep --datasets fashion_mnist mnist --seeds 0 \\
        --config base='{}' --config ep12='{"max_iter": 12}' \\
        --config h512='{"hidden_layer_sizes": [512]}'
    python -m benchmarks.image_sweep --table
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score

from ae_anomaly import ConvAutoencoder
from benchmarks.image_data import load, stratified_subset, to_unit
from benchmarks.images import default_code

RESULTS = Path(__file__).resolve().parent / "results"
BASE = dict(channels=(), hidden_layer_sizes=(256,), n_components=32, max_iter=3,
            batch_size=64, learning_rate_init=1e-3, device="cpu")  # fmt: skip
COLUMNS = ["dataset", "config", "seed", "normal_class", "auroc"]


def config(overrides):
    """``NAME=JSON`` -> ``(name, parameter overrides)``; JSON lists become tuples."""
    name, _, text = overrides.partition("=")
    params = json.loads(text or "{}")
    return name, {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


def sweep(datasets, seeds, configs, out):
    """Fit every configuration on every class; append AUROC (%) rows to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    for name in datasets:
        X, y, is_test = load(name)
        code = default_code(X.shape[1:])  # the full protocol's code-size rule
        X = to_unit(X).reshape(len(X), -1)
        test = np.flatnonzero(is_test)[stratified_subset(y[is_test], 2000, 0)]
        for tag, overrides in configs:
            for seed in seeds:
                started, rows = time.perf_counter(), []
                for cls in range(10):
                    train = np.flatnonzero(~is_test & (y == cls))
                    pick = np.random.RandomState(seed).permutation(train)
                    params = {**BASE, "n_components": code, "random_state": seed, **overrides}
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        model = ConvAutoencoder(**params).fit(X[pick])
                    scores = -model.score_samples(X[test])
                    auroc = 100 * roc_auc_score(y[test] != cls, scores)
                    rows.append([name, tag, seed, cls, round(auroc, 3)])
                pd.DataFrame(rows, columns=COLUMNS).to_csv(
                    out, mode="a", header=not out.exists(), index=False
                )
                mean = np.mean([r[-1] for r in rows])
                print(f"{name} {tag} seed {seed}: mean AUROC {mean:.2f} "
                      f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)  # fmt: skip


def table(path):
    """Markdown: mean AUROC per configuration and data set, and their mean."""
    df = pd.read_csv(path)
    means = df.pivot_table(index="config", columns="dataset", values="auroc", sort=False)
    means["mean"] = means.mean(axis=1)
    lines = ["| config | " + " | ".join(means.columns) + " |",
             "|---" * (len(means.columns) + 1) + "|"]  # fmt: skip
    for tag, row in means.sort_values("mean", ascending=False).iterrows():
        lines.append(f"| {tag} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", dest="configs", action="append", type=config, default=[],
                        metavar="NAME=JSON", help="a configuration: parameter overrides")
    parser.add_argument("--datasets", nargs="+", default=["fashion_mnist", "mnist"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--out", type=Path, default=RESULTS / "images_sweep.csv")
    parser.add_argument("--table", action="store_true", help="print the table and stop")
    args = parser.parse_args(argv)
    if not args.table:
        sweep(args.datasets, args.seeds, args.configs, args.out)
    print(table(args.out))


if __name__ == "__main__":
    main()
