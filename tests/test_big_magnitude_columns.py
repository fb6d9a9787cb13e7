"""Columns of large values with a small spread: scaled by their spread, not ignored.

scikit-learn's StandardScaler deems a column constant when its variance is under
``(n_samples * mean * eps) ** 2``: epoch nanoseconds within 100 microseconds (1.7e18,
spread 3e4) were scaled by 1, their raw spread swamped the other columns, and the planted
anomalies' ROC-AUC fell from 1.0 to 0.39, without a word. Integers beyond 2**53 that
float64 cannot tell apart (a 64-bit counter near 2**60) warn.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score

from ae_anomaly import Autoencoder, DenoisingAutoencoder, EnsembleAutoencoder, MADScaler
from ae_anomaly.tables.sources import Reservoir

N = 1000
RNG = np.random.default_rng(0)
X = pd.DataFrame(RNG.normal(size=(N, 4)), columns=list("abcd"))
Y = np.zeros(N, bool)
Y[:20] = True
X.loc[Y, "a"] += 6  # planted anomalies
EPOCH_NS = pd.Timestamp("2024-05-01").value + RNG.integers(0, 100_000, N)  # int64
NEAR_1E12 = 1e12 + 0.01 * RNG.normal(size=N)
COUNTER = (np.int64(2**60) + RNG.integers(0, 200, N)).astype(np.int64)


def _fit(model, frame):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(frame)
    return model, [str(w.message) for w in caught]


@pytest.mark.parametrize("column", [EPOCH_NS, NEAR_1E12], ids=["epoch-ns", "1e12+noise"])
@pytest.mark.parametrize("cls", [Autoencoder, EnsembleAutoencoder, DenoisingAutoencoder])
def test_planted_anomalies_are_found_with_a_big_column_scaled_by_its_spread(cls, column):
    model, caught = _fit(cls(max_iter=30, random_state=0), X.assign(z=column))
    assert caught == []
    frame = X.assign(z=column)
    assert roc_auc_score(Y, -model.score_samples(frame)) >= 0.95
    scaled = model.scaler_.transform(frame.to_numpy())[:, -1]
    assert 0.1 < scaled.std() < 10.0  # its spread, at the scale of the other columns


def test_the_standard_scaler_of_a_stream_scales_by_the_spread_too():
    frame = X.assign(z=EPOCH_NS).to_numpy(dtype=np.float64)
    model = Autoencoder(random_state=0).fit_stream(
        lambda: (frame[i : i + 250] for i in range(0, N, 250)),
        sample=Reservoir(500, np.random.default_rng(0)),
        epochs=1,
    )
    assert model.scaler_.scale_[-1] == pytest.approx(EPOCH_NS.std(), rel=1e-3)


@pytest.mark.parametrize("cls", [Autoencoder, EnsembleAutoencoder])
def test_a_counter_beyond_2_53_that_float64_collapses_warns_and_is_ignored(cls):
    model, caught = _fit(cls(max_iter=30, random_state=0), X.assign(z=COUNTER))
    (message,) = [m for m in caught if "2**53" in m]
    assert f"{cls.__name__}: column 'z' holds integers beyond 2**53" in message
    assert f"its {len(np.unique(COUNTER))} distinct values become 2" in message
    assert "\n" not in message
    frame = X.assign(z=COUNTER)
    assert roc_auc_score(Y, -model.score_samples(frame)) >= 0.95  # its rounding: ignored
    _, caught = _fit(cls(max_iter=1, random_state=0), np.column_stack([np.arange(N), COUNTER]))
    assert len([m for m in caught if "column 1 holds integers beyond 2**53" in m]) == 1


@pytest.mark.parametrize(
    "column",
    [np.arange(N), RNG.integers(-(2**62), 2**62, N), EPOCH_NS, np.full(N, 2**60)],
    ids=["small", "spread-beyond-2**53", "epoch-ns", "constant-2**60"],
)
def test_ordinary_integer_columns_do_not_warn(column):
    _, caught = _fit(Autoencoder(max_iter=1, random_state=0), X.assign(z=column))
    assert caught == []
    integers = np.column_stack([np.arange(N), column])  # an integer array: its columns too
    _, caught = _fit(Autoencoder(max_iter=1, random_state=0), integers)
    assert caught == []


def test_the_mad_scaler_takes_rounding_of_huge_values_for_a_constant():
    rounding = np.float64(2**60) + np.repeat([0.0, 256.0], [600, 400])
    scaler = MADScaler().fit(np.column_stack([rounding, EPOCH_NS]))
    assert scaler.scale_[0] == 2.0**28  # not 256 x 1.4826: its rounding kept near 0
    mad = np.median(np.abs(EPOCH_NS - np.median(EPOCH_NS)))
    assert scaler.scale_[1] == pytest.approx(1.4826 * mad, rel=1e-3)  # the MAD, as ever
