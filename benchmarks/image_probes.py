"""CIFAR-10 levers of issue 15, probed on the full protocol's data (seed 0).

``scores``: the protocol's dense image autoencoder (``ConvAutoencoder(channels=(),
hidden_layer_sizes=(512,))``, 12 epochs), one fit per class, scored several ways from the
same reconstructions: the default structural error (1 - SSIM), the pixel MSE, a
low-pass MSE (5x5 box blur of both images), and each divided by the image's complexity
(its zlib-compressed size, as in Serra et al., ICLR 2020, or its total variation).

``itae``: restoring transformed inputs (ITAE, Huang et al. 2019): a small network is trained
to map a grayed, rotated (0/90/180/270) training image back to the original; the anomaly
score is the restoration error, averaged over the four rotations. A conv and a dense
version, on the classes the dense autoencoder finds hardest.

``variants``: ``ImageAutoencoder()`` at its defaults next to three variants of its
training or network, each one change: a cosine learning-rate schedule (Adam's rate decays
from 1e-3 to 0 over the budget's optimizer steps, all of which it runs: no plateau stop),
batch normalisation after the hidden layers,
and a MemAE-style memory (Gong et al., ICCV 2019) between encoder and decoder: the code is
replaced by an attention-weighted sum of 500 learned memory items, weights hard-shrunk at
2/500 and renormalised (no entropy term).

    python -m benchmarks.image_probes scores
    python -m benchmarks.image_probes itae --classes 1,3,7
    python -m benchmarks.image_probes variants --only default,cosine

Writes ``benchmarks/results/images_probes_<probe>.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import uniform_filter
from sklearn.metrics import roc_auc_score
from torch import nn

from .image_data import load, stratified_subset, to_unit

RESULTS = Path(__file__).resolve().parent / "results"


def _data():
    X, y, is_test = load("cifar10")
    test = np.flatnonzero(is_test)[stratified_subset(y[is_test], 2000, 0)]
    return X, to_unit(X), y, is_test, test


def probe_scores(classes):
    from ae_anomaly import ConvAutoencoder

    raw, X, y, is_test, test = _data()
    X_test = X[test]
    flat = X_test.reshape(len(X_test), -1)
    size = np.array([len(zlib.compress(raw[i].tobytes(), 9)) for i in test], float)
    variation = (np.abs(np.diff(X_test, axis=2)).mean((1, 2, 3))
                 + np.abs(np.diff(X_test, axis=3)).mean((1, 2, 3)))  # fmt: skip
    rows = {}
    for cls in classes:
        train = X[~is_test & (y == cls)]
        model = ConvAutoencoder(channels=(), hidden_layer_sizes=(512,), n_components=64,
                                max_iter=12, batch_size=64, learning_rate_init=1e-3,
                                random_state=0, device="cpu", image_shape=X.shape[1:])  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(train.reshape(len(train), -1))
        recon = model.reconstruct(flat).reshape(X_test.shape)
        ssim = -model.score_samples(flat)
        mse = ((recon - X_test) ** 2).mean((1, 2, 3))

        def blur(a):
            return uniform_filter(a, size=(1, 1, 5, 5))

        low = ((blur(recon) - blur(X_test)) ** 2).mean((1, 2, 3))
        scores = {
            "1 - SSIM (the default)": ssim,
            "pixel MSE": mse,
            "low-pass MSE": low,
            "1 - SSIM / compressed size": ssim / size,
            "pixel MSE / compressed size": mse / size,
            "pixel MSE / total variation": mse / (variation + 1e-3),
            "low-pass MSE / compressed size": low / size,
        }
        anomalous = y[test] != cls
        for name, score in scores.items():
            rows.setdefault(name, []).append(100 * roc_auc_score(anomalous, score))
    return rows


def _itae_net(arch, channels, side):
    if arch == "dense":
        d = channels * side * side
        return nn.Sequential(
            nn.Flatten(), nn.Linear(d, 512), nn.ReLU(), nn.Linear(512, 64), nn.ReLU(),
            nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, d), nn.Sigmoid(),
            nn.Unflatten(1, (channels, side, side)),
        )  # fmt: skip
    return nn.Sequential(
        nn.Conv2d(channels, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 3, 2, 1), nn.BatchNorm2d(64), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 3, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(128 * 16, 128), nn.LeakyReLU(0.2), nn.Linear(128, 128 * 16),
        nn.Unflatten(1, (128, 4, 4)),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(32, channels, 4, 2, 1), nn.Sigmoid(),
    )  # fmt: skip


def _transformed(x, k):
    gray = x.mean(1, keepdim=True).expand_as(x)
    return torch.rot90(gray, k, (2, 3))


def probe_itae(classes, epochs=(30, 60)):
    _, X, y, is_test, test = _data()
    X_test = torch.from_numpy(X[test])
    rows = {}
    for arch, n_epochs in (("dense", epochs[0]), ("conv", epochs[1])):
        for cls in classes:
            torch.manual_seed(0)
            train = torch.from_numpy(X[~is_test & (y == cls)])
            net = _itae_net(arch, X.shape[1], X.shape[2])
            optimizer = torch.optim.Adam(net.parameters(), 1e-3)
            for _ in range(n_epochs):
                net.train()
                for batch in torch.randperm(len(train)).split(64):
                    xb = train[batch]
                    k = int(torch.randint(0, 4, (1,)))
                    loss = ((net(_transformed(xb, k)) - xb) ** 2).mean()
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
            net.eval()
            with torch.no_grad():
                errors = torch.stack([
                    ((net(_transformed(X_test, k)) - X_test) ** 2).flatten(1).mean(1)
                    for k in range(4)
                ], 1)  # fmt: skip
            anomalous = y[test] != cls
            name = f"ITAE {arch}, {n_epochs} epochs: mean over rotations"
            rows.setdefault(name, []).append(100 * roc_auc_score(anomalous, errors.mean(1)))
            name = f"ITAE {arch}, {n_epochs} epochs: upright input only"
            rows.setdefault(name, []).append(100 * roc_auc_score(anomalous, errors[:, 0]))
    return rows


def probe_variants(classes, only=None):
    from .image_variants import VARIANTS

    _, X, y, is_test, test = _data()
    flat_test = X[test].reshape(len(test), -1)
    rows = {}
    for name, (cls, params) in VARIANTS.items():
        if only and name not in only:
            continue
        for c in classes:
            train = X[~is_test & (y == c)]
            model = cls(random_state=0, device="cpu", image_shape=X.shape[1:], **params)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(train.reshape(len(train), -1))
            auroc = 100 * roc_auc_score(y[test] != c, -model.score_samples(flat_test))
            print(f"{name} class {c}: {auroc:.1f} ({time.perf_counter() - start:.0f} s, "
                  f"{model.n_iter_} epochs)", flush=True)  # fmt: skip
            rows.setdefault(name, []).append(auroc)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.image_probes")
    parser.add_argument("probe", choices=("scores", "itae", "variants"))
    parser.add_argument("--classes", default=None, help="e.g. 1,3,7 (default: all 10)")
    parser.add_argument("--only", default=None, help="variants: e.g. default,cosine")
    parser.add_argument("--tag", default=None, help="output file stem (default: the probe)")
    parser.add_argument("--threads", type=int, help="torch threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    classes = [int(c) for c in args.classes.split(",")] if args.classes else list(range(10))
    start = time.perf_counter()
    if args.probe == "variants":
        rows = probe_variants(classes, args.only.split(",") if args.only else None)
    else:
        rows = probe_scores(classes) if args.probe == "scores" else probe_itae(classes)
    header = "| score | " + " | ".join(map(str, classes)) + " | mean |"
    lines = [header, "|" + "---|" * (len(classes) + 2)]
    for name, values in rows.items():
        cells = " | ".join(f"{v:.1f}" for v in values)
        lines.append(f"| {name} | {cells} | {np.mean(values):.1f} |")
    command = "python -m benchmarks.image_probes " + " ".join(argv or sys.argv[1:])
    text = (
        f"# CIFAR-10 probe `{args.probe}` (issue 15)\n\nCommand: `{command}` "
        f"({time.perf_counter() - start:.0f} s on 2 cores, shared). One-class AUROC %, seed 0, "
        "500 training images of the class, a stratified 2,000 test images. See the module "
        "docstring of `benchmarks/image_probes.py` for what each row is.\n\n"
        + "\n".join(lines) + "\n"
    )
    path = RESULTS / f"images_probes_{args.tag or args.probe}.md"
    path.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
