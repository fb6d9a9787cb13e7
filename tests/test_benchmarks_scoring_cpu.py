"""benchmarks/scoring_cpu.py runs as its docstring says (a script, against a tree on PYTHONPATH)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_scoring_cpu_runs_against_the_tree_on_pythonpath():
    result = subprocess.run(
        [sys.executable, "benchmarks/scoring_cpu.py", "--rows", "3000", "--repeats", "2"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith(f"EnsembleAutoencoder ({ROOT / 'ae_anomaly' / '__init__.py'})"), line
    low, middle = map(float, re.search(r"min ([\d.]+), median ([\d.]+) of 2", line).groups())
    assert 0 < low <= middle
