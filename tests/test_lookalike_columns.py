"""Columns that look like categories but hold numbers or dates written another way.

Amounts written ``$1,234.50``, weights ``70.5 kg``, decimal commas in a comma-separated
file and dates written ``03/15/2024`` were typed as categories, one per value: a fit
succeeded and scored nonsense (median anomaly score ~100-200 on clean data). They are
refused now, with the option that reads them; so is a text column whose values are mostly
seen once. Codes (``Q1``, ``12A``) and names with repeats stay categories.
"""

import ast
import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ae_anomaly.tables.encoder import TableEncoder
from ae_anomaly.tables.formats import DataError
from ae_anomaly.tables.lookalike import DATE_FORMATS, NUMBER_MARKS, date_formats
from ae_anomaly.tables.typing import (
    CATEGORICAL,
    DATETIME,
    NUMERIC,
    ParseOptions,
    classify_column,
    parse_datetimes,
    parse_numbers,
)

from .test_cli_mixed import error_line, ok, run

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def refusal(cells, options=None, name="col"):
    """The message of the refusal of a column of ``cells`` (fails if it is typed)."""
    with pytest.raises(DataError) as info:
        classify_column(pd.Series(cells, name=name), options or ParseOptions())
    message = str(info.value)
    assert "\n" not in message and f"column {name!r}" in message
    return message


def written(value, decimal, thousands):
    """``value`` with two decimals, in the given marks (thousands grouped when given)."""
    text = f"{value:,.2f}" if thousands else f"{value:.2f}"
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands or "")


AMOUNTS = [1234.5, 12.0, 7.25, 1234.5, 980.0, 15000.0, 3.1, 12.0, 44.44, 650.0]


@pytest.mark.parametrize(
    ("cells", "needle"),
    [
        ([f"${v:,.2f}" for v in AMOUNTS], "numbers with a unit, '$'"),
        ([f"{v:.1f} kg" for v in AMOUNTS], "numbers with a unit, 'kg'"),
        ([f"{written(v, ',', '.')} €" for v in AMOUNTS], "numbers with a unit, '€'"),
        ([f"{v:.2f} USD" for v in AMOUNTS], "numbers with a unit, 'USD'"),
    ],
)
def test_numbers_with_a_unit_are_refused_not_one_category_each(cells, needle):
    message = refusal(cells)
    assert needle in message and "categorical" in message
    unit = needle.split("'")[1]
    stripped = [c.replace(unit, "").strip() for c in cells]
    if "," in stripped[0]:  # the separators named too
        assert "thousands=" in message
    # the advice read literally: without the unit, with the marks it names
    options = ParseOptions(
        decimal="," if "decimal=','" in message else ".",
        thousands=(message.split("thousands=")[1][1] if "thousands=" in message else None),
    )
    values = parse_numbers(pd.Series(stripped), options)[0]
    np.testing.assert_array_equal(values, np.round([float(f"{v:.2f}") for v in AMOUNTS], 1)
                                  if unit == "kg" else AMOUNTS)  # fmt: skip


@pytest.mark.parametrize(
    ("decimal", "thousands", "advice"),
    [
        (",", None, "decimal=','"),
        (".", ",", "thousands=','"),
        (",", ".", "decimal=',' and thousands='.'"),
        (".", "'", "thousands=\"'\""),
        (".", " ", "thousands=' '"),
        (",", " ", "decimal=',' and thousands=' '"),
        # the no-break spaces of French-style exports, spelled so they can be seen
        (",", "\u00a0", "decimal=',' and thousands='\\xa0'"),
        (".", "\u202f", "thousands='\\u202f'"),
    ],
)
def test_numbers_written_with_other_marks_name_the_marks(decimal, thousands, advice):
    cells = [written(v, decimal, thousands) for v in AMOUNTS]
    message = refusal(cells)
    assert f"pass {advice} to read them as numbers" in message
    values = parse_numbers(pd.Series(cells), ParseOptions(decimal=decimal, thousands=thousands))
    np.testing.assert_array_equal(values[0], AMOUNTS)


