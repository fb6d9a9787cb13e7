"""Fit seconds with torch's default intra-op threads vs one thread, quiet and contended.

For a few network sizes (dense autoencoders from 30 to 784 features, a convolutional one
on 28 x 28 images) each fit runs with a fixed number of epochs (no early stopping) in this
process, alternating default threads and one thread, best of ``--repeats``; then the same
with another process spinning on one core (``python -c "while True: pass"``), the
*contended* figure. The multiply-adds of a training step (:func:`forward_macs` x 3 x
batch rows) calibrate :data:`ae_anomaly.nn.runtime.PARALLEL_MACS`.

Examples
--------
::

    python -m benchmarks.threads --out benchmarks/results/threads.md
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from ae_anomaly import Autoencoder, ConvAutoencoder
from ae_anomaly.nn.runtime import forward_macs, intra_op_threads

#: name -> (estimator factory, n_rows, n_features)
CASES = {
    "MLP 30 features, 7,000 rows": (lambda: Autoencoder(max_iter=10), 7_000, 30),
    "MLP 30 features, 54,000 rows": (lambda: Autoencoder(max_iter=3), 54_000, 30),
    "MLP 100 features, 10,000 rows": (lambda: Autoencoder(max_iter=5), 10_000, 100),
    "MLP 500 features, 10,000 rows": (lambda: Autoencoder(max_iter=3), 10_000, 500),
    "MLP 784 features, 10,000 rows": (lambda: Autoencoder(max_iter=3), 10_000, 784),
    "Conv 28x28, 2,000 images": (
        lambda: ConvAutoencoder(image_shape=(1, 28, 28), max_iter=1),
        2_000,
        784,
    ),
}


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


def fit_seconds(make, X, threads):
    est = make().set_params(early_stopping=False, random_state=0)
    with warnings.catch_warnings(), intra_op_threads(threads):
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est.fit(X)
        return time.perf_counter() - start, est


def measure(cases, repeats):
    default = torch.get_num_threads()
    rows = []
    for name, (make, n_rows, n_features) in cases.items():
        X = np.random.default_rng(0).normal(size=(n_rows, n_features))
        fit_seconds(make, X[:256], 1)  # warm-up: allocator, kernels
        _, est = fit_seconds(make, X[:256], 1)
        macs = forward_macs(est.module_, (n_features,))
        batch = min(n_rows, est._auto_batch_size)
        row = {"case": name, "macs_per_step": 3 * macs * batch}
        for condition in ("quiet", "contended"):
            ctx = busy_core() if condition == "contended" else contextlib.nullcontext()
            with ctx:
                best = {default: np.inf, 1: np.inf}
                for _ in range(repeats):
                    for threads in best:
                        best[threads] = min(best[threads], fit_seconds(make, X, threads)[0])
            row[f"{condition} {default} threads s"] = best[default]
            row[f"{condition} 1 thread s"] = best[1]
            print(name, condition, best, file=sys.stderr, flush=True)
        rows.append(row)
    return rows, default


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.threads", description=__doc__)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cases", default="all", help="Comma-separated case indices, or all.")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    names = list(CASES)
    if args.cases != "all":
        names = [names[int(i)] for i in args.cases.split(",")]
    rows, default = measure({n: CASES[n] for n in names}, args.repeats)
    head = (
        f"| case | MACs / step | quiet {default} thr | quiet 1 thr | ratio "
        f"| contended {default} thr | contended 1 thr | ratio |"
    )
    lines = [
        f"# Fit seconds: torch's default {default} threads vs 1 thread (best of {args.repeats})",
        "",
        f"Command: `python -m benchmarks.threads {' '.join(argv or sys.argv[1:])}`. "
        "Contended: another process spinning on one core. Ratio: default / one thread.",
        "",
        head,
        "|---" * 8 + "|",
    ]
    for r in rows:
        q = (r[f"quiet {default} threads s"], r["quiet 1 thread s"])
        c = (r[f"contended {default} threads s"], r["contended 1 thread s"])
        lines.append(
            f"| {r['case']} | {r['macs_per_step']:.2g} | {q[0]:.3f} | {q[1]:.3f} "
            f"| {q[0] / q[1]:.2f} | {c[0]:.3f} | {c[1]:.3f} | {c[0] / c[1]:.2f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
