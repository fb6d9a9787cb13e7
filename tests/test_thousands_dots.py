"""Whole numbers with '.' between thousands (German exports: ``1.817`` is 1817).

A semicolon-delimited export of counts writes ``419`` and ``1.817``; read with the default
marks, the second is 1.817, a thousand times too small, and the model ranks the rows on
two scales, silently. Fitting now warns naming the column and the marks that read it,
when every dotted cell has exactly three decimals and some cells are whole numbers under
1000; ordinary decimal columns (prices, measurements) are not warned about.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ae_anomaly.tables.encoder import TableEncoder
from ae_anomaly.tables.exports import ThousandsLikeWarning
from tests.cli_checks import FAST, run


def _units(n=80, seed=5):
    rng = np.random.default_rng(seed)
    values = np.exp(rng.normal(7, 1.2, n)).astype(int) + 1
    return [f"{v:,}".replace(",", ".") for v in values]


def _warned(frame, **params):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        TableEncoder(**params).fit(frame)
    return [str(w.message) for w in caught if issubclass(w.category, ThousandsLikeWarning)]


def _frame(cells):
    rng = np.random.default_rng(0)
    prices = [f"{v:.2f}" for v in rng.normal(20, 3, len(cells))]
    return pd.DataFrame({"units": cells, "price": prices})


def test_whole_numbers_with_dotted_thousands_are_warned_about_naming_the_column():
    cells = _units()
    assert any("." in c for c in cells) and any("." not in c for c in cells)
    (text,) = _warned(_frame(cells))
    assert text.startswith("column 'units' mixes whole numbers (e.g. '")
    assert "decimal=','" in text and "thousands='.'" in text


def test_read_with_the_marks_advised_there_is_no_warning():
    cells = _units()
    frame = pd.DataFrame({"units": cells})
    assert _warned(frame, decimal=",", thousands=".") == []


@pytest.mark.parametrize(
    "cells",
    [
        [f"{v:.2f}" for v in np.random.default_rng(1).normal(20, 3, 50)],  # prices
        [str(round(v, 3)) for v in np.random.default_rng(2).uniform(0, 5, 50)],  # 1.8, 2.304
        ["1.817", "2.304", "4.287", "0.512"],  # weights: no whole number beside them
        ["419", "1.817", "4.25", "815"],  # one cell with two decimals
        ["419", "1.817", "815"],  # one dotted cell only
        ["12", "1500", "1.817", "2.304"],  # 1500 would have had its dot
        ["3", "7", "12", "815"],  # whole numbers only
    ],
)
def test_ordinary_number_columns_are_not_warned_about(cells):
    assert _warned(_frame(cells)) == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=2, max_size=40))
def test_columns_of_floats_as_python_writes_them_are_not_warned_about(values):
    """Python's shortest repr drops trailing zeros: random floats never all show exactly
    three decimals beside whole numbers under 1000... unless they are such numbers."""
    cells = [repr(v) if v != int(v) else str(int(v)) for v in values]
    dotted = [c for c in cells if "." in c]
    whole = [c for c in cells if "." not in c]
    suspicious = (
        2 <= len(dotted) < len(cells)
        and all(re.fullmatch(r"-?\d{1,3}\.\d{3}", c) for c in dotted)
        and all(re.fullmatch(r"-?\d{1,3}", c) for c in whole)
    )
    assert bool(_warned(_frame(cells))) == suspicious


def test_the_cli_warns_at_fit_with_its_own_flags(tmp_path):
    data = tmp_path / "eu.csv"
    pd.DataFrame({"id": [f"r{i}" for i in range(80)], "units": _units()}).to_csv(
        data, index=False, sep=";"
    )
    result = run("detect", data, "--id-col", "id", "--delimiter", ";", *FAST)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "three decimals" in line]
    assert len(lines) == 1, result.stderr
    assert "--decimal ','" in lines[0] and "--thousands '.'" in lines[0], lines[0]
    marks = ["--decimal", ",", "--thousands", "."]
    fixed = run("detect", data, "--id-col", "id", "--delimiter", ";", *marks, *FAST)
    assert fixed.exit_code == 0 and "three decimals" not in fixed.stderr, fixed.output