def test_amounts_grouped_the_indian_way_read_with_the_thousands_mark():
    """12,34,567.50 (lakh and crore: groups of two, then three) was one category per value,
    refused as an id, and --thousands ',' did not read it; pandas' thousands=',' does."""
    amounts = [1234567.5, 98765.25, 120000.0, 4500.0, 7.75, 10000000.0] * 4
    cells = ["12,34,567.50", "98,765.25", "1,20,000.00", "4,500.00", "7.75", "1,00,00,000.00"] * 4
    message = refusal(cells)
    assert "pass thousands=',' to read them as numbers" in message
    options = ParseOptions(thousands=",")
    values, bad, _ = parse_numbers(pd.Series(cells), options)
    np.testing.assert_array_equal(values, amounts)
    expected = pd.read_csv(io.StringIO("x\n" + "".join(f'"{c}"\n' for c in cells)), thousands=",")
    np.testing.assert_array_equal(values, expected["x"])
    for odd in ["12,34", "1,2,345", "123,45,678", "1,23,45"]:  # neither grouping
        assert parse_numbers(pd.Series([odd, *cells]), options)[1][0], odd


@pytest.mark.parametrize("mark", ["%", " %"])
def test_percentages_with_a_decimal_comma_name_the_decimal_mark(mark):
    """63,7 % (a French export) was refused as an id or free text with no word of the
    decimal mark, which reads it."""
    rates = [63.7, 27.0, 5.5, 99.9, 12.25, 40.0, 63.7, 1.5] * 3
    cells = [f"{r}".replace(".", ",") + mark for r in rates]
    assert "pass decimal=',' to read them as numbers" in refusal(cells)
    values = parse_numbers(pd.Series(cells), ParseOptions(decimal=","))[0]
    np.testing.assert_allclose(values, np.array(rates) / 100, rtol=1e-15)


def test_amounts_grouped_by_no_break_spaces_with_a_unit_name_unit_and_marks():
    cells = [written(v, ",", "\u00a0") + "\u00a0€" for v in AMOUNTS]  # 1 234,50 €
    message = refusal(cells)
    assert "numbers with a unit, '€'" in message
    assert "decimal=',' and thousands='\\xa0'" in message
    stripped = [c.replace("€", "").strip() for c in cells]
    values = parse_numbers(pd.Series(stripped), ParseOptions(decimal=",", thousands="\xa0"))
    np.testing.assert_array_equal(values[0], AMOUNTS)


def test_a_few_cells_with_separators_name_the_marks_that_read_every_cell():
    cells = [f"{v / 10:.2f}" for v in range(19)] + ["1,234.50"]
    message = refusal(cells)
    assert "row 19: '1,234.50' is not a number" in message
    assert "pass thousands=',' to read them as numbers" in message
    typo = refusal(["1O5", *map(str, range(20))])  # no marks read it: the general hint
    assert "check decimal and thousands" in typo


@pytest.mark.parametrize(
    ("cells", "then"),
    [
        (["1,234.00", "(56.00)", "12.50", "(1,000.00)"] * 5, "and pass thousands=','"),
        (["1234.00", "56.00-", "12.50"] * 5, "to read them as numbers"),
    ],
)
def test_negatives_in_accounting_style_are_refused_with_the_way_to_write_them(cells, then):
    message = refusal(cells)
    assert "holds numbers with negatives in accounting style" in message
    assert f"write them -56.00, not (56.00) or 56.00-, {then}" in message
    assert classify_column(pd.Series(["(a)", "(b)", "c"] * 5, name="col"),
                           ParseOptions()).kind == CATEGORICAL  # fmt: skip


def test_dates_in_another_format_are_refused_with_the_format():
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta([0, 45, 45, 80, 13, 13, 100], "D")
    cells = list(days.strftime("%m/%d/%Y"))
    message = refusal(cells)
    assert "dates or times written as %m/%d/%Y" in message and "date_format='%m/%d/%Y'" in message
    typed = classify_column(pd.Series(cells, name="col"), ParseOptions(date_format="%m/%d/%Y"))
    assert typed.kind == DATETIME
    # day and month both <= 12: both readings named
    message = refusal(["01/02/2024", "03/04/2024", "05/06/2024", "01/02/2024"])
    assert "date_format='%m/%d/%Y' (or %d/%m/%Y: both read every cell)" in message
    # another format than the one given: rewrite it, one format reads every date column
    message = refusal(cells, ParseOptions(date_format="%d.%m.%Y"))
    assert "rewrite them as the date_format given (%d.%m.%Y)" in message


