"""Input checks of the estimators, with one-line messages naming the column, row and value.

Also the resolution of the size and device parameters left at their defaults.
"""

from __future__ import annotations

import decimal
import math
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted, validate_data

from .._rows import name_row, one_row
from ..nn.training import _caller_outside_package
from .scalers import is_rounding


def is_int(value):
    """Whether ``value`` is an integer and not a bool (``True`` is an ``Integral``).

    Examples
    --------
    >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def check_int(value, name):
    """Refuse a ``value`` that is not an int, bools included, with scikit-learn's
    ``check_scalar`` message (which takes ``True`` for 1)."""
    if not is_int(value):
        raise TypeError(f"{name} must be an instance of int, not {type(value).__qualname__}.")


def default_sizes(n_features):
    """Network sizes used when ``hidden_layer_sizes`` / ``n_components`` are None.

    The code has ``ceil(sqrt(n_features))`` units (strictly fewer than ``n_features`` when
    there are two features or more) and one hidden layer of ``n_features // 2`` units,
    clipped to [64, 256], on each side of it.

    Examples
    --------
    >>> default_sizes(30)
    ((64,), 6)
    """
    n_components = max(1, min(n_features - 1, math.ceil(math.sqrt(n_features))))
    hidden = (int(np.clip(n_features // 2, 64, 256)),)
    return hidden, n_components


def resolve_sizes(estimator, n_features):
    """``(hidden_layer_sizes_, n_components_)`` of ``estimator`` for ``n_features`` inputs.

    Warns when an unregularized network's code is as wide as its input (it can learn the
    identity).
    """
    hidden, n_components = estimator._default_sizes(n_features)
    if estimator.hidden_layer_sizes is not None:
        hidden = estimator.hidden_layer_sizes
        hidden = (hidden,) if isinstance(hidden, Integral) else tuple(hidden)
        if not all(is_int(h) and h > 0 for h in hidden):
            raise ValueError(
                "hidden_layer_sizes must hold positive integers, "
                f"got {estimator.hidden_layer_sizes!r}."
            )
    if estimator.n_components is not None:
        n_components = estimator.n_components
    width = estimator._input_width(n_features)  # the columns one network reconstructs
    if n_components >= width and not estimator._regularized:
        # a code narrower than one column does not exist: only the variant advice applies
        smaller = "" if width == 1 else "a smaller n_components or "
        inputs = (f"n_features={n_features}" if width == n_features else
                  f"the {width} columns each member sees (of n_features={n_features})")
        warnings.warn(
            f"n_components={n_components} >= {inputs}: with no regularizer "
            "the autoencoder can learn the identity and reconstruct outliers as well as "
            f"inliers. Use {smaller}a regularized variant (e.g. DenoisingAutoencoder).",
            UserWarning,
            stacklevel=4,
        )
    return tuple(int(h) for h in hidden), int(n_components)


def resolve_device(device):
    """Map ``"auto"`` to ``"cuda"`` when available, else ``"cpu"``; check ``"cuda"`` exists."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested, but PyTorch sees no CUDA device.")
    return device


def validate_rows(estimator, X, *, reset):
    """``validate_data`` as float64 plus messages that name the offending column, row, value."""
    if isinstance(X, pd.DataFrame) and X.shape[1] == 0:  # scikit-learn's words, not NumPy's
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is "
            f"required by {type(estimator).__name__}."
        )
    if isinstance(X, pd.DataFrame):  # TableEncoder's words, not narwhals' from deep inside
        names = [str(c) for c in X.columns]
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"X has duplicate column names: {', '.join(map(repr, twice))}.")
    _reject_complex(X)
    X = _numeric_columns(X)
    try:
        rows = validate_data(estimator, X, reset=reset, dtype=np.float64, ensure_all_finite=False)
    except ValueError as exc:
        first = str(exc).split("\n", 1)[0]
        if first.startswith("Expected 2D array"):  # not the array printed on 80 lines
            n = np.size(X) if isinstance(X, np.ndarray | list | tuple) else None
            raise ValueError(
                f"{first.rstrip(':')}{'' if n is None else f' ({n:,} values)'}. Reshape your "
                "data: X.reshape(-1, 1) if it is one feature, X.reshape(1, -1) if one sample."
            ) from None
        if "could not convert" not in str(exc):
            raise
        raw = np.asarray(X, dtype=object)
        as_number = np.vectorize(_is_number, otypes=[bool])
        row, col = _first_bad_cell(~as_number(raw))
        raise ValueError(
            f"Non-numeric value {raw[row, col]!r} at row {row_label(X, row)}, "
            f"{_column_name(estimator, col)}."
        ) from exc
    finite = np.isfinite(rows)
    if not finite.all():
        row, col = _first_bad_cell(~finite)
        kind = "NaN" if np.isnan(rows[row, col]) else "infinity"
        raise ValueError(
            f"Input X contains {kind} at row {row_label(X, row)}, "
            f"{_column_name(estimator, col)} "
            f"({(~finite).sum()} non-finite value(s) in all). Impute or drop them first "
            "(e.g. sklearn.impute.SimpleImputer in a Pipeline)."
        )
    if reset:
        warn_collapsed_integers(estimator, X)
    return rows


