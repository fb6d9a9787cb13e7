"""The first fit of a fresh process with torch's Adam vs :mod:`ae_anomaly.nn.runtime`'s.

Each repeat starts two fresh processes (:mod:`benchmarks._cold_fit`), one with the package
as it is and one with ``nn.runtime``'s Adam patched in, each fitting ``Autoencoder()`` twice
on an ADBench training split: the first (cold) fit and a second (warm) one, imports
excluded. ``OMP_NUM_THREADS=1`` in the children isolates the optimizer's share from the
thread policy's. Prints a Markdown table.

Since commit c53b157 the package itself trains with ``nn.runtime.make_adam``, so both
variants now run it; the ``torch.optim.Adam`` rows of ``results/cold_start.md`` were made
by the code of commit 1cb0e27.

Examples
--------
::

    python -m benchmarks.cold_start --data-dir ../shared/data/adbench --dataset 6_cardio
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from .protocol import adbench_suite, split

VARIANTS = {"package as is": [], "nn.runtime Adam": ["--runtime"]}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cold_start", description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--dataset", default="6_cardio")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if not args.data_dir.is_dir() or not any(args.data_dir.glob("*.npz")):
        parser.error(f"--data-dir {args.data_dir}: no folder of ADBench .npz files.")
    found = [d for d in adbench_suite(args.data_dir) if d.name == args.dataset]
    if not found:
        parser.error(f"--dataset {args.dataset}: no {args.dataset}.npz in {args.data_dir}.")
    (ds,) = found
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    lines = [
        f"# Cold vs warm fit of Autoencoder() on {ds.name} (seed 1 split), fresh processes",
        "",
        f"Command: `python -m benchmarks.cold_start {' '.join(argv or sys.argv[1:])}`; "
        "children on one thread (OMP_NUM_THREADS=1); load average at the end: "
        "{load}.",
        "",
        "| variant | imports s | first fit s | second fit s | first / second | dynamo |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "X.npy"
        np.save(path, split(*ds.load(), 1)[0])
        for _ in range(args.repeats):
            for name, extra in VARIANTS.items():
                done = subprocess.run(
                    [sys.executable, "-m", "benchmarks._cold_fit", "ours", str(path), *extra],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=True,
                    cwd=Path(__file__).resolve().parents[1],
                )
                r = json.loads(done.stdout.strip().splitlines()[-1])
                lines.append(
                    f"| {name} | {r['import_s']:.2f} | {r['fit_s']:.3f} | {r['warm_fit_s']:.3f} "
                    f"| {r['fit_s'] / r['warm_fit_s']:.2f} | {r['dynamo']} |"
                )
                print(lines[-1], file=sys.stderr, flush=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    text = "\n".join(lines).replace("{load}", load) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
