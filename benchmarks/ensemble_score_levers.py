"""EnsembleAutoencoder levers that the ``--levers`` harness cannot express (issue 11).

Three groups, each on ADBench's protocol (:mod:`benchmarks.protocol`), mean over the
datasets of each fold:

- ``score``: scores computed from the members of *one* fit of the ensemble before this
  change (``scaling="standard", error_cap=None``): other transforms of the column errors
  (``c * log1p(e / c)``, the shipped one at c = 16, square roots), of the code distance,
  other ways to combine the members (median, trimmed mean), and an IsolationForest on
  the members' codes and errors (the "density/isolation model on the code space" lever);
- ``scaling``: inputs scaled outside, then ``EnsembleAutoencoder(scaling=None)`` (with the
  shipped ``error_cap=16``): median/IQR and median/MAD with the fallbacks and floors of
  :class:`~ae_anomaly.MADScaler`, and a normal-quantile transform;
- ``training``: the shipped default with one training lever moved (more members, more
  epochs, more rows per member, a lower learning rate).

Run (about 6 minutes on 2 cores)::

    python -m benchmarks.ensemble_score_levers --jobs 2

Rows go to ``benchmarks/results/ensemble_scoring_levers/score_levers.csv``, the table
to ``score_levers.md`` beside it (``--out DIR`` for another folder).
"""

from __future__ import annotations

import argparse
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import trim_mean, wilcoxon
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import QuantileTransformer

from ae_anomaly.models.scalers import MAD_TO_SD, MADScaler

from .protocol import SEEDS, adbench_suite, assign_folds, split
from .report import to_markdown

OUT = Path(__file__).parent / "results" / "ensemble_scoring_levers"


