"""Issue 12, model side: every answer right, or refused with a reason, never silently wrong.

Each test is named after the issue's case it covers.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from ae_anomaly import Autoencoder, DenoisingAutoencoder, VariationalAutoencoder
from ae_anomaly.nn.training import TrainingDivergedError

FAST = dict(max_iter=5, random_state=0)


@pytest.fixture(scope="module")
def data():
    return np.random.RandomState(0).normal(size=(300, 4))


@pytest.fixture(scope="module")
def model(data):
    return Autoencoder(**FAST).fit(pd.DataFrame(data, columns=list("abcd")))


HUGE = pd.DataFrame(
    [[1.7976931348623157e308, 0, 0, 0], [1e308, -1e308, 0, 0], [0.1, 0.2, 0.0, -0.1]],
    columns=list("abcd"),
    index=["big", "pair", "ok"],
)


def test_case1_unscorable_rows_are_the_most_anomalous_never_nan(model):
    with pytest.warns(UserWarning, match=r"2 row\(s\) could not be scored.*first: row 'big'"):
        scores = model.score_samples(HUGE)
    assert scores[0] == scores[1] == -np.inf and np.isfinite(scores[2])
    with pytest.warns(UserWarning, match="could not be scored"):
        assert np.all(model.decision_function(HUGE)[:2] == -np.inf)
    with pytest.warns(UserWarning, match="could not be scored"):
        assert model.predict(HUGE).tolist()[:2] == [-1, -1]
    with pytest.warns(UserWarning, match="could not be scored"):
        shares = model.feature_scores(HUGE)
    assert not shares.isna().any().any()
    assert np.isinf(shares.loc[["big", "pair"]].to_numpy()).all()
    assert np.isfinite(shares.loc["ok"].to_numpy()).all()
    with pytest.warns(UserWarning, match="counted as an infinite error"):
        assert model.score(HUGE) == -np.inf


def test_case1_array_input_names_the_position(data):
    model = Autoencoder(**FAST).fit(data)
    with pytest.warns(UserWarning, match="first: row 0"):
        assert model.score_samples(HUGE.to_numpy())[0] == -np.inf


def test_case1_dask_scores_unscorable_rows_minus_inf(model):
    dd = pytest.importorskip("dask.dataframe")
    from ae_anomaly.scale.dask import apply_model

    ddf = dd.from_pandas(HUGE, npartitions=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        scores = apply_model(model, ddf).compute()  # from_pandas sorts the index
    assert scores["big"] == scores["pair"] == -np.inf and np.isfinite(scores["ok"])


def test_case1_overflow_at_fit_is_a_one_line_error(data):
    train = pd.DataFrame(data, columns=list("abcd"), index=[f"r{i}" for i in range(len(data))])
    train.iloc[7, 2] = 1e308
    with pytest.raises(ValueError, match=r"at row 'r7', column 'c' overflows") as info:
        Autoencoder(**FAST).fit(train)
    assert "\n" not in str(info.value) and "1e+308" in str(info.value)
    unscaled = data.copy()
    unscaled[3, 1] = 1e300  # finite, but beyond the float32 training network
    with pytest.raises(ValueError, match="1e[+]300 at row 3, column 1 overflows"):
        Autoencoder(scaling=None, **FAST).fit(unscaled)


def _low_rank(seed=0, n=600, d=12, k=3):
    rng = np.random.RandomState(seed)
    latent = rng.normal(size=(n, k))
    return latent @ rng.normal(size=(k, d)) + 0.05 * rng.normal(size=(n, d))


def test_case8_grid_search_picks_the_better_model():
    X = _low_rank()  # rank 3 in 12 columns: today's score() picked max_iter=1 here
    grid = GridSearchCV(
        Autoencoder(n_components=2, early_stopping=False, random_state=0),
        {"max_iter": [1, 200]},
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X)
    assert grid.best_params_ == {"max_iter": 200}
    scores = grid.cv_results_["mean_test_score"]
    assert scores[1] > scores[0]


def test_case8_score_is_independent_of_fitted_scales():
    X = _low_rank(1)
    a = Autoencoder(n_components=2, score_statistics="median", **FAST).fit(X)
    b = Autoencoder(n_components=2, score_statistics="mean", **FAST).fit(X)
    np.testing.assert_allclose(a.feature_scale_, X.std(axis=0))
    assert a.score(X) == pytest.approx(b.score(X))  # same network, other score scales
    partial = Autoencoder(n_components=2, random_state=0).partial_fit(X)
    np.testing.assert_allclose(partial.feature_scale_, X.std(axis=0))

    from ae_anomaly.tables.sources import Reservoir

    stream = Autoencoder(n_components=2, random_state=0).fit_stream(
        lambda: (X[i : i + 200] for i in range(0, len(X), 200)),
        sample=Reservoir(len(X), np.random.default_rng(0)),
        epochs=1,
    )
    np.testing.assert_allclose(stream.feature_scale_, X.std(axis=0))  # sample = all rows


def test_case8_old_model_without_feature_scale_still_scores(data):
    model = Autoencoder(**FAST).fit(data)
    expected = model.score(data)
    old = pickle.loads(pickle.dumps(model))
    del old.feature_scale_  # as saved before the attribute existed
    assert old.score(data) == pytest.approx(expected)  # the standard scaler's scale_
    minmax = Autoencoder(scaling="minmax", **FAST).fit(data)
    del minmax.feature_scale_
    with pytest.raises(AttributeError, match="saved before feature_scale_ existed.*refit"):
        minmax.score(data)
    assert np.isfinite(minmax.score_samples(data)).all()


def test_default_fit_does_not_warn_but_a_user_set_budget_does(data):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        Autoencoder(random_state=0).fit(data)
    with pytest.warns(ConvergenceWarning, match=r"maximum iterations \(2\)"):
        Autoencoder(max_iter=2, random_state=0).fit(data)


def test_divergence_is_refused_with_applicable_advice(data):
    advice = r"rose from .* Lower learning_rate_init \(now 100\)\.$"  # already standard
    with pytest.raises(TrainingDivergedError, match=advice):
        Autoencoder(learning_rate_init=100, random_state=0).fit(data)
    with pytest.raises(TrainingDivergedError, match="scaling='standard'; now 'minmax'"):
        Autoencoder(learning_rate_init=100, scaling="minmax", random_state=0).fit(data)


def test_one_column_advice_does_not_suggest_a_smaller_code(data):
    with pytest.warns(UserWarning, match="n_components=1 >= n_features=1") as record:
        Autoencoder(**FAST).fit(data[:, :1])
    assert not any("smaller n_components" in str(w.message) for w in record)


@pytest.mark.parametrize("named", [True, False])
def test_set_output_pandas_for_decoded_rows(data, named):
    X = pd.DataFrame(data, columns=list("abcd"), index=np.arange(300) + 1000) if named else data
    names = list("abcd") if named else ["x0", "x1", "x2", "x3"]
    ae = Autoencoder(n_components=2, **FAST).set_output(transform="pandas").fit(X)
    out = ae.reconstruct(X)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == names
    if named:
        assert out.index.equals(X.index)
    codes = ae.transform(X)
    assert list(ae.inverse_transform(codes).columns) == names
    dae = DenoisingAutoencoder(**FAST).set_output(transform="pandas").fit(X)
    assert list(dae.denoise(X).columns) == names
    vae = VariationalAutoencoder(**FAST).set_output(transform="pandas").fit(X)
    sample = vae.sample(3, random_state=0)
    assert isinstance(sample, pd.DataFrame) and list(sample.columns) == names
    assert isinstance(Autoencoder(**FAST).fit(X).reconstruct(X), np.ndarray)  # default


def test_errors_name_the_index_label_and_the_column(model):
    bad = pd.DataFrame(np.zeros((3, 4)), columns=list("abcd"), index=[10, 20, 30])
    bad.iloc[1, 3] = np.nan
    with pytest.raises(ValueError, match="NaN at row 20, column 'd'"):
        model.score_samples(bad)
    text = bad.astype(object)
    text.iloc[2, 1] = "1O5"
    with pytest.raises(ValueError, match="column"):
        model.score_samples(text)


def test_set_output_pandas_leaves_images_as_images():
    from ae_anomaly import ConvDenoisingAutoencoder

    images = np.random.RandomState(0).randint(0, 256, size=(16, 8, 8)).astype(np.uint8)
    model = ConvDenoisingAutoencoder(channels=(4,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.set_output(transform="pandas").fit(images)
    out = model.denoise(images)
    assert isinstance(out, np.ndarray) and out.shape == images.shape and out.dtype == np.uint8
    assert isinstance(model.reconstruct(images), np.ndarray)
