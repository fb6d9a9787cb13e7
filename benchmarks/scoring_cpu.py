"""CPU seconds per million rows of a detector's scoring, in process, on one torch thread.

What ``ae-anomaly score`` spends in the detector, without the CSV: a model (the CLI's
default, :class:`~ae_anomaly.EnsembleAutoencoder`, or ``--model autoencoder``) is fitted on
20,000 rows of the 30-column table ``benchmarks/cli_throughput.py`` streams, then
``score_samples`` scores ``--rows`` rows of the same table ``--repeats`` times; CPU time of
the calling thread (``time.thread_time``), which on a shared machine follows the load much
less than wall time. The min and the median of the passes are printed.

To compare two commits, run the same file against each tree, alternating, several rounds
(the figures drift with the machine; compare within rounds)::

    git worktree add --detach /tmp/before <commit>
    for i in 1 2 3 4 5 6; do
      PYTHONPATH=/tmp/before python benchmarks/scoring_cpu.py
      PYTHONPATH=. python benchmarks/scoring_cpu.py
    done
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parent))  # cli_throughput, beside this file
from cli_throughput import make_table  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["ensemble", "autoencoder"], default="ensemble")
    parser.add_argument("--rows", type=int, default=140_000)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args(argv)

    import ae_anomaly
    from ae_anomaly.nn.runtime import intra_op_threads

    X = make_table(20_000 + options.rows).to_pandas().to_numpy()
    train, scored = X[:20_000], X[20_000:]
    estimator = {"ensemble": ae_anomaly.EnsembleAutoencoder,
                 "autoencoder": ae_anomaly.Autoencoder}[options.model]  # fmt: skip
    model = estimator(random_state=0).fit(train)  # the defaults, as `ae-anomaly fit`
    per_million = 1e6 / len(scored)
    times = []
    with intra_op_threads(1):
        for _ in range(options.repeats):
            started = time.thread_time()
            model.score_samples(scored)
            times.append((time.thread_time() - started) * per_million)
    print(
        f"{type(model).__name__} ({ae_anomaly.__file__}): CPU-s per 1,000,000 rows, "
        f"min {min(times):.2f}, median {statistics.median(times):.2f} of {len(times)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
