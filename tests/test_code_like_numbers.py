"""Codes written with leading zeros (zip codes 02134, account numbers 0042) in a text table.

Such a column reads as numbers, as pandas reads it: the zeros are lost and the model ranks
the codes by size, silently. Fitting now warns, naming the column, an example and the
option that keeps them as categories; a column listed as categorical is not warned about.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ae_anomaly import load
from ae_anomaly.tables.encoder import TableEncoder
from ae_anomaly.tables.lookalike import CodeLikeNumbersWarning
from tests.cli_checks import FAST, assert_error, run

ZIPS = ["02134", "02139", "10001", "94105", "60601", "00501"]


def _table(zips, n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "zip": [zips[i % len(zips)] for i in range(n)],
        "amount": [f"{v:.2f}" for v in rng.normal(50, 10, n)],
    })  # fmt: skip


def _code_warnings(frame, **params):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        TableEncoder(**params).fit(frame)
    return [w for w in caught if issubclass(w.category, CodeLikeNumbersWarning)]


def test_a_column_of_zero_padded_codes_is_warned_about_naming_it():
    (warning,) = _code_warnings(_table(ZIPS))
    text = str(warning.message)
    assert text.startswith("column 'zip' holds numbers written with leading zeros (e.g. '02134')")
    assert "categorical" in text and "id_cols" in text


@pytest.mark.parametrize("params", [{"categorical": ["zip"]}, {"id_cols": ["zip"]}])
def test_a_column_the_user_typed_is_not_warned_about(params):
    assert _code_warnings(_table(ZIPS), **params) == []


@pytest.mark.parametrize(
    "cells",
    [
        ["0", "10", "0.5"],
        ["-0.25", "+0", "0e3"],
        ["00.5", "1"],
        [f"{m:02d}" for m in range(1, 13)],  # months
        ["00", "15", "30", "45"],
    ],
)  # minutes: two digits
def test_numbers_without_leading_zeros_are_not_warned_about(cells):
    assert _code_warnings(_table(cells)) == []


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.integers(0, 10**6), min_size=2, max_size=30),
    padded=st.one_of(st.none(), st.integers(0, 29)),
    width=st.integers(3, 8),
)
def test_warned_exactly_when_a_whole_number_of_3_digits_has_a_leading_zero(values, padded,
                                                                           width):  # fmt: skip
    cells = [str(v) for v in values]
    if padded is not None:
        cells[padded % len(cells)] = "0" + str(values[padded % len(values)]).zfill(width - 1)
    frame = pd.DataFrame({"code": cells, "other": [f"{i}.5" for i in range(len(cells))]})
    warned = _code_warnings(frame)
    assert len(warned) == (padded is not None)
    assert all("'code'" in str(w.message) for w in warned)


def test_the_cli_warns_once_at_fit_with_its_own_flags_and_not_at_score(tmp_path):
    data = tmp_path / "zips.csv"
    _table(ZIPS).to_csv(data, index=False)
    fitted = run("fit", data, "-o", tmp_path / "m.skops", *FAST)
    assert fitted.exit_code == 0, fitted.output
    lines = [line for line in fitted.stderr.splitlines() if "leading zeros" in line]
    assert len(lines) == 1 and "--categorical" in lines[0] and "--id-col" in lines[0], lines
    assert "if numbers, in --numeric." in lines[0]
    scored = run("score", tmp_path / "m.skops", data, "-o", tmp_path / "s.csv")
    assert scored.exit_code == 0, scored.output
    assert "leading zeros" not in scored.stderr


def test_numeric_reads_zero_padded_numbers_as_numbers_without_the_warning(tmp_path):
    """--numeric zip: measurements written with leading zeros stay numbers, with no
    warning, in fit and detect; the model keeps the option (score reads them so too)."""
    data = tmp_path / "zips.csv"
    _table(ZIPS).to_csv(data, index=False)
    model = tmp_path / "m.skops"
    fitted = run("fit", data, "-o", model, "--numeric", "zip", *FAST)
    assert fitted.exit_code == 0, fitted.output
    assert "leading zeros" not in fitted.stderr
    assert list(load(model)[0].numeric) == ["zip"]
    scored = run("score", model, data, "-o", tmp_path / "s.csv")
    assert scored.exit_code == 0 and "leading zeros" not in scored.stderr, scored.output
    detected = run("detect", data, "--numeric", "zip", *FAST)
    assert detected.exit_code == 0 and "leading zeros" not in detected.stderr, detected.output
    assert_error(run("fit", data, "-o", tmp_path / "m2.skops", "--numeric", "nosuch", *FAST),
                 2, "--numeric: no column named 'nosuch'; the columns are 'zip', 'amount'.")
    assert_error(run("detect", data, "--numeric", "zip", "--categorical", "zip", *FAST), 2,
                 "column 'zip' is given in both --categorical and --numeric.")
    assert not (tmp_path / "m2.skops").exists()
