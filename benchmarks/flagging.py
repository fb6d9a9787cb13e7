"""How well ``predict`` flags: ``contamination="auto"`` and other threshold rules, on labels.

For each fitted detector that has ``predict`` (the autoencoders and IsolationForest), the
protocol's test rows are flagged by ``predict`` (the estimator's own "auto" threshold)
and by each rule of :data:`RULES`, a threshold computed from the anomaly scores of the
*training* rows only (unlabeled: no rule sees a label). Per rule: the share of test rows
flagged, recall (the share of the true anomalies flagged) and the false-positive rate
(the share of the normal rows flagged).

Which rule flags closest to the real share of anomalies is chosen as the cross-dataset
figure is: on one fold of datasets, and reported on the other (:func:`rule_choice`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .protocol import FOLDS, assign_folds

#: Rows of the medcouple (an O(n^2) statistic): an evenly spaced sample of the sorted scores.
MEDCOUPLE_ROWS = 1000


def medcouple(values):
    """The medcouple (Brys, Hubert and Struyf, 2004): a robust skewness in [-1, 1].

    The median of ``((x_j - m) - (m - x_i)) / (x_j - x_i)`` over the pairs
    ``x_i <= m <= x_j`` (``m`` the median; pairs of ties at ``m`` are left out), computed
    on at most :data:`MEDCOUPLE_ROWS` evenly spaced order statistics.

    Examples
    --------
    >>> round(medcouple(np.arange(11.0)), 6)
    0.0
    >>> medcouple(np.exp(np.linspace(0, 3, 101))) > 0
    True
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    if x.size > MEDCOUPLE_ROWS:
        x = x[np.linspace(0, x.size - 1, MEDCOUPLE_ROWS).round().astype(int)]
    m = np.median(x)
    low, high = x[x <= m], x[x >= m]
    diff = high[None, :] - low[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        kernel = ((high[None, :] - m) - (m - low[:, None])) / diff
    kernel = kernel[diff > 0]
    return float(np.median(kernel)) if kernel.size else 0.0


def _quartiles(scores):
    q1, q3 = np.percentile(scores, [25, 75])
    return q1, q3, q3 - q1


def tukey(k):
    """Tukey's fence: ``Q3 + k * IQR`` of the training scores."""

    def rule(scores):
        _, q3, iqr = _quartiles(scores)
        return q3 + k * iqr

    return rule


def adjusted_boxplot(scores):
    """Hubert and Vandervieren's (2008) skew-adjusted fence: ``Q3 + 1.5 e^(3 MC) IQR``
    (``e^(4 MC)`` when the medcouple ``MC`` is negative)."""
    _, q3, iqr = _quartiles(scores)
    mc = medcouple(scores)
    return q3 + 1.5 * np.exp((3.0 if mc >= 0 else 4.0) * mc) * iqr


def share(p):
    """Flag the share ``p`` of the training rows with the highest scores (a fixed
    contamination, PyOD's default is 0.1)."""

    def rule(scores):
        return np.percentile(scores, 100.0 * (1.0 - p))

    return rule


#: Candidate rules: name -> function of the training anomaly scores giving the threshold
#: (a test row is flagged when its anomaly score exceeds it). "tukey 1.5" is the
#: autoencoders' ``contamination="auto"``.
RULES = {
    "tukey 1.5": tukey(1.5),
    "tukey 3": tukey(3.0),
    "adjusted boxplot": adjusted_boxplot,
    "share 0.05": share(0.05),
    "share 0.1": share(0.1),
}
#: "auto" is the estimator's own ``predict``.
RULE_NAMES = ("auto", *RULES)
KINDS = ("flagged", "recall", "fpr")
FIELDS = ("anomaly_share", *(f"{kind} {rule}" for rule in RULE_NAMES for kind in KINDS))


def flag_stats(detector, X_train, X_test, y_test):
    """Flagged share, recall and false-positive rate of every rule on the test rows.

    ``detector`` is a fitted :class:`benchmarks.baselines.Detector`; an empty dict when
    its estimator has no ``predict``.
    """
    estimator = detector.estimator_
    if not hasattr(estimator, "predict"):
        return {}
    anomalous = np.asarray(y_test) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flags = {"auto": estimator.predict(X_test) == -1}
        train = np.asarray(detector.anomaly_score(X_train), dtype=np.float64)
        test = np.asarray(detector.anomaly_score(X_test), dtype=np.float64)
    train = train[np.isfinite(train)]
    for name, rule in RULES.items():
        flags[name] = test > rule(train)
    row = {"anomaly_share": anomalous.mean()}
    for name, flagged in flags.items():
        row[f"flagged {name}"] = flagged.mean()
        row[f"recall {name}"] = flagged[anomalous].mean()
        row[f"fpr {name}"] = flagged[~anomalous].mean()
    return row


def _per_dataset(results):
    """Mean over seeds per (model, dataset) of every flag column, rows with them only."""
    have = results.dropna(subset=["flagged auto"]) if "flagged auto" in results else results[:0]
    return have.groupby(["model", "dataset"], sort=False)[list(FIELDS)].mean()


def auto_table(results):
    """Per model and dataset: the real anomaly share, and what ``predict`` flags."""
    frame = _per_dataset(results)
    columns = ["anomaly_share", "flagged auto", "recall auto", "fpr auto"]
    return frame[columns].rename(
        columns={
            "anomaly_share": "anomaly share",
            "flagged auto": "flagged",
            "recall auto": "recall",
            "fpr auto": "FPR",
        }
    )


def rule_table(results, models):
    """Per rule, mean over ``models``' rows and datasets (all, fold A, fold B): flagged
    share, recall, false-positive rate and |flagged - anomaly share| (the gap)."""
    frame = _per_dataset(results)
    frame = frame[frame.index.get_level_values("model").isin(models)]
    datasets = frame.index.get_level_values("dataset")
    folds = assign_folds(datasets.unique())
    fold = np.asarray(datasets.map(folds))
    rows = {}
    for rule in RULE_NAMES:
        gap = (frame[f"flagged {rule}"] - frame["anomaly_share"]).abs()
        row = {}
        for part, mask in (("all", np.ones(len(frame), bool)), *((f, fold == f) for f in FOLDS)):
            row[f"gap {part}"] = gap[mask].mean()
        for kind in KINDS:
            row[f"{kind} all"] = frame[f"{kind} {rule}"].mean()
        rows[rule] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "rule"
    return table


def rule_choice(table):
    """Fold -> the rule with the smallest gap on the *other* fold, and its gap on this
    fold (the rule chosen without looking at this fold's labels)."""
    return {
        this: (
            table[f"gap {other}"].idxmin(),
            table.loc[table[f"gap {other}"].idxmin(), f"gap {this}"],
        )
        for this, other in zip(FOLDS, FOLDS[::-1], strict=True)
    }


def section(results, models, reference="IsolationForest"):
    """Markdown lines of the report's ``contamination="auto"`` section (empty without data)."""
    from .report import to_markdown

    auto = auto_table(results)
    if auto.empty:
        return []
    names = list(dict.fromkeys(auto.index.get_level_values("model")))
    folds = assign_folds(auto.index.get_level_values("dataset").unique())
    means = {}
    for model in names:
        part = auto.loc[model]
        fold = part.index.map(folds)
        for label, mask in (("all", slice(None)), *((f, fold == f) for f in FOLDS)):
            values = part.loc[mask] if label != "all" else part
            means[(model, label)] = values.mean()
    summary = pd.DataFrame(means).T
    summary.index = [f"{m} ({label})" for m, label in summary.index]
    summary.index.name = "model (datasets)"
    wide = auto[["flagged", "recall", "FPR"]].unstack(0)
    wide.columns = [f"{m} {kind}" for kind, m in wide.columns]
    wide = wide[[f"{m} {kind}" for m in names for kind in ("flagged", "recall", "FPR")]]
    wide.insert(0, "anomaly share", auto["anomaly share"].groupby("dataset", sort=False).first())
    ours = [m for m in models if m in names]
    lines = [
        "",
        '## `contamination="auto"`: what `predict` flags on the test rows',
        "",
        "Test rows flagged by `predict` at the default threshold (ours: Tukey's fence "
        f'Q3 + 1.5 IQR on the training rows\' anomaly errors; {reference}: its own "auto", '
        "`offset_ = -0.5`), against the real share of anomalies; recall = share of the true "
        "anomalies flagged, FPR = share of the normal rows flagged. Means over seeds, then "
        "over datasets.",
        "",
        to_markdown(summary),
    ]
    if ours:  # the rules are judged on our detectors' rows: none in this run, no rules
        rules = rule_table(results, ours)
        choice = rule_choice(rules)
        lines += [
            "",
            "Threshold rules computed from the training rows' anomaly scores only (no label), "
            f"on the rows of {', '.join(ours)}: flagged share, recall, FPR, and the gap "
            "|flagged share - anomaly share| (mean over models and datasets). On each fold the "
            "rule with the smallest gap on the other fold is chosen: "
            + "; ".join(
                f"fold {f}: {rule} (gap there {gap:.3f})" for f, (rule, gap) in choice.items()
            )
            + ".",
            "",
            to_markdown(rules),
        ]
    lines += [
        "",
        "Per dataset (mean over seeds):",
        "",
        to_markdown(wide),
    ]
    return lines
