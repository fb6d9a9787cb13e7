"""benchmarks.speed: the ratio arithmetic, and the fresh-process child it times."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyod")

from benchmarks import speed  # noqa: E402


def _warm_rows():
    rows = []
    for ds, scale in (("a", 1.0), ("b", 2.0), ("c", 3.0)):
        for model, t in (
            ("ours default", 0.1),
            ("PyOD default", 2.0),
            ("IsolationForest", 0.2),
            ("ours same net", 0.5),
            ("PyOD same net", 1.0),
        ):
            rows.append({"dataset": ds, "model": model, "fit_s": t * scale, "roc_auc": 0.8})
    return pd.DataFrame(rows)


def _cold_rows():
    rows = []
    for condition, slow in (("cold", 1.0), ("contended", 3.0)):
        for ds in ("a", "b", "c"):
            for model, fit, imports in (
                ("ours default", 0.2, 2.0),
                ("PyOD default", 4.0, 3.0),
                ("IsolationForest", 0.2, 1.0),
            ):
                rows.append(
                    {
                        "dataset": ds,
                        "model": model,
                        "condition": condition,
                        "fit_s": fit * slow,
                        "import_s": imports,
                        "warm_fit_s": fit / 2,
                    }
                )
    return pd.DataFrame(rows)


def test_ratios_warm_cold_and_contended():
    out = speed.ratios(_warm_rows(), _cold_rows())
    assert out["warm: PyOD default / ours default (fit time)"] == pytest.approx(20.0)
    assert out["warm: ours default / IsolationForest (fit time)"] == pytest.approx(0.5)
    assert out["cold: PyOD default / ours default (fit, imports excluded)"] == pytest.approx(20.0)
    # imports included: (4 + 3) / (0.2 + 2)
    assert out["cold: PyOD default / ours default (fit, included)"] == pytest.approx(7 / 2.2)
    assert out["contended: ours default / IsolationForest (fit, imports excluded)"] == (
        pytest.approx(1.0)
    )
    assert out["cold: ours default, first fit / in-process warm fit"] == pytest.approx(2.0)
    assert out["contended: ours default, first fit / in-process warm fit"] == pytest.approx(6.0)
    assert speed.ratios(_warm_rows()).keys() <= out.keys()


@pytest.mark.slow
def test_cold_child_reports_imports_and_both_fits():
    X = np.random.default_rng(0).normal(size=(200, 5))
    r = speed.cold_fit(["iforest"], X, seed=1)
    assert {"import_s", "fit_s", "warm_fit_s", "process_s", "dynamo"} <= r.keys()
    assert 0 < r["fit_s"] < r["process_s"] and r["import_s"] > 0


@pytest.mark.slow
def test_cold_child_with_the_runtime_never_imports_the_compiler():
    X = np.random.default_rng(0).normal(size=(300, 6))
    assert speed.cold_fit(["ours", "--runtime"], X, seed=1)["dynamo"] is False
