"""``partial_fit``'s calibration: the threshold and the score's scales come from the latest
rows, never from a last chunk of a few rows alone (with too few rows, the calibration
stays as it was).

A plain loop ``for i in range(0, n, 250): model.partial_fit(X[i:i + 250])`` over 1,001
rows ends on a one-row chunk: the model recalibrated on that row and flagged every fresh
inlier (100%, against 3-6% for ``fit``), with no warning; a 3-row remainder flagged 15-76%.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from ae_anomaly import Autoencoder, EnsembleAutoencoder, persistence
from ae_anomaly.models.base import CALIBRATION_ROWS, MIN_CALIBRATION_ROWS

RNG = np.random.default_rng(0)
X = RNG.normal(size=(1001, 6))
FRESH = RNG.normal(size=(2000, 6))


def _chunked(cls, X, size, epochs=3):
    model = cls(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(epochs):
            for start in range(0, len(X), size):
                model.partial_fit(X[start : start + size])
    return model


@pytest.mark.parametrize("cls", [Autoencoder, EnsembleAutoencoder])
@pytest.mark.parametrize("n_rows", [1001, 1003])
def test_a_last_chunk_of_a_few_rows_does_not_set_the_threshold(cls, n_rows):
    data = np.concatenate([X, RNG.normal(size=(n_rows - len(X), 6))])
    model = _chunked(cls, data, 250)
    assert np.mean(model.predict(FRESH) == -1) < 0.12


def test_chunks_of_the_calibration_size_or_more_calibrate_on_themselves():
    """Large chunks keep the documented behaviour: the latest chunk alone."""
    size = CALIBRATION_ROWS
    data = np.concatenate([RNG.normal(size=(size, 6)), 10 + RNG.normal(size=(size, 6))])
    model = _chunked(Autoencoder, data, size, epochs=1)
    latest = Autoencoder(random_state=0)
    latest.__dict__.update(model.__dict__)
    latest._calibrate(latest._scale(data[size:]))
    assert model.offset_ == latest.offset_
    np.testing.assert_array_equal(model.error_scale_, latest.error_scale_)


def test_a_small_chunk_calibrates_with_the_rows_just_before_it():
    model = _chunked(Autoencoder, X[:1000], 250, epochs=1)
    model.partial_fit(X[1000:])
    expected = Autoencoder(random_state=0)
    expected.__dict__.update(model.__dict__)
    expected._calibrate(expected._scale(X[1:1001]))
    assert model.offset_ == expected.offset_


def test_a_small_chunk_after_fit_keeps_the_fit_s_calibration():
    """``fit`` keeps no rows: a chunk of 2 rows right after it set the threshold alone
    (96% of fresh inliers flagged)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Autoencoder(random_state=0).fit(X)
    offset = model.offset_
    model.partial_fit(X[:2])
    assert model.offset_ == offset
    assert np.mean(model.predict(FRESH) == -1) < 0.12
    model.partial_fit(X[:MIN_CALIBRATION_ROWS])  # enough rows: calibrated on them
    assert model.offset_ != offset


def test_model_files_hold_no_rows_and_a_loaded_model_keeps_its_calibration(tmp_path):
    model = _chunked(Autoencoder, X[:1000], 500, epochs=1)
    loaded = pickle.loads(pickle.dumps(model))
    assert "_latest_scaled" not in vars(loaded)
    persistence.save(model, tmp_path / "m.skops")
    assert "_latest_scaled" not in vars(persistence.load(tmp_path / "m.skops"))
    offset = loaded.offset_
    loaded.partial_fit(X[1000:])  # one row, none kept before it: the calibration stays
    assert loaded.offset_ == offset
    model.partial_fit(X[1000:])  # in memory: calibrated on the latest 1,000 rows
    assert model.offset_ != offset


def test_a_refit_forgets_the_latest_rows():
    model = _chunked(Autoencoder, X[:1000], 500, epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[:20])
    assert "_latest_scaled" not in vars(model)
