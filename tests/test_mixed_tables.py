"""Issue 12: mixed-type tables typed and encoded right, or refused with a reason.

Each test is named after the issue's numbered case it covers.
"""

import decimal
import pickle
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from ae_anomaly import Autoencoder
from ae_anomaly.tables.encoder import UNSEEN, TableEncoder, UnseenCategoryWarning
from ae_anomaly.tables.examples import load_mixed_example
from ae_anomaly.tables.formats import DataError
from ae_anomaly.tables.pipeline import (
    CODE_DISTANCE,
    feature_scores_by_column,
    make_table_pipeline,
)
from ae_anomaly.tables.typing import (
    BOOLEAN,
    CATEGORICAL,
    DATETIME,
    NUMERIC,
    CoercedValueWarning,
    ParseOptions,
    classify_columns,
)

FAST = {"max_iter": 3, "random_state": 0}


def kinds(frame, **options):
    id_cols = options.pop("id_cols", ())
    types = classify_columns(frame, id_cols=id_cols, options=ParseOptions(**options))
    return {name: t.kind for name, t in types.items()}


def numbers_as_text(n, seed=0):
    return [f"{v:.2f}" for v in np.random.default_rng(seed).normal(100, 10, n)]


def small_table(n=80, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.normal(size=n),
            "weight": rng.normal(size=n),
            "region": rng.choice(["EU", "US", "APAC"], n),
        }
    )


# ----------------------------------------------------------------- case 1: extreme values
@pytest.mark.parametrize("value", [np.inf, -np.inf, 1.7976931348623157e308, -1e308])
def test_case1_extreme_training_values_are_refused(value):
    frame = small_table()
    frame.loc[7, "weight"] = value
    with pytest.raises(DataError, match=r"column 'weight' has .* at row 7 \(1 value"):
        TableEncoder().fit(frame)


def test_case1_extreme_values_at_score_time_reach_the_detector():
    # the detector decides (flags such rows); the encoder neither refuses nor clips them
    encoder = TableEncoder().fit(small_table())
    frame = small_table(seed=1)
    frame.loc[3, "amount"] = 1e308
    assert encoder.transform(frame)[3, 0] == 1e308


# ----------------------------------------------------------------- case 2: numeric typing
def test_case2_typo_in_numeric_column_is_an_error():
    values = numbers_as_text(32)
    values[17] = "1O5"  # a letter O for a zero
    frame = pd.DataFrame({"x": values, "y": numbers_as_text(32, 1)})
    message = r"column 'x' is numeric but row 17: '1O5' is not a number; fix the data"
    with pytest.raises(DataError, match=message):
        TableEncoder().fit(frame)


def test_case2_one_typo_in_500_is_an_error_naming_the_index_label():
    values = numbers_as_text(500)
    values[321] = "1.66x"
    frame = pd.DataFrame({"x": values}, index=pd.RangeIndex(1000, 1500))
    with pytest.raises(DataError, match=r"column 'x' is numeric but row 1321: '1.66x'"):
        kinds(frame)


def test_case2_typo_at_score_time_is_the_same_error():
    encoder = TableEncoder().fit(pd.DataFrame({"x": numbers_as_text(40)}))
    scored = pd.DataFrame({"x": ["1.5", "2", "1O5"]})
    with pytest.raises(DataError, match=r"column 'x' is numeric but row 2: '1O5'"):
        encoder.transform(scored)


def test_case2_coerce_warns_and_reads_the_cells_as_missing():
    values = numbers_as_text(32)
    values[4], values[9] = "1O5", "n.a."
    frame = pd.DataFrame({"x": values})
    encoder = TableEncoder(coerce=True, impute="median")
    with pytest.warns(CoercedValueWarning, match=r"'x': 2 cell\(s\) not a number .*row 4: '1O5'"):
        encoded = encoder.fit_transform(frame)
    median = np.median([float(v) for i, v in enumerate(values) if i not in (4, 9)])
    assert encoded[4, 0] == encoded[9, 0] == pytest.approx(median)
    with pytest.warns(CoercedValueWarning), pytest.raises(DataError, match="missing value") as info:
        TableEncoder(coerce=True).fit(frame)  # coerced cells still need impute
    message = str(info.value)  # '1O5' is not an NA string: no advice about NA strings
    assert "'1O5' (read as missing by coerce=True)" in message
    assert "keep_default_na" not in message and "impute='median'" in message


