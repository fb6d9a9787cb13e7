"""Scaling out: Dask scoring, ONNX inference and out-of-core training, measured.

Three measurements, printed and written to ``benchmarks/results/scaling.json``:

1. Rows/s scoring a ``--rows`` x ``--features`` Parquet dataset (generated under
   ``--data-dir``, never in the repository): one process vs Dask ``LocalCluster`` with 1
   and 2 single-threaded worker processes; the scaling ratio.
2. Inference rows/s, torch vs onnxruntime, batch sizes 1, 64 and 65,536.
3. Peak resident memory of ``fit_chunks`` (out-of-core) vs ``fit`` (in memory) on the
   same Parquet data, each in a fresh process.

Examples
--------
The README's figures (about 15 minutes on 2 cores; 2.3 GB of data in /tmp, deleted after)::

    nice python -m benchmarks.scaling --rows 10000000 --data-dir /tmp/ae_scaling

A quick run::

    python -m benchmarks.scaling --rows 200000 --fit-rows 100000 --data-dir /tmp/ae_quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch

RESULTS = Path(__file__).parent / "results"
FILE_ROWS = 500_000
BATCH_SIZES = (1, 64, 65_536)
STEPS = ("scoring", "inference", "memory")


def make_data(folder, n_rows, n_features, seed=0):
    """Low-rank rows plus noise, in Parquet files of ``FILE_ROWS`` rows (written chunkwise)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(5, n_features))
    names = [f"x{i}" for i in range(n_features)]
    paths = []
    for i, start in enumerate(range(0, n_rows, FILE_ROWS)):
        path = folder / f"part-{i:04d}.parquet"
        paths.append(path)
        if path.exists():
            continue
        n = min(FILE_ROWS, n_rows - start)
        X = rng.normal(size=(n, 5)) @ mixing + 0.1 * rng.normal(size=(n, n_features))
        table = pa.Table.from_arrays([pa.array(X[:, j]) for j in range(n_features)], names=names)
        pq.write_table(table, path, row_group_size=100_000)
    return paths


def read_rows(paths, n_rows):
    frames, total = [], 0
    for path in paths:
        frame = pd.read_parquet(path)
        frames.append(frame.iloc[: n_rows - total])
        total += len(frames[-1])
        if total >= n_rows:
            break
    return pd.concat(frames, ignore_index=True)