def test_times_of_day_are_refused_with_their_format():
    cells = ["08:15", "17:45", "08:15", "12:00", "23:59", "08:15"]
    message = refusal(cells)
    assert "dates or times written as %H:%M" in message and "date_format='%H:%M'" in message
    typed = classify_column(pd.Series(cells, name="col"), ParseOptions(date_format="%H:%M"))
    assert typed.kind == DATETIME


def test_mostly_unique_text_is_refused_like_an_id():
    names = [f"customer {i}" for i in range(40)] + ["customer 1"] * 10
    message = refusal(names)
    assert "has 40 distinct values in its 50 rows, 39 of them on one row only" in message
    assert "id_cols" in message
    encoder = TableEncoder(categorical=["col"]).fit(pd.DataFrame({"col": names}))
    assert encoder.columns_["col"]["kind"] == CATEGORICAL


@pytest.mark.parametrize(
    "cells",
    [
        ["Q1", "Q2", "Q3", "Q4"] * 5,
        ["12A", "12B", "3C", "12A", "3C", "7D"] * 3,
        ["S", "M", "L", "XL"] * 4,
        ["Paris", "Lyon", "Nice", "Paris", "Lille", "Nice"] * 3,
        ["v1.2", "v1.3", "v2.0"] * 5,
        ["2-3", "4-5", "6-8"] * 5,
    ],
)
def test_codes_and_names_with_repeats_stay_categories(cells):
    assert classify_column(pd.Series(cells, name="col"), ParseOptions()).kind == CATEGORICAL


@pytest.mark.parametrize(
    "cells",
    [
        [f"${v:,.2f}" for v in AMOUNTS],
        [written(v, ",", None) for v in AMOUNTS],
        list(pd.date_range("2024-01-01", periods=10, freq="5D").strftime("%d.%m.%Y")),
    ],
)
def test_categorical_keeps_a_refused_column_as_categories(cells):
    encoder = TableEncoder(categorical=["col"]).fit(pd.DataFrame({"col": cells}))
    assert encoder.columns_["col"]["kind"] == CATEGORICAL


# ---------------------------------------------------------------------------- properties
CENTS = st.integers(min_value=-(10**8), max_value=10**8).map(lambda c: c / 100)
UNITS = st.sampled_from([None, ("$", ""), ("", " €"), ("£", ""), ("", " kg"), ("", " USD")])


@SETTINGS
@given(values=st.lists(CENTS, min_size=2, max_size=40), marks=st.sampled_from(NUMBER_MARKS),
       plain=st.booleans(), unit=UNITS, accounting=st.booleans())  # fmt: skip
def test_written_numbers_are_never_typed_as_categories(values, marks, plain, unit, accounting):
    """Numbers in any of these writings are numeric, or refused naming the column; the
    marks a refusal names read the very values."""
    decimal, thousands = (".", None) if plain else marks
    cells = [written(v, decimal, thousands) for v in values]
    if accounting and not unit and any(v < 0 for v in values):  # (56.00), or 56.00-
        cells = [f"({c[1:]})" if c.startswith("-") else c for c in cells]
        with pytest.raises(DataError, match="column 'amount'.*(accounting style|not a number)"):
            classify_column(pd.Series(cells, name="amount"), ParseOptions())
        return
    if unit:
        cells = [f"{unit[0]}{c}{unit[1]}" if not c.startswith("-") else
                 f"-{unit[0]}{c[1:]}{unit[1]}" for c in cells]  # fmt: skip
    series = pd.Series(cells, name="amount")
    try:
        kind = classify_column(series, ParseOptions()).kind
    except DataError as exc:
        message = str(exc)
        assert "\n" not in message and "column 'amount'" in message
        if unit:
            assert "numbers with a unit" in message
        elif (decimal, thousands) != (".", None):  # the marks named, as a whole or per cell
            assert " to read them as numbers" in message
            first = message.split("pass ")[1].split(" to read")[0].split(" (or ")[0]
            options = {"decimal": ".", "thousands": None}
            for part in first.split(" and "):
                key, value = part.split("=", 1)
                options[key] = ast.literal_eval(value)
            parsed, bad, _ = parse_numbers(series, ParseOptions(**options))
            alternative = " (or " in message
            assert alternative or (not bad.any() and parsed.tolist() == values)
        return
    assert kind == NUMERIC and not unit  # then written plain: read as they are
    assert parse_numbers(series, ParseOptions())[0].tolist() == values


