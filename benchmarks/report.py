"""Tables, figures and the published-table check from the raw benchmark rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from . import flagging
from .protocol import FOLDS, assign_folds

PUBLISHED = "published_unsupervised.csv"
#: The detector every other one is compared with, dataset by dataset.
REFERENCE = "IsolationForest"
#: ``<suite>_notes.md`` beside the report: how its rows were made (commands, dates, loads),
#: copied into ``<suite>.md`` under the machine line each time the report is written, so
#: that what the raw rows cannot say survives a regeneration.
NOTES = "{suite}_notes.md"
#: A per-dataset difference of mean ROC-AUC smaller than this (in absolute value) is a tie.
TIE = 0.005
#: Our model name -> ADBench's name for it in the published table.
PUBLISHED_NAMES = {"IsolationForest": "IForest", "PCA": "PCA"}
TOLERANCE = 0.03


def to_markdown(frame, floatfmt=".3f"):
    """A GitHub markdown table of ``frame`` with its index as the first column."""

    def cell(value):
        if isinstance(value, float | np.floating):
            return "" if np.isnan(value) else format(value, floatfmt)
        return str(value)

    header = [str(frame.index.name or ""), *map(str, frame.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, *row in frame.astype(object).itertuples():
        lines.append("| " + " | ".join([str(index), *map(cell, row)]) + " |")
    return "\n".join(lines)


def model_order(results):
    """Models by family (ours, baselines, PyOD), then by first appearance."""
    families = {"ae_anomaly": 0, "baseline": 1, "pyod": 2}
    first = results.drop_duplicates("model")
    first = first.assign(rank=first["family"].map(families).fillna(3))
    return list(first.sort_values("rank", kind="stable")["model"])


def per_dataset(results, metric="roc_auc"):
    """Mean and sd over seeds of ``metric``: two (dataset x model) frames."""
    grouped = results.groupby(["dataset", "model"])[metric]
    order = model_order(results)
    datasets = list(dict.fromkeys(results["dataset"]))
    mean = grouped.mean().unstack()[order].reindex(datasets)
    sd = grouped.std(ddof=1).unstack()[order].reindex(datasets).fillna(0.0)
    return mean, sd


def summary(results):
    """Per model: mean ROC-AUC and AUCPR over datasets, mean rank, fit seconds."""
    roc, _ = per_dataset(results, "roc_auc")
    pr, _ = per_dataset(results, "aucpr")
    complete = roc.dropna()  # ranks only over datasets every model ran on
    table = pd.DataFrame(
        {
            "mean ROC-AUC": roc.mean(),
            "mean AUCPR": pr.mean(),
            "mean rank": complete.rank(axis=1, ascending=False).mean(),
            "median fit s": results.groupby("model")["fit_s"].median(),
            "total fit s": results.groupby("model")["fit_s"].sum(),
            "datasets": roc.notna().sum(),
        }
    )
    return table.loc[roc.columns]


def versus(roc, reference=REFERENCE, tie=TIE):
    """Per model: wins / ties / losses against ``reference`` and a paired Wilcoxon p-value.

    ``roc`` is a (dataset x model) frame of per-dataset scores (mean over seeds). A
    dataset is a tie when the two scores differ by less than ``tie``; the p-value is
    :func:`scipy.stats.wilcoxon`'s two-sided signed-rank test on the paired per-dataset
    differences (zero differences dropped, scipy's default); nan for the reference itself.
    """
    rows = {}
    for model in roc.columns:
        both = pd.DataFrame({"model": roc[model], "reference": roc[reference]}).dropna()
        diff = both["model"] - both["reference"]
        p = np.nan
        if model != reference and (diff != 0).any():
            p = float(wilcoxon(both["model"], both["reference"]).pvalue)
        rows[model] = {
            "W/T/L vs " + reference: f"{(diff >= tie).sum()}/{(diff.abs() < tie).sum()}"
            f"/{(diff <= -tie).sum()}",
            "Wilcoxon p": "" if np.isnan(p) else f"{p:.2g}",
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def fold_means(frame, folds):
    """Mean of each column over the datasets of each fold: columns ``FOLDS``."""
    fold = frame.index.map(folds)
    return pd.DataFrame({f: frame[fold == f].mean() for f in FOLDS})


def cross_dataset(roc, pr, candidates, folds):
    """The "choose on one fold, report on the other" figure for a family of candidates.

    For each fold, the candidate with the best mean ROC-AUC on the *other* fold is chosen
    and its per-dataset scores on this fold are kept. The two halves together give one
    score per dataset, all chosen without looking at that dataset: their mean is the
    cross-dataset figure, comparable with any fixed model's mean over all datasets.

    Returns
    -------
    roc, pr : Series
        Per-dataset ROC-AUC and AUCPR of the out-of-fold choice.
    chosen : dict
        Fold -> the candidate chosen for it (on the other fold).
    """
    fold = roc.index.map(folds)
    out_roc = pd.Series(np.nan, index=roc.index)
    out_pr = pd.Series(np.nan, index=roc.index)
    chosen = {}
    for this, other in zip(FOLDS, FOLDS[::-1], strict=True):
        best = roc.loc[fold == other, candidates].mean().idxmax()
        chosen[this] = best
        out_roc[fold == this] = roc.loc[fold == this, best]
        out_pr[fold == this] = pr.loc[fold == this, best]
    return out_roc, out_pr, chosen


def published_means(published, datasets, folds):
    """ADBench's published detectors: mean ROC-AUC and AUCPR over ``datasets`` and folds."""
    published = published.assign(dataset=published["file"].str.removesuffix(".npz"))
    published = published[published["dataset"].isin(datasets)]
    rows = {}
    for (model, metric), group in published.groupby(["model", "metric"]):
        values = group.set_index("dataset")["value"]
        name = "ROC-AUC" if metric == "roc_auc" else "AUCPR"
        rows.setdefault(model, {})[f"mean {name}"] = values.mean()
        for f in FOLDS:
            rows[model][f"{name} fold {f}"] = values[values.index.map(folds) == f].mean()
        rows[model]["datasets"] = values.size
    columns = [
        f"{kind} {part}"
        for kind in ("ROC-AUC", "AUCPR")
        for part in ("all", *(f"fold {f}" for f in FOLDS))
    ]
    table = pd.DataFrame.from_dict(rows, orient="index").rename(
        columns={"mean ROC-AUC": "ROC-AUC all", "mean AUCPR": "AUCPR all"}
    )
    table = table[[*columns, "datasets"]].sort_values("ROC-AUC all", ascending=False)
    table.index.name = "published (ADBench)"
    return table


def honest_summary(results, families=("ae_anomaly",)):
    """Item 1 of the benchmark: fold means, wins against IsolationForest, the paired test,
    and for each family in ``families`` its best member chosen on the other fold.

    Returns
    -------
    table : DataFrame
        One row per model plus one "best <family> (chosen on other fold)" row per family.
    chosen : dict
        Family -> {fold: model chosen for it}.
    """
    roc, _ = per_dataset(results, "roc_auc")
    pr, _ = per_dataset(results, "aucpr")
    folds = assign_folds(roc.index)
    family = results.drop_duplicates("model").set_index("model")["family"]
    models = list(roc.columns)
    rank = roc.dropna().rank(axis=1, ascending=False).mean()
    chosen = {}
    for name in families:
        candidates = [m for m in models if family.get(m) == name]
        if not candidates:
            continue
        label = f"best {name} (chosen on other fold)"
        roc[label], pr[label], chosen[name] = cross_dataset(roc, pr, candidates, folds)
        # Ranked against the models outside its family (its candidates are its own parts).
        others = [m for m in models if m not in candidates] + [label]
        rank[label] = roc[others].dropna().rank(axis=1, ascending=False).mean()[label]
    roc_folds, pr_folds = fold_means(roc, folds), fold_means(pr, folds)
    table = pd.DataFrame(
        {
            "ROC-AUC all": roc.mean(),
            **{f"ROC-AUC {f}": roc_folds[f] for f in FOLDS},
            "AUCPR all": pr.mean(),
            **{f"AUCPR {f}": pr_folds[f] for f in FOLDS},
            "mean rank": rank,
        }
    )
    if REFERENCE in roc:
        table = table.join(versus(roc))
    return table.loc[roc.columns], chosen


def published_check(results, published):
    """Our IsolationForest and PCA beside ADBench's published ROC-AUC, per dataset.

    Returns
    -------
    table : DataFrame
        One row per dataset: ours, published, difference, per model.
    differences : dict
        Model -> mean of (ours - published) over the datasets both have.
    """
    roc, _ = per_dataset(results, "roc_auc")
    published = published[published["metric"] == "roc_auc"].assign(
        dataset=lambda df: df["file"].str.removesuffix(".npz")
    )
    columns, differences = {}, {}
    for ours, theirs in PUBLISHED_NAMES.items():
        if ours not in roc:
            continue
        ref = published[published["model"] == theirs].set_index("dataset")["value"]
        both = roc[ours].dropna().index.intersection(ref.index)
        if both.empty:
            continue
        columns[(ours, "ours")] = roc.loc[both, ours]
        columns[(ours, "published")] = ref[both]
        columns[(ours, "diff")] = roc.loc[both, ours] - ref[both]
        differences[ours] = float(columns[(ours, "diff")].mean())
    return pd.DataFrame(columns), differences


def _mean_sd(mean, sd):
    return mean.combine(sd, lambda m, s: "" if pd.isna(m) else f"{m:.3f} ± {s:.3f}")


def markdown_table(mean, sd):
    """``mean ± sd`` cells, best mean per dataset in bold."""
    cells = pd.DataFrame({col: _mean_sd(mean[col], sd[col]) for col in mean.columns})
    best = mean.idxmax(axis=1)
    for dataset, model in best.items():
        if isinstance(model, str):
            cells.loc[dataset, model] = f"**{cells.loc[dataset, model]}**"
    return to_markdown(cells)


def figures(results, out, suite):
    """A box plot of per-dataset ROC-AUC per model; fit time vs ROC-AUC per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    roc, _ = per_dataset(results, "roc_auc")
    fig, ax = plt.subplots(figsize=(1.2 * len(roc.columns) + 2, 4.5))
    ax.boxplot([roc[c].dropna() for c in roc.columns], showmeans=True)
    ax.set_xticks(range(1, len(roc.columns) + 1), roc.columns, rotation=30, ha="right")
    ax.set_ylabel("ROC-AUC per dataset (mean of seeds)")
    ax.set_title(f"{suite}: {len(roc)} datasets (triangle = mean)")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    box = Path(out) / f"{suite}_roc_box.png"
    fig.savefig(box, dpi=120)
    plt.close(fig)

    stats = summary(results)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for model, row in stats.iterrows():
        ax.scatter(row["median fit s"], row["mean ROC-AUC"], s=40)
        ax.annotate(
            model,
            (row["median fit s"], row["mean ROC-AUC"]),
            fontsize=8,
            xytext=(4, 4),
            textcoords="offset points",
        )
    ax.set_xscale("log")
    ax.set_xlabel("median fit time per dataset (s, log scale)")
    ax.set_ylabel("mean ROC-AUC over datasets")
    ax.set_title(f"{suite}: time to quality")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    scatter = Path(out) / f"{suite}_time_vs_roc.png"
    fig.savefig(scatter, dpi=120)
    plt.close(fig)
    return box, scatter


def write(results, out, suite, *, published=None, machine=""):
    """Write ``<suite>.md`` (tables and check) and the figures; return the summary text."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stats = summary(results)
    seeds = sorted(int(s) for s in results["seed"].unique())
    lines = [
        f"# Benchmark `{suite}`",
        "",
        f"Seeds {', '.join(map(str, seeds))}; machine: {machine}.",
        "",
    ]
    notes = out / NOTES.format(suite=suite)
    if notes.is_file():
        lines += [
            f"## How these rows were made (from `{notes.name}`)",
            "",
            notes.read_text().strip(),
            "",
        ]
    lines += [
        "## Summary (mean over datasets; rank 1 = best ROC-AUC on a dataset)",
        "",
        to_markdown(stats),
    ]
    honest, chosen = honest_summary(results)
    folds = assign_folds(results["dataset"].unique())
    fold_lists = {f: [d for d, g in folds.items() if g == f] for f in FOLDS}
    lines += [
        "",
        "## Cross-dataset figure and comparison with IsolationForest",
        "",
        "Folds (fixed, `benchmarks.protocol.assign_folds`): datasets in ADBench's numeric "
        "order, alternately in A and B.",
        "",
        *[f"- fold {f} ({len(names)}): {', '.join(names)}" for f, names in fold_lists.items()],
        "",
        "Per model: mean over datasets (all, fold A, fold B) of ROC-AUC and AUCPR; mean rank "
        f"(1 = best ROC-AUC on a dataset); datasets won / tied / lost against {REFERENCE} "
        f"(tie: |difference of mean ROC-AUC| < {TIE}); two-sided Wilcoxon signed-rank "
        f"p-value of the per-dataset ROC-AUC against {REFERENCE}'s. The "
        '"chosen on other fold" row is the cross-dataset figure of a family: on each '
        "fold, the member with the best mean ROC-AUC on the other fold"
        + "".join(
            f" ({family}: {chosen[family]['A']} for A, {chosen[family]['B']} for B)"
            for family in chosen
        )
        + ". It holds out the pick among the members, not the members' own defaults: a "
        "member whose defaults were tuned on these datasets (both folds) brings that "
        "tuning with it, and then the row is not a held-out figure.",
        "",
        to_markdown(honest),
    ]
    anchored = sorted(results.loc[results["source"] != "measured", "model"].unique())
    if anchored:
        source = results.loc[results["model"].isin(anchored), "source"].iloc[0]
        lines += [
            "",
            f"Rows of {', '.join(anchored)} are taken from `{source}` (same protocol, "
            "measured earlier on this kind of machine).",
        ]
    if published is not None:
        reference = published_means(published, list(folds), folds)
        lines += [
            "",
            "## Reference: ADBench's published unsupervised detectors on these datasets",
            "",
            f"Means of `{PUBLISHED}` (ADBench's tables, not measured here).",
            "",
            to_markdown(reference),
        ]
        check, differences = published_check(results, published)
        lines += ["", "## Published-table check (ADBench's unsupervised ROC-AUC)", ""]
        for model, diff in differences.items():
            verdict = "within" if abs(diff) <= TOLERANCE else "OUTSIDE"
            lines.append(
                f"- {model}: mean(ours - published) = {diff:+.4f} over {len(check)} datasets, "
                f"mean |diff| = {check[(model, 'diff')].abs().mean():.4f}: {verdict} "
                f"the {TOLERANCE} tolerance"
            )
        if not check.empty:
            flat = check.copy()
            flat.columns = [f"{m} {k}" for m, k in flat.columns]
            lines += ["", to_markdown(flat)]
    ours = set(results.loc[results["family"] == "ae_anomaly", "model"])
    flags = flagging.section(results, [m for m in model_order(results) if m in ours], REFERENCE)
    lines += flags
    for metric, title in (("roc_auc", "ROC-AUC"), ("aucpr", "AUCPR")):
        mean, sd = per_dataset(results, metric)
        lines += [
            "",
            f"## {title} per dataset (mean ± sd over seeds)",
            "",
            markdown_table(mean, sd),
        ]
    box, scatter = figures(results, out, suite)
    lines += [
        "",
        f"![ROC-AUC per model]({box.name})",
        "",
        f"![fit time vs ROC-AUC]({scatter.name})",
        "",
    ]
    (out / f"{suite}.md").write_text("\n".join(lines))
    head = [f"Summary of {suite} ({len(results['dataset'].unique())} datasets, seeds {seeds})"]
    text = "\n".join(head + [stats.to_string(float_format=lambda v: f"{v:.3f}")])
    text += (
        "\n\nCross-dataset figure (folds "
        + ", ".join(f"{f}: {len(names)} datasets" for f, names in fold_lists.items())
        + f"; ties: |diff| < {TIE})\n"
        + honest.to_string(float_format=lambda v: f"{v:.3f}")
    )
    for family, picks in chosen.items():
        text += f"\nbest {family}: chose {picks['A']} for fold A, {picks['B']} for fold B"
    if published is not None:
        text += "\n\nADBench published means (reference rows)\n" + reference.to_string(
            float_format=lambda v: f"{v:.3f}"
        )
        text += "\n" + "\n".join(
            f"Published check {m}: mean(ours - published) = {d:+.4f}"
            for m, d in differences.items()
        )
    if flags:
        text += "\n" + "\n".join(flags)
    return text
