"""The scikit-learn contract beyond check_estimator: determinism, pickling, pipelines,
tuning, partial_fit, outputs and the VAE's KL term."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ae_anomaly import (
    Autoencoder,
    ConvVariationalAutoencoder,
    DenoisingAutoencoder,
    EnsembleAutoencoder,
    VariationalAutoencoder,
)
from ae_anomaly.tables.sources import Reservoir

ESTIMATORS = [Autoencoder, DenoisingAutoencoder, VariationalAutoencoder]
FAST = {"max_iter": 15, "random_state": 0}


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    z = rng.normal(size=(150, 2))
    return np.hstack([z, z @ rng.normal(size=(2, 4))]) + 0.05 * rng.normal(size=(150, 6))


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_same_random_state_gives_identical_scores(estimator_class, data):
    first = estimator_class(**FAST).fit(data)
    second = estimator_class(**FAST).fit(data)
    np.testing.assert_array_equal(first.score_samples(data), second.score_samples(data))
    np.testing.assert_array_equal(first.loss_curve_, second.loss_curve_)
    other_seed = estimator_class(**{**FAST, "random_state": 1}).fit(data)
    assert not np.array_equal(first.score_samples(data), other_seed.score_samples(data))


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_scores_are_deterministic_call_to_call(estimator_class, data):
    model = estimator_class(**FAST).fit(data)
    np.testing.assert_array_equal(model.score_samples(data), model.score_samples(data))
    np.testing.assert_array_equal(model.transform(data), model.transform(data))


@pytest.mark.parametrize("estimator_class", [*ESTIMATORS, EnsembleAutoencoder])
def test_memory_layout_changes_nothing(estimator_class, data):
    # A DataFrame's values are column-major (TableEncoder.transform's output too): the
    # scaler's sums and the batched products must not see the layout, in fit or in scoring
    model = estimator_class(**FAST).fit(data)
    expected = model.score_samples(data)
    np.testing.assert_array_equal(model.score_samples(np.asfortranarray(data)), expected)
    frame = pd.DataFrame({f"x{i}": data[:, i] for i in range(data.shape[1])})
    assert not frame.to_numpy().flags.c_contiguous
    np.testing.assert_array_equal(estimator_class(**FAST).fit(frame).score_samples(frame), expected)

    def streamed(layout):  # out of core: the scaler is fitted chunk by chunk
        def chunks():
            return (layout(data[i : i + 50]) for i in range(0, len(data), 50))

        sample = Reservoir(100, np.random.default_rng(0))
        return clone(model).fit_stream(chunks, sample=sample, epochs=2).score_samples(data)

    np.testing.assert_array_equal(streamed(np.asfortranarray), streamed(np.ascontiguousarray))


def test_fit_leaves_the_global_torch_rng_alone(data):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    Autoencoder(**FAST).fit(data)
    np.testing.assert_array_equal(torch.rand(3), expected)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_pickle_round_trip_keeps_scores_and_training(estimator_class, data):
    model = estimator_class(**FAST).fit(data)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(model.score_samples(data), restored.score_samples(data))
    np.testing.assert_array_equal(model.predict(data), restored.predict(data))
    # the optimizer state travels too: both continue training identically
    model.partial_fit(data)
    restored.partial_fit(data)
    np.testing.assert_array_equal(model.score_samples(data), restored.score_samples(data))


def test_clone_gives_an_unfitted_copy_with_the_same_params(data):
    model = VariationalAutoencoder(beta=2.0, hidden_layer_sizes=(8,), **FAST).fit(data)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "module_")


def test_pipeline_and_grid_search_without_labels(data):
    pipe = make_pipeline(StandardScaler(), Autoencoder(scaling=None, **FAST))
    pipe.fit(data)
    assert pipe.predict(data).shape == (len(data),)
    assert set(np.unique(pipe.predict(data))) <= {-1, 1}
    # GridSearchCV tunes on `score` (mean score_samples on held-out folds), no labels needed
    search = GridSearchCV(pipe, {"autoencoder__n_components": [1, 2, 4]}, cv=3)
    search.fit(data)
    assert search.best_params_["autoencoder__n_components"] in {1, 2, 4}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_sign_convention_and_threshold(data):
    outlier = data[:1] * 0 + np.array([[4.0, -4.0, 10, -10, 10, -10]])
    model = Autoencoder(**FAST).fit(data)
    scores = model.score_samples(np.vstack([data, outlier]))
    assert scores[-1] < scores[:-1].min()  # higher is more normal
    np.testing.assert_allclose(
        model.decision_function(data), model.score_samples(data) - model.offset_
    )
    assert model.predict(outlier)[0] == -1
    # score: minus the mean squared reconstruction error in training standard deviations
    errors = ((data - model.reconstruct(data)) / model.feature_scale_) ** 2
    assert model.score(data) == pytest.approx(-errors.mean())


@pytest.mark.parametrize("contamination", [0.02, 0.1, 0.25])
def test_float_contamination_flags_that_share_of_training_rows(contamination, data):
    model = Autoencoder(contamination=contamination, **FAST).fit(data)
    flagged = (model.predict(data) == -1).mean()
    assert flagged == pytest.approx(contamination, abs=1 / len(data))


def test_auto_contamination_is_tukeys_fence_on_training_errors(data):
    model = Autoencoder(**FAST).fit(data)
    errors = -model.score_samples(data)
    q1, q3 = np.percentile(errors, [25, 75])
    assert model.offset_ == pytest.approx(-(q3 + 1.5 * (q3 - q1)))
    assert 0 < (model.predict(data) == -1).mean() < 0.1


def test_partial_fit_keeps_training(data):
    model = Autoencoder(random_state=0)
    for _ in range(20):
        model.partial_fit(data)
    assert model.n_iter_ == 20 and len(model.loss_curve_) == 20
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    with pytest.raises(ValueError, match="6 features"):
        model.partial_fit(data[:, :4])


def test_early_stopping_records_a_validation_curve_and_stops(data):
    model = Autoencoder(max_iter=500, n_iter_no_change=3, tol=1e-2, random_state=0).fit(data)
    assert model.n_iter_ < 500
    assert len(model.validation_loss_curve_) == model.n_iter_ == len(model.loss_curve_)
    assert model.best_loss_ == pytest.approx(min(model.validation_loss_curve_))
    no_stop = Autoencoder(early_stopping=False, max_iter=5, random_state=0).fit(data)
    assert no_stop.validation_loss_curve_ is None


def test_convergence_warning_when_max_iter_is_reached(data):
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        Autoencoder(max_iter=2, random_state=0).fit(data)


def test_transform_inverse_transform_and_feature_names(data):
    frame = pd.DataFrame(data, columns=[f"c{i}" for i in range(6)])
    model = Autoencoder(n_components=2, hidden_layer_sizes=(16, 8), **FAST).fit(frame)
    codes = model.transform(frame)
    assert codes.shape == (150, 2)
    assert model.inverse_transform(codes).shape == (150, 6)
    np.testing.assert_allclose(model.inverse_transform(codes), model.reconstruct(frame))
    assert list(model.get_feature_names_out()) == ["autoencoder0", "autoencoder1"]
    assert list(model.feature_names_in_) == list(frame.columns)
    with pytest.raises(ValueError, match="n_components_=2"):
        model.inverse_transform(codes[:, :1])


def test_set_output_pandas(data):
    model = Autoencoder(n_components=3, **FAST).set_output(transform="pandas").fit(data)
    codes = model.transform(data)
    assert isinstance(codes, pd.DataFrame)
    assert list(codes.columns) == ["autoencoder0", "autoencoder1", "autoencoder2"]


def test_feature_scores_point_at_the_broken_column(data):
    frame = pd.DataFrame(data, columns=list("abcdef"))
    model = Autoencoder(**FAST).fit(frame)
    broken = frame.iloc[:5].copy()
    broken["d"] += 20 * frame["d"].std()
    per_feature = model.feature_scores(broken)
    assert isinstance(per_feature, pd.DataFrame)
    assert list(per_feature.columns) == list("abcdef")
    assert (per_feature.idxmax(axis=1) == "d").all()
    np.testing.assert_allclose(per_feature.mean(axis=1), -model.score_samples(broken))
    assert isinstance(Autoencoder(**FAST).fit(data).feature_scores(data), np.ndarray)


def test_identity_warning_only_without_a_regularizer(data):
    with pytest.warns(UserWarning, match="learn the identity"):
        Autoencoder(n_components=6, **FAST).fit(data)
    for regularized in (DenoisingAutoencoder, VariationalAutoencoder):
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            regularized(n_components=6, **FAST).fit(data)


def test_default_network_is_sized_from_n_features(data):
    model = Autoencoder(**FAST).fit(data)
    assert model.n_components_ < data.shape[1]
    wide = Autoencoder(**FAST).fit(np.tile(data, 20))
    assert wide.n_components_ > model.n_components_


def test_vae_kl_term_is_on():
    # beta=0 turns the KL term off; with beta=1 (the ELBO) the posterior must be pulled
    # close to the prior N(0, I). A VAE whose KL term is silently zeroed fails this.
    rng = np.random.RandomState(0)
    z = rng.normal(size=(300, 2))
    X = np.hstack([z, np.tanh(z) @ rng.normal(size=(2, 6))])
    params = {"max_iter": 60, "early_stopping": False, "random_state": 0}
    with_kl = VariationalAutoencoder(beta=1.0, **params).fit(X)
    without_kl = VariationalAutoencoder(beta=0.0, **params).fit(X)
    kl_on, kl_off = with_kl.kl_divergence(X).mean(), without_kl.kl_divergence(X).mean()
    assert kl_on < 0.5 * kl_off, (kl_on, kl_off)
    codes = with_kl.transform(X)
    assert np.abs(codes.mean(axis=0)).max() < 0.5  # posterior means centred like the prior


def test_vae_sample_gives_finite_rows_in_original_units():
    rng = np.random.RandomState(0)
    X = rng.normal(loc=1000.0, scale=50.0, size=(200, 4))
    vae = VariationalAutoencoder(max_iter=30, random_state=0).fit(X)
    samples = vae.sample(25, random_state=0)
    assert samples.shape == (25, 4)
    assert np.isfinite(samples).all()
    assert 700 < samples.mean() < 1300  # decoded back to the original units
    np.testing.assert_array_equal(samples, vae.sample(25, random_state=0))


@pytest.mark.parametrize("conv", [False, True], ids=["VariationalAutoencoder", "ConvVAE"])
def test_vae_sample_validates_n_samples(conv):
    """sample(2.5) gave 2 rows, silently, and sample(0) / sample(-1) NumPy's or
    scikit-learn's messages about something else; now n_samples must be an int >= 1.
    sample(True) gave 1 row (scikit-learn's check_scalar takes a bool for an int)."""
    rng = np.random.RandomState(0)
    if conv:
        vae = ConvVariationalAutoencoder(channels=(2,), max_iter=1, random_state=0)
        vae.fit(rng.uniform(size=(20, 8, 8)))
    else:
        vae = VariationalAutoencoder(max_iter=1, random_state=0).fit(rng.normal(size=(20, 3)))
    for bad in (0, -1):
        with pytest.raises(ValueError, match=rf"^n_samples == {bad}, must be >= 1\.$"):
            vae.sample(bad)
    for bad in (2.5, "3", None):
        with pytest.raises(TypeError, match=r"^n_samples must be an instance of int"):
            vae.sample(bad)
    for bad in (True, np.True_):
        with pytest.raises(TypeError, match=r"^n_samples must be an instance of int, not bool\.$"):
            vae.sample(bad)
    assert len(vae.sample(np.int64(3), random_state=0)) == 3


def test_denoise_returns_input_shape_and_units():
    rng = np.random.RandomState(0)
    X = 100 + rng.normal(size=(200, 5))
    dae = DenoisingAutoencoder(**FAST).fit(X)
    clean = dae.denoise(X)
    assert clean.shape == X.shape
    assert 95 < clean.mean() < 105