def fitted_model(paths, n_rows):
    from ae_anomaly import Autoencoder

    X = read_rows(paths, n_rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Autoencoder(max_iter=5, random_state=0).fit(X)


# ----------------------------------------------------------------------------- 1. Dask
def score_single_process(model, paths):
    """Read and score every file in this process; returns (rows, seconds, checksum)."""
    started = time.perf_counter()
    n_rows, total = 0, 0.0
    for path in paths:
        frame = pd.read_parquet(path)
        scores = model.score_samples(frame)
        n_rows += len(scores)
        total += float(scores.sum())
    return n_rows, time.perf_counter() - started, total


def score_dask(model, paths, n_workers):
    """The same on a LocalCluster of ``n_workers`` single-threaded processes."""
    import dask.dataframe as dd

    from ae_anomaly.dask import apply_model, open_client

    started = time.perf_counter()
    with open_client(n_workers=n_workers, threads_per_worker=1, processes=True) as client:
        client.run(_warm_up)  # imports torch and ae_anomaly in every worker, untimed
        startup = time.perf_counter() - started
        started = time.perf_counter()
        ddf = dd.read_parquet([str(p) for p in paths])
        scores = apply_model(model, ddf, client=client)
        n_rows, total = dask_count_and_sum(scores)
        seconds = time.perf_counter() - started
    return n_rows, seconds, total, startup


def _warm_up():
    import ae_anomaly  # noqa: F401


def dask_count_and_sum(scores):
    import dask

    count, total = dask.compute(scores.count(), scores.sum())
    return int(count), float(total)


# ----------------------------------------------------------------------------- 2. ONNX
def inference(model, X, folder):
    """Rows/s of torch (score_samples, and the bare traced graph) vs onnxruntime."""
    import onnxruntime as ort

    from ae_anomaly import export_onnx
    from ae_anomaly.scale.onnx import ScoringGraph

    path = export_onnx(model, folder / "model.onnx", reconstruction=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    graph = ScoringGraph(model, reconstruction=False).eval()
    warnings.simplefilter("ignore")  # NumPy batches to a model fitted on named columns
    rows = []
    for batch_size in BATCH_SIZES:
        batch = np.ascontiguousarray(X[:batch_size])
        tensor = torch.from_numpy(batch)
        runners = {
            "score_samples (torch)": lambda b=batch: model.score_samples(b),
            "torch graph": lambda t=tensor: _torch_graph(graph, t),
            "onnxruntime": lambda b=batch: session.run(None, {"X": b}),
        }
        row = {"batch_size": batch_size}
        for name, runner in runners.items():
            row[name] = batch_size / _seconds_per_call(runner)
        rows.append(row)
    return rows


def _torch_graph(graph, tensor):
    with torch.inference_mode():
        return graph(tensor)


def _seconds_per_call(runner, budget=2.0):
    runner()  # warm up
    calls, started = 0, time.perf_counter()
    while True:
        runner()
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= budget or calls >= 100_000:
            return elapsed / calls


# ----------------------------------------------------------------------------- 3. memory
_FIT_SCRIPT = """
import json, sys, time, warnings
import pyarrow.parquet as pq
from ae_anomaly import Autoencoder, fit_chunks
warnings.simplefilter("ignore")
def peak_mb():  # this process's high-water RSS (ru_maxrss would carry the parent's over exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
mode, chunksize, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
baseline = peak_mb()
started = time.perf_counter()
model = Autoencoder(max_iter=1, early_stopping=False, random_state=0)
if mode == "in-memory":
    model.fit(pq.read_table(files).to_pandas())
else:
    fit_chunks(model, files, chunksize=chunksize, epochs=1)
print(json.dumps({
    "mode": mode,
    "seconds": time.perf_counter() - started,
    "baseline_rss_mb": baseline,
    "peak_rss_mb": peak_mb(),
}))
"""


def peak_memory(paths, n_rows, chunksize):
    """Peak RSS of out-of-core and in-memory one-epoch fits on n_rows / 4 and n_rows rows,
    each in a fresh process: the out-of-core peak should not grow with the rows."""
    results = []
    for rows in (n_rows // 4, n_rows):
        files, total = [], 0
        for path in paths:
            if total >= rows:
                break
            files.append(str(path))
            total += pq.ParquetFile(path).metadata.num_rows
        for mode in ("out-of-core", "in-memory"):
            out = subprocess.run(
                [sys.executable, "-c", _FIT_SCRIPT, mode, str(chunksize), *files],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            result["rows"] = total
            result["chunksize"] = chunksize if mode == "out-of-core" else None
            results.append(result)
    return results


# ----------------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--fit-rows", type=int, default=2_000_000, help="rows for step 3")
    parser.add_argument("--chunksize", type=int, default=65_536)
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a temp dir")
    parser.add_argument("--keep-data", action="store_true", help="do not delete the data")
    parser.add_argument("--out", type=Path, default=RESULTS / "scaling.json")
    parser.add_argument(
        "--steps", nargs="+", choices=STEPS, default=list(STEPS), help="default: all three"
    )
    args = parser.parse_args(argv)

    folder = args.data_dir or Path(tempfile.mkdtemp(prefix="ae_scaling_"))
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "load_average_at_start": os.getloadavg(),
        },
        "rows": args.rows,
        "features": args.features,
    }
    try:
        started = time.perf_counter()
        paths = make_data(folder / "data", args.rows, args.features)
        print(
            f"data: {len(paths)} Parquet files in {folder} ({time.perf_counter() - started:.0f} s)"
        )
        model = fitted_model(paths, 100_000) if {"scoring", "inference"} & set(args.steps) else None
        if "scoring" in args.steps:
            report["scoring"] = scoring(model, paths, args.rows)
        if "inference" in args.steps:
            X = read_rows(paths, max(BATCH_SIZES)).to_numpy()
            report["inference_rows_per_s"] = inference(model, X, folder)
            print(pd.DataFrame(report["inference_rows_per_s"]).to_string(index=False))
        if "memory" in args.steps:
            report["peak_memory"] = peak_memory(paths, args.fit_rows, args.chunksize)
            for result in report["peak_memory"]:
                print(f"{result['mode']}: {result['rows']:,} rows, peak RSS "
                      f"{result['peak_rss_mb']:,.0f} MB (after imports "
                      f"{result['baseline_rss_mb']:,.0f} MB), "
                      f"{result['seconds']:.0f} s")  # fmt: skip
    finally:
        if not args.keep_data:
            shutil.rmtree(folder, ignore_errors=True)
    report["machine"]["load_average_at_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.out}")
    return report


def scoring(model, paths, n_rows):
    """Step 1: rows/s in one process and on Dask with 1 and 2 workers."""
    rows, seconds, single_sum = score_single_process(model, paths)
    result = {"single process": {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}}
    print(f"single process: {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s")
    for n_workers in (1, 2):
        rows, seconds, total, startup = score_dask(model, paths, n_workers)
        assert rows == n_rows, rows
        assert np.isclose(total, single_sum, rtol=1e-9), (total, single_sum)
        result[f"dask {n_workers} worker(s)"] = {
            "rows": rows,
            "seconds": seconds,
            "rows_per_s": rows / seconds,
            "cluster_startup_s": startup,
        }
        print(f"dask, {n_workers} worker(s): {rows / seconds:,.0f} rows/s "
              f"(+{startup:.0f} s to start the cluster)")  # fmt: skip
    one, two = (result[f"dask {n} worker(s)"]["rows_per_s"] for n in (1, 2))
    versus_single = two / result["single process"]["rows_per_s"]
    result["scaling ratio, 2 workers / 1 worker"] = two / one
    result["ratio, 2 workers / single process"] = versus_single
    print(f"scaling ratio 2 workers / 1 worker: {two / one:.2f}x; "
          f"2 workers / single process: {versus_single:.2f}x")  # fmt: skip
    return result


if __name__ == "__main__":
    main()
