"""scikit-learn's pandas output, set globally (``sklearn.set_config(transform_output="pandas")``,
a common notebook setting) or on one model, changes nothing but the type of what
``transform`` returns.

It broke every model: the input scaler followed the global setting and handed torch a
DataFrame (``fit``: "The truth value of a Series is ambiguous"; a model fitted earlier:
"linear(): argument 'input' must be Tensor, not DataFrame"). With a model's own pandas
output, ``latent_traversal`` reindexed its decoded rows (the row for z=2 labelled 1, the
last one all NaN) and ``inverse_transform`` dropped the codes' index.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning

from ae_anomaly import Autoencoder, make_table_pipeline
from ae_anomaly.models.registry import autoencoders

X = np.random.default_rng(0).normal(size=(120, 16))
METHODS = ["score_samples", "decision_function", "predict", "transform", "reconstruct"]


def _model(cls):
    params = {"max_iter": 2, "random_state": 0}
    if "image_shape" in cls().get_params():
        params["image_shape"] = (1, 4, 4)
    return cls(**params)


def _answers(model, data):
    return {name: np.asarray(getattr(model, name)(data)) for name in METHODS}


@pytest.mark.parametrize("name", sorted(autoencoders()))
def test_global_pandas_output_changes_no_answer(name):
    cls = autoencoders()[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        before = _model(cls).fit(X)
        expected = _answers(before, X)
        with sklearn.config_context(transform_output="pandas"):
            fitted_inside = _model(cls).fit(X)
            for model in (before, fitted_inside):
                answers = _answers(model, X)
                for method in METHODS:
                    np.testing.assert_array_equal(answers[method], expected[method], method)


def test_a_table_pipeline_fits_and_scores_under_global_pandas_output():
    frame = pd.DataFrame(X[:, :4], columns=list("abcd"))
    expected = make_table_pipeline(Autoencoder(max_iter=2, random_state=0)).fit(frame)
    with sklearn.config_context(transform_output="pandas"):
        pipeline = make_table_pipeline(Autoencoder(max_iter=2, random_state=0)).fit(frame)
        np.testing.assert_array_equal(pipeline.score_samples(frame), expected.score_samples(frame))


@pytest.mark.parametrize("how", ["model", "global"])
def test_latent_traversal_rows_stay_with_their_values_under_pandas_output(how):
    frame = pd.DataFrame(X[:, :4], columns=list("abcd"))
    model = Autoencoder(max_iter=3, random_state=0).fit(frame)
    expected = model.latent_traversal(frame.iloc[:1], 0, [1.0, 2.0, 3.0])
    if how == "model":
        got = model.set_output(transform="pandas").latent_traversal(frame.iloc[:1], 0,
                                                                    [1.0, 2.0, 3.0])  # fmt: skip
    else:
        with sklearn.config_context(transform_output="pandas"):
            got = model.latent_traversal(frame.iloc[:1], 0, [1.0, 2.0, 3.0])
    pd.testing.assert_frame_equal(got, expected)


def test_inverse_transform_keeps_the_codes_index_with_pandas_output():
    frame = pd.DataFrame(X[:, :4], columns=list("abcd"), index=[f"r{i}" for i in range(120)])
    model = Autoencoder(max_iter=2, random_state=0).set_output(transform="pandas").fit(frame)
    decoded = model.inverse_transform(model.transform(frame.iloc[5:8]))
    assert list(decoded.index) == ["r5", "r6", "r7"]
    assert list(decoded.columns) == list("abcd")
