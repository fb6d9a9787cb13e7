"""Tabular denoising benchmark: SNR gain (dB) of ``denoise`` against PCA and k-NN baselines.

Data (all offline): sklearn's ``digits`` (8x8 images as 64 columns, pixels / 16 in [0, 1]),
``breast_cancer`` (30 numeric columns in mixed units) and ``lowrank``, a synthetic table
(20 columns in mixed units: rank-3 signal plus 5% independent noise). Each is split once
into training rows (clean; models fit on them) and test rows (corrupted, then denoised).

Noise, applied to the test rows:

- ``gaussian s``: N(0, s^2) per entry: in pixel units on digits; ``s`` times each column's
  training standard deviation on the tables (their units differ);
- ``masking p``: a share ``p`` of the entries dropped: set to 0 on digits (black pixels),
  to the column's training mean on the tables. Only the k-NN imputer is told which.

Methods:

- ``PCA``: project on the top-k principal components of the clean training rows
  (standardized on the tables), clipped to the training range; k chosen per setting on
  held-out training rows with the same noise (never on the test rows);
- ``k-NN``: Gaussian noise: the mean of the k nearest clean training rows;
  masking: ``sklearn.impute.KNNImputer`` fills the dropped entries (given as NaN) from the
  clean training rows, the other entries kept. k chosen like PCA's;
- ``DAE``: :class:`ae_anomaly.DenoisingAutoencoder`, defaults (Gaussian training noise);
  ``DAE masking``: ``noise="masking", noise_level=p`` (masking settings only);
- ``ConvDAE`` (digits only): :class:`ae_anomaly.ConvDenoisingAutoencoder` with defaults
  (``image_shape=(1, 8, 8)``), and ``ConvDAE masking`` like the DAE's;
- ``DAE reconstruct``: the default DAE's plain ``reconstruct`` (what ``denoise`` returned
  before the shrinkage blend and the range clipping), for reference.

- ``DAE matched`` (Gaussian settings): trained on Gaussian noise of the test's sigma, in
  pixel units on digits (``scaling=None, noise_level=s``), in standard deviations on the
  tables (``noise_level=s``, the default scaling's units);

SNR gain = 10 log10(||noisy - clean||^2 / ||denoised - clean||^2) over all test entries,
each column's error in its training standard deviation on the tables (their units
differ; raw units would let one large-unit column decide), in pixels on digits:
> 0 dB means less noise than the input; every number is the mean over ``--seeds`` seeds
(noise draws and model seeds), with the lowest seed's value in the CSV as well.

Run: ``python -m benchmarks.denoising_tabular`` (``--quick`` is a smoke run).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import KNNImputer
from sklearn.neighbors import NearestNeighbors

from ae_anomaly import ConvDenoisingAutoencoder, DenoisingAutoencoder
from benchmarks.image_data import markdown_table

RESULTS = Path(__file__).resolve().parent / "results"
SIGMAS = (0.1, 0.3, 0.5)
SHARES = (0.1, 0.3)
PCA_K = (2, 4, 8, 12, 16, 24, 32)
KNN_K = (1, 3, 5, 10, 20)


def lowrank(n=1500, n_features=20, rank=3, seed=0):
    """A rank-``rank`` signal plus 5% independent noise, columns in mixed units."""
    rng = np.random.RandomState(seed)
    signal = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, n_features))
    X = signal + 0.05 * signal.std(axis=0) * rng.standard_normal((n, n_features))
    return X * 10.0 ** rng.uniform(-2, 3, size=n_features) + rng.uniform(-5, 5, n_features)


def load(name):
    """``(X_train, X_test, is_image)``: a fixed split of one data set."""
    if name == "digits":
        X = load_digits().data / 16.0
    elif name == "breast_cancer":
        X = load_breast_cancer().data
    else:
        X = lowrank()
    order = np.random.RandomState(0).permutation(len(X))
    n_train = min(1000, int(0.65 * len(X)))
    return X[order[:n_train]], X[order[n_train:]], name == "digits"


def corrupt(X, kind, level, reference, is_image, rng):
    """``(noisy, dropped)``: ``X`` with noise; ``dropped`` marks masked entries (or None)."""
    if kind == "gaussian":
        unit = 1.0 if is_image else reference.std(axis=0)
        return X + level * unit * rng.standard_normal(X.shape), None
    dropped = rng.uniform(size=X.shape) < level
    fill = np.zeros(X.shape[1]) if is_image else reference.mean(axis=0)
    return np.where(dropped, fill, X), dropped


def snr_gain(clean, noisy, estimate, unit=1.0):
    """10 log10 of the noisy input's squared error over the estimate's, each column's
    error in ``unit`` (its training standard deviation on the mixed-unit tables)."""
    noise, error = (noisy - clean) / unit, (estimate - clean) / unit
    return float(10 * np.log10((noise**2).sum() / (error**2).sum()))


def pca_method(X_fit, low, high, scale):
    pca = PCA(n_components=min(max(PCA_K), *X_fit.shape), random_state=0).fit(X_fit / scale)

    def apply(noisy, dropped, k):
        codes = pca.transform(noisy / scale)[:, :k]
        return np.clip((codes @ pca.components_[:k] + pca.mean_) * scale, low, high)

    return apply, [k for k in PCA_K if k <= pca.n_components_]


def knn_method(X_fit):
    scale = X_fit.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    neighbours = NearestNeighbors(n_neighbors=max(KNN_K)).fit(X_fit / scale)

    def apply(noisy, dropped, k):
        if dropped is None:
            idx = neighbours.kneighbors(noisy / scale, n_neighbors=k, return_distance=False)
            return X_fit[idx].mean(axis=1)
        imputer = KNNImputer(n_neighbors=k).fit(X_fit)
        return imputer.transform(np.where(dropped, np.nan, noisy))

    return apply, list(KNN_K)


def choose(method, X_fit, X_val, kind, level, is_image, seed, unit):
    """``(apply, k)`` with k chosen on the held-out training rows ``X_val``."""
    apply, candidates = method(X_fit)
    noisy, dropped = corrupt(X_val, kind, level, X_fit, is_image, np.random.RandomState(seed))
    best = max(candidates, key=lambda k: snr_gain(X_val, noisy, apply(noisy, dropped, k), unit))
    return apply, best


def our_models(kind, level, is_image, seed, args):
    small = dict(max_iter=2, channels=(4, 8)) if args.quick else {}
    models = {"DAE": DenoisingAutoencoder(random_state=seed)}
    if kind == "gaussian":  # trained on the test noise: pixel units (scaling=None) on
        # digits, standard deviations (the default scaling's units) on the tables
        scaling = dict(scaling=None) if is_image else {}
        models["DAE matched"] = DenoisingAutoencoder(noise_level=level, random_state=seed,
                                                     **scaling)  # fmt: skip
    if kind == "masking":
        models["DAE masking"] = DenoisingAutoencoder(
            noise="masking", noise_level=level, random_state=seed
        )
    if is_image:
        conv = dict(image_shape=(1, 8, 8), random_state=seed, device="cpu", **small)
        models["ConvDAE"] = ConvDenoisingAutoencoder(**conv)
        if kind == "masking":
            models["ConvDAE masking"] = ConvDenoisingAutoencoder(
                noise="masking", noise_level=level, **conv
            )
    return models


def run(name, seed, args, fitted):
    X_train, X_test, is_image = load(name)
    n_val = len(X_train) // 5
    X_fit, X_val = X_train[n_val:], X_train[:n_val]
    low, high = X_train.min(axis=0), X_train.max(axis=0)
    unit = 1.0 if is_image else X_train.std(axis=0)
    settings = [("gaussian", s) for s in args.sigmas] + [("masking", p) for p in args.shares]
    records = []
    for kind, level in settings:
        setting = f"{kind} {level:g}"
        rng = np.random.RandomState(1000 * seed + 1)
        noisy, dropped = corrupt(X_test, kind, level, X_train, is_image, rng)
        outputs = {}
        pca, k_pca = choose(lambda X: pca_method(X, low, high, unit), X_fit, X_val, kind, level,
                            is_image, seed + 7, unit)  # fmt: skip
        outputs["PCA"] = (pca(noisy, dropped, k_pca), k_pca)
        knn, k_knn = choose(knn_method, X_fit, X_val, kind, level, is_image, seed + 7, unit)
        outputs["k-NN"] = (knn(noisy, dropped, k_knn), k_knn)
        for model_name, model in our_models(kind, level, is_image, seed, args).items():
            own = model_name not in ("DAE", "ConvDAE")  # the defaults serve every setting
            key = (name, seed, model_name, kind if own else "", level if own else None)
            if key not in fitted:
                start = time.perf_counter()
                fitted[key] = model.fit(X_train)
                print(f"{name} seed {seed}: {model_name} fitted in "
                      f"{time.perf_counter() - start:.1f} s ({model.n_iter_} epochs)",
                      file=sys.stderr, flush=True)  # fmt: skip
            outputs[model_name] = (fitted[key].denoise(noisy), None)
            if model_name == "DAE":
                outputs["DAE reconstruct"] = (fitted[key].reconstruct(noisy), None)
        for method, (estimate, k) in outputs.items():
            gain = snr_gain(X_test, noisy, estimate, unit)
            span = np.where(high > low, high - low, 1.0)
            outside = float((np.maximum(estimate - high, low - estimate) / span).max())
            records.append(dict(dataset=name, seed=seed, noise=setting, method=method,
                                gain_db=gain, k=k, max_outside_range=outside))  # fmt: skip
            print(f"{name} seed {seed} {setting}: {method:16s} {gain:6.2f} dB",
                  file=sys.stderr, flush=True)  # fmt: skip
    return records


def markdown(df, command):
    seeds = [int(s) for s in sorted(df["seed"].unique())]
    lines = [f"Command: `{command}`", "",
             "SNR gain in dB (> 0: less noise than the noisy input), mean over seeds "
             f"{seeds}; blank: the method does not apply.", ""]  # fmt: skip
    order = ["PCA", "k-NN", "DAE", "DAE matched", "DAE masking", "ConvDAE",
             "ConvDAE masking", "DAE reconstruct"]  # fmt: skip
    for name, part in df.groupby("dataset", sort=False):
        table = part.pivot_table(index="method", columns="noise", values="gain_db", sort=False)
        table = table.reindex([m for m in order if m in table.index]).astype(object)
        table = table.where(table.notna(), "")
        table.index.name = name
        lines += [markdown_table(table, 2), ""]
        ks = part.dropna(subset=["k"]).groupby(["method", "noise"], sort=False)["k"]
        chosen = ks.agg(lambda v: "/".join(str(int(x)) for x in v)).reset_index()
        lines += ["k chosen on held-out training rows (per seed): " + "; ".join(
            f"{r.method} {r.noise}: {r.k}" for r in chosen.itertuples()), ""]  # fmt: skip
    ours = df[df["method"].isin(order[2:7])]
    worst = ours.groupby(["dataset", "method"])["gain_db"].min()
    lines += ["Lowest gain of each denoise model over settings and seeds: " + "; ".join(
        f"{d} {m}: {v:.2f}" for (d, m), v in worst.items()), ""]  # fmt: skip
    outside = ours["max_outside_range"].max()
    lines += ["Largest distance of a denoise output outside the training range, as a share "
              f"of the column's range (the stated margin is 0.5): {outside:.3g}", ""]  # fmt: skip
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "breast_cancer", "lowrank"])
    parser.add_argument(
        "--seeds", type=int, default=3, help="number of seeds: 0, 1, ..., SEEDS - 1 (at least 1)"
    )
    parser.add_argument("--sigmas", nargs="+", type=float, default=list(SIGMAS))
    parser.add_argument("--shares", nargs="+", type=float, default=list(SHARES))
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--tag", default="denoising_tabular", help="output file stem")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds is a number of seeds (0, ..., n - 1), at least 1; got {args.seeds}.")
    if args.quick:
        args.datasets, args.seeds, args.sigmas, args.shares = ["digits"], 1, [0.3], [0.3]
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    args.out.mkdir(parents=True, exist_ok=True)
    records, fitted = [], {}
    for name in args.datasets:
        for seed in range(args.seeds):
            records += run(name, seed, args, fitted)
    df = pd.DataFrame(records)
    command = ("python -m benchmarks.denoising_tabular " + shlex.join(argv or sys.argv[1:]))
    df.to_csv(args.out / f"{args.tag}.csv", index=False)
    (args.out / f"{args.tag}.md").write_text(markdown(df, command.strip()))
    print(markdown(df, command.strip()))
    return df


if __name__ == "__main__":
    main()