def warn_collapsed_integers(estimator, X):
    """Warn when integers beyond ``2**53`` (64-bit counters, epoch nanoseconds) lose
    their spread to float64: distinct values become equal (256 units apart near
    ``2**60``) and what is left varies by rounding alone, which the input scalers take
    for a constant (:func:`~ae_anomaly.models.scalers.is_rounding`). One line naming
    the first such column."""
    for col, values in enumerate(_integer_columns(X)):
        floats = values.astype(np.float64)
        if values.size == 0 or np.abs(floats).max() <= 2.0**53:
            continue
        if not is_rounding(np.std(floats), np.mean(floats)):
            continue  # rounded, but still spread over many steps: the model sees it
        n_before, n_after = len(np.unique(values)), len(np.unique(floats))
        if n_after < n_before:
            warnings.warn(
                f"{type(estimator).__name__}: {_column_name(estimator, col)} holds integers "
                f"beyond 2**53 too close together for float64: its {n_before} distinct "
                f"values become {n_after}, and the model ignores it. Subtract an offset "
                "(e.g. its minimum) first.",
                UserWarning,
                stacklevel=_caller_outside_package(),
            )
            return


def _integer_columns(X):
    """The integer columns of ``X`` (others empty), missing values left out: a
    DataFrame's of an integer dtype, an integer array's, else none."""
    if isinstance(X, pd.DataFrame):
        for _, column in X.items():
            integer = pd.api.types.is_integer_dtype(column.dtype)
            values = column.dropna().to_numpy() if integer else np.empty(0)
            yield values if values.dtype.kind in "iu" else np.empty(0)
    elif isinstance(X, np.ndarray) and X.dtype.kind in "iu" and X.ndim == 2:
        yield from X.T


def check_trainable(estimator, rows, X_scaled, X=None):
    """Refuse training rows whose values overflow: a statistic fitted on them (the
    scaler's, ``feature_scale_``) or a scaled value that is not finite, or too large for
    the float32 training network. One line naming the row, the column and the value."""
    col = overflowing_statistic(estimator, rows.shape[1])
    if col is not None:
        overflow_error(estimator, rows, X, int(np.argmax(np.abs(rows[:, col]))), col)
    bad = untrainable(X_scaled)
    if bad.any():
        overflow_error(estimator, rows, X, *_first_bad_cell(bad))


def check_trainable_stream(estimator, sample, scaled_sample, read, *, whole):
    """:func:`check_trainable` for a streamed fit, once its first pass has fitted the
    statistics (the scaler's, on every row or on the sample; ``feature_scale_``, on the
    sample): those, and the scaled ``sample`` when the model trains on it (``whole``
    False; else each chunk is checked as it is trained on).

    On failure, ``read()`` (pairs ``(rows, chunk)``: the validated rows of each chunk and
    the chunk as given) reads the data again, so that the error names the row as the
    data does, by its chunk's index label (a file's data row), not by its place in the
    sample: for a statistic, the largest value of its column, as ``fit`` names it;
    for a scaled value, the first row that overflows once scaled.
    """
    col = overflowing_statistic(estimator, sample.shape[1])
    if col is None and (whole or not untrainable(scaled_sample).any()):
        return
    largest, seen = None, 0  # for a statistic: |value|, its row, the row's label
    for rows, chunk in read():
        if col is None:
            with np.errstate(over="ignore", invalid="ignore"):
                check_trainable(estimator, rows, estimator._scale(rows), chunk)
        elif len(rows):
            row = int(np.argmax(np.abs(rows[:, col])))
            if largest is None or abs(rows[row, col]) > largest[0]:
                label = (one_row(chunk, row) if isinstance(chunk, pd.DataFrame)
                         else pd.DataFrame(index=[seen + row]))  # fmt: skip
                largest = (abs(rows[row, col]), rows[[row]], label)
        seen += len(rows)
    if largest is not None:
        overflow_error(estimator, largest[1], largest[2], 0, col)
    check_trainable(estimator, sample, scaled_sample)  # the data changed between passes


