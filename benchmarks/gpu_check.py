"""The GPU path, proven: CUDA scores equal CPU scores for the same weights; samples/s.

For an ``Autoencoder``, a ``VariationalAutoencoder`` and a ``ConvAutoencoder``:

1. fit on the accelerator (``device="cuda"``), fixed epochs, ``random_state=0``;
2. score held-out rows there, then score them with the *same weights* on the CPU, two
   ways: the fitted model moved to the CPU in this process, and the pickled model loaded
   by a fresh process that sees no CUDA device (``CUDA_VISIBLE_DEVICES=""``: what a user
   scoring a GPU-trained model on a CPU machine does). Both must equal the accelerator's
   scores to float64 rounding (relative difference below ``--rtol``);
3. samples/s of training (``fit``, a few batch sizes) and of inference (the network's
   forward pass at a few batch sizes, and ``score_samples`` as users call it), on the
   accelerator and on the CPU.

The whole run should take one to two minutes on a GPU machine (budget: 5 minutes); the
``--quick`` CPU run about a minute on a busy 2-core machine.
Without a CUDA device it says so and exits with status 0; ``--device cpu`` runs every step
with the CPU in the accelerator's place (the check then compares a model with its own copy,
which is how ``tests/test_gpu_check.py`` exercises this file on a CPU-only machine).

Examples
--------
::

    python -m benchmarks.gpu_check --out benchmarks/results/gpu_check.json
    python -m benchmarks.gpu_check --device cpu --quick --out /tmp/gpu_check_cpu.json
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import ae_anomaly
from ae_anomaly import Autoencoder, ConvAutoencoder, VariationalAutoencoder
from ae_anomaly.nn.training import predict_batches

#: name -> (factory(device, batch_size, max_iter), n_features of a row)
MODELS = {
    "Autoencoder": (
        lambda **kw: Autoencoder(early_stopping=False, random_state=0, **kw),
        30,
    ),
    "VariationalAutoencoder": (
        lambda **kw: VariationalAutoencoder(early_stopping=False, random_state=0, **kw),
        30,
    ),
    "ConvAutoencoder": (
        lambda **kw: ConvAutoencoder(
            image_shape=(1, 28, 28), early_stopping=False, random_state=0, **kw
        ),
        784,
    ),
}

_SCORE_ON_CPU = """
import pickle, sys
import numpy as np
with open(sys.argv[1], "rb") as f:
    est = pickle.load(f)
X = np.load(sys.argv[2])
np.save(sys.argv[3], est.score_samples(X))
print(est.device_, next(est.module_.parameters()).device)
"""


def _data(n_rows, n_features, seed):
    """Rows with structure (a low-rank signal plus noise), so training has work to do."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_rows, 4))
    return latent @ rng.normal(size=(4, n_features)) + 0.1 * rng.normal(size=(n_rows, n_features))


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def _to_cpu(est):
    """A copy of a fitted estimator with the same weights, on the CPU."""
    cpu = copy.copy(est)
    cpu.module_ = copy.deepcopy(est.module_).cpu()
    cpu.device_ = "cpu"
    return cpu


def _score_in_fresh_cpu_process(est, X):
    """Pickle ``est``; a process that sees no CUDA device loads it and scores ``X``."""
    with tempfile.TemporaryDirectory() as tmp:
        model, rows, out = (Path(tmp) / name for name in ("model.pkl", "X.npy", "s.npy"))
        model.write_bytes(pickle.dumps(est))
        np.save(rows, X)
        package_root = str(Path(ae_anomaly.__file__).resolve().parents[1])
        path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": path}
        done = subprocess.run(
            [sys.executable, "-c", _SCORE_ON_CPU, str(model), str(rows), str(out)],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"Scoring in a CPU-only process failed:\n{done.stderr}")
        return np.load(out), done.stdout.split()


def _relative_difference(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), np.finfo(np.float64).tiny)))