def _member_features(model, X):
    """Per member: column-error terms for several caps, and the code distance."""
    import torch

    from ae_anomaly.nn.training import predict_batches

    caps = (1.0, 4.0, 16.0, 64.0)

    def parts(module, x):
        squared, codes = module.member_parts(x)
        errors = model._weighted(squared, x)  # error_cap=None: plain normalised errors
        terms = [errors.mean(dim=2), errors.sqrt().mean(dim=2)]
        terms += [(cap * torch.log1p(errors / cap)).mean(dim=2) for cap in caps]
        terms += [model._code_distance(codes, x)]
        return torch.cat([t.T for t in terms], 1)

    values = predict_batches(parts, model.module_, model._scale(X))
    m = model.n_estimators
    blocks = [values[:, i * m : (i + 1) * m] for i in range(values.shape[1] // m)]
    names = ["squared", "sqrt"] + [f"log{c:g}" for c in caps] + ["cd"]
    codes = model.transform(X)
    return dict(zip(names, blocks, strict=True)), codes


def _standardize(train, test):
    center = np.median(train, axis=0)
    spread = MAD_TO_SD * np.median(np.abs(train - center), axis=0) + 1e-9
    return (test - center) / spread


def score_levers(X_train, X_test, seed):
    from ae_anomaly import EnsembleAutoencoder

    model = EnsembleAutoencoder(scaling="standard", error_cap=None, random_state=seed)
    model.fit(X_train)
    (tr, codes_tr), (te, codes_te) = (_member_features(model, X) for X in (X_train, X_test))

    def members(err, cd=lambda v: v):
        return _standardize(tr[err] + cd(tr["cd"]), te[err] + cd(te["cd"]))

    plain = members("squared")
    scores = {
        "score: before (squared errors + code distance, mean of members)": -model.score_samples(
            X_test
        ),
        "score: median of members": np.median(plain, axis=1),
        "score: 20% trimmed mean of members": trim_mean(plain, 0.2, axis=1),
        "score: sqrt errors + sqrt code distance": members("sqrt", np.sqrt).mean(1),
        "score: log1p errors (cap 1) + sqrt code distance": members("log1", np.sqrt).mean(1),
    }
    for cap in ("1", "4", "16", "64"):
        scores[f"score: cap {cap} (c log1p(e/c)) + code distance"] = members(f"log{cap}").mean(1)
    member_tr = _standardize(tr["squared"] + tr["cd"], tr["squared"] + tr["cd"])
    for name, (ftr, fte) in {
        "codes": (codes_tr, codes_te),
        "member scores": (member_tr, plain),
        "codes + member scores": (
            np.hstack([codes_tr, member_tr]),
            np.hstack([codes_te, plain]),
        ),
    }.items():
        forest = IsolationForest(random_state=seed).fit(ftr)
        scores[f"score: IsolationForest on the {name}"] = -forest.score_samples(fte)
    return scores


def _mad(X, floor):
    scaler = MADScaler(floor=floor).fit(X)
    return scaler.center_, scaler.scale_


def _iqr(X):
    q1, center, q3 = np.percentile(X, [25, 50, 75], axis=0)
    spread = np.where(q3 > q1, (q3 - q1) / 1.349, X.std(axis=0))
    return center, np.where(spread > 0, spread, 1.0)


def scaling_levers(X_train, X_test, seed):
    from ae_anomaly import EnsembleAutoencoder

    scalings = {f"scaling: median/MAD, floor {f:g} x std": (lambda X, f=f: _mad(X, f))
                for f in (0.0, 0.01, 0.05, 0.1, 0.2)}  # fmt: skip
    scalings["scaling: median/IQR (std where the IQR is 0)"] = _iqr
    scores = {}
    for name, fit in scalings.items():
        center, scale = fit(X_train)
        model = EnsembleAutoencoder(scaling=None, random_state=seed)
        model.fit((X_train - center) / scale)
        scores[name] = -model.score_samples((X_test - center) / scale)
    quantiles = QuantileTransformer(
        output_distribution="normal", n_quantiles=min(1000, len(X_train)), random_state=seed
    ).fit(X_train)
    model = EnsembleAutoencoder(scaling=None, random_state=seed)
    model.fit(quantiles.transform(X_train))
    scores["scaling: normal quantiles"] = -model.score_samples(quantiles.transform(X_test))
    return scores


def training_levers(X_train, X_test, seed):
    from ae_anomaly import EnsembleAutoencoder

    moves = {
        "training: shipped default": {},
        "training: n_estimators=50": {"n_estimators": 50},
        "training: max_iter=80": {"max_iter": 80},
        "training: max_samples=512": {"max_samples": 512},
        "training: learning_rate_init=3e-3": {"learning_rate_init": 3e-3},
    }
    return {
        name: -EnsembleAutoencoder(random_state=seed, **params)
        .fit(X_train)
        .score_samples(X_test)
        for name, params in moves.items()
    }


def _task(dataset, seed):
    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    X, y = dataset.load()
    X_train, X_test, _, y_test = split(X, y, seed)
    scores = {}
    for levers in (score_levers, scaling_levers, training_levers):
        scores.update(levers(X_train, X_test, seed))
    return [
        dict(dataset=dataset.name, seed=seed, lever=name,
             roc_auc=roc_auc_score(y_test, s), aucpr=average_precision_score(y_test, s))
        for name, s in scores.items()
    ]  # fmt: skip


def table(rows, reference):
    """Fold means, AUCPR, W/T/L and Wilcoxon p against ``reference`` per-dataset ROC-AUC."""
    per = rows.groupby(["lever", "dataset"])[["roc_auc", "aucpr"]].mean().reset_index()
    per["fold"] = per["dataset"].map(assign_folds(per["dataset"].unique()))
    out = []
    for lever, part in per.groupby("lever", sort=False):
        part = part.set_index("dataset")
        diff = part["roc_auc"] - reference.reindex(part.index)
        out.append({
            "lever": lever,
            "ROC-AUC all": part["roc_auc"].mean(),
            "ROC-AUC A": part.loc[part["fold"] == "A", "roc_auc"].mean(),
            "ROC-AUC B": part.loc[part["fold"] == "B", "roc_auc"].mean(),
            "AUCPR all": part["aucpr"].mean(),
            "W/T/L vs IForest": f"{(diff >= 0.005).sum()}/{(diff.abs() < 0.005).sum()}/"
                                f"{(diff <= -0.005).sum()}",
            "Wilcoxon p": wilcoxon(part["roc_auc"], reference.reindex(part.index)).pvalue,
        })  # fmt: skip
    return pd.DataFrame(out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ensemble_score_levers")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data/adbench"))
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument(
        "--out",
        type=Path,
        default=OUT,
        help="folder of score_levers.csv and score_levers.md (default: "
        "benchmarks/results/ensemble_scoring_levers)",
    )
    args = parser.parse_args(argv)
    out = args.out
    seeds = [int(s) for s in args.seeds.split(",")]
    tasks = [(d, s) for d in adbench_suite(args.data_dir) for s in seeds]
    with ProcessPoolExecutor(args.jobs) as pool:
        parts = pool.map(_task, [d for d, _ in tasks], [s for _, s in tasks])
        rows = pd.DataFrame([row for part in parts for row in part])
    out.mkdir(parents=True, exist_ok=True)
    rows.to_csv(out / "score_levers.csv", index=False)
    raw = pd.read_csv(Path(__file__).parent / "results" / "adbench_raw.csv")
    forest = raw[(raw["model"] == "IsolationForest") & raw["seed"].isin(seeds)]
    reference = forest.groupby("dataset")["roc_auc"].mean()
    result = table(rows, reference)
    text = (
        "# EnsembleAutoencoder levers outside the `--levers` harness\n\n"
        f"Command: `python -m benchmarks.ensemble_score_levers --jobs {args.jobs}"
        + (f" --out {args.out}" if args.out != OUT else "")
        + "` "
        f"(seeds {args.seeds}; module docstring: what each group is). IsolationForest's "
        "per-dataset ROC-AUC for W/T/L and the Wilcoxon p comes from "
        "`benchmarks/results/adbench_raw.csv` (same protocol and seeds).\n\n"
        + to_markdown(result.set_index("lever"))
        + "\n"
    )
    (out / "score_levers.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