@pytest.mark.parametrize(
    ("cell", "note"),
    [
        ("\u22121.5", "its '−' is U+2212 MINUS SIGN, not '-'"),
        ("12\u20133", "its '–' is U+2013 EN DASH, not '-'"),
        ("\uff11\uff12", "its '１' is U+FF11 FULLWIDTH DIGIT ONE, not '1'"),
        ("1\u00a0234", "its '\\xa0' is U+00A0 NO-BREAK SPACE, not ' '"),
    ],
)
def test_case2_a_typo_that_looks_like_a_number_names_the_odd_character(cell, note):
    """'−1.5' (a Unicode minus) printed as itself looks like a number: the message names
    the character that is not what it looks like, at fit and at score time."""
    values = numbers_as_text(40)
    values[6] = cell
    with pytest.raises(DataError, match=r"row 6: .* is not a number") as info:
        TableEncoder().fit(pd.DataFrame({"x": values}))
    assert f"({note})" in str(info.value)
    encoder = TableEncoder().fit(pd.DataFrame({"x": numbers_as_text(40)}))
    with pytest.raises(DataError, match="is not a number") as info:
        encoder.transform(pd.DataFrame({"x": ["1.5", cell]}))
    assert f"({note})" in str(info.value)
    typo = pd.DataFrame({"x": [*numbers_as_text(20), "1O5"]})
    with pytest.raises(DataError, match=r"row 20: '1O5' is not a number;"):  # no note
        TableEncoder().fit(typo)


def test_case2_decimal_commas_are_numbers():
    frame = pd.DataFrame({"x": ["3,14", "2,5", "-1,0", "10"]})
    encoded = TableEncoder(decimal=",").fit_transform(frame)
    np.testing.assert_array_equal(encoded[:, 0], [3.14, 2.5, -1.0, 10.0])


def test_case2_thousands_separators_are_numbers_and_checked():
    frame = pd.DataFrame({"x": ["15,900", "1,234,567.5", "12", "-3,000"] * 8})
    encoded = TableEncoder(thousands=",").fit_transform(frame)
    np.testing.assert_array_equal(encoded[:4, 0], [15900, 1234567.5, 12, -3000])
    # "3,14" is no thousands grouping: an error, not 314
    bad = pd.DataFrame({"x": ["15,900"] * 31 + ["3,14"]})
    with pytest.raises(DataError, match=r"row 31: '3,14' is not a number"):
        TableEncoder(thousands=",").fit(bad)


def test_case2_percentages_are_fractions():
    frame = pd.DataFrame({"rate": ["12.3%", "5%", " 100 %", "0.5%"]})
    encoder = TableEncoder().fit(frame)
    assert encoder.columns_["rate"]["percent"]
    np.testing.assert_allclose(encoder.transform(frame)[:, 0], [0.123, 0.05, 1.0, 0.005])
    with pytest.raises(DataError, match=r"row 1: '7' is not a number"):
        encoder.transform(pd.DataFrame({"rate": ["3%", "7"]}))  # not a percentage


def test_case2_parquet_decimal_columns_are_numbers(tmp_path):
    prices = [decimal.Decimal("19.99"), decimal.Decimal("5.00"), None, decimal.Decimal("7.25")]
    table = pa.table({"price": pa.array(prices, pa.decimal128(6, 2)), "n": [1, 2, 3, 4]})
    pq.write_table(table, tmp_path / "t.parquet")
    for frame in [
        pd.read_parquet(tmp_path / "t.parquet"),
        pd.read_parquet(tmp_path / "t.parquet", dtype_backend="pyarrow"),
    ]:
        assert kinds(frame) == {"price": NUMERIC, "n": NUMERIC}
        encoded = TableEncoder(impute="median").fit_transform(frame)
        np.testing.assert_allclose(encoded[:, 0], [19.99, 5.0, 7.25, 7.25])


