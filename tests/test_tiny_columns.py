"""Columns that vary too little for the input scaler: warned about, not ignored silently.

At 1e-200, a column's variance underflows and scikit-learn's StandardScaler (like any
spread under ~2e-15) takes it for a constant: every score was identical and an 8-sd
outlier went unflagged, with no warning.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from ae_anomaly import Autoencoder, EnsembleAutoencoder
from ae_anomaly.models.scalers import is_rounding

Z = np.random.default_rng(0).normal(size=(200, 3))


def fit_warnings(model, X, words="varies, by"):
    """The messages of the warnings ``model.fit(X)`` gives that hold ``words``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    return [str(w.message) for w in caught if words in str(w.message)]


def test_columns_at_1e_200_are_warned_about_with_standard_scaling():
    (message,) = fit_warnings(Autoencoder(max_iter=2, random_state=0), Z * 1e-200)
    assert message.startswith("Autoencoder: column 0 (and 2 more) varies, by ")
    assert "scaling='standard'" in message and "Rescale" in message


def test_a_named_column_is_named_and_unscaled_tiny_columns_are_warned_about_too():
    X = np.column_stack([Z[:, :2], Z[:, 2] * 1e-12])
    (message,) = fit_warnings(Autoencoder(max_iter=2, random_state=0, scaling=None), X)
    assert "column 2 varies, by " in message


@pytest.mark.parametrize("X", [Z, Z * 1e-200, np.column_stack([Z, np.full(200, 1e-300)])])
def test_columns_a_scaler_can_see_and_constant_ones_are_not_warned_about(X):
    scaling = "mad" if X[0, 0] != Z[0, 0] or X.shape[1] == 3 else "standard"
    assert fit_warnings(EnsembleAutoencoder(max_iter=2, random_state=0, scaling=scaling), X) == []


@settings(max_examples=25, deadline=None)
@given(st.integers(-12, 12), st.integers(-250, 250))
def test_no_warning_for_a_column_whose_spread_a_standard_scaler_sees(log_std, log_mean):
    std, mean = 10.0**log_std, 10.0 ** min(log_mean, 300)
    X = np.column_stack([Z[:, :2], mean + std * Z[:, 2]])
    column = X[:, 2]
    if np.ptp(column) == 0 or is_rounding(column.std(), column.mean()):  # a constant's
        return  # the spread lost to the mean's rounding, or within its values' rounding
    assert fit_warnings(Autoencoder(max_iter=1, random_state=0), X) == []


def test_rounding_noise_of_a_constant_is_not_warned_about():
    """A column of sums of shares (0.9999999999999998 to 1.0000000000000002) is a
    constant: rescaling it, as the warning advised, would make rounding a feature."""
    shares = np.random.default_rng(1).dirichlet(np.ones(5), size=200)
    X = np.column_stack([Z, shares.sum(axis=1)])
    assert np.ptp(X[:, -1]) > 0
    assert fit_warnings(Autoencoder(max_iter=1, random_state=0), X) == []


def test_the_warning_points_at_the_user_s_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Autoencoder(max_iter=1, random_state=0).fit(Z * 1e-200)
    (warning,) = [w for w in caught if "varies, by" in str(w.message)]
    assert warning.filename == __file__


def test_a_streamed_fit_warns_once_not_per_chunk_and_epoch():
    """The check ran wherever training rows were scaled: each chunk of each epoch of
    ``fit_stream`` (and so ``fit --chunksize``) warned again."""
    from ae_anomaly.tables.sources import Reservoir

    X = Z * 1e-200
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ConvergenceWarning)
        Autoencoder(random_state=0).fit_stream(
            lambda: (X[i : i + 50] for i in range(0, len(X), 50)),
            sample=Reservoir(100, np.random.default_rng(0)),
            epochs=3,
        )
    assert len([w for w in caught if "varies, by" in str(w.message)]) == 1