def check_same_scores(name, device, n_rows, max_iter, rtol):
    """Fit on ``device``; its scores vs the same weights' scores on the CPU."""
    make, n_features = MODELS[name]
    X = _data(n_rows, n_features, seed=1)
    X_test = _data(max(256, n_rows // 4), n_features, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = make(device=device, max_iter=max_iter).fit(X)
    scores = est.score_samples(X_test)
    param_device = next(est.module_.parameters()).device.type
    on_cpu = _to_cpu(est).score_samples(X_test)
    fresh, fresh_devices = _score_in_fresh_cpu_process(est, X_test)
    diffs = {
        "moved to cpu": _relative_difference(on_cpu, scores),
        "pickled, fresh cpu-only process": _relative_difference(fresh, scores),
    }
    return {
        "model": name,
        "fit_device": param_device,
        "fresh_process_devices": fresh_devices,
        "n_test": len(X_test),
        "max_relative_difference": diffs,
        "rtol": rtol,
        "predict_agreement": float(np.mean(est.predict(X_test) == _to_cpu(est).predict(X_test))),
        "ok": all(d <= rtol for d in diffs.values()) and fresh_devices == ["cpu", "cpu"],
    }


def throughput(name, device, n_rows, max_iter, batch_sizes):
    """Samples/s of fit and of inference at several batch sizes on ``device``."""
    make, n_features = MODELS[name]
    X = _data(n_rows, n_features, seed=3)
    rows = []
    est = None
    for batch in batch_sizes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make(device=device, max_iter=1, batch_size=batch).fit(X[: 2 * batch])  # warm-up
            _sync(device)
            start = time.perf_counter()
            est = make(device=device, max_iter=max_iter, batch_size=batch).fit(X)
            _sync(device)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "model": name,
                "device": device,
                "phase": "train (fit)",
                "batch_size": batch,
                "samples_per_s": n_rows * est.n_iter_ / seconds,
            }
        )
    X_scaled = torch.as_tensor(est._scale(X), dtype=torch.float64, device=device)
    forward = est._anomaly_error
    for batch in batch_sizes:
        predict_batches(forward, est.module_, X_scaled[: 2 * batch], batch_size=batch)
        _sync(device)
        start = time.perf_counter()
        predict_batches(forward, est.module_, X_scaled, batch_size=batch)
        _sync(device)
        rows.append(
            {
                "model": name,
                "device": device,
                "phase": "inference (float64 forward, data on device)",
                "batch_size": batch,
                "samples_per_s": n_rows / (time.perf_counter() - start),
            }
        )
    est.score_samples(X[:1000])
    start = time.perf_counter()
    est.score_samples(X)
    rows.append(
        {
            "model": name,
            "device": device,
            "phase": "score_samples (NumPy in and out, default batches)",
            "batch_size": None,
            "samples_per_s": n_rows / (time.perf_counter() - start),
        }
    )
    return rows


def run(device, quick=False, rtol=1e-9):
    """The checks and the throughput table, as a JSON-able dict."""
    n_rows, max_iter = (1_000, 1) if quick else (20_000, 5)
    result = {
        "command": "python -m benchmarks.gpu_check " + " ".join(sys.argv[1:]),
        "device": device,
        "device_name": torch.cuda.get_device_name(0) if device == "cuda" else platform.machine(),
        "cpu_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "checks": [],
        "throughput": [],
    }
    for name in MODELS:
        rows = n_rows // (5 if name == "ConvAutoencoder" else 1)
        check = check_same_scores(name, device, rows, max_iter, rtol)
        result["checks"].append(check)
        print(json.dumps(check), file=sys.stderr, flush=True)
    for name in MODELS:
        conv = name == "ConvAutoencoder"
        batches = (64, 256) if quick else ((128, 512, 2048) if conv else (256, 1024, 8192))
        rows = max(n_rows // (5 if conv else 1), 2 * max(batches))
        epochs = max(1, max_iter // 2) if conv else max_iter  # the CPU's convolutions are slow
        for dev in [device] if device == "cpu" else [device, "cpu"]:
            for row in throughput(name, dev, rows, epochs, batches):
                result["throughput"].append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    result["ok"] = all(check["ok"] for check in result["checks"])
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__)
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--quick", action="store_true", help="Small data (a smoke run).")
    parser.add_argument("--rtol", type=float, default=1e-9)
    parser.add_argument("--out", type=Path, help="Write the JSON result here.")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print(
            "gpu_check: no CUDA device (torch.cuda.is_available() is False, torch "
            f"{torch.__version__}); nothing run. Use --device cpu for the CPU-only path.",
            file=sys.stderr,
        )
        return 0
    start = time.perf_counter()
    result = run(args.device, quick=args.quick, rtol=args.rtol)
    result["wall_s"] = time.perf_counter() - start
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    verdict = "OK" if result["ok"] else "MISMATCH"
    print(f"gpu_check: {verdict} in {result['wall_s']:.1f} s", file=sys.stderr)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