# ------------------------------------------------------------ case 3: unseen categories
def test_case3_unseen_category_adds_to_the_anomaly_score():
    train = small_table(400)
    pipeline = make_table_pipeline(Autoencoder(**FAST), keep_default_na=False).fit(train)
    rows = small_table(30, seed=1)
    moved = rows.assign(region="Mars")
    with pytest.warns(UnseenCategoryWarning, match=r"'region': 30 row\(s\) .*row 0: 'Mars'\)"):
        unseen_scores = pipeline.score_samples(moved)
    # exported another way: the fitted category it would be is named
    with pytest.warns(UnseenCategoryWarning, match="'eu ', which is 'EU' but for case or blanks"):
        pipeline.score_samples(rows.assign(region="eu "))
    assert np.all(unseen_scores < pipeline.score_samples(rows))
    with pytest.warns(UnseenCategoryWarning):
        assert np.all(pipeline.predict(moved) == -1)
    encoder = pipeline.named_steps["table"]
    assert encoder.unseen_categories(moved)["region"].sum() == 30
    assert encoder.unseen_categories(rows)["region"].sum() == 0
    with pytest.warns(UnseenCategoryWarning):
        encoded = encoder.transform(moved)
    assert (encoded[f"region_{UNSEEN}"] == 1).all()
    assert (encoded[["region_APAC", "region_EU", "region_US"]] == 0).all().all()
    with pytest.warns(UnseenCategoryWarning):
        shares = feature_scores_by_column(pipeline, moved)
    assert (shares.drop(columns=CODE_DISTANCE).idxmax(axis=1) == "region").mean() > 0.9


# ------------------------------------------------------------ case 4: fair explanations
def planted_tables(seed):
    rng = np.random.default_rng(seed)

    def table(n, x3):
        x1 = rng.normal(size=n)
        frame = pd.DataFrame(
            {"x1": x1, "x2": x1 + 0.5 * rng.normal(size=n), "x3": x3, "x4": rng.normal(size=n)}
        )
        bins = [-np.inf, -1, 0, 1, np.inf]
        frame["bin"] = pd.cut(frame["x1"], bins, labels=list("abcd")).astype(str)
        return frame

    train = table(2000, rng.normal(size=2000))
    return train, table(1000, 8.0 * train["x3"].std() + train["x3"].mean())


