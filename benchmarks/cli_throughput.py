"""How fast ``ae-anomaly score`` streams a big file, and whether its memory stays flat.

Writes a numeric CSV of N x 30 (1,000,000 rows by default) and a Parquet copy in a
temporary directory, fits a model on its first 20,000 rows with ``ae-anomaly fit``, then
measures, each in a fresh subprocess:

1. ``pandas.read_csv`` of the CSV alone (the reference), timed around the call, and
   ``pandas.read_csv(chunksize=65536)`` (what streaming in pandas costs: since pandas 3.1 a
   whole-file read parses on several threads, a chunked one on one);
2. ``ae-anomaly score MODEL big.csv -o scores.csv`` (read + score + write), timed by the
   CLI's own ``--json`` summary (``stream_seconds``: model loaded -> last row written: the
   steady state), and wall time of the whole process (interpreter start and imports
   included);
3. the same on the Parquet copy;
4. the peak RSS (``ru_maxrss`` of that child, via ``os.wait4``) of ``score`` on N/10 rows
   and on N rows: memory must be flat in the file size;
5. whole-process ``ae-anomaly detect`` on a 10,000 x 30 CSV (read, fit, score, write; the
   default model, ``--model autoencoder`` and ``--model ensemble``) against a pandas +
   scikit-learn ``IsolationForest`` script doing the same, each a fresh process, the
   commands interleaved, ``--repeats`` times: the median of each and their ratios, with the
   load average (``--detect-only`` runs this part alone).

Usage::

    python benchmarks/cli_throughput.py                  # 1,000,000 x 30
    python benchmarks/cli_throughput.py --rows 200000    # quicker
    python benchmarks/cli_throughput.py --detect-only    # part 5 alone

Nothing is downloaded; the data are synthetic (30 columns from 5 latent factors + noise).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

N_COLUMNS = 30
RESULTS = Path(__file__).resolve().parent / "results" / "cli_throughput.json"
DETECT_RESULTS = RESULTS.with_name("cli_detect.json")


def make_table(n_rows, seed=0):
    """``n_rows`` x 30 floats (6 decimals) driven by 5 latent factors."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(5, N_COLUMNS))
    columns = {}
    for start in range(0, n_rows, 250_000):  # in slices: the generator's memory stays small
        n = min(250_000, n_rows - start)
        values = rng.normal(size=(n, 5)) @ mixing + 0.1 * rng.normal(size=(n, N_COLUMNS))
        for j in range(N_COLUMNS):
            columns.setdefault(f"x{j:02d}", []).append(np.round(values[:, j], 6))
    return pa.table({name: np.concatenate(parts) for name, parts in columns.items()})


def measured(args):
    """Run a command to completion; return (wall seconds, peak RSS MiB, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(args, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed:\n{stderr}")
    return wall, usage.ru_maxrss / 1024, stdout, stderr


PANDAS_CHILD = """
import resource, sys, time, pandas as pd

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

started, cpu_started = time.perf_counter(), cpu()
frame = pd.read_csv(sys.argv[1])
print(time.perf_counter() - started, cpu() - cpu_started, len(frame))
del frame
started, cpu_started = time.perf_counter(), cpu()
rows = sum(len(chunk) for chunk in pd.read_csv(sys.argv[1], chunksize=65536))
print(time.perf_counter() - started, cpu() - cpu_started, rows)
"""


def cli(*args):
    return [sys.executable, "-m", "ae_anomaly", *map(str, args)]


def score_run(model, data, out):
    """``(summary, wall seconds, peak RSS MiB)`` of one ``score`` process. The summary's
    ``seconds``/``rows_per_second`` are the steady state: the CLI's ``stream_*`` figures,
    from the model loaded to the last row written (imports and model loading excluded);
    ``command_seconds`` is the whole command (imports included)."""
    wall, rss, _, stderr = measured(cli("score", model, data, "-o", out, "--force", "--json"))
    summary = json.loads(stderr.strip().splitlines()[-1])
    summary["command_seconds"] = summary["seconds"]
    summary["seconds"] = summary["stream_seconds"]
    summary["rows_per_second"] = summary["stream_rows_per_second"]
    return summary, wall, rss


IFOREST_SCRIPT = """
import sys
import pandas as pd
from sklearn.ensemble import IsolationForest

