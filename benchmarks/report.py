"""Tables, figures and the published-table check from the raw benchmark rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PUBLISHED = "published_unsupervised.csv"
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
        "## Summary (mean over datasets; rank 1 = best ROC-AUC on a dataset)",
        "",
        to_markdown(stats),
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
    if published is not None:
        text += "\n" + "\n".join(
            f"Published check {m}: mean(ours - published) = {d:+.4f}"
            for m, d in differences.items()
        )
    return text
