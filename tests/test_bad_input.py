"""Bad input gets a clear error naming the problem, or works; never a raw torch traceback."""

import decimal
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ae_anomaly import (
    Autoencoder,
    DenoisingAutoencoder,
    VariationalAutoencoder,
    make_table_pipeline,
)
from ae_anomaly.nn.training import TrainingDivergedError

FAST = {"max_iter": 5, "random_state": 0}


@pytest.fixture
def X():
    return np.random.RandomState(0).normal(size=(60, 4))


def test_nan_names_row_and_column(X):
    X[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"contains NaN at row 7, column 2 \(1 non-finite"):
        Autoencoder(**FAST).fit(X)


def test_infinity_names_the_column_of_a_dataframe(X):
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = Autoencoder(**FAST).fit(frame)
    frame.loc[3, "c"] = np.inf
    with pytest.raises(ValueError, match="contains infinity at row 3, column 'c'"):
        model.score_samples(frame)


def test_wrong_feature_count(X):
    model = Autoencoder(**FAST).fit(X)
    with pytest.raises(ValueError, match="X has 3 features, but Autoencoder is expecting 4"):
        model.predict(X[:, :3])


def test_missing_column_by_name(X):
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = Autoencoder(**FAST).fit(frame)
    with pytest.raises(ValueError, match="Feature names seen at fit time, yet now missing"):
        model.predict(frame.rename(columns={"d": "e"}))


def test_non_numeric_dataframe_columns_are_named(X):
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["city"] = "Paris"
    with pytest.raises(ValueError, match=r"Non-numeric column\(s\) 'city' \((str|object)\)"):
        Autoencoder(**FAST).fit(frame)
    # the advice it gives applies: the table pipeline encodes the column
    with pytest.raises(ValueError, match=r"ae_anomaly.make_table_pipeline\(detector\)"):
        Autoencoder(**FAST).fit(frame)
    scores = make_table_pipeline(Autoencoder(**FAST)).fit(frame).score_samples(frame)
    assert np.isfinite(scores).all()


def test_object_columns_of_numbers_are_numbers(X):
    # what concat, where(..., None) or read_excel leave: numbers in an object column
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"], index=range(100, 100 + len(X)))
    mixed = frame.astype({"c": object, "d": object})
    mixed.loc[101, "d"] = int(round(X[1, 3]))
    plain = frame.assign(d=mixed["d"].astype(float))
    scores = Autoencoder(**FAST).fit(mixed).score_samples(mixed)
    np.testing.assert_array_equal(scores, Autoencoder(**FAST).fit(plain).score_samples(plain))
    assert pd.api.types.is_object_dtype(mixed.dtypes["c"])  # the caller's frame is untouched
    mixed.loc[107, "c"] = pd.NA
    with pytest.raises(ValueError, match=r"^Input X contains NaN at row 107, column 'c'"):
        Autoencoder(**FAST).fit(mixed)
    mixed.loc[107, "c"] = "1.5x"
    named = r"^Non-numeric column\(s\) 'c' \(object: text '1.5x' at row 107\)"
    with pytest.raises(ValueError, match=named):
        Autoencoder(**FAST).fit(mixed)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(st.one_of(st.floats(-1e6, 1e6), st.integers(-1000, 1000), st.booleans(),
                                st.none(), st.just(pd.NA), st.text(max_size=4)),
                      min_size=4, max_size=12))
def test_any_object_column_gives_finite_scores_or_one_line_naming_it(cells):
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.normal(size=(len(cells), 2)), columns=["a", "b"])
    frame["odd"] = pd.Series(cells, dtype=object)
    try:
        scores = Autoencoder(max_iter=1, random_state=0).fit(frame).score_samples(frame)
    except ValueError as exc:
        message = str(exc)
        assert "\n" not in message and "'odd'" in message and "row" in message
    else:
        assert np.isfinite(scores).all()