@SETTINGS
@given(
    days=st.lists(st.datetimes(min_value=pd.Timestamp("1990-01-01").to_pydatetime(),
                               max_value=pd.Timestamp("2040-01-01").to_pydatetime()),
                  min_size=2, max_size=30),
    fmt=st.sampled_from(DATE_FORMATS),
)  # fmt: skip
def test_dates_in_a_listed_format_are_refused_with_a_format_that_reads_them(days, fmt):
    stamps = pd.DatetimeIndex(days).floor("s" if "%S" in fmt else "min" if "%M" in fmt else "D")
    cells = list(stamps.strftime(fmt))
    found = date_formats(*np.unique(cells, return_counts=True), min_fraction=0.9)
    assert fmt in found
    message = refusal(cells)
    assert f"dates or times written as {found[0]}" in message
    named = found[:2]  # the second named too when there is one
    assert len(named) == 1 or f"(or {named[1]}: both read every cell)" in message

    if "%d" not in fmt:  # a time of day: read as on 1900-01-01
        stamps = pd.Timestamp("1900-01-01") + (stamps - stamps.normalize())

    def reads_them(named_format):
        read, bad = parse_datetimes(pd.Series(cells), ParseOptions(date_format=named_format))
        return not bad.any() and (read.dt.tz_localize(None) == pd.Series(stamps)).all()

    assert any(reads_them(f) for f in named)


# ---------------------------------------------------------------------------- the CLI
def test_cli_refuses_a_currency_column_and_reads_it_once_stripped(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=120).round(3),
                          "amount": rng.lognormal(5, 1, 120).round(2)})  # fmt: skip
    path = tmp_path / "sales.csv"
    frame.assign(amount=[f"${v:,.2f}" for v in frame.amount]).to_csv(path, index=False)
    line = error_line(run("fit", path, "-o", tmp_path / "m.skops", "--set", "max_iter=2"))
    assert "column 'amount' holds numbers with a unit, '$'" in line
    assert "--thousands ','" in line and "--categorical" in line
    frame.assign(amount=[f"{v:,.2f}" for v in frame.amount]).to_csv(path, index=False)
    ok(run("fit", path, "-o", tmp_path / "m.skops", "--thousands", ",", "--set", "max_iter=2"))
    info = json.loads(ok(run("info", tmp_path / "m.skops", "--json")).stdout)
    assert info["schema"]["features"]["amount"] == "numeric"


@pytest.mark.parametrize("blank", ["\u00a0", "\u202f"])
def test_cli_spells_a_no_break_space_so_the_advice_can_be_typed(tmp_path, blank):
    """A no-break space printed as itself looks like a space, and --thousands ' ' would
    not read the cells: the advice spells it as a code point, which the option reads."""
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"x": rng.normal(size=120).round(3),
                          "amount": rng.integers(1000, 90000, 120)})  # fmt: skip
    path = tmp_path / "export.csv"
    frame.assign(amount=[f"{v:,}".replace(",", blank) for v in frame.amount]).to_csv(
        path, index=False
    )
    line = error_line(run("fit", path, "-o", tmp_path / "m.skops", "--set", "max_iter=2"))
    spelled = f"\\u{ord(blank):04x}"
    assert "column 'amount' holds numbers written another way" in line
    assert f"pass --thousands '{spelled}' (or --decimal ','" in line
    for typed in (spelled, "nbsp") if blank == "\u00a0" else (spelled,):
        ok(run("fit", path, "-o", tmp_path / "m.skops", "--force", "--thousands", typed,
               "--set", "max_iter=2"))  # fmt: skip
        info = json.loads(ok(run("info", tmp_path / "m.skops", "--json")).stdout)
        assert info["schema"]["features"]["amount"] == "numeric"


def test_cli_names_the_date_format_and_following_it_works(tmp_path):
    rng = np.random.default_rng(1)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, 150), "D")
    path = tmp_path / "visits.csv"
    pd.DataFrame({"x": rng.normal(size=150).round(3), "when": days.strftime("%m/%d/%Y")}).to_csv(
        path, index=False
    )
    line = error_line(run("detect", path, "--set", "max_iter=2"))
    assert "column 'when' holds dates or times written as %m/%d/%Y" in line
    assert "--date-format '%m/%d/%Y'" in line
    model = tmp_path / "m.skops"
    ok(run("fit", path, "-o", model, "--date-format", "%m/%d/%Y", "--set", "max_iter=2"))
    info = json.loads(ok(run("info", model, "--json")).stdout)
    assert info["schema"]["features"]["when"] == "datetime"


