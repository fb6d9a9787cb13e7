"""Shared fixtures: small offline data and the path to ../shared (skipped when absent)."""

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# CI draws the same Hypothesis examples on every run (a red build is a change, not a new
# random draw); a developer's run draws new ones. `.ci/run` sets the profile.
settings.register_profile("ci", derandomize=True, print_blob=True)
_PROFILE = "ci" if os.environ.get("CI") else "default"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _PROFILE))

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