def test_one_dimensional_input_is_refused_in_one_line(X):
    """scikit-learn's message prints the whole array: 86 lines for 500 values."""
    fitted = Autoencoder(**FAST).fit(X[:, :1])
    for call in (Autoencoder(**FAST).fit, fitted.score_samples, fitted.predict):
        with pytest.raises(ValueError) as info:
            call(X[:, 0])
        message = str(info.value)
        assert "\n" not in message and len(message) < 200
        assert message.startswith(f"Expected 2D array, got 1D array instead ({len(X):,} values)")
        assert "Reshape your data: X.reshape(-1, 1) if it is one feature" in message


def test_complex_input_is_refused_in_one_line_naming_the_column(X):
    """scikit-learn's message prints the whole array after its first line."""
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(z=X[:, 0] + 1j)
    for data, where in [(frame, "column(s) 'z' (complex128)"), (X + 1j, "X (complex128)")]:
        with pytest.raises(ValueError) as info:
            Autoencoder(**FAST).fit(data)
        message = str(info.value)
        assert "\n" not in message and len(message) < 300
        assert message.startswith(f"Complex data not supported: {where}.")
    fitted = Autoencoder(**FAST).fit(X)
    with pytest.raises(ValueError, match=r"^Complex data not supported: X \(complex128\)"):
        fitted.score_samples(X + 1j)


def test_non_numeric_cell_in_an_array_gives_row_and_column(X):
    cells = X.astype(object)
    cells[4, 1] = "n/a"
    with pytest.raises(ValueError, match=r"Non-numeric value 'n/a' at row 4, column 1"):
        Autoencoder(**FAST).fit(cells)


def test_empty_input():
    with pytest.raises(ValueError, match="0 sample"):
        Autoencoder(**FAST).fit(np.empty((0, 4)))


@pytest.mark.parametrize(
    "estimator_class", [Autoencoder, DenoisingAutoencoder, VariationalAutoencoder]
)
def test_one_row_works(estimator_class, X):
    with pytest.warns(UserWarning, match="too few for a validation split"):
        model = estimator_class(**FAST).fit(X[:1])
    assert np.isfinite(model.score_samples(X)).all()


def test_constant_columns_work(X):
    X[:, 1] = 3.0
    model = Autoencoder(**FAST).fit(X)
    assert np.isfinite(model.score_samples(X)).all()
    assert np.isfinite(model.reconstruct(X)).all()


def test_fewer_samples_than_batch_size_still_trains(X):
    model = Autoencoder(batch_size=1000, early_stopping=False, max_iter=10, random_state=0).fit(X)
    assert model.n_iter_ == 10
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_diverging_loss_is_reported_not_propagated(X):
    huge = X * 1e20  # float32 squares overflow to inf without scaling
    with pytest.raises(TrainingDivergedError, match="Training diverged: the loss became"):
        Autoencoder(scaling=None, **FAST).fit(huge)
    # it is a ValueError too, so generic handlers catch it
    assert issubclass(TrainingDivergedError, ValueError)


def test_one_dimensional_input_is_refused(X):
    model = Autoencoder(**FAST).fit(X)
    with pytest.raises(ValueError, match="Expected 2D array"):
        model.predict(X[0])


def test_invalid_parameters_are_named(X):
    with pytest.raises(ValueError, match="'contamination' parameter"):
        Autoencoder(contamination=0.9).fit(X)
    with pytest.raises(ValueError, match="hidden_layer_sizes must hold positive integers"):
        Autoencoder(hidden_layer_sizes=(8, 0)).fit(X)
    with pytest.raises(ValueError, match="noise_level=1.0 masks every input"):
        DenoisingAutoencoder(noise="masking", noise_level=1.0).fit(X)


