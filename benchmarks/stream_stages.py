"""Where ``ae-anomaly score``'s streaming time goes: each stage's CPU and wall seconds.

Scores a CSV file with a model file written by ``ae-anomaly fit`` (its schema encoded, so
chunks go through ``score_encoded``) in process, as the CLI does (``score_table``), with a
timer around three stages of the live pipeline: the reader's parse of each piece of text
(one background thread), the encoder and detector on each chunk (``SCORING_THREADS``
workers) and the writer (the calling thread). Prints the stream's wall and process CPU
seconds, then each stage's thread CPU and wall seconds summed over its calls. A stage whose
wall is near the stream's is the one the others wait for; the stream's CPU over the cores
is the floor any overlap of the stages can reach.

To compare two trees, run the same file against each, alternating::

    git worktree add --detach /tmp/before <commit>
    for i in 1 2 3 4 5 6; do
      PYTHONPATH=/tmp/before python benchmarks/stream_stages.py ae.skops big.csv
      PYTHONPATH=. python benchmarks/stream_stages.py ae.skops big.csv
    done
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import sys
import tempfile
import threading
import time
from pathlib import Path


@contextlib.contextmanager
def timed(owner, name, totals):
    """Add each call of ``owner.name`` (1, thread CPU and wall seconds) to ``totals[name]``."""
    original = getattr(owner, name)
    lock = threading.Lock()

    def stage(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent = (1, time.thread_time() - cpu, time.perf_counter() - wall)
            with lock:
                totals[name] = [a + b for a, b in zip(totals[name], spent, strict=True)]

    setattr(owner, name, stage)
    try:
        yield
    finally:
        setattr(owner, name, original)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model file saved by `ae-anomaly fit`")
    parser.add_argument("data", help="a CSV file to score")
    options = parser.parse_args(argv)

    import ae_anomaly
    from ae_anomaly.tables import scoring
    from ae_anomaly.tables.fitting import TableModel
    from ae_anomaly.tables.reader import TableReader
    from ae_anomaly.tables.writer import TableWriter

    model = TableModel.load(options.model)
    totals = collections.defaultdict(lambda: [0, 0.0, 0.0])
    stages = [(TableReader, "_parse_piece"), (scoring, "score_encoded"), (TableWriter, "write")]
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as folder:
        for owner, name in stages:
            stack.enter_context(timed(owner, name, totals))
        wall, cpu = time.perf_counter(), time.process_time()
        result = scoring.score_table(model, options.data, Path(folder) / "out.csv")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{result.rows:,} rows ({ae_anomaly.__file__}): stream {wall:.2f} s, {cpu:.2f} CPU-s")
    for _, name in stages:
        calls, stage_cpu, stage_wall = totals[name]
        print(f"  {name:<14} {stage_cpu:6.2f} CPU-s {stage_wall:6.2f} s over {calls} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
