"""``denoise`` removes noise and never leaves the training range by more than its margin:
none at a bound (at least 1% of the training rows on it, like 0 for pixels), half the
column's range past a training extreme that is not a bound.

Issue 15's targets: a gain > 0 dB at every noise level, >= 3 dB on sklearn's digits
(pixels / 16) with Gaussian noise of sigma 0.3 for the default ``DenoisingAutoencoder``
(measured: 2.17 / 3.04 / 3.93 dB at sigma 0.1 / 0.3 / 0.5, mean of 3 seeds in
benchmarks/results/denoising_tabular_digits.md; 2.26 / 3.27 / 4.15 with a weight fitted
at the trained noise only, which lost at half of it on the tables; before the fix,
-13.9 / -13.2 / -13.0). The floors asserted here leave a margin for other platforms.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from ae_anomaly import ConvDenoisingAutoencoder, DenoisingAutoencoder
from ae_anomaly.models.denoising import BOUND_SHARE, RANGE_MARGIN, SCALE_FLOOR, floored_scaler
from ae_anomaly.models.images import ImageScaleWarning


def snr_gain(clean, noisy, estimate):
    return 10 * np.log10(((noisy - clean) ** 2).sum() / ((estimate - clean) ** 2).sum())


@pytest.fixture(scope="module")
def digits():
    X = load_digits().data / 16.0
    order = np.random.RandomState(0).permutation(len(X))
    return X[order[:1000]], X[order[1000:]]


@pytest.fixture(scope="module")
def digits_dae(digits):
    return DenoisingAutoencoder(random_state=0).fit(digits[0])  # defaults: about 1 s


@pytest.mark.parametrize("sigma, floor", [(0.1, 1.0), (0.3, 2.5), (0.5, 3.0)])
def test_default_dae_removes_gaussian_noise_on_digits(digits, digits_dae, sigma, floor):
    _, clean = digits
    noisy = clean + sigma * np.random.RandomState(1).standard_normal(clean.shape)
    gain = snr_gain(clean, noisy, digits_dae.denoise(noisy))
    assert gain > floor, f"sigma {sigma}: {gain:.2f} dB"


def test_a_small_fast_dae_still_gains_at_every_level(digits):
    X, clean = digits
    dae = DenoisingAutoencoder(hidden_layer_sizes=(32,), n_components=8, max_iter=10,
                               random_state=0).fit(X)  # fmt: skip
    for sigma in (0.05, 0.1, 0.3, 0.5, 1.0):
        noisy = clean + sigma * np.random.RandomState(2).standard_normal(clean.shape)
        assert snr_gain(clean, noisy, dae.denoise(noisy)) > 0, sigma
    masked = np.where(np.random.RandomState(3).uniform(size=clean.shape) < 0.3, 0.0, clean)
    assert snr_gain(clean, masked, dae.denoise(masked)) > 0


@pytest.mark.parametrize(
    "noise, level, share", [("gaussian", 0.3, 1.0), ("gaussian", 0.3, 0.5), ("masking", 0.2, 1.0)]
)
def test_noise_of_the_trained_kind_and_size_is_reduced_on_a_mixed_unit_table(noise, level, share):
    # share 0.5: half the trained noise, where a weight fitted at the trained level alone
    # lost (-1 to -1.5 dB on breast_cancer and a low-rank table)
    rng = np.random.RandomState(0)
    signal = rng.standard_normal((1500, 3)) @ rng.standard_normal((3, 12))
    X = (signal + 0.05 * rng.standard_normal(signal.shape)) * 10.0 ** rng.uniform(-2, 3, 12)
    train, clean = X[:1000], X[1000:]
    dae = DenoisingAutoencoder(noise=noise, noise_level=level, random_state=0).fit(train)
    # The trained corruption, in the input's units: each column's (floored) scale.
    scale = dae.scaler_.scale_
    if noise == "gaussian":
        noisy = clean + share * level * scale * rng.standard_normal(clean.shape)
    else:
        noisy = np.where(rng.uniform(size=clean.shape) < level, dae.scaler_.mean_, clean)
    assert snr_gain(clean, noisy, dae.denoise(noisy)) > 0


def within_margin(out, X, margin=RANGE_MARGIN):
    low, high = X.min(axis=0), X.max(axis=0)
    span = high - low
    return np.all(out >= low - margin * span) and np.all(out <= high + margin * span)


def test_denoise_stays_in_the_training_range_up_to_the_stated_margin(digits, digits_dae):
    X, clean = digits
    wild = clean + 5 * np.random.RandomState(4).standard_normal(clean.shape)
    out = digits_dae.denoise(np.vstack([wild, 100 * wild, -1e6 * np.ones((1, 64))]))
    assert within_margin(out, X)
    assert np.all(out >= digits_dae.denoise_min_) and np.all(out <= digits_dae.denoise_max_)
    np.testing.assert_array_equal(digits_dae.data_min_, X.min(axis=0))
    np.testing.assert_array_equal(digits_dae.data_max_, X.max(axis=0))
    # Pixels: 0 is a bound (most images sit on it), so no margin below it.
    bound = (X == X.min(axis=0)).mean(axis=0) >= BOUND_SHARE
    assert bound.mean() > 0.9
    np.testing.assert_array_equal(digits_dae.denoise_min_[bound], X.min(axis=0)[bound])
    assert np.all(out[:, bound] >= X.min(axis=0)[bound])
    assert np.all((digits_dae.denoise_weight_ >= 0) & (digits_dae.denoise_weight_ <= 1))


def test_conv_denoise_stays_in_the_training_range_up_to_the_stated_margin():
    rng = np.random.RandomState(0)
    images = rng.uniform(0.2, 0.7, size=(64, 8, 8))
    images[:8] = 0.0  # 0 is a bound: no pixel comes back below it
    model = ConvDenoisingAutoencoder(channels=(4,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(images)
    with pytest.warns(ImageScaleWarning, match=r"range over \[-1\d\.\d+, 1\d\.\d+\]"):
        out = model.denoise(images + 3 * rng.standard_normal(images.shape))  # beyond 10x
    assert out.shape == images.shape
    assert out.min() >= 0.0
    assert within_margin(out.reshape(64, -1), images.reshape(64, -1))


def test_partial_fit_widens_the_range_and_keeps_the_callers_scaler(digits):
    X, _ = digits
    scaler = StandardScaler().fit(X)
    before = scaler.scale_.copy()
    dae = DenoisingAutoencoder(random_state=0).partial_fit(X[:200], scaler=scaler)
    np.testing.assert_array_equal(scaler.scale_, before)  # floored on a copy
    assert np.all(dae.scaler_.scale_ >= SCALE_FLOOR * (X[:200].max(0) - X[:200].min(0)))
    dae.partial_fit(X[200:])
    np.testing.assert_array_equal(dae.data_min_, X.min(axis=0))
    np.testing.assert_array_equal(dae.data_max_, X.max(axis=0))


def test_the_floor_spares_spread_columns_and_lifts_near_constant_ones():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.standard_normal(500), np.r_[1.0, np.zeros(499)]])
    scaler = StandardScaler().fit(X)
    floored = floored_scaler(scaler, X)
    assert floored.scale_[0] == scaler.scale_[0]
    assert floored.scale_[1] == pytest.approx(SCALE_FLOOR)
    assert scaler.scale_[1] < SCALE_FLOOR


@pytest.fixture(scope="module")
def small_dae():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((300, 4)) * [1.0, 10.0, 0.01, 1e3]
    X[:, 2] = np.where(rng.uniform(size=300) < 0.02, 5.0, 0.0)  # near-constant
    return DenoisingAutoencoder(max_iter=5, random_state=0).fit(X), X


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=arrays(
        np.float64,
        st.tuples(st.integers(1, 20), st.just(4)),
        elements=st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False),
    )
)
def test_property_denoise_is_finite_and_inside_the_training_range_up_to_the_margin(small_dae, rows):
    model, X = small_dae
    out = model.denoise(rows)
    assert out.shape == rows.shape and np.all(np.isfinite(out))
    assert within_margin(out, X)
    assert np.all(out[:, 2] >= 0.0)  # the near-constant column's 0 is a bound


@pytest.mark.slow
def test_tabular_denoising_benchmark_runs_offline(tmp_path):
    from benchmarks import denoising_tabular

    df = denoising_tabular.main(["--quick", "--out", str(tmp_path), "--tag", "q"])
    assert set(df["method"]) == {"PCA", "k-NN", "DAE", "DAE matched", "DAE masking", "ConvDAE",
                                 "ConvDAE masking", "DAE reconstruct"}  # fmt: skip
    assert set(df["noise"]) == {"gaussian 0.3", "masking 0.3"}
    assert (df.loc[df["method"] == "DAE", "gain_db"] > 0).all()
    ours = df["method"].isin(["DAE", "DAE matched", "DAE masking", "ConvDAE", "ConvDAE masking"])
    assert (df.loc[ours, "max_outside_range"] <= RANGE_MARGIN).all()
    text = (tmp_path / "q.md").read_text()
    assert "python -m benchmarks.denoising_tabular --quick" in text


def test_a_model_saved_before_the_blend_denoises_as_it_did(digits):
    X, clean = digits
    dae = DenoisingAutoencoder(max_iter=2, random_state=0).fit(X)
    for name in ("denoise_weight_", "denoise_min_", "denoise_max_", "_extremes"):
        delattr(dae, name)  # what an older model file holds
    np.testing.assert_array_equal(dae.denoise(clean), dae.reconstruct(clean))
    dae.partial_fit(X[:100])  # keeps training without the new state
    np.testing.assert_array_equal(dae.denoise(clean), dae.reconstruct(clean))