frame = pd.read_csv(sys.argv[1])
model = IsolationForest(random_state=0).fit(frame)
scores = model.score_samples(frame)
pd.DataFrame(
    {"anomaly_score": -scores, "is_anomaly": (scores < model.offset_).astype("int8")}
).to_csv(sys.argv[2], index=False)
"""
#: What ``detect`` is compared with: name -> extra CLI arguments (None: the script above).
DETECT_RUNS = {
    "pandas + IsolationForest": None,
    "ae-anomaly detect (default model)": [],
    "ae-anomaly detect --model autoencoder": ["--model", "autoencoder"],
    "ae-anomaly detect --model ensemble": ["--model", "ensemble"],
}


def detect_ratio(tmp, *, rows=10_000, repeats=5):
    """Whole-process ``detect`` vs the IsolationForest script, fresh processes, interleaved.

    Returns a dict: per run its median and all wall seconds, the ratios of the medians to
    the script's, and the 1-minute load average before and after.
    """
    data = tmp / "detect.csv"
    pa_csv.write_csv(make_table(rows, seed=1), data)
    commands = {}
    for name, extra in DETECT_RUNS.items():
        out = tmp / f"detect_{len(commands)}.csv"
        if extra is None:
            commands[name] = [sys.executable, "-c", IFOREST_SCRIPT, data, out]
        else:
            commands[name] = cli("detect", data, "-o", out, "--force", *extra)
    load_before = os.getloadavg()[0]
    walls = {name: [] for name in commands}
    for _ in range(repeats):  # interleaved: a change of load hits every command alike
        for name, command in commands.items():
            walls[name].append(measured(command)[0])
    base = float(np.median(walls["pandas + IsolationForest"]))
    result = {
        "rows": rows,
        "columns": N_COLUMNS,
        "repeats": repeats,
        "median_seconds": {name: round(float(np.median(w)), 3) for name, w in walls.items()},
        "seconds": {name: [round(x, 3) for x in w] for name, w in walls.items()},
        "ratio_to_iforest": {
            name: round(float(np.median(w)) / base, 3) for name, w in walls.items()
        },
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    for name, seconds in result["median_seconds"].items():
        print(
            f"{name:38s}: {seconds:6.2f} s median of {repeats} "
            f"(x{result['ratio_to_iforest'][name]:.2f} the IsolationForest script)"
        )
    print(f"load average (1 min) before/after: {result['load_average_1min']}")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", help="Where the data go (default: a temporary dir).")
    parser.add_argument("--no-save", action="store_true", help=f"Do not write {RESULTS}.")
    parser.add_argument("--repeats", type=int, default=5, help="Of the detect comparison.")
    parser.add_argument(
        "--model",
        help="The model `score` streams through (`ae-anomaly fit --model`; default: the "
        "CLI's default). Results go to cli_throughput_<model>.json when given.",
    )
    parser.add_argument(
        "--detect-only", action="store_true", help=f"Only part 5; saved to {DETECT_RESULTS}."
    )
    options = parser.parse_args(argv)
    n_rows = options.rows
    if options.detect_only:
        with tempfile.TemporaryDirectory(dir=options.workdir) as tmp:
            detect = detect_ratio(Path(tmp), repeats=options.repeats)
        ok = {"detect <= 2x IsolationForest script": detect["ratio_to_iforest"][
            "ae-anomaly detect (default model)"] <= 2.0}  # fmt: skip
        print(json.dumps(ok))
        if not options.no_save:
            DETECT_RESULTS.write_text(json.dumps({**detect, "checks": ok}, indent=1) + "\n")
        return 0 if all(ok.values()) else 1

    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(dir=options.workdir) as tmp:
        tmp = Path(tmp)
        big, small = tmp / "big.csv", tmp / "small.csv"
        table = make_table(n_rows)
        pa_csv.write_csv(table, big)
        pa_csv.write_csv(table.slice(0, n_rows // 10), small)
        pq.write_table(table, tmp / "big.parquet")
        pa_csv.write_csv(table.slice(0, 20_000), tmp / "train.csv")
        del table
        size_mb = big.stat().st_size / 2**20
        print(f"data: {n_rows:,} x {N_COLUMNS} CSV, {size_mb:.0f} MiB (+ Parquet copy)")

        model = tmp / "model.skops"
        chosen = ["--model", options.model] if options.model else []
        measured(cli("fit", tmp / "train.csv", "-o", model, "--set", "max_iter=5", *chosen))

        # 1. The reference: pandas.read_csv alone (since pandas 3.1 it parses a whole file
        #    on several threads), and pandas.read_csv in chunks, as a streaming reader must.
        wall, pandas_rss, stdout, _ = measured([sys.executable, "-c", PANDAS_CHILD, big])
        (pandas_seconds, pandas_cpu, _), (chunked_seconds, chunked_cpu, _) = (
            map(float, line.split()) for line in stdout.splitlines()
        )
        pandas_rate, chunked_rate = n_rows / pandas_seconds, n_rows / chunked_seconds
        print(
            f"pandas.read_csv alone      : {pandas_seconds:6.2f} s  {pandas_rate:>10,.0f} rows/s "
            f"({pandas_cpu:.2f} CPU-s: {pandas_cpu / pandas_seconds:.1f} cores busy)"
        )
        print(
            f"pandas.read_csv(chunksize=): {chunked_seconds:6.2f} s  {chunked_rate:>10,.0f} rows/s "
            f"({chunked_cpu:.2f} CPU-s)"
        )

        # 2-3. ae-anomaly score on CSV and Parquet.
        csv_summary, csv_wall, big_rss = score_run(model, big, tmp / "scores.csv")
        csv_rate = csv_summary["rows_per_second"]
        print(
            f"ae-anomaly score CSV       : {csv_summary['seconds']:6.2f} s  {csv_rate:>10,.0f} "
            f"rows/s = {csv_rate / pandas_rate:.0%} of pandas.read_csv, "
            f"{csv_rate / chunked_rate:.0%} of its chunked read "
            f"(whole process incl. startup: {csv_wall:.2f} s, {n_rows / csv_wall:,.0f} rows/s "
            f"= {n_rows / csv_wall / pandas_rate:.0%})"
        )
        pq_summary, pq_wall, _ = score_run(model, tmp / "big.parquet", tmp / "scores.parquet")
        pq_rate = pq_summary["rows_per_second"]
        print(
            f"ae-anomaly score Parquet   : {pq_summary['seconds']:6.2f} s  {pq_rate:>10,.0f} "
            f"rows/s = {pq_rate / pandas_rate:.0%} of pandas.read_csv "
            f"(whole process: {pq_wall:.2f} s)"
        )

        # 4. Peak memory: N/10 rows vs N rows.
        _, _, small_rss = score_run(model, small, tmp / "scores_small.csv")
        ratio = big_rss / small_rss
        print(
            f"peak RSS of score          : {small_rss:.0f} MiB on {n_rows // 10:,} rows, "
            f"{big_rss:.0f} MiB on {n_rows:,} rows: x{ratio:.2f} for 10x the rows "
            f"(pandas.read_csv alone: {pandas_rss:.0f} MiB)"
        )
        load_after_score = os.getloadavg()[0]
        detect = detect_ratio(tmp, repeats=options.repeats)

    results = {
        "model": options.model or "the CLI's default",
        "rows": n_rows,
        "columns": N_COLUMNS,
        "csv_mib": round(size_mb, 1),
        "pandas_read_csv_seconds": round(pandas_seconds, 3),
        "pandas_read_csv_rows_per_second": round(pandas_rate),
        "pandas_read_csv_cpu_seconds": round(pandas_cpu, 3),
        "pandas_chunked_read_csv_seconds": round(chunked_seconds, 3),
        "pandas_chunked_read_csv_rows_per_second": round(chunked_rate),
        "score_csv_vs_pandas_chunked": round(csv_rate / chunked_rate, 3),
        "score_csv_seconds": csv_summary["seconds"],
        "score_csv_rows_per_second": csv_rate,
        "score_csv_vs_pandas": round(csv_rate / pandas_rate, 3),
        "score_csv_command_seconds": csv_summary["command_seconds"],
        "score_csv_process_seconds": round(csv_wall, 3),
        "score_csv_process_vs_pandas": round(n_rows / csv_wall / pandas_rate, 3),
        "score_parquet_seconds": pq_summary["seconds"],
        "score_parquet_rows_per_second": pq_rate,
        "peak_rss_mib_tenth": round(small_rss, 1),
        "peak_rss_mib_full": round(big_rss, 1),
        "peak_rss_ratio_10x_rows": round(ratio, 3),
        "pandas_read_csv_peak_rss_mib": round(pandas_rss, 1),
        "cpus": os.cpu_count(),
        # Other processes share the machine: > cpus means the two threads of `score`
        # (parse / score) could not run side by side.
        "load_average_1min_at_start": round(load_at_start, 2),
        "load_average_1min_after_score": round(load_after_score, 2),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "detect": detect,
    }
    verdict = {
        "csv >= 70% of pandas.read_csv": results["score_csv_vs_pandas"] >= 0.7,
        "parquet faster than csv": pq_rate > csv_rate,
        "10x rows -> <= 1.2x peak RSS": ratio <= 1.2,
        "detect <= 2x IsolationForest script": detect["ratio_to_iforest"][
            "ae-anomaly detect (default model)"
        ]
        <= 2.0,
    }
    print(json.dumps(verdict))
    if not options.no_save:
        path = RESULTS.with_stem(f"{RESULTS.stem}_{options.model}") if options.model else RESULTS
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({**results, "checks": verdict}, indent=1) + "\n")
    return 0 if all(verdict.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