def overflowing_statistic(estimator, n_features):
    """The first column whose fitted statistic (the scaler's, ``feature_scale_``) is not
    finite, or None."""
    stats = [getattr(estimator, "feature_scale_", None)]
    scaler = getattr(estimator, "scaler_", None)
    stats += [value for key, value in vars(scaler).items() if key.endswith("_")] if scaler else []
    for stat in stats:
        stat = np.asarray(stat) if stat is not None else None
        if stat is None or stat.shape != (n_features,) or stat.dtype.kind != "f":
            continue
        if not np.all(np.isfinite(stat)):
            return int(np.flatnonzero(~np.isfinite(stat))[0])
    return None


def untrainable(X_scaled):
    """The cells of scaled rows the float32 training network cannot take: NaN, inf and
    beyond float32's range."""
    with np.errstate(invalid="ignore"):
        return ~(np.abs(X_scaled) <= float(np.finfo(np.float32).max))


def warn_invisible_columns(estimator, rows, X_scaled):
    """Warn when a column varies in ``rows`` but hardly at all once scaled: a spread below
    what the scaler tells from a constant (``"standard"`` and ``"mad"``: a standard
    deviation within :data:`~ae_anomaly.models.scalers.ROUNDING_ULPS` roundings of the
    values, or one that underflows, as at 1e-200), which the model then ignores,
    silently. A spread of a few roundings of the column's values (sums of shares:
    0.9999999999999998 to 1.0000000000000002) is a constant's."""
    with np.errstate(over="ignore", invalid="ignore"):
        spread = np.ptp(rows, axis=0) if len(rows) else np.zeros(rows.shape[1])
        rounding = 10 * np.finfo(np.float64).eps * np.max(np.abs(rows), axis=0, initial=0)
        hidden = np.flatnonzero((spread > rounding) & (np.ptp(X_scaled, axis=0) <= 1e-9))
    if hidden.size:
        col = int(hidden[0])
        others = f" (and {hidden.size - 1} more)" if hidden.size > 1 else ""
        warnings.warn(
            f"{type(estimator).__name__}: {_column_name(estimator, col)}{others} varies, by "
            f"{spread[col]:.3g}, but too little for scaling={estimator.scaling!r} to tell it "
            "from a constant: the model ignores it. Rescale it to units where it varies by "
            "about 1.",
            UserWarning,
            stacklevel=_caller_outside_package(),
        )


def warn_identical_rows(estimator, rows):
    """Warn when the training ``rows`` are all the same row (or just one): the model then
    learns that row alone, and scores every other row as far out, by how far."""
    if len(rows) and not np.ptp(rows, axis=0).any():
        what = "a single row" if len(rows) == 1 else f"{len(rows)} identical rows"
        warnings.warn(
            f"{type(estimator).__name__}: fitted on {what}: the model learns nothing of how "
            "rows vary, and scores any other row as extremely anomalous. Fit on rows that "
            "vary.",
            UserWarning,
            stacklevel=_caller_outside_package(),
        )


def overflow_error(estimator, rows, X, row, col):
    """Raise :func:`check_trainable`'s error for the value at ``rows[row, col]``, its row
    named by ``X`` (see :func:`row_label`)."""
    raise ValueError(
        f"Value {float(rows[row, col])!r} at row {row_label(X, row)}, "
        f"{_column_name(estimator, col)} overflows in training (its scaling or the float32 "
        "network): too large to learn from. Drop or clip such rows, or rescale the column."
    )


def check_prefitted_scaler(estimator, scaler):
    """A scaler given to ``partial_fit``: fitted, on as many features as the data."""
    if estimator.scaling is None:
        raise ValueError("A scaler was given to partial_fit, but scaling=None.")
    check_is_fitted(scaler)
    n_features = estimator.n_features_in_
    if getattr(scaler, "n_features_in_", n_features) != n_features:
        raise ValueError(
            f"The scaler was fitted on {scaler.n_features_in_} features, but X has {n_features}."
        )
    return scaler


