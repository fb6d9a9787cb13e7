"""benchmarks/gpu_check.py: its CPU-only path runs here; without CUDA it says so and exits 0."""

import json

import pytest
import torch

from ae_anomaly.nn.runtime import intra_op_threads
from benchmarks import gpu_check


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_without_cuda_it_says_so_and_exits_cleanly(tmp_path, capsys):
    out = tmp_path / "gpu.json"
    assert gpu_check.main(["--out", str(out)]) == 0
    assert "no CUDA device" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_cpu_path_same_weights_same_scores(tmp_path):
    out = tmp_path / "gpu.json"
    with intra_op_threads(1):
        assert gpu_check.main(["--device", "cpu", "--quick", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["ok"]
    assert [c["model"] for c in result["checks"]] == list(gpu_check.MODELS)
    for check in result["checks"]:
        # the same weights on the same device: the same scores to float64 rounding in both
        # CPU copies (bitwise for the dense nets; a convolution in a fresh process may run
        # on another thread count, which reorders its sums: 4e-16 measured)
        assert max(check["max_relative_difference"].values()) <= 1e-12
        assert check["fresh_process_devices"] == ["cpu", "cpu"]
    phases = {(r["model"], r["phase"]) for r in result["throughput"]}
    assert len(phases) == 3 * len(gpu_check.MODELS)
    assert all(r["samples_per_s"] > 0 for r in result["throughput"])


def test_relative_difference_sees_one_ulp():
    import numpy as np

    a = np.array([1.0, 2.0, 3.0])
    b = np.nextafter(a, 4.0)
    assert 0 < gpu_check._relative_difference(a, b) < 1e-15
    assert gpu_check._relative_difference(a, a) == 0.0
