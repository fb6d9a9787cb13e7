"""Row numbers and keys among the features.

A table's ``id`` column (0, 1, 2...), a counter or a card number was fitted as a
measurement without a word: the model then scores a row by its number, and new rows,
numbered past the training ones, look unusual. ``fit`` and ``detect`` now warn, naming the
column and ``--id-col``; measurements that are whole numbers (counts, ages, years) are not
warned about.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ae_anomaly import Autoencoder
from ae_anomaly.tables.api import fit_table
from ae_anomaly.tables.schema import IdColumnWarning, warn_id_columns

from .test_cli_mixed import FAST, ok, run

N = 80


def measurements(seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "amount": rng.gamma(2.0, 50.0, N).round(2),
        "items": rng.poisson(3, N),  # whole numbers with repeats: a measurement
        "age": rng.integers(18, 90, N),
    })  # fmt: skip


def warned(frame, features=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_id_columns(frame, list(frame.columns) if features is None else features)
    return [str(w.message) for w in caught if issubclass(w.category, IdColumnWarning)]


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("id", np.arange(N)),  # the usual key
        ("row", np.random.default_rng(1).permutation(N) + 1),  # a counter, shuffled
        ("customer_id", np.random.default_rng(2).choice(10**6, N, replace=False)),
        ("orderNo", np.random.default_rng(3).choice(10**6, N, replace=False)),
        ("card", 4_000_000_000_000_000 + np.random.default_rng(4).choice(10**9, N, False)),
        ("seq", np.arange(1000, 1000 + N)),  # counts the rows from 1000
        ("ref", np.arange(N, dtype=np.int64) + 9_000_000_000_000_000_000),  # 19 digits
    ],
)
def test_keys_and_row_numbers_are_warned_about_as_numbers_and_as_text(name, values):
    frame = measurements().assign(**{name: values})
    for table in (frame, frame.astype(str)):  # as pandas holds it, as a CSV is read
        messages = warned(table)
        assert len(messages) == 1 and f"feature column(s) '{name}' look like row" in messages[0]
        assert "--id-col" in messages[0]
    assert warned(frame, ["amount", "items", "age"]) == []  # given as an id: not a feature


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("paid", np.random.default_rng(5).choice(10**6, N, replace=False)),  # not a key's name
        ("id", np.r_[np.arange(N - 1), 0]),  # a repeat: not a key
        ("id", np.r_[np.arange(N - 1), np.nan]),  # a missing value
        ("id", np.arange(N) + 0.5),  # not whole numbers
        ("year", np.arange(1950, 1950 + N // 2).repeat(2)),
    ],
)
def test_measurements_are_not_warned_about(name, values):
    assert warned(measurements().assign(**{name: values})) == []
    assert warned(measurements().assign(id=np.arange(N)).iloc[:19]) == []  # a tiny table


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-10**6, 10**6), min_size=20, max_size=60, unique=True),
       st.sampled_from(["x", "id", "amount", "key"]))  # fmt: skip
def test_the_rule_holds_for_any_distinct_whole_numbers(numbers, name):
    """Distinct whole numbers warn when named like a key or when they count the rows."""
    frame = pd.DataFrame({name: numbers, "other": np.linspace(0, 1, len(numbers))})
    counts = max(numbers) - min(numbers) == len(numbers) - 1
    assert bool(warned(frame)) == (name in ("id", "key") or counts)


def test_fit_and_detect_warn_naming_the_column_and_not_with_id_col(tmp_path):
    frame = measurements().assign(id=np.arange(N))
    path = tmp_path / "t.csv"
    frame[["id", "amount", "items", "age"]].to_csv(path, index=False)
    result = ok(run("detect", path, "-o", tmp_path / "out.csv", *FAST))
    lines = [line for line in result.stderr.splitlines() if "row numbers or keys" in line]
    assert len(lines) == 1 and lines[0].startswith("Warning: feature column(s) 'id'")
    result = ok(run("detect", path, "--id-col", "id", "-o", tmp_path / "out2.csv", *FAST))
    assert "row numbers or keys" not in result.stderr
    with pytest.warns(IdColumnWarning, match="'id'"):
        fit_table(Autoencoder(max_iter=2, random_state=0), frame)


def test_a_streamed_fit_warns_from_its_first_chunk(tmp_path):
    """--chunksize fits (numbers only) warned about neither a label nor a row number."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": np.arange(600), "a": rng.normal(size=600),
                          "b": rng.normal(size=600), "label": rng.integers(0, 2, 600)})  # fmt: skip
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    result = ok(run("fit", path, "-o", tmp_path / "m.skops", "--chunksize", "200", *FAST))
    assert "feature column(s) 'id' look like row numbers or keys" in result.stderr
    assert "feature column(s) 'label' look like the answer" in result.stderr
    result = ok(run("fit", path, "-o", tmp_path / "m.skops", "--force", "--chunksize", "200",
                    "--id-col", "id", "--exclude", "label", *FAST))  # fmt: skip
    assert "look like" not in result.stderr
