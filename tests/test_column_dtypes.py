"""Columns of Parquet and pandas types other than plain numbers and text.

Parquet:
Lists and records (a struct) were typed as categories of their printed text, durations as
an id-like text column; an id column of lists or records made a CSV output fail after the
fit with pyarrow's "Unsupported Type"; an id column of durations came out as integer
microseconds. Now: such features are refused naming the column, ids go to Parquet as they
are, and to CSV as text (durations as pandas writes them) or are refused before any work.

pandas: a ``category`` column of integers was typed as numbers; periods (months,
quarters) as one category each; complex numbers lost their imaginary part with a NumPy
warning. Now: categories, dates (their first instant), refused.
"""

import io
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ae_anomaly import Autoencoder
from ae_anomaly.tables.encoder import TableEncoder
from ae_anomaly.tables.formats import DataError
from ae_anomaly.tables.pipeline import make_table_pipeline
from ae_anomaly.tables.typing import CATEGORICAL, DATETIME
from ae_anomaly.tables.writer import TableWriter

from .test_cli_mixed import FAST, error_line, ok, run

N = 60
ODD = {
    "lists": pa.array([[i, i + 1] for i in range(N)]),
    "records": pa.array([{"x": i % 3} for i in range(N)]),
    "durations": pa.array([pd.Timedelta(seconds=i % 5) for i in range(N)]),
}


def parquet(tmp_path, name, column):
    rng = np.random.default_rng(0)
    path = tmp_path / f"{name}.parquet"
    pq.write_table(pa.table({"a": rng.normal(size=N), "b": rng.normal(size=N), name: column}), path)
    return path


@pytest.mark.parametrize("what", sorted(ODD))
def test_a_feature_of_lists_records_or_durations_is_refused_naming_it(tmp_path, what):
    path = parquet(tmp_path, what, ODD[what])
    line = error_line(run("fit", path, "-o", tmp_path / "m.skops", *FAST))
    assert f"column '{what}' holds {what}, but a feature holds real numbers" in line
    assert "--id-col" in line
    frame = pq.read_table(path).to_pandas()
    with pytest.raises(DataError, match=f"column '{what}' holds {what}"):
        TableEncoder().fit(frame)


@pytest.mark.parametrize("what", sorted(ODD))
def test_an_odd_first_column_is_refused_the_same(tmp_path, what):
    """The check for a repeated header line compares the first column with its name: on
    a Parquet column of lists that comparison raised (only CSV text is checked now); the
    label check counted the values of a ``label`` column of lists: unhashable, a
    traceback."""
    rng = np.random.default_rng(0)
    path = tmp_path / "first.parquet"
    for name in (what, "label"):
        pq.write_table(pa.table({name: ODD[what], "a": rng.normal(size=N)}), path)
        line = error_line(run("fit", path, "-o", tmp_path / "m.skops", *FAST))
        assert f"column '{name}' holds {what}, but a feature holds real numbers" in line


@pytest.mark.parametrize("what", ["lists", "records"])
def test_an_id_of_lists_or_records_goes_to_parquet_or_is_refused_for_csv_before_the_fit(
    tmp_path, what, monkeypatch
):
    import ae_anomaly.tables.api as api

    path = parquet(tmp_path, what, ODD[what])
    fit_table = api.fit_table
    with monkeypatch.context() as patch:  # refused before any work
        patch.setattr(api, "fit_table", lambda *a, **k: pytest.fail("fitted before refusing"))
        line = error_line(run("detect", path, "--id-col", what, "-o", tmp_path / "out.csv"))
    assert f"column '{what}' holds {what}, which a CSV or TSV file cannot hold" in line
    assert not (tmp_path / "out.csv").exists() and api.fit_table is fit_table
    ok(run("detect", path, "--id-col", what, "-o", tmp_path / "out.parquet", *FAST))
    back = pq.read_table(tmp_path / "out.parquet")
    assert back.schema.field(what).type == ODD[what].type
    assert back.column(what).to_pylist() == ODD[what].to_pylist()


