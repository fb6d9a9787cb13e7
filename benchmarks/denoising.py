"""Image denoising benchmark: PSNR and SSIM of our denoisers against classical baselines.

Test images of MNIST and Fashion-MNIST (pixels in [0, 1]) get Gaussian noise (sigma 0.2
and 0.4) or 10% salt-and-pepper noise. Methods:

- ``noisy``: the corrupted images themselves;
- ``median 3x3``: ``scipy.ndimage.median_filter`` with a 3x3 window;
- ``PCA``: projection on the top-k principal components of clean training images, k
  picked from (16, 32, 64, 128, 256) by PSNR on held-out *training* images;
- ``ConvDAE``: :class:`ae_anomaly.ConvDenoisingAutoencoder` trained on clean training
  images with the same kind of noise;
- ``MLP DAE``: :class:`ae_anomaly.DenoisingAutoencoder` (Gaussian noise of the same sigma;
  masking noise for salt-and-pepper, the closest kind it has).
- ``... reconstruct``: the same fitted model's plain ``reconstruct`` (what ``denoise``
  returned before it blended towards the input and clipped to the training range).

The Gaussian noise is not clipped (the noisy images leave [0, 1]); every method's output
is clipped to [0, 1] before scoring; PSNR and SSIM come from scikit-image (``data_range=1``)
and are averaged over the test images. Each (data set, noise) trains its own denoisers.

Run: ``python -m benchmarks.denoising`` (see ``--help``; ``--quick`` is a smoke run).
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
from scipy.ndimage import median_filter
from sklearn.decomposition import PCA

from ae_anomaly import ConvDenoisingAutoencoder, DenoisingAutoencoder
from benchmarks.image_data import load, markdown_table, require, stratified_subset, to_unit

RESULTS = Path(__file__).resolve().parent / "results"
SETTINGS = {
    "gaussian 0.2": ("gaussian", 0.2),
    "gaussian 0.4": ("gaussian", 0.4),
    "salt & pepper 10%": ("salt_pepper", 0.1),
}


def add_noise(X, kind, level, rng):
    """Corrupt [0, 1] images: additive Gaussian noise of sd ``level`` (not clipped, as
    in the usual AWGN setting) or salt-and-pepper on a share ``level`` of the pixels (half
    0, half 1)."""
    if kind == "gaussian":
        return (X + level * rng.standard_normal(X.shape)).astype(X.dtype)
    u = rng.uniform(size=X.shape)
    noisy = X.copy()
    noisy[u < level / 2] = 0.0
    noisy[(u >= level / 2) & (u < level)] = 1.0
    return noisy


def psnr_ssim(clean, estimate):
    """Mean PSNR (dB) and SSIM over (n, H, W) images in [0, 1]."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    estimate = np.clip(estimate, 0, 1).astype(np.float64)
    clean = clean.astype(np.float64)
    psnr = [
        peak_signal_noise_ratio(c, e, data_range=1.0) for c, e in zip(clean, estimate, strict=True)
    ]
    ssim = [
        structural_similarity(c, e, data_range=1.0) for c, e in zip(clean, estimate, strict=True)
    ]
    return float(np.mean(psnr)), float(np.mean(ssim))


