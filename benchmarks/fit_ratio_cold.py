"""The ensemble's fit-time ratio to IsolationForest as a one-off script pays it.

A fresh process per run: load one ADBench set (seed 1's training part), then time the
first ``EnsembleAutoencoder().fit`` and the first ``IsolationForest().fit`` in the order
given (imports excluded, default threads). Prints one line per run.

    python -m benchmarks.fit_ratio_cold 24_mnist ens,if
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sklearn.ensemble import IsolationForest

from ae_anomaly import EnsembleAutoencoder
from benchmarks.protocol import adbench_suite, split

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "adbench"


def main(argv=None):
    name, order = (argv or sys.argv[1:])[:2]
    (dataset,) = [d for d in adbench_suite(DATA) if d.name == name]
    X, y = dataset.load()
    X_train = split(X, y, 1)[0]
    seconds = {}
    for which in order.split(","):
        model = EnsembleAutoencoder(random_state=0) if which == "ens" else IsolationForest(
            random_state=0
        )
        start = time.perf_counter()
        model.fit(X_train)
        seconds[which] = time.perf_counter() - start
    ratio = seconds["ens"] / seconds["if"]
    print(f"{name} {order}: ensemble {seconds['ens']:.3f} s, IsolationForest "
          f"{seconds['if']:.3f} s, ratio {ratio:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
