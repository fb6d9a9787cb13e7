"""Figures of the convolutional VAE on Fashion-MNIST: samples from the prior and latent
traversals (one code unit varied, the others kept), written as PNGs with
:mod:`ae_anomaly.plotting`.

Run: ``python -m benchmarks.image_figures [--n-train 2000] [--max-iter 15]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from ae_anomaly import ConvVariationalAutoencoder
from ae_anomaly.plotting import plot_latent_traversal, plot_samples
from benchmarks.image_data import load

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--max-iter", type=int, default=15)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    X, y, is_test = load("fashion_mnist")
    train = np.random.RandomState(0).permutation(np.flatnonzero(~is_test))[: args.n_train]
    vae = ConvVariationalAutoencoder(
        channels=(16, 32), n_components=8, max_iter=args.max_iter, batch_size=32,
        random_state=0, device="cpu",
    ).fit(X[train])  # uint8 (n, 28, 28) in, so samples come back as (n, 28, 28)  # fmt: skip
    print(f"trained {vae.n_iter_} epochs", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    plot_samples(vae, n=36, random_state=0, path=args.out / "images_vae_samples.png")
    # The units that vary most over the data are the ones the VAE uses.
    codes = vae.transform(X[train[:500]])
    dims = np.argsort(codes.std(axis=0))[::-1][:4].tolist()
    plot_latent_traversal(
        vae, X[np.flatnonzero(is_test)[:1]], dims, np.linspace(-2.5, 2.5, 9),
        path=args.out / "images_latent_traversal.png",
    )  # fmt: skip


if __name__ == "__main__":
    main()
