"""Choose :class:`~ae_anomaly.EnsembleAutoencoder`'s defaults by the folds, cheapest first.

Reads the rows of ``python -m benchmarks.tabular --levers`` (the ``Ensemble[<lever>]``
variants of :data:`benchmarks.baselines.ENSEMBLE_LEVERS`) and applies one fixed rule:

- on a fold, a variant is *within noise* of the fold's best when its mean ROC-AUC there
  is at most ``delta`` (default 0.005, the report's tie threshold) below the best
  variant's;
- the variant chosen on a fold is the cheapest (smallest total fit seconds over all its
  rows) of those within noise on it, and it is reported on the *other* fold: the two
  halves give the cross-dataset figure of the choice;
- the shipped default is the cheapest variant within noise on *both* folds (none: the
  one whose worse fold is best).

Run::

    python -m benchmarks.levers --seeds 1,2,3

Only variants measured on every seed asked for take part, so that all are compared on the
same rows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from .protocol import FOLDS, assign_folds
from .report import TIE, to_markdown

RAW = Path(__file__).parent / "results" / "adbench_levers" / "adbench_raw.csv"


def lever_table(results, seeds):
    """Per ``Ensemble[...]`` variant measured on all ``seeds``: fold means and fit seconds."""
    rows = results[results["model"].str.startswith("Ensemble[") & results["seed"].isin(seeds)]
    rows = rows.drop_duplicates(["dataset", "model", "seed"], keep="last")
    complete = rows.groupby("model")["seed"].nunique() == len(seeds)
    rows = rows[rows["model"].isin(complete[complete].index)]
    per = rows.groupby(["model", "dataset"])[["roc_auc", "aucpr"]].mean().reset_index()
    folds = assign_folds(per["dataset"].unique())
    per["fold"] = per["dataset"].map(folds)
    means = per.groupby(["model", "fold"])[["roc_auc", "aucpr"]].mean().unstack()
    table = pd.DataFrame(
        {
            **{f"ROC-AUC {f}": means[("roc_auc", f)] for f in FOLDS},
            **{f"AUCPR {f}": means[("aucpr", f)] for f in FOLDS},
            "ROC-AUC all": per.groupby("model")["roc_auc"].mean(),
            "total fit s": rows.groupby("model")["fit_s"].sum(),
        }
    )
    table.index.name = "variant"
    return table.sort_values("total fit s")


def choose(table, delta=TIE):
    """The rule of this module: ``(within, picks, default)``.

    ``within``: fold -> the variants within ``delta`` of that fold's best; ``picks``: fold
    -> the variant chosen for it (on the other fold); ``default``: the shipped choice.
    """
    cheapest = list(table.sort_values("total fit s").index)
    within = {
        f: {
            v
            for v in cheapest
            if table.loc[v, f"ROC-AUC {f}"] >= table[f"ROC-AUC {f}"].max() - delta
        }
        for f in FOLDS
    }
    chosen_on = {f: next(v for v in cheapest if v in within[f]) for f in FOLDS}
    picks = {this: chosen_on[other] for this, other in zip(FOLDS, FOLDS[::-1], strict=True)}
    both = [v for v in cheapest if all(v in within[f] for f in FOLDS)]
    if both:
        default = both[0]
    else:
        default = table[[f"ROC-AUC {f}" for f in FOLDS]].min(axis=1).idxmax()
    return within, picks, default


def summary(results, seeds, delta=TIE):
    """Markdown: the variants, which are within noise on each fold, the choices."""
    table = lever_table(results, seeds)
    within, picks, default = choose(table, delta)
    shown = table.copy()
    for f in FOLDS:
        shown[f"within {delta} on {f}"] = ["yes" if v in within[f] else "" for v in table.index]
    cross = sum(table.loc[picks[f], f"ROC-AUC {f}"] for f in FOLDS) / len(FOLDS)
    lines = [
        f"Seeds {', '.join(map(str, seeds))}; variants measured on all of them: "
        f"{len(table)}. Within noise: mean ROC-AUC at most {delta} below the fold's best.",
        "",
        to_markdown(shown),
        "",
        *(
            f"- chosen on fold {other} (cheapest within noise there), reported on fold {f}: "
            f"{picks[f]}, ROC-AUC {table.loc[picks[f], f'ROC-AUC {f}']:.3f}"
            for f, other in zip(FOLDS, FOLDS[::-1], strict=True)
        ),
        f"- cross-dataset figure of the choice (mean of the two folds): {cross:.3f}",
        f"- shipped default (cheapest within noise on both folds): {default}",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.levers", description=__doc__)
    parser.add_argument("--raw", type=Path, default=RAW, help="Rows of a --levers run.")
    parser.add_argument("--seeds", default="1", help="e.g. 1,2,3")
    parser.add_argument("--delta", type=float, default=TIE, help="Noise margin of ROC-AUC.")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    print(summary(pd.read_csv(args.raw), seeds, args.delta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
