"""`make demo`: the default detector and the three core autoencoders beside PCA and
IsolationForest, offline.

Each task is built from a dataset bundled with scikit-learn (nothing downloads): one class
family is normal, 5% anomalies from the others are planted, unlabeled, in the training
part, and the test part holds unseen normal rows and the remaining anomalies
(:func:`ae_anomaly.datasets.load_split`). Prints ROC-AUC and fit seconds (average
precision is computed, in :func:`run`'s table, but not printed), and draws the ROC curves of
the first task. Fit seconds exclude torch's one-time start-up
(a warm-up fit runs first).

Run: ``python -m benchmarks.demo [--out PATH]``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve  # noqa: E402

from ae_anomaly import (  # noqa: E402
    Autoencoder,
    DenoisingAutoencoder,
    EnsembleAutoencoder,
    VariationalAutoencoder,
)
from ae_anomaly.datasets import load_split  # noqa: E402
from benchmarks.baselines import PyODPCA  # noqa: E402

TASKS = ("breast_cancer", "wine", "digits")
MODELS = {
    "EnsembleAutoencoder": lambda: EnsembleAutoencoder(random_state=0),  # the default one
    "Autoencoder": lambda: Autoencoder(random_state=0),
    "DenoisingAutoencoder": lambda: DenoisingAutoencoder(random_state=0),
    "VariationalAutoencoder": lambda: VariationalAutoencoder(random_state=0),
    "PCA": PyODPCA,
    "IsolationForest": lambda: IsolationForest(n_estimators=100, random_state=0),
}


def anomaly_scores(model, X):
    """Higher = more anomalous, whatever the model's own convention."""
    if hasattr(model, "score_samples"):
        return -model.score_samples(X)
    return model.decision_function(X)


def run(tasks=TASKS):
    """Fit every model on every task; return a long table and the first task's ROC curves."""
    rows, curves = [], {}
    with warnings.catch_warnings():  # torch's one-time start-up, kept out of the timings
        warnings.simplefilter("ignore")
        Autoencoder(max_iter=1).fit(load_split(tasks[0])[0])
    for task in tasks:
        X_train, X_test, y_test = load_split(task, random_state=0)
        for name, make in MODELS.items():
            model = make()
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X_train)
            seconds = time.perf_counter() - start
            scores = anomaly_scores(model, X_test)
            rows.append(
                {
                    "task": task,
                    "model": name,
                    "roc_auc": roc_auc_score(y_test, scores),
                    "aucpr": average_precision_score(y_test, scores),
                    "fit_s": seconds,
                }
            )
            if task == tasks[0]:
                curves[name] = roc_curve(y_test, scores)[:2]
    return pd.DataFrame(rows), curves


def plot(curves, task, path):
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, (fpr, tpr) in curves.items():
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC, {task}")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/demo_roc.png"), help="ROC figure"
    )
    args = parser.parse_args(argv)
    table, curves = run()
    wide = table.pivot(index="model", columns="task", values=["roc_auc", "fit_s"])
    wide = wide.reindex(list(MODELS))
    print("ROC-AUC on held-out data (5% unlabeled anomalies in training), and fit seconds:\n")
    with pd.option_context("display.width", 120, "display.precision", 3):
        print(wide.to_string())
    plot(curves, TASKS[0], args.out)
    print(f"\nROC curves for {TASKS[0]}: {args.out}")


if __name__ == "__main__":
    main()