def test_case4_planted_numeric_outlier_is_the_top_column():
    train, planted = planted_tables(0)
    pipeline = make_table_pipeline(Autoencoder(random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the default budget
        pipeline.fit(train)
    shares = feature_scores_by_column(pipeline, planted)
    top = shares.drop(columns=CODE_DISTANCE).idxmax(axis=1)
    assert (top == "x3").mean() >= 0.99
    # the one-hot column no longer wins by its width: summing its indicators' errors did
    encoded = pipeline[:-1].transform(planted)
    errors = np.asarray(pipeline[-1].feature_scores(encoded))
    groups = pipeline.named_steps["table"].feature_groups_
    summed = np.column_stack([errors[:, i].sum(axis=1) for i in groups.values()])
    assert (np.array(list(groups))[summed.argmax(axis=1)] == "bin").mean() > 0.5


def test_case4_code_distance_is_its_own_share():
    train, planted = planted_tables(1)
    pipeline = make_table_pipeline(Autoencoder(**FAST)).fit(train)
    shares = feature_scores_by_column(pipeline, planted.iloc[:50])
    assert list(shares.columns) == ["x1", "x2", "x3", "x4", "bin", CODE_DISTANCE]
    assert shares.index.equals(planted.index[:50])
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert (shares >= 0).all().all()
    detector = pipeline[-1]
    encoded = pipeline[:-1].transform(planted.iloc[:50])
    codes = detector.transform(encoded)
    distance = ((codes - detector.code_mean_) ** 2 / detector.code_scale_).mean(axis=1)
    total = -detector.score_samples(encoded)
    np.testing.assert_allclose(shares[CODE_DISTANCE], distance / total, rtol=1e-6)
    # the detector's feature_scores: each column = its error + the code distance
    errors = np.asarray(detector.feature_scores(encoded))
    np.testing.assert_allclose(errors.mean(axis=1), total, rtol=1e-6)


# ------------------------------------------------------------------------ case 5: ids
def test_case5_id_columns_are_left_untouched():
    frame = small_table(6)
    frame["zip"] = ["03485", "NA", "null", "None", "N/A", "#N/A"]
    frame["anomaly_score"] = ["a", "b", "c", "d", "e", "f"]  # an id named like an output
    encoder = TableEncoder(id_cols=["zip", "anomaly_score"], keep_default_na=False).fit(frame)
    assert list(encoder.columns_) == ["amount", "weight", "region"]
    assert encoder.transform(frame.drop(columns=["zip", "anomaly_score"])).shape == (6, 6)
    assert frame["zip"].tolist() == ["03485", "NA", "null", "None", "N/A", "#N/A"]


# --------------------------------------------------------------- case 6: "NA" categories
def test_case6_na_category_is_kept_with_keep_default_na_false():
    frame = pd.DataFrame({"region": ["NA", "EU", "NA", "None"], "x": [1.0, 2.0, 3.0, 4.0]})
    encoder = TableEncoder(keep_default_na=False).fit(frame)
    assert encoder.columns_["region"]["categories"] == ["EU", "NA", "None"]
    assert encoder.transform(frame)[:, 1].tolist() == [1, 0, 1, 0]  # region_NA


def test_case6_na_is_missing_by_default_as_in_pandas():
    frame = pd.DataFrame({"region": ["NA", "EU", "NA", "EU"], "x": [1.0, 2.0, 3.0, 4.0]})
    message = r"missing value 'NA' in column 'region' at row 0 \(2 missing.*keep_default_na=False"
    with pytest.raises(DataError, match=message):
        TableEncoder().fit(frame)
    encoder = TableEncoder(impute="most_frequent").fit(frame)
    assert encoder.columns_["region"]["categories"] == ["EU"]


def test_case6_na_values_as_pandas_has_them():
    frame = pd.DataFrame({"region": ["NA", "EU", "?", "EU"], "x": ["1", "-", "3", "4"]})
    options = {"keep_default_na": False, "impute": "most_frequent"}
    encoder = TableEncoder(na_values={"region": ["?"], "x": ["-"]}, **options).fit(frame)
    assert encoder.columns_["region"]["categories"] == ["EU", "NA"]
    assert encoder.columns_["x"]["kind"] == NUMERIC
    encoder = TableEncoder(na_values=["?", "-"], **options).fit(frame)
    assert encoder.columns_["region"]["fill"] == "EU"


# ------------------------------------------------------- case 7: dates, booleans, id-like
def test_case7_dates_become_numeric_features_not_categories():
    frame = pd.DataFrame({"day": ["2024-01-01", "2024-03-02", "2024-07-06"], "x": [1, 2, 3]})
    encoder = TableEncoder().fit(frame)
    assert encoder.columns_["day"]["kind"] == DATETIME
    names = list(encoder.get_feature_names_out())
    assert names == [
        "day_epoch_s",
        "day_dow_sin",
        "day_dow_cos",
        "day_month_sin",
        "day_month_cos",
        "x",
    ]
    encoded = encoder.transform(frame)
    assert encoded[0, 0] == pd.Timestamp("2024-01-01", tz="UTC").timestamp()
    # 2024-01-01 is a Monday (day 0) in January (month 0): sin 0, cos 1
    np.testing.assert_allclose(encoded[0, 1:5], [0, 1, 0, 1], atol=1e-12)
    # 2024-07-06 is a Saturday (day 5) in July (month 6)
    np.testing.assert_allclose(encoded[2, 3:5], [0, -1], atol=1e-12)
    np.testing.assert_allclose(encoded[2, 1], np.sin(2 * np.pi * 5 / 7))


def test_case7_times_and_time_zones():
    frame = pd.DataFrame({"t": ["2024-05-31T13:45:00+02:00", "2024-05-31 06:00", None]})
    encoder = TableEncoder(impute="median").fit(frame)
    assert encoder.columns_["t"]["parts"] == ["epoch_s", "dow", "month", "hour"]
    encoded = encoder.transform(frame)
    assert encoded[0, 0] == pd.Timestamp("2024-05-31 11:45", tz="UTC").timestamp()
    np.testing.assert_allclose(encoded[1, 5:7], [1, 0], atol=1e-12)  # 06:00: a quarter day


def test_case7_date_cols_and_date_format():
    frame = pd.DataFrame({"d": ["31/05/2024", "01/06/2024", "02/06/2024"], "x": [1, 2, 3]})
    with pytest.raises(DataError, match=r"row 0: '31/05/2024' is not a date.*date_format"):
        TableEncoder(date_cols=["d"]).fit(frame)
    encoder = TableEncoder(date_cols=["d"], date_format="%d/%m/%Y").fit(frame)
    assert encoder.transform(frame)[0, 0] == pd.Timestamp("2024-05-31", tz="UTC").timestamp()


def test_case7_datetime_and_bool_dtypes():
    frame = pd.DataFrame(
        {
            "when": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "flag": [True, False, True],
            "text_flag": ["Yes", "no", "NO"],
        }
    )
    assert kinds(frame) == {"when": DATETIME, "flag": BOOLEAN, "text_flag": BOOLEAN}
    encoded = TableEncoder().fit_transform(frame)
    np.testing.assert_array_equal(encoded[:, 5:], [[1, 1], [0, 0], [1, 0]])


def test_case7_id_like_text_column_is_refused_whatever_the_row_count():
    for n in (3, 5000):
        frame = pd.DataFrame({"name": [f"user{i}" for i in range(n)], "x": np.arange(n) % 7})
        with pytest.raises(DataError, match=r"column 'name' has a different value on each of"):
            TableEncoder().fit(frame)
    assert TableEncoder(id_cols=["name"]).fit(frame).columns_.keys() == {"x"}
    assert TableEncoder(categorical=["name"]).fit(frame[:5]).columns_["name"]["kind"] == (
        CATEGORICAL
    )


# ------------------------------------------------------------------ missing values
def test_missing_value_error_names_column_and_row():
    frame = small_table(10).set_axis(list("abcdefghij"))
    frame.loc["g", "weight"] = np.nan
    with pytest.raises(DataError, match=r"column 'weight' at row 'g' \(1 missing\); to fill"):
        TableEncoder().fit(frame)
    encoder = TableEncoder(impute="median").fit(frame)
    assert encoder.transform(frame)[6, 1] == pytest.approx(frame["weight"].median())


def test_a_repeated_or_multiindex_label_is_named_so_the_row_can_be_found():
    """After ``pd.concat([jan, feb])`` the labels repeat: "row 5" named two rows, and a
    MultiIndex label printed NumPy's ``(np.int64(2), 5)``. A repeated label comes with the
    row's position now, and a tuple's parts as Python values."""
    jan, feb = small_table(10, seed=1), small_table(10, seed=2)
    feb.loc[5, "weight"] = np.nan
    frame = pd.concat([jan, feb])
    with pytest.raises(DataError, match=r"'weight' at row 5 \(position 15\) \(1 missing\)"):
        TableEncoder().fit(frame)
    encoder = TableEncoder().fit(jan)
    with pytest.raises(DataError, match=r"'weight' at row 5 \(position 15\)"):
        encoder.transform(frame)
    frame.index = pd.MultiIndex.from_product([[1, 2], range(10)], names=["month", "i"])
    with pytest.raises(DataError, match=r"'weight' at row \(2, 5\) \(1 missing\)"):
        TableEncoder().fit(frame)
    typo = pd.concat([jan, jan]).astype({"amount": object})
    typo.iloc[13, 0] = "1O5"
    with pytest.raises(DataError, match=r"row 3 \(position 13\): '1O5'"):
        encoder.transform(typo)
    typo.iloc[13, 0], typo.iloc[13, 2] = 1.0, "LATAM"
    with pytest.warns(UnseenCategoryWarning, match=r"first at row 3 \(position 13\): 'LATAM'"):
        encoder.transform(typo)
    # labels that are unique whatever their type stay as they were
    with pytest.raises(DataError, match=r"'weight' at row 15 \(1 missing\)"):
        TableEncoder().fit(frame.reset_index(drop=True))


def test_a_row_of_a_table_scored_in_chunks_is_named_by_its_place_in_the_table(monkeypatch):
    """score_table cuts a DataFrame into chunks (FRAME_CHUNK rows), and the messages judged
    a label repeated and counted its position in the chunk: a label repeated in the table
    but once in its chunk had no position ('row 1'), and one repeated in its chunk had its
    position in the chunk ('row 2 (position 7)' for the table's 18th row)."""
    from ae_anomaly.tables import scoring
    from ae_anomaly.tables.fitting import fit_table

    monkeypatch.setattr(scoring, "FRAME_CHUNK", 10)
    rng = np.random.default_rng(0)

    def month(n):
        return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})

    model = fit_table(Autoencoder(max_iter=1, random_state=0), month(40))
    frame = pd.concat([month(12), month(3)])  # the second chunk's labels: 10, 11, 0, 1, 2
    frame.iloc[13, 1] = np.nan
    with pytest.raises(DataError, match=r"'b' at row 1 \(position 13\) \(1 missing\)"):
        scoring.score_table(model, frame)
    frame = pd.concat([month(5) for _ in range(4)])  # each chunk holds each label twice
    frame.iloc[17, 1] = np.nan
    with pytest.raises(DataError, match=r"'b' at row 2 \(position 17\) \(1 missing\)"):
        scoring.score_table(model, frame)
    frame = month(20).set_axis(range(100, 120))  # unique labels: no position
    frame.iloc[17, 1] = np.nan
    with pytest.raises(DataError, match=r"'b' at row 117 \(1 missing\)"):
        scoring.score_table(model, frame)