def row_label(X, row):
    """The row as its user knows it: the index label of a DataFrame (repr, a MultiIndex
    label's values as Python's), with its position when another row of the data has the
    same label (``pd.concat([jan, feb])``); else its position. A chunk of larger data
    is named by where it lies in that data (see :func:`ae_anomaly.tables.errors.row_name`).

    Examples
    --------
    >>> frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=[5, 6, 5])
    >>> row_label(frame, 2), row_label(frame.reset_index(drop=True), 2)
    ('5 (position 2)', '2')
    >>> row_label(frame.set_axis(pd.MultiIndex.from_tuples([(1, "x"), (1, "y"), (2, "x")])), 1)
    "(1, 'y')"
    """
    if not isinstance(X, pd.DataFrame):
        return str(row)
    label = X.index[row]
    if isinstance(label, tuple):
        label = tuple(v.item() if isinstance(v, np.generic) else v for v in label)
    return name_row(X, row, repr(label.item() if isinstance(label, np.generic) else label))


def _column_name(estimator, col):
    names = getattr(estimator, "feature_names_in_", None)
    return f"column {names[col]!r}" if names is not None else f"column {col}"


def _reject_complex(X):
    """One line for complex input (scikit-learn's own message prints the whole array)."""
    if isinstance(X, pd.DataFrame):
        where = [f"{c!r} ({d})" for c, d in X.dtypes.items() if pd.api.types.is_complex_dtype(d)]
        where = f"column(s) {', '.join(where)}" if where else None
    else:
        try:  # an array's dtype; a list's as NumPy reads it (a ragged one: scikit-learn's say)
            dtype = np.dtype(X.dtype) if hasattr(X, "dtype") else np.asarray(X).dtype
        except (TypeError, ValueError):
            return
        where = f"X ({dtype})" if dtype.kind == "c" else None
    if where:  # the words scikit-learn's estimator checks look for, then ours
        raise ValueError(
            f"Complex data not supported: {where}. Autoencoders need real numbers; give the "
            "real and imaginary parts (or the modulus) as columns of their own."
        )


#: What an object column may hold as numbers: Python's and NumPy's numbers and bools,
#: and the ``Decimal`` of a SQL ``NUMERIC`` column (``pd.read_sql``).
_NUMBERS = (Real, np.bool_, decimal.Decimal)


def _numeric_columns(X):
    """``X`` with a DataFrame's object columns of numbers as float64 (missing values as
    NaN, refused later with their row); a non-numeric column is refused, named with its
    dtype or, for an object column, its first cell that is not a number (see
    :data:`_NUMBERS`)."""
    if not isinstance(X, pd.DataFrame):
        return X
    is_object = pd.api.types.is_object_dtype
    bad = [f"{column!r} ({dtype})" for column, dtype in X.dtypes.items()
           if not pd.api.types.is_numeric_dtype(dtype) and not is_object(dtype)]  # fmt: skip
    objects = [i for i, dtype in enumerate(X.dtypes) if is_object(dtype)]
    for i in objects if not bad else ():
        values = X.iloc[:, i].to_numpy()
        number = [isinstance(v, _NUMBERS) or v is None or v is pd.NA for v in values]
        if not all(number):
            row = number.index(False)
            kind = "text" if isinstance(values[row], str) else type(values[row]).__name__
            bad.append(f"{X.columns[i]!r} (object: {kind} {values[row]!r} at row "
                       f"{row_label(X, row)})")
            break
    if bad:
        raise ValueError(
            f"Non-numeric column(s) {', '.join(bad)}: autoencoders need numbers. "
            "Encode them first: ae_anomaly.make_table_pipeline(detector) types and encodes "
            "categories, booleans and dates; or drop them."
        )
    if not objects:
        return X
    X = X.copy(deep=False)
    for i in objects:
        column = X.iloc[:, i]
        X.isetitem(i, column.where(column.notna(), np.nan).astype(np.float64))
    return X


def _first_bad_cell(is_bad):
    """``(row, column)`` of the first cell where ``is_bad`` holds, in row-major order."""
    rows, cols = np.nonzero(is_bad)
    return int(rows[0]), int(cols[0])


def _is_number(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