def test_cuda_requested_without_cuda(X, monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.raises(ValueError, match="device='cuda' was requested"):
        Autoencoder(device="cuda", **FAST).fit(X)
    assert Autoencoder(device="auto", **FAST).fit(X).device_ == "cpu"


def test_unfitted_model_says_so(X):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted yet"):
        Autoencoder().score_samples(X)


@pytest.mark.parametrize("cls", [Autoencoder, DenoisingAutoencoder])
def test_a_frame_with_no_columns_gets_scikit_learns_one_line(cls, X):
    """A frame left with 0 columns (select_dtypes("number") of text) raised NumPy's "at
    least one array or dtype is required", and scoring warned about feature names."""
    empty = pd.DataFrame({"name": ["a", "b", "c"] * 10}).select_dtypes("number")
    message = (
        rf"^Found array with 0 feature\(s\) \(shape=\(30, 0\)\) while a minimum of 1 is "
        rf"required by {cls.__name__}\.$"
    )
    with pytest.raises(ValueError, match=message):
        cls(**FAST).fit(empty)
    model = cls(**FAST).fit(pd.DataFrame(X, columns=list("abcd")))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=message):
            model.score_samples(empty)


def test_duplicate_column_names_get_the_table_encoders_one_line(X):
    """They raised narwhals' DuplicateError from deep inside scikit-learn."""
    frame = pd.DataFrame(X, columns=["a", "a", "c", "c"])
    with pytest.raises(ValueError, match=r"^X has duplicate column names: 'a', 'c'\.$"):
        Autoencoder(**FAST).fit(frame)
    model = Autoencoder(**FAST).fit(pd.DataFrame(X, columns=list("abcd")))
    with pytest.raises(ValueError, match=r"^X has duplicate column names: 'a', 'c'\.$"):
        model.score_samples(frame)
    with pytest.raises(ValueError, match=r"^X has duplicate column names: '1'\.$"):
        Autoencoder(**FAST).fit(pd.DataFrame(X, columns=[1, "1", 2, 3]))


def test_object_columns_of_decimals_and_numpy_bools_are_numbers(X):
    """pd.read_sql gives Decimal for NUMERIC columns, np.where(cond, flag, None) numpy
    bools: both were refused as non-numeric though Python bools were accepted."""
    flags = X[:, 3] > 0
    numbers = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2].round(2), "d": flags})
    objects = numbers.assign(
        c=pd.Series([decimal.Decimal(f"{v:.2f}") for v in X[:, 2]], dtype=object),
        d=pd.Series(list(flags), dtype=object),  # np.True_ / np.False_
    )
    assert isinstance(objects["d"][0], np.bool_)
    expected = Autoencoder(**FAST).fit(numbers).score_samples(numbers)
    np.testing.assert_array_equal(Autoencoder(**FAST).fit(objects).score_samples(objects), expected)
    objects.loc[5, "c"] = decimal.Decimal("NaN")
    with pytest.raises(ValueError, match="contains NaN at row 5, column 'c'"):
        Autoencoder(**FAST).fit(objects)
    text = numbers.assign(c=pd.Series(["1.5"] * len(X), dtype=object))
    with pytest.raises(ValueError, match=r"'c' \(object: text '1.5' at row 0\)"):
        Autoencoder(**FAST).fit(text)


def test_a_repeated_or_multiindex_label_is_named_so_the_row_can_be_found(X):
    """After pd.concat([jan, feb]) 'row 5' named a label df.loc[5] holds twice; a
    MultiIndex label printed as (np.int64(2), 5)."""
    jan = pd.DataFrame(X[:30], columns=list("abcd"))
    feb = pd.DataFrame(X[30:], columns=list("abcd"))
    both = pd.concat([jan, feb])
    both.iloc[35, 1] = np.nan  # feb's row 5, at position 35
    with pytest.raises(ValueError, match=r"row 5 \(position 35\), column 'b'"):
        Autoencoder(**FAST).fit(both)
    keyed = both.set_axis(pd.MultiIndex.from_arrays([np.repeat([1, 2], 30), np.tile(range(30), 2)]))
    with pytest.raises(ValueError, match=r"row \(2, 5\), column 'b'"):
        Autoencoder(**FAST).fit(keyed)