def test_a_date_format_leaves_iso_dates_readable(tmp_path):
    """--date-format applied to every column: a table with US dates and ISO timestamps
    could not be fitted (the ISO column "looked like an id"), and ``denoise``, which
    writes dates as ISO, wrote a file its own model refused. ISO reads with any format."""
    rng = np.random.default_rng(2)
    n = 120
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, n), "D")
    stamps = pd.Timestamp("2024-01-01 08:00") + pd.to_timedelta(rng.integers(0, 10**6, n), "s")
    path = tmp_path / "visits.csv"
    frame = pd.DataFrame({"x": rng.normal(size=n).round(3), "when": days.strftime("%m/%d/%Y"),
                          "logged": stamps.strftime("%Y-%m-%d %H:%M")})  # fmt: skip
    frame.to_csv(path, index=False)
    model = tmp_path / "m.skops"
    ok(run("fit", path, "-o", model, "--date-format", "%m/%d/%Y", "--model", "denoising",
           "--set", "max_iter=2"))  # fmt: skip
    info = json.loads(ok(run("info", model, "--json")).stdout)
    assert info["schema"]["features"] == {"x": "numeric", "when": "datetime",
                                          "logged": "datetime"}  # fmt: skip
    cleaned = tmp_path / "cleaned.csv"
    ok(run("denoise", model, path, "-o", cleaned))
    assert pd.read_csv(cleaned)["when"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    ok(run("score", model, cleaned))
    options = ParseOptions(date_format="%m/%d/%Y")
    stamps, bad = parse_datetimes(pd.Series(["03/15/2024", "2024-03-15", "15/03/2024"]), options)
    assert bad.tolist() == [False, False, True] and stamps[0] == stamps[1]


# -------------------------------------------------- characters that pass for others
LOOKALIKES = {"-": ["\u2212", "\u2013", "\u2012"], "1": ["\uff11"], "5": ["\uff15"],
              "0": ["\uff10"], " ": ["\u00a0", "\u202f"]}  # fmt: skip


@SETTINGS
@given(values=st.lists(CENTS, min_size=20, max_size=40), data=st.data())
def test_a_cell_with_a_lookalike_character_is_named_by_its_code_point(values, data):
    """One cell of a numeric column with a character that passes for an ASCII one: the
    column is refused naming that character's code point, or (a blank between digit
    groups in every cell) as numbers written another way -- never typed as categories."""
    cells = [f"{v:.2f}" for v in values]
    row = data.draw(st.integers(0, len(cells) - 1))
    plain = data.draw(st.sampled_from([c for c in "-150" if c in cells[row]] or ["-"]))
    odd = data.draw(st.sampled_from(LOOKALIKES[plain]))
    cells[row] = cells[row].replace(plain, odd, 1) if plain in cells[row] else odd + cells[row]
    with pytest.raises(DataError) as info:
        classify_column(pd.Series(cells, name="amount"), ParseOptions())
    message = str(info.value)
    assert "\n" not in message and "column 'amount'" in message
    assert f"U+{ord(odd):04X}" in message or "written another way" in message, message


@SETTINGS
@given(category=st.sampled_from(["EU", "North America", "APAC"]),
       spelling=st.sampled_from([str.lower, str.upper, lambda t: f" {t}", lambda t: f"{t}  ",
                                 lambda t: t.replace(" ", "  ")]))  # fmt: skip
def test_an_unseen_category_names_the_fitted_one_it_is_but_for_case_or_blanks(category,
                                                                              spelling):
    encoder = TableEncoder().fit(pd.DataFrame({"region": ["EU", "North America", "APAC"] * 5}))
    variant = spelling(category)
    note = encoder.unseen_note("region", variant)
    if variant == category:
        return
    assert note == f"{variant!r}, which is {category!r} but for case or blanks"
    assert encoder.unseen_note("region", variant + "x") == repr(variant + "x")


def test_the_example_of_a_unit_refusal_is_a_number_with_the_unit():
    cells = ["$ n/a", *(f"${v:,.2f}" for v in AMOUNTS * 3)]  # the first cell: no number
    message = refusal(cells)
    assert "numbers with a unit, '$', e.g. row 1: '$1,234.50'" in message