def pca_denoiser(X_train, kind, level, rng, candidates=(16, 32, 64, 128, 256)):
    """PCA fitted on clean rows; k chosen on held-out training rows with the same noise."""
    n_val = max(1, len(X_train) // 10)
    fit, val = X_train[n_val:], X_train[:n_val]
    noisy_val = add_noise(val, kind, level, rng)
    pca = PCA(n_components=max(candidates), random_state=0).fit(fit)
    best = None
    for k in candidates:
        codes = pca.transform(noisy_val)[:, :k]
        rebuilt = codes @ pca.components_[:k] + pca.mean_
        score = psnr_ssim(val.reshape(-1, 28, 28), rebuilt.reshape(-1, 28, 28))[0]
        if best is None or score > best[0]:
            best = (score, k)
    k = best[1]
    return lambda X: pca.transform(X)[:, :k] @ pca.components_[:k] + pca.mean_, k


def our_denoisers(kind, level, args):
    common = dict(
        max_iter=args.max_iter, batch_size=args.batch_size, learning_rate_init=args.lr,
        random_state=0, device="cpu",
    )  # fmt: skip
    conv = ConvDenoisingAutoencoder(
        noise=kind, noise_level=level, n_components=args.code, channels=tuple(args.channels),
        image_shape=(1, 28, 28), scaling=None, **common,
    )  # fmt: skip
    mlp = DenoisingAutoencoder(
        noise="gaussian" if kind == "gaussian" else "masking", noise_level=level,
        hidden_layer_sizes=(512,), n_components=args.code, scaling=None, **common,
    )  # fmt: skip
    return {"ConvDAE": conv, "MLP DAE": mlp}


def run(name, args):
    X, y, is_test = load(name)
    X = to_unit(X).reshape(len(X), -1)  # (n, 784) in [0, 1]
    rng = np.random.RandomState(0)
    train_idx = rng.permutation(np.flatnonzero(~is_test))[: args.n_train]
    test_idx = np.flatnonzero(is_test)[stratified_subset(y[is_test], args.n_test, 0)]
    X_train, clean = X[train_idx], X[test_idx]
    records, examples, pca_k = [], {}, {}
    for setting, (kind, level) in SETTINGS.items():
        noisy = add_noise(clean, kind, level, np.random.RandomState(1))
        outputs = {"noisy": noisy}
        outputs["median 3x3"] = median_filter(noisy.reshape(-1, 28, 28), size=(1, 3, 3))
        pca, k = pca_denoiser(X_train, kind, level, np.random.RandomState(2))
        outputs["PCA"] = pca(noisy)
        pca_k[setting] = k
        for model_name, model in our_denoisers(kind, level, args).items():
            start = time.perf_counter()
            model.fit(X_train)
            print(f"{name} {setting}: {model_name} fitted in {time.perf_counter() - start:.0f} s "
                  f"({model.n_iter_} epochs)", file=sys.stderr, flush=True)  # fmt: skip
            outputs[model_name] = model.denoise(noisy)
            outputs[f"{model_name} reconstruct"] = model.reconstruct(noisy)
        for method, estimate in outputs.items():
            psnr, ssim = psnr_ssim(clean.reshape(-1, 28, 28), estimate.reshape(-1, 28, 28))
            records.append(
                dict(dataset=name, noise=setting, method=method, psnr=psnr, ssim=ssim,
                     pca_k=pca_k[setting] if method == "PCA" else None)
            )  # fmt: skip
            print(f"{name} {setting}: {method:12s} PSNR {psnr:.2f} SSIM {ssim:.3f}",
                  file=sys.stderr, flush=True)  # fmt: skip
        examples[setting] = (clean[:8], outputs)
    return records, examples


def figure(examples, path):
    from ae_anomaly.plotting import image_grid

    rows, titles = [], []
    for setting, (clean, outputs) in examples.items():
        if not rows:
            rows.append(clean)
            titles.append("clean")
        for method in ("noisy", "median 3x3", "ConvDAE"):
            rows.append(np.clip(outputs[method][:8], 0, 1))
            titles.append(f"{setting}\n{method}" if method == "noisy" else method)
    image_grid(rows, titles, image_shape=(1, 28, 28), vmin=0.0, vmax=1.0, path=path, scale=1.0)


def markdown(df, command):
    lines = [f"Command: `{command}`", ""]
    for name, part in df.groupby("dataset", sort=False):
        for metric, digits in (("psnr", 2), ("ssim", 3)):
            table = part.pivot_table(index="method", columns="noise", values=metric, sort=False)
            table.index.name = f"{name}: {metric.upper()}"
            lines += [markdown_table(table, digits), ""]
        ks = part.dropna(subset=["pca_k"]).set_index("noise")["pca_k"].astype(int)
        lines += ["PCA components chosen: " + ", ".join(f"{n}: k={k}" for n, k in ks.items()), ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["mnist", "fashion_mnist"])
    parser.add_argument("--n-train", type=int, default=10000, help="clean training images")
    parser.add_argument("--n-test", type=int, default=1000, help="stratified test images")
    parser.add_argument("--max-iter", type=int, default=20, help="epochs of the denoisers")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate")
    parser.add_argument("--channels", nargs="+", type=int, default=[32, 64])
    parser.add_argument("--code", type=int, default=128, help="code size of the denoisers")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--tag", default="denoising", help="output file stem")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.quick:
        args.datasets, args.n_train, args.n_test, args.max_iter = ["mnist"], 300, 20, 1
        args.channels, args.code = [4, 8], 16
    require(args.datasets, "python -m benchmarks.denoising")
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", message=".*maximum iterations.*")
    args.out.mkdir(parents=True, exist_ok=True)
    records = []
    for name in args.datasets:
        part, examples = run(name, args)
        records += part
        figure(examples, args.out / f"{args.tag}_{name}.png")
    df = pd.DataFrame(records)
    command = ("python -m benchmarks.denoising " + shlex.join(argv or sys.argv[1:])).strip()
    df.to_csv(args.out / f"{args.tag}.csv", index=False)
    (args.out / f"{args.tag}.md").write_text(markdown(df, command))
    print(markdown(df, command))
    return df


if __name__ == "__main__":
    main()