def test_an_all_missing_column_is_refused():
    frame = small_table(10).assign(empty=np.nan)
    with pytest.raises(DataError, match="column 'empty' has no values"):
        TableEncoder(impute="median").fit(frame)


# ------------------------------------------------------------------- sklearn contract
# (sklearn's checks of TableEncoder: tests/test_estimator_checks.py, over the registry)


def test_clone_params_pickle_and_set_output():
    frame = small_table()
    encoder = TableEncoder(categorical=("region",), impute="median", decimal=",")
    assert clone(encoder).get_params() == encoder.get_params()
    encoder.set_output(transform="pandas").fit(frame)
    restored = pickle.loads(pickle.dumps(encoder))
    out = restored.transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(encoder.get_feature_names_out())
    pd.testing.assert_frame_equal(out, encoder.transform(frame))
    pipeline = clone(make_table_pipeline(Autoencoder(**FAST)))
    assert isinstance(pipeline.fit(frame)[:-1].transform(frame), pd.DataFrame)


def test_case9_a_table_pipeline_saves_and_loads(tmp_path):
    import ae_anomaly

    frame = small_table()
    pipeline = make_table_pipeline(Autoencoder(**FAST), categorical=["region"]).fit(frame)
    ae_anomaly.save(pipeline, tmp_path / "model.skops")
    loaded = ae_anomaly.load(tmp_path / "model.skops")
    np.testing.assert_array_equal(loaded.score_samples(frame), pipeline.score_samples(frame))


