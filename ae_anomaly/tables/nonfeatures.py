"""Columns that no feature can be: durations, complex numbers, lists, sets and records,
NumPy's, Arrow's or Python objects; and bytes that are not UTF-8 text.

None is a real number, a category, a boolean or a date: their text would be one category
each, and a complex number's real part (NumPy's cast to float) another number than the one
in the table. Such a column is refused naming it, a row and a value, when a model is
fitted and when it scores. (Bytes are categories: Parquet writers store text as bytes.
Bytes that are not UTF-8, ``b'K\\xf6ln'`` in Latin-1, are no text: pandas stops on them
with a traceback; their encoding is the user's to say.)
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd
import pyarrow as pa

from .errors import TableError, cell_repr, escape, row_name

#: Bytes that no text is made of: UTF-8 bytes are text (Parquet writers store text so).
BYTES = "bytes that are not UTF-8 text"
#: What an object column holds, by the type of its first value (``pd.Timedelta`` is a
#: ``datetime.timedelta``).
_OBJECT_KINDS = {list: "lists", tuple: "lists", np.ndarray: "lists", set: "sets",
                 dict: "records", _dt.timedelta: "durations", np.timedelta64: "durations",
                 complex: "complex numbers", np.complexfloating: "complex numbers"}  # fmt: skip


def non_feature(series):
    """``(what, position)``: what ``series`` holds that no feature can (``"durations"``,
    ``"complex numbers"``, ``"lists"``, ``"sets"``, ``"records"``, :data:`BYTES`) and the
    position of a cell that shows it (None when every cell is missing), or ``(None, None)``.

    A typed column is judged by its type, NumPy's or Arrow's (``pd.ArrowDtype``, what
    ``pd.read_parquet(..., dtype_backend="pyarrow")`` gives: durations, lists, structs,
    maps); an object column by its first value (in C: no Python per cell), and by its
    first cell of bytes that are not UTF-8. A complex column's cell is the first with an
    imaginary part.

    Examples
    --------
    >>> non_feature(pd.Series([1.0, 2.0 + 3j]))
    ('complex numbers', 1)
    >>> non_feature(pd.Series([None, [1, 2]])), non_feature(pd.Series(["a"]))
    (('lists', 1), (None, None))
    >>> non_feature(pd.Series([[1], None], dtype=pd.ArrowDtype(pa.list_(pa.int64()))))
    ('lists', 0)
    >>> non_feature(pd.Series(["Bonn", "Köln".encode(), "Köln".encode("latin-1")]))
    ('bytes that are not UTF-8 text', 2)
    """
    dtype = series.dtype
    what = "durations" if pd.api.types.is_timedelta64_dtype(dtype) else _arrow_kind(dtype)
    if pd.api.types.is_complex_dtype(dtype):
        values = series.to_numpy()
        imaginary = np.flatnonzero(np.imag(values) != 0)
        if len(imaginary):
            return "complex numbers", int(imaginary[0])
        what = "complex numbers"
    present = None
    if what is None and pd.api.types.is_object_dtype(dtype):
        present = np.flatnonzero(series.notna().to_numpy())
        first = series.iloc[present[0]] if len(present) else None
        what = next((name for kind, name in _OBJECT_KINDS.items() if isinstance(first, kind)), None)
        if what is None:
            return _undecodable(series)
    if what is None:
        return None, None
    present = np.flatnonzero(series.notna().to_numpy()) if present is None else present
    return what, int(present[0]) if len(present) else None


def _undecodable(series):
    """``(BYTES, position)`` of the first cell of bytes that are not UTF-8 text in an object
    column (pandas reads the others as text, and stops with a traceback at these), or
    ``(None, None)``. A Python loop only over a column that pandas' ``infer_dtype`` (in C)
    finds bytes or of mixed types, which may hold bytes."""
    kind = pd.api.types.infer_dtype(series, skipna=True)  # in C
    if kind != "bytes" and not kind.startswith("mixed"):
        return None, None
    for position, cell in enumerate(series.array):
        if isinstance(cell, bytes):
            try:
                cell.decode("utf-8")
            except UnicodeDecodeError:
                return BYTES, position
    return None, None


def _arrow_kind(dtype):
    """What an Arrow column of ``dtype`` holds that no feature can, or None."""
    arrow = dtype.pyarrow_dtype if isinstance(dtype, pd.ArrowDtype) else None
    if arrow is None or not (pa.types.is_duration(arrow) or pa.types.is_nested(arrow)):
        return None
    if pa.types.is_duration(arrow):
        return "durations"
    return "records" if pa.types.is_struct(arrow) or pa.types.is_map(arrow) else "lists"


def refuse_non_features(series, *, fitted=None):
    """Refuse a column of durations, complex numbers, lists, sets or records, or of bytes
    that are not UTF-8 text (:func:`non_feature`), in one line naming it, a row and its
    value.

    Parameters
    ----------
    series : Series
        One column of the table, named.
    fitted : str or None, default=None
        While scoring, the kind the model was fitted with for the column (``"numeric"``);
        None while fitting, where the column may still be left out.

    Examples
    --------
    >>> refuse_non_features(pd.Series([1.5, 2.0], name="x"), fitted="numeric")
    >>> refuse_non_features(pd.Series([1.5, 2.0 + 1e6j], name="x"), fitted="numeric")
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.errors.TableError: column 'x' holds complex numbers, but a feature ...
    """
    what, position = non_feature(series)
    if what is None:
        return
    where = ""
    if position is not None:
        cell = cell_repr(series.iloc[position])
        where = escape(f" (row {row_name(series, position)}: {cell})")
    name = escape(repr(series.name))
    if what == BYTES:  # the CSV writer's words
        leave = ", or pass it in {id_cols} to keep it out of the features" if fitted is None else ""
        raise TableError(
            f"column {name} holds {BYTES}{where}; decode them with their encoding in the data "
            f"(.str.decode('cp1252') in pandas){leave}."
        )
    advice = "convert it in the data, or pass it in {id_cols} to keep it out of the features"
    if fitted is not None:
        advice = f"convert it in the data: the model was fitted with it as a {fitted} column"
    raise TableError(
        f"column {name} holds {what}, but a feature holds real numbers, categories, booleans "
        f"or dates{where}; {advice}."
    )
