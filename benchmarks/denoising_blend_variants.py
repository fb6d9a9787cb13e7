"""Issue 15: candidate rules for ``denoise_weight_``, measured on the benchmark's settings.

Each model of :mod:`benchmarks.denoising_tabular` is fitted once; its blend weights are
then recomputed under each rule from the same held-out rows (least-squares moments at
0.25x / 0.5x / 1x the trained ``noise_level``) and the SNR gain of ``denoise`` is
measured on that benchmark's test noise. One-off study behind
``results/denoising_blend_variants.md``.

Run: ``python -m benchmarks.denoising_blend_variants breast_cancer,lowrank 0,1,2 0 out.csv``
(arguments: data sets, seeds, 1 to include the conv models, CSV path).
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ae_anomaly.models import denoising as D
from ae_anomaly.nn.losses import corrupt
from ae_anomaly.nn.training import predict_batches
from benchmarks import denoising_tabular as B

MULTS = (0.25, 0.5, 1.0)


def _keep_rows(blend_weights):
    def patched(self, X_scaled):
        self._study_rows = np.array(X_scaled)
        return blend_weights(self, X_scaled)

    return patched


def moments(model, mult):
    """Per column: -sum(noise * change), sum(change^2), sum(noise^2), clean residual^2."""
    X = model._study_rows
    if len(X) > D.BLEND_ROWS:
        keep = np.random.RandomState(0).choice(len(X), D.BLEND_ROWS, replace=False)
        X = X[np.sort(keep)]
    generator = torch.Generator(device=model.device_).manual_seed(0)

    def stats(module, x):
        noisy = corrupt(x, model.noise, model.noise_level * mult, generator)
        noise, change = noisy - x, module(noisy) - noisy
        return torch.cat([-(noise * change), change.pow(2), noise.pow(2),
                          (module(x) - x).pow(2)], dim=1)  # fmt: skip

    draws = max(1, min(D.BLEND_DRAWS, D.BLEND_ROWS // len(X)))
    s = predict_batches(stats, model.module_, np.tile(X, (draws, 1))).sum(axis=0)
    n = X.shape[1]
    return s[:n], s[n:2 * n], s[2 * n:3 * n] / (draws * len(X)), s[3 * n:] / (draws * len(X))


def variants(model):
    st = {m: moments(model, m) for m in MULTS}
    w = {m: D.shrinkage(*st[m][:2]) for m in MULTS}
    base = w[1.0]
    noise_power, residual = st[0.5][2], st[1.0][3]  # mean per row and column
    return {
        "base": base,
        "min2": np.minimum(base, w[0.5]),
        "pool3": D.shrinkage(sum(st[m][0] for m in MULTS), sum(st[m][1] for m in MULTS)),
        "cap1.25": np.minimum(base, 1.25 * w[0.5]),
        "cap1.5": np.minimum(base, 1.5 * w[0.5]),
        "cap1.75": np.minimum(base, 1.75 * w[0.5]),
        "wiener.5": np.minimum(base, noise_power / (noise_power + residual)),
        "cap1.5x3": np.minimum(np.minimum(base, 1.5 * w[0.5]), 1.5 * w[0.25]),
    }


def main(names, seeds, conv):
    D.DenoisingAutoencoder._blend_weights = _keep_rows(D.DenoisingAutoencoder._blend_weights)
    records = []
    settings = [("gaussian", s) for s in B.SIGMAS] + [("masking", p) for p in B.SHARES]

    class Args:
        quick = False

    for name in names:
        X_train, X_test, is_image = B.load(name)
        unit = 1.0 if is_image else X_train.std(axis=0)
        for seed in seeds:
            fitted = {}
            for kind, level in settings:
                rng = np.random.RandomState(1000 * seed + 1)
                noisy, _ = B.corrupt(X_test, kind, level, X_train, is_image, rng)
                for method, model in B.our_models(kind, level, is_image, seed, Args).items():
                    if method.startswith("Conv") and not conv:
                        continue
                    own = method not in ("DAE", "ConvDAE")
                    key = (method, kind if own else "", level if own else None)
                    if key not in fitted:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            model.fit(X_train)
                        fitted[key] = (model, variants(model))
                    model, weights = fitted[key]
                    for variant, weight in weights.items():
                        model.denoise_weight_ = weight
                        gain = B.snr_gain(X_test, noisy, model.denoise(noisy), unit)
                        records.append(dict(dataset=name, seed=seed, noise=f"{kind} {level:g}",
                                            method=method, variant=variant, gain=gain))  # fmt: skip
    return pd.DataFrame(records)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.denoising_blend_variants",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("datasets", help="comma-separated data sets, e.g. breast_cancer,lowrank")
    parser.add_argument("seeds", help="comma-separated seeds, e.g. 0,1,2")
    parser.add_argument("conv", choices=("0", "1"), help="1 to include the conv models")
    parser.add_argument("csv", type=Path, help="output CSV path")
    args = parser.parse_args(argv)
    try:
        args.seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        parser.error(f"seeds: comma-separated integers, got {args.seeds!r}.")
    return args


if __name__ == "__main__":
    args = parse_args()
    df = main(args.datasets.split(","), args.seeds, args.conv == "1")
    df.to_csv(args.csv, index=False)
    for (dataset, method), g in df.groupby(["dataset", "method"]):
        print(dataset, method)
        print(g.pivot_table(index="variant", columns="noise", values="gain").round(2))