def test_case9_save_refuses_what_load_would_refuse(tmp_path):
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    import ae_anomaly

    frame = small_table()[["amount", "region"]]
    columns = make_column_transformer(
        ("passthrough", make_column_selector(dtype_include="number")),
        (OneHotEncoder(sparse_output=False), ["region"]),
    )
    pipeline = make_pipeline(columns, Autoencoder(**FAST)).fit(frame)
    with pytest.raises(TypeError, match="make_column_selector.*load would refuse"):
        ae_anomaly.save(pipeline, tmp_path / "model.skops")
    assert not (tmp_path / "model.skops").exists()


def test_forced_kinds_and_unknown_names():
    frame = small_table()
    with pytest.raises(DataError, match=r"no column named 'nope' \(given in numeric\)"):
        TableEncoder(numeric=["nope"]).fit(frame)
    with pytest.raises(DataError, match="given in both categorical and numeric"):
        TableEncoder(categorical=["amount"], numeric=["amount"]).fit(frame)
    encoder = TableEncoder(categorical=["region"]).fit(frame)
    with pytest.raises(DataError, match=r"missing column\(s\) 'region'"):
        encoder.transform(frame.drop(columns="region"))


# ---------------------------------------------------------------- the example table
def test_mixed_example_table_types_and_ranks_malignant_rows():
    frame, is_anomaly = load_mixed_example()
    assert kinds(frame, id_cols=["patient_id"], keep_default_na=False) == {
        "radius": NUMERIC,
        "texture": NUMERIC,
        "smoothness": NUMERIC,
        "concavity": NUMERIC,
        "area": NUMERIC,
        "compactness": NUMERIC,
        "size": CATEGORICAL,
        "clinic": CATEGORICAL,
        "biopsy": BOOLEAN,
        "visit": DATETIME,
    }
    options = {"id_cols": ["patient_id"], "keep_default_na": False}
    pipeline = make_table_pipeline(Autoencoder(max_iter=10, random_state=0), **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(frame)
    assert roc_auc_score(is_anomaly, -pipeline.score_samples(frame)) > 0.85


def test_case7_an_impossible_iso_date_is_named_so_without_format_advice():
    days = [f"2024-03-{i % 28 + 1:02d}" for i in range(30)]
    with pytest.raises(DataError) as info:
        kinds(pd.DataFrame({"when": [*days, "2024-02-30"]}))
    message = str(info.value)
    assert "'2024-02-30' (no such date or time) is not a date" in message
    assert "date_format" not in message
    with pytest.raises(DataError, match="pass date_format for non-ISO dates"):
        kinds(pd.DataFrame({"when": [*days, "03/15/2024"]}))


def test_shares_of_a_row_that_cannot_be_scored_come_with_one_warning_naming_it():
    """feature_scores_by_column scores quietly (the command line counts such rows itself):
    called by the user, it said nothing of a row whose values overflow in the model's
    arithmetic, and gave it shares as if it were scored."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=list("abc"))
    pipeline = make_table_pipeline(Autoencoder(max_iter=3, random_state=0)).fit(frame)
    odd = frame.iloc[:3].set_axis([10, 11, 12]).assign(c=[0.1, 1e300, 1e300])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shares = feature_scores_by_column(pipeline, odd)
    said = [str(w.message) for w in caught]
    assert len(said) == 1 and said[0].startswith("2 row(s) could not be scored"), said
    assert "(first: row 11)" in said[0] and caught[0].filename == __file__
    assert shares.loc[11, "c"] > 0 and np.allclose(shares.sum(axis=1), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        feature_scores_by_column(pipeline, frame.iloc[:3])  # every row scored: no warning
