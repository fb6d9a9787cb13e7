"""CPU cost of each stage of ``ae-anomaly score``, with each throughput lever on and off.

Measured in CPU seconds of the calling thread (``time.thread_time``), the best of
``--repeats``: on a shared machine wall time follows the load, CPU time much less. The
stages run one after another in this process, on one torch thread (as ``score``'s
workers do); ``pandas.read_csv`` of the whole file is the reference (its CPU seconds over
all its threads, ``time.process_time``).

Levers (see benchmarks/results/cli_throughput.md):

- ``arrow text``: :func:`ae_anomaly.tables.fastcsv.arrow_text_frame` parses the CSV text
  instead of ``pandas.read_csv(dtype=str)`` (off: the pandas parser for every piece);
- ``whole-column cast``: ``parse_numbers`` casts an Arrow text column at once (off: the
  missing-value mask, then Python strings through ``pa.array``, as before);
- ``numbers while read``: the model's numeric columns parsed as float64 by pyarrow while
  it reads the text (``TableReader(numbers=...)``, what ``score`` does), so the encoder
  casts nothing (off: text, then the whole-column cast);
- ``inference threads``: scoring batches on one torch thread (off: two).

Usage::

    python -m benchmarks.cli_levers DATA.csv MODEL.skops [--repeats 3]   # from the repo root
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from unittest import mock

import pandas as pd
import torch

from ae_anomaly.nn.runtime import intra_op_threads
from ae_anomaly.tables import reader as reader_module
from ae_anomaly.tables import typing as typing_module
from ae_anomaly.tables.fitting import TableModel
from ae_anomaly.tables.mixed import _encode, plain_number_columns, score_encoded
from ae_anomaly.tables.reader import TableReader
from ae_anomaly.tables.thresholds import anomaly_scores


def best(repeats, fn, clock=time.thread_time):
    times = []
    for _ in range(repeats):
        started = clock()
        fn()
        times.append(clock() - started)
    return min(times)


def old_plain_floats(cells):
    """``_plain_floats`` as it was: Python strings, then an Arrow copy."""
    import pyarrow as pa

    if not len(cells) or pd.api.types.infer_dtype(cells, skipna=False) != "string":
        return None
    try:
        text = pa.array(cells.to_numpy(dtype=object), type=pa.string())
        return text.cast(pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("model")
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args(argv)
    model = TableModel.load(options.model)
    pipeline, schema = model.pipeline, model.schema
    reader = TableReader(options.data, text=True)
    with open(options.data, "rb") as stream:
        pieces = list(reader._pieces(stream))
    rows = {}

    numbers = plain_number_columns(pipeline) if schema.encoded else []

    def parse(fast, typed=False):
        off = mock.patch.object(reader_module, "arrow_text_frame", lambda *a, **k: None)
        with contextlib.nullcontext() if fast else off:
            chunks = [
                reader._parse_piece(p, first=i == 0, numbers=set(numbers) if typed else None)
                for i, p in enumerate(pieces)
            ]
        rows["n"] = sum(len(c) for c in chunks)
        return chunks

    chunks, typed = parse(True), parse(True, typed=True)
    reference = best(
        options.repeats, lambda: pd.read_csv(options.data), clock=time.process_time
    )
    results = {"pandas.read_csv (all threads, reference)": reference}
    with intra_op_threads(1):
        results["parse text: pandas dtype=str (off)"] = best(options.repeats, lambda: parse(False))
        results["parse text: pyarrow (on)"] = best(options.repeats, lambda: parse(True))
        results["parse: numbers read as float64 (on)"] = best(
            options.repeats, lambda: parse(True, typed=True)
        )
        with (
            mock.patch.object(typing_module, "_all_plain_floats", lambda *a: None),
            mock.patch.object(typing_module, "_plain_floats", old_plain_floats),
        ):
            results["encode: per-cell path (off)"] = best(
                options.repeats, lambda: [_encode(pipeline, schema, c) for c in chunks]
            )
        results["encode: whole-column cast (on)"] = best(
            options.repeats, lambda: [_encode(pipeline, schema, c) for c in chunks]
        )
        results["encode: numbers read as float64 (on)"] = best(
            options.repeats, lambda: [_encode(pipeline, schema, c) for c in typed]
        )
        encoded = [_encode(pipeline, schema, c)[0] for c in typed]
        results["detector, 1 thread (on)"] = best(
            options.repeats, lambda: [anomaly_scores(pipeline[-1], e) for e in encoded]
        )
        results["score_encoded total (encode + detector + output frame)"] = best(
            options.repeats,
            lambda: [score_encoded(pipeline, schema, c, threshold=1.0) for c in typed],
        )
    with mock.patch("ae_anomaly.nn.training.inference_threads", lambda *a, **k: 2):
        torch.set_num_threads(1)
        results["detector, 2 threads (off; wall s)"] = best(
            options.repeats,
            lambda: [anomaly_scores(pipeline[-1], e) for e in encoded],
            clock=time.perf_counter,
        )
    with intra_op_threads(1):
        results["detector, 1 thread (on; wall s)"] = best(
            options.repeats,
            lambda: [anomaly_scores(pipeline[-1], e) for e in encoded],
            clock=time.perf_counter,
        )
    per_million = 1e6 / rows["n"]
    print(f"{rows['n']:,} rows; CPU-s per 1,000,000 rows (best of {options.repeats}):")
    for name, seconds in results.items():
        print(f"  {name:58s} {seconds * per_million:6.2f}")
    print(f"load average: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
