"""Shared fixtures: small offline data and the path to ../shared (skipped when absent)."""

from pathlib import Path

import numpy as np
import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def shared_dir():
    if not SHARED.is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED


@pytest.fixture
def linear_data():
    """200 rows where column 1 = 2 * column 0; an outlier breaks that rule."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 5))
    X[:, 1] = 2 * X[:, 0]
    return X
