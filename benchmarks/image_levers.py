"""Lever proxy for the image models: a few one-class tasks, 1 seed, stratified test.

Each configuration is fitted once per proxy task; the scores (plain pixel error,
per-image normalised error, an SSIM-style structural error, and the two-part score
"error + Mahalanobis distance of the code") are all computed from that one fit, so the
score levers cost nothing extra. Appends rows to ``--out`` (CSV).

Run: ``python -m benchmarks.image_levers --config conv_500_15 --tasks mnist:2 mnist:8``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.ndimage import uniform_filter
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from ae_anomaly import Autoencoder, ConvAutoencoder
from benchmarks.image_data import load, stratified_subset, to_unit


def ssim_error(X, R, size=7):
    """Mean of ``1 - SSIM`` over each image (uniform ``size`` window, per channel)."""
    c1, c2 = 0.01**2, 0.03**2
    axes = (0, 0, size, size)
    mx, mr = uniform_filter(X, axes), uniform_filter(R, axes)
    vx = uniform_filter(X * X, axes) - mx * mx
    vr = uniform_filter(R * R, axes) - mr * mr
    cov = uniform_filter(X * R, axes) - mx * mr
    s = ((2 * mx * mr + c1) * (2 * cov + c2)) / ((mx**2 + mr**2 + c1) * (vx + vr + c2))
    return (1 - s).reshape(len(X), -1).mean(axis=1)


def scores(model, train, test, shape):
    """``{score name: anomaly score of test}`` (higher = more anomalous)."""
    R = model.reconstruct(test).reshape(test.shape)
    mse = ((test - R) ** 2).mean(axis=1)
    out = {
        "pixel": mse,
        "normalised": mse / (test.var(axis=1) + 1e-3),
        "ssim": ssim_error(test.reshape(-1, *shape), R.reshape(-1, *shape)),
    }
    # two-part: standardised error + standardised Mahalanobis distance of the code
    Rt = model.reconstruct(train).reshape(train.shape)
    e_tr = ((train - Rt) ** 2).mean(axis=1)
    Z, Zt = model.transform(train), model.transform(test)
    mu, cov = Z.mean(0), np.cov(Z, rowvar=False) + 1e-6 * np.eye(Z.shape[1])
    inv = np.linalg.inv(cov)
    d_tr = np.einsum("ij,jk,ik->i", Z - mu, inv, Z - mu)
    d_te = np.einsum("ij,jk,ik->i", Zt - mu, inv, Zt - mu)
    out["two-part"] = (mse - e_tr.mean()) / e_tr.std() + (d_te - d_tr.mean()) / d_tr.std()
    return out


def make(config, seed, shape):
    """``config`` = ``kind_ntrain_epochs[_option...]``; returns (model, n_train)."""
    kind, n_train, epochs, *opts = config.split("_")
    kw = dict(max_iter=int(epochs), random_state=seed, device="cpu", early_stopping=False)
    kw["batch_size"] = int(next((o[1:] for o in opts if o.startswith("b")), 64))
    kw["learning_rate_init"] = float(next((o[2:] for o in opts if o.startswith("lr")), 1e-3))
    kw["n_components"] = int(next((o[1:] for o in opts if o.startswith("k")), 32))
    n_train = None if n_train == "all" else int(n_train)
    if kind == "mlp":
        return Autoencoder(hidden_layer_sizes=(256,), scaling=None, **kw), n_train
    channels = next((o[1:] for o in opts if o.startswith("c")), "16-32")
    ch = tuple(int(c) for c in channels.split("-"))
    return ConvAutoencoder(image_shape=shape, channels=ch, **kw), n_train


def table(csv):
    """The lever CSV as markdown: AUROC % per (config, score) and task, and the mean."""
    from benchmarks.image_data import markdown_table

    df = pd.read_csv(csv)
    t = df.pivot_table(index=["config", "score"], columns="task", values="auroc") * 100
    t["mean"] = t.mean(axis=1)
    t["fit s"] = df.groupby(["config", "score"])["seconds"].mean()
    t.index = [f"{c} / {s}" for c, s in t.index]
    t.index.name = "config / score"
    return markdown_table(t.sort_values("mean", ascending=False))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="e.g. conv_500_15, mlp_all_20, pca_all")
    parser.add_argument("--table", action="store_true", help="print --out as markdown")
    parser.add_argument("--tasks", nargs="+", default=["mnist:2", "mnist:8", "fashion_mnist:0",
                                                        "fashion_mnist:6"])
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/images_levers.csv"))
    args = parser.parse_args(argv)
    if args.table:
        print(table(args.out))
        return None
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", message=".*maximum iterations.*")
    rows, cache = [], {}
    for task in args.tasks:
        name, cls = task.split(":")
        if name not in cache:
            X, y, is_test = load(name)
            cache[name] = (to_unit(X), y, is_test)
        X, y, is_test = cache[name]
        test = np.flatnonzero(is_test)[stratified_subset(y[is_test], args.n_test, 0)]
        train = np.random.RandomState(args.seed).permutation(
            np.flatnonzero(~is_test & (y == int(cls))))
        flat = X.reshape(len(X), -1)
        labels = y[test] != int(cls)
        start = time.perf_counter()
        if args.config.startswith(("pca", "iforest")):
            kind, n_train = args.config.split("_")[:2]
            pick = train[: None if n_train == "all" else int(n_train)]
            if kind == "pca":
                pca = PCA(32, random_state=args.seed).fit(flat[pick])
                rec = pca.inverse_transform(pca.transform(flat[test]))
                s = {"pixel": ((flat[test] - rec) ** 2).mean(axis=1),
                     "ssim": ssim_error(flat[test].reshape(-1, *X.shape[1:]),
                                        rec.reshape(-1, *X.shape[1:]))}  # fmt: skip
            else:
                forest = IsolationForest(random_state=args.seed).fit(flat[pick])
                s = {"pixel": -forest.score_samples(flat[test])}
        else:
            model, n_train = make(args.config, args.seed, X.shape[1:])
            pick = train[:n_train]
            model.fit(flat[pick])
            s = scores(model, flat[pick], flat[test], X.shape[1:])
        seconds = time.perf_counter() - start
        for score, values in s.items():
            auc = roc_auc_score(labels, values)
            rows.append(dict(config=args.config, task=task, score=score, auroc=auc,
                             seconds=seconds, n_train=len(pick), n_test=len(test)))
            print(f"{args.config} {task} {score:10s} {auc:.4f} ({seconds:.0f} s)", flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(args.out, mode="a", header=not args.out.exists(), index=False)
    return df


if __name__ == "__main__":
    main()