def test_ids_of_durations_and_text_bytes_are_written_to_csv_as_text(tmp_path):
    rng = np.random.default_rng(1)
    names = [f"shop {i % 4}, aisle {i}" for i in range(N)]  # a comma: quoted
    pq.write_table(pa.table({
        "a": rng.normal(size=N), "b": rng.normal(size=N),
        "wait": ODD["durations"], "label": pa.array([n.encode() for n in names]),
    }), tmp_path / "t.parquet")  # fmt: skip
    out = tmp_path / "out.csv"
    ok(run("detect", tmp_path / "t.parquet", "--id-col", "wait", "--id-col", "label",
           "-o", out, *FAST))  # fmt: skip
    back = pd.read_csv(out, dtype=str)
    assert back["label"].tolist() == names
    assert back["wait"].tolist() == [str(pd.Timedelta(seconds=i % 5)) for i in range(N)]
    bad = pa.table({"a": rng.normal(size=N), "b": rng.normal(size=N),
                    "raw": pa.array([b"\xff\x00"] * N)})  # fmt: skip
    pq.write_table(bad, tmp_path / "bad.parquet")
    line = error_line(run("detect", tmp_path / "bad.parquet", "--id-col", "raw",
                          "-o", tmp_path / "bad.csv", *FAST))  # fmt: skip
    assert "column 'raw' holds bytes that are not UTF-8 text" in line


def test_ids_stored_as_categories_with_delimiters_are_written_to_csv_quoted(tmp_path):
    """A Parquet id column stored as a dictionary (pandas' ``category``), of plain or
    large strings, whose values hold the delimiter, a quote or a line break: the
    writer only looked for those in plain string columns and asked Arrow for no quotes,
    which refused ("may not contain structural characters") after the whole fit."""
    rng = np.random.default_rng(5)
    names = [["Smith, John", 'say "hi"', "two\nlines", "Plain"][i % 4] for i in range(N)]
    text = {"plain": pa.string(), "large": pa.large_string()}
    columns = {f"{kind}_name": pa.array(names, kind_type).dictionary_encode()
               for kind, kind_type in text.items()}  # fmt: skip
    pq.write_table(pa.table({"a": rng.normal(size=N), "b": rng.normal(size=N), **columns}),
                   tmp_path / "people.parquet")  # fmt: skip
    ids = [arg for name in columns for arg in ("--id-col", name)]
    for out in (tmp_path / "out.csv", tmp_path / "out.tsv"):
        ok(run("detect", tmp_path / "people.parquet", *ids, "-o", out, *FAST))
        back = pd.read_csv(out, dtype=str, sep="\t" if out.suffix == ".tsv" else ",")
        for name in columns:
            assert back[name].tolist() == names
    if hasattr(pa, "string_view"):  # pyarrow 16+: a pandas ArrowDtype column may hold it
        view = pd.DataFrame({"n": pd.Series(names, dtype=pd.ArrowDtype(pa.string_view()))})
        with TableWriter(tmp_path / "view.csv") as writer:
            writer.write(view)
        assert pd.read_csv(tmp_path / "view.csv", dtype=str)["n"].tolist() == names


def test_pandas_categories_periods_and_complex_numbers():
    rng = np.random.default_rng(2)
    quarters = pd.PeriodIndex(rng.choice(pd.period_range("2020Q1", periods=8, freq="Q"), N))
    frame = pd.DataFrame({"a": rng.normal(size=N), "level": pd.Categorical(rng.integers(0, 3, N)),
                          "quarter": quarters})  # fmt: skip
    encoder = TableEncoder().fit(frame)
    assert encoder.columns_["level"]["kind"] == CATEGORICAL
    assert encoder.columns_["level"]["categories"] == ["0", "1", "2"]
    assert encoder.columns_["quarter"]["kind"] == DATETIME
    epoch = encoder.transform(frame)[:, encoder.feature_groups_["quarter"][0]]
    np.testing.assert_array_equal(epoch, [q.start_time.timestamp() for q in quarters])
    with pytest.raises(DataError, match="column 'z' holds complex numbers, but a feature"):
        TableEncoder().fit(frame.assign(z=rng.normal(size=N) + 1j))
    with pytest.raises(ValueError, match="duplicate column names: 'a'"):
        TableEncoder().fit(pd.concat([frame, frame[["a"]]], axis=1))


