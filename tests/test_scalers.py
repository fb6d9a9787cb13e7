"""MADScaler: median and MAD, with the fallbacks that keep scaled values in bounds."""

import numpy as np
import pytest

from ae_anomaly import EnsembleAutoencoder, MADScaler


def test_median_and_mad_on_ordinary_columns():
    rng = np.random.RandomState(0)
    X = rng.normal(loc=[5.0, -2.0], scale=[3.0, 0.5], size=(20_000, 2))
    scaler = MADScaler().fit(X)
    np.testing.assert_allclose(scaler.center_, np.median(X, axis=0))
    mad = np.median(np.abs(X - np.median(X, axis=0)), axis=0)
    np.testing.assert_allclose(scaler.scale_, 1.482602218505602 * mad)
    np.testing.assert_allclose(scaler.scale_, [3.0, 0.5], rtol=0.03)  # the SD on normal data
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X)


def test_fallbacks_zero_mad_constant_column_and_heavy_tail():
    rng = np.random.RandomState(0)
    n = 1000
    sparse = np.where(rng.uniform(size=n) < 0.1, 1.0, 0.0)  # MAD 0: the std instead
    constant = np.full(n, 3.0)  # std 0 too: 1
    tail = np.where(rng.uniform(size=n) < 0.3, rng.exponential(1000.0, size=n), 1.0)
    tail += 1e-6 * rng.normal(size=n)  # MAD ~1e-6, std ~600: the floor, 0.1 x the std
    X = np.column_stack([sparse, constant, tail])
    scaler = MADScaler().fit(X)
    assert scaler.scale_[0] == pytest.approx(sparse.std())
    assert scaler.scale_[1] == 1.0
    assert scaler.scale_[2] == pytest.approx(0.1 * tail.std())
    z_max = np.abs(tail - np.median(tail)).max() / tail.std()
    assert np.abs(scaler.transform(X)[:, 2]).max() <= 10 * z_max * (1 + 1e-12)
    assert MADScaler(floor=0.0).fit(X).scale_[2] < 1e-4  # the MAD alone would blow it up


def test_ensemble_default_scales_by_mad():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    model = EnsembleAutoencoder(n_estimators=3, max_iter=2, random_state=0).fit(X)
    assert isinstance(model.scaler_, MADScaler)
    np.testing.assert_allclose(model.scaler_.center_, np.median(X, axis=0))


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 60), st.integers(1, 4)),
        elements=st.one_of(
            st.floats(-1e6, 1e6, allow_nan=False),
            st.sampled_from([0.0, 1.0, 1e6]),  # ties: zero MADs, heavy masses
        ),
    )
)
def test_scaled_values_are_finite_bounded_and_invertible(X):
    # Any finite table: positive finite scales of at least 0.1 x the std (so no scaled
    # value is more than 10 x the column's largest z-score), finite output, and the
    # inverse gives the table back.
    scaler = MADScaler().fit(X)
    assert np.all(scaler.scale_ > 0) and np.all(np.isfinite(scaler.scale_))
    assert np.all(scaler.scale_ >= 0.1 * X.std(axis=0) * (1 - 1e-12))
    Z = scaler.transform(X)
    assert np.all(np.isfinite(Z))
    np.testing.assert_allclose(scaler.inverse_transform(Z), X, rtol=1e-9, atol=1e-6)
