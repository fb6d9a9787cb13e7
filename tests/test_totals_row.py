"""A spreadsheet export ending in a totals row (``Total,200610.51,5081,3993.56``).

The row was fitted on as one more row, silently: far out in every column, it stretched
what the model learns as normal (7 rows flagged became 3). Fitting in memory now warns
naming the row, when its text reads ``Total`` (``Sum``, ``Summe``...) or when its numbers
are the sums of the rows above; ordinary tables are not warned about.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ae_anomaly.tables.exports import TotalsRowWarning
from ae_anomaly.tables.fitting import read_table
from tests.cli_checks import FAST, run


def _table(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "id": [f"r{i:04d}" for i in range(n)],
        "amount": np.round(rng.normal(1000, 200, n), 2),
        "qty": rng.integers(1, 50, n),
        "price": np.round(rng.normal(20, 3, n), 2),
    })  # fmt: skip


def _with_last(frame, row):
    return frame.to_csv(index=False) + ",".join(map(str, row)) + "\n"


def _warned(path, **params):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_table(path, ids=["id"], **params)
    return [str(w.message) for w in caught if issubclass(w.category, TotalsRowWarning)]


def test_the_cli_warns_about_a_totals_row_naming_it(tmp_path):
    frame = _table()
    path = tmp_path / "export.csv"
    sums = [f"{frame.amount.sum():.2f}", frame.qty.sum(), f"{frame.price.sum():.2f}"]
    path.write_text(_with_last(frame, ["Total", *sums]))
    result = run("detect", path, "--id-col", "id", *FAST)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "totals row" in line]
    assert len(lines) == 1, result.stderr
    assert "row 201, the last, reads 'Total' and holds the sums" in lines[0], lines[0]
    assert "'amount', 'qty', 'price'" in lines[0] and "delete it" in lines[0]


@pytest.mark.parametrize("label", ["Total", "GRAND TOTAL", "Summe:", " sum", "Totale"])
def test_a_last_row_labelled_total_is_warned_about(tmp_path, label):
    path = tmp_path / "t.csv"
    path.write_text(_with_last(_table(), [label, "1.5", "3", "2.25"]))  # not sums: averages?
    (text,) = _warned(path)
    assert f"row 201, the last, reads {label.strip()!r}:" in text, text


def test_sums_without_a_label_are_warned_about(tmp_path):
    frame = _table()
    path = tmp_path / "t.csv"
    path.write_text(_with_last(frame, ["", frame.amount.sum(), frame.qty.sum(),
                                       frame.price.sum()]))  # fmt: skip
    (text,) = _warned(path)
    assert "row 201, the last, holds the sums of the rows above" in text, text


def test_a_typed_dataframe_with_a_totals_row_is_warned_about():
    frame = _table(20)
    totals = {"id": "", "amount": frame.amount.sum(), "qty": frame.qty.sum(),
              "price": frame.price.sum()}  # fmt: skip
    frame = pd.concat([frame, pd.DataFrame([totals])], ignore_index=True)
    with pytest.warns(TotalsRowWarning, match="row 20, the last, holds the sums"):
        read_table(frame, ids=["id"])


def test_an_ordinary_table_is_not_warned_about(tmp_path):
    path = tmp_path / "t.csv"
    _table().to_csv(path, index=False)
    assert _warned(path) == []


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 300),
    kinds=st.lists(
        st.sampled_from(["normal", "amounts", "counts", "small", "bits"]), min_size=1, max_size=5
    ),  # fmt: skip
    typed=st.booleans(),
)
def test_random_tables_are_not_warned_about(seed, n, kinds, typed):
    rng = np.random.default_rng(seed)
    draws = {
        "normal": lambda: np.round(rng.normal(0, 1, n), int(rng.integers(0, 5))),
        "amounts": lambda: np.round(np.exp(rng.normal(5, 2, n)), 2),
        "counts": lambda: rng.integers(0, 1000, n),
        "small": lambda: rng.integers(0, 10, n),
        "bits": lambda: rng.integers(0, 2, n),
    }
    frame = pd.DataFrame({f"c{i}": draws[kind]() for i, kind in enumerate(kinds)})
    frame.insert(0, "id", [f"r{i}" for i in range(n)])
    if not typed:
        frame = frame.astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TotalsRowWarning)
        read_table(frame, ids=["id"])