SECONDS = pd.Series(pd.to_timedelta([1, 2, 3, 4] * (N // 4), unit="s"))
PANDAS_ODD = {  # what pd.read_parquet(..., dtype_backend="pyarrow") gives, and Python objects
    "durations": [SECONDS.astype(pd.ArrowDtype(pa.duration("s"))), SECONDS.astype(object)],
    "lists": [pd.Series([[1], [2]] * (N // 2), dtype=pd.ArrowDtype(pa.list_(pa.int64()))),
              pd.Series([[1], [2]] * (N // 2), dtype=pd.ArrowDtype(pa.large_list(pa.int64())))],
    "records": [pd.Series([{"a": 1}, {"a": 2}] * (N // 2),
                          dtype=pd.ArrowDtype(pa.struct([("a", pa.int64())]))),
                pd.Series([[("k", 1)], [("k", 2)]] * (N // 2),
                          dtype=pd.ArrowDtype(pa.map_(pa.string(), pa.int64())))],
}  # fmt: skip


@pytest.mark.parametrize("what,column", [(w, c) for w, cs in PANDAS_ODD.items() for c in cs])
def test_arrow_and_object_durations_lists_and_records_are_refused_as_numpys(what, column):
    """Refused as NumPy durations and object lists and dicts were, Arrow durations, lists
    and structs and object columns of pd.Timedelta were one-hot encoded as categories of
    their text ('0 days 00:00:01', '[1]'), when fitting and when scoring."""
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"a": rng.normal(size=N), "t": rng.choice(["x", "y"], N)})
    holds = rf"column 't' holds {what}, but a feature holds real numbers, categories, "
    with pytest.raises(DataError, match=holds + r"booleans or dates \(row 0: "):
        TableEncoder().fit(frame.assign(t=column))
    with pytest.raises(DataError, match=rf"column 't' holds {what}, .*fitted with it as a cat"):
        TableEncoder().fit(frame).transform(frame.assign(t=column))
    with pytest.raises(DataError, match=rf"column 't' holds {what}, .*fitted with it as a num"):
        TableEncoder().fit(frame.assign(t=rng.normal(size=N))).transform(frame.assign(t=column))
    forced = TableEncoder(categorical=["t"]).fit(frame.assign(t=column))  # as the user says
    assert np.isfinite(forced.transform(frame.assign(t=column))).all()


@pytest.mark.parametrize("options", [{}, {"numeric": ["z"]}, {"boolean": ["z"]}])
def test_complex_numbers_are_refused_when_scoring_too(options):
    """Refused at fit, complex numbers were taken at scoring, or with a kind forced at
    fit, cast to their real part with only NumPy's ComplexWarning: 0.5 + 1e6j scored as
    0.5. Now the same one line, naming the row and the value, whatever the kind."""
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"a": rng.normal(size=N), "z": rng.integers(0, 2, N).astype(float)})
    first = r"column 'z' holds complex numbers, but a feature holds real numbers, categories, "
    with pytest.raises(DataError, match=first + r".* \(row 0: \(?\d?\+?2j\)?\); convert it "
                                                r"in the data, or pass it in id_cols"):  # fmt: skip
        TableEncoder(**options).fit(frame.assign(z=frame["z"] + 2j))
    encoder = TableEncoder(**options).fit(frame)
    shifted = frame.assign(z=frame["z"].astype(complex))
    shifted.loc[7, "z"] += 1e6j
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)  # not taken with it
        seven = r".* \(row 7: \(?\d?\.?0?\+?1000000j\)?\); convert it in the data: the model was "
        with pytest.raises(DataError, match=first + seven + "fitted with it as a"):
            encoder.transform(shifted)
        pipeline = make_table_pipeline(Autoencoder(max_iter=2, random_state=0), **options)
        pipeline.fit(frame)
        with pytest.raises(DataError, match="column 'z' holds complex numbers"):
            pipeline.score_samples(shifted)


def test_bytes_that_are_not_utf8_are_refused_in_one_line_naming_row_and_value():
    """b'K\\xf6ln' (Latin-1) in an object column stopped TableEncoder with pandas'
    UnicodeDecodeError and its traceback; UTF-8 bytes were, and are, read."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"a": rng.normal(size=N), "city": ["Bonn", "Köln"] * (N // 2)})
    latin = frame.assign(city=frame["city"].map(lambda c: c.encode("latin-1")).astype(object))
    utf8 = frame.assign(city=frame["city"].map(str.encode).astype(object))
    assert TableEncoder().fit(utf8).columns_["city"]["kind"] == CATEGORICAL
    said = r"column 'city' holds bytes that are not UTF-8 text \(row 1: b'K\\xf6ln'\); decode"
    with pytest.raises(DataError, match=said + ".* in pandas\\), or pass it in id_cols"):
        TableEncoder().fit(latin)
    for options in [{"numeric": ["city"]}, {"boolean": ["city"]}, {"date_cols": ["city"]}]:
        with pytest.raises(DataError, match=said):
            TableEncoder(**options).fit(latin)
    with pytest.raises(DataError, match=said + r".* in pandas\)\.$"):
        TableEncoder().fit(utf8).transform(latin)
    numbers = frame.assign(city=rng.normal(size=N))
    with pytest.raises(DataError, match=said):
        TableEncoder().fit(numbers).transform(latin.astype({"city": object}))
    mixed = frame.astype({"city": object})
    mixed.loc[9, "city"] = "Zürich".encode("cp1252")
    with pytest.raises(DataError, match=r"text \(row 9: b'Z\\xfcrich'\)"):
        TableEncoder().fit(mixed)
    TableEncoder(categorical=["city"]).fit(latin).transform(latin)  # as the user says


ODD_CELLS = st.one_of(st.binary(max_size=4), st.text(max_size=3), st.none(),
                      st.complex_numbers(max_magnitude=1e6, allow_nan=False),
                      st.integers(0, 3).map(lambda s: pd.Timedelta(seconds=s)),
                      st.lists(st.integers(0, 2), max_size=2))  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(ODD_CELLS, min_size=N, max_size=N), odd_at_fit=st.booleans(),
       typed=st.booleans())  # fmt: skip
def test_odd_cells_score_finite_or_fail_in_one_line_naming_the_column(cells, odd_at_fit, typed):
    """Bytes (UTF-8 or not), text, complex numbers, durations and lists, in an object
    column or one pandas types, fitted on or scored: finite scores, or a one-line
    DataError naming the column, never a traceback from pandas or NumPy."""
    rng = np.random.default_rng(8)
    odd = pd.Series(cells) if typed else pd.Series(cells, dtype=object)
    plain = pd.DataFrame({"a": rng.normal(size=N), "odd": rng.choice(["x", "y"], N)})
    fit, score = (plain.assign(odd=odd), plain) if odd_at_fit else (plain, plain.assign(odd=odd))
    pipeline = make_table_pipeline(Autoencoder(max_iter=2, random_state=0))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            scores = pipeline.fit(fit).score_samples(score)
    except DataError as exc:
        assert "\n" not in str(exc) and "column 'odd'" in str(exc), str(exc)
        return
    assert np.isfinite(scores).all()


def test_a_frame_saved_by_pandas_with_its_index_is_fitted_and_scored_alike(tmp_path):
    """pandas writes a filtered frame's nameless index as ``__index_level_0__`` and a named
    index (``set_index("key")``) as a column. The fit used to drop both without a word and
    ``score`` refused the same file for its unknown column; ``--id-col key`` could not name
    the key. Now the nameless labels are not data, and a named index is a column."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(size=N), "b": rng.normal(size=N)})
    frame[frame["a"] > -1].to_parquet(tmp_path / "filtered.parquet")
    assert "__index_level_0__" in pq.read_schema(tmp_path / "filtered.parquet").names
    ok(run("fit", tmp_path / "filtered.parquet", "-o", tmp_path / "f.skops", *FAST))
    scored = ok(run("score", tmp_path / "f.skops", tmp_path / "filtered.parquet"))
    assert scored.stdout.splitlines()[0] == "anomaly_score,is_anomaly"
    assert len(scored.stdout.splitlines()) == 1 + int((frame["a"] > -1).sum())

    keyed = frame.set_index(pd.Index([f"k{i}" for i in range(N)], name="key"))
    keyed.to_parquet(tmp_path / "keyed.parquet")
    ok(run("fit", tmp_path / "keyed.parquet", "-o", tmp_path / "k.skops", "--id-col", "key",
           *FAST))  # fmt: skip
    out = tmp_path / "scores.parquet"
    ok(run("score", tmp_path / "k.skops", tmp_path / "keyed.parquet", "--keep-columns",
           "-o", out))  # fmt: skip
    back = pd.read_parquet(out)
    assert list(back.columns) == ["a", "b", "key", "anomaly_score", "is_anomaly"]
    assert back["key"].tolist() == keyed.index.tolist()
    np.testing.assert_array_equal(back[["a", "b"]].to_numpy(), keyed.to_numpy())


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(rows=st.integers(8, 40), seed=st.integers(0, 2**16),
       index=st.sampled_from(["none", "named", "two named", "filtered", "sorted"]))  # fmt: skip
def test_any_frame_pandas_wrote_to_parquet_is_fitted_and_scored_alike(tmp_path, rows, seed, index):
    """Whatever pandas wrote of the index, ``fit`` then ``score`` of the same file work, in
    row order, a named index being an id column like any other."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"key": [f"k{i}" for i in range(rows)],
                          "shop": rng.choice(["a", "b"], rows),
                          "x": rng.normal(size=rows), "z": rng.normal(size=rows)})  # fmt: skip
    written = {"none": frame, "named": frame.set_index("key"),
               "two named": frame.set_index(["key", "shop"]), "filtered": frame.iloc[::2],
               "sorted": frame.sort_values("x")}[index]  # fmt: skip
    path = tmp_path / f"{index}-{seed}.parquet"
    written.to_parquet(path, index=index != "none")
    model = tmp_path / f"{index}-{seed}.skops"
    ok(run("fit", path, "-o", model, "--force", "--id-col", "key", *FAST))
    scored = pd.read_csv(io.StringIO(ok(run("score", model, path)).stdout))
    expected = written.reset_index() if index in ("named", "two named") else written
    assert scored["key"].tolist() == expected["key"].tolist()
    assert np.isfinite(scored["anomaly_score"]).all()


def test_denoise_keeps_parquets_booleans_and_timestamps_in_their_types(tmp_path):
    """Denoised Parquet came back with booleans as 0/1 integers and timestamps as text;
    a CSV's stay as they were written (yes/no, ISO text)."""
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({
        "id": [f"r{i}" for i in range(N)], "x": rng.normal(size=N).round(2),
        "flag": rng.choice([True, False], N),
        "day": pd.date_range("2024-01-01", periods=N, freq="D"),
        "seen": pd.date_range("2024-01-01 08:00", periods=N, freq="h", tz="Europe/Paris"),
    })  # fmt: skip
    path, out = tmp_path / "t.parquet", tmp_path / "clean.parquet"
    frame.to_parquet(path, index=False)
    model = tmp_path / "m.skops"
    ok(run("fit", path, "-o", model, "--id-col", "id", "--model", "denoising", *FAST))
    ok(run("denoise", model, path, "-o", out))
    back = pd.read_parquet(out)
    assert back["flag"].dtype == bool and back["x"].dtype == np.float64
    assert back["day"].dtype.kind == "M" and back["day"].dt.tz is None
    assert str(back["seen"].dt.tz) == "Europe/Paris"
    assert (back["seen"] - frame["seen"]).abs().max() < pd.Timedelta(days=30)
    ok(run("score", model, out))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_denoise_leaves_missing_cells_missing(tmp_path, suffix):
    """A model that imputes wrote its guesses into the missing cells, as if they were data,
    without a word; they stay missing now, each column in its type."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({
        "id": range(N), "x": rng.normal(size=N).round(2), "count": rng.poisson(3, N),
        "paid": rng.choice(["yes", "no"], N), "shop": rng.choice(["a", "b"], N),
    }).astype({"count": "Int64"})  # fmt: skip
    gaps = {"x": 3, "count": 5, "paid": 7, "shop": 9}
    for column, row in gaps.items():
        frame.loc[row, column] = None
    path, out = tmp_path / f"t{suffix}", tmp_path / f"clean{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path, index=False)
    model = tmp_path / "m.skops"
    ok(run("fit", path, "-o", model, "--id-col", "id", "--impute", "most_frequent",
           "--model", "denoising", *FAST))  # fmt: skip
    ok(run("denoise", model, path, "-o", out))
    back = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    for column, row in gaps.items():
        assert back[column].isna().tolist() == [i == row for i in range(N)], column
    assert back["count"].dropna().eq(back["count"].dropna().round()).all()
    ok(run("score", model, out))
