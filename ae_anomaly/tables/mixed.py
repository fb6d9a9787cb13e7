"""Score and denoise chunks with a ``TableEncoder -> detector`` pipeline (mixed tables).

The model files written by ``ae-anomaly fit`` (in memory) hold
:func:`~ae_anomaly.tables.pipeline.make_table_pipeline`'s pipeline and an ``encoded``
:class:`~ae_anomaly.tables.schema.Schema`. Rows the detector cannot score (an infinite or
overflowing value) get the anomaly score ``inf`` and are flagged -- never NaN and normal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .encoder import UNSEEN
from .errors import ParameterError, escape
from .formats import FLOAT_FORMAT, NOT_A_FORMAT
from .pipeline import CODE_DISTANCE, shares_of_encoded
from .schema import FLAG, SCORE, Schema, denoisable, denoiser, output_names, warn_not_denoised
from .thresholds import anomaly_scores
from .typing import BOOLEAN, CATEGORICAL, DATETIME, NUMERIC, floats_read_as_text, missing_mask

#: ``TableEncoder`` parameters a table model records (the CLI's typing options).
ENCODER_OPTIONS = ("impute", "decimal", "thousands", "na_values", "keep_default_na", "coerce",
                   "date_format", "date_cols", "categorical")  # fmt: skip


def encoded_schema(pipeline, frame, features, ids):
    """The ``encoded`` schema of a fitted table pipeline and its training frame.

    Examples
    --------
    >>> import pandas as pd
    >>> from ae_anomaly import Autoencoder
    >>> from ae_anomaly.tables.pipeline import make_table_pipeline
    >>> frame = pd.DataFrame({"n": [0, 1, 1, 0], "c": ["a", "b", "a", "b"]})
    >>> pipeline = make_table_pipeline(Autoencoder(max_iter=1, random_state=0)).fit(frame)
    >>> schema = encoded_schema(pipeline, frame, ["n", "c"], [])
    >>> schema.features, schema.integers, schema.binary
    ({'n': 'numeric', 'c': 'categorical'}, ['n'], ['n'])
    """
    encoder = pipeline[0]
    kinds = {name: spec["kind"] for name, spec in encoder.columns_.items()}
    integers, binary, decimals = [], [], {}
    encoded = encoder.transform(frame[features]) if kinds else None
    for name, kind in kinds.items():
        if kind != NUMERIC:
            continue
        values = np.asarray(encoded.iloc[:, encoder.feature_groups_[name][0]], dtype=float)
        values = values[np.isfinite(values)]
        percent = encoder.columns_[name]["percent"]
        places = _decimals(values * 100 if percent else values)  # 19.5% -> 1
        if places == 0 and not percent:
            integers.append(name)
            if np.isin(values, (0.0, 1.0)).all():
                binary.append(name)
        elif places is not None:
            decimals[name] = places
    ignored = [c for c in frame.columns if c not in kinds and c not in ids]
    return Schema(features=kinds, ids=list(ids), ignored=ignored, impute=encoder.impute,
                  encoded=True, integers=integers, binary=binary,
                  decimals=decimals)  # fmt: skip


def _decimals(values, most=12):
    """The fewest decimals that write every value back as it is (0 for integers; to a
    few units in the last place, for percentages read as fractions), or None when it
    takes more than ``most`` (or there are no values).

    Examples
    --------
    >>> _decimals(np.array([1243.56, 0.5, 7.0])), _decimals(np.array([1 / 3]))
    (2, None)
    >>> _decimals(np.array([57.8, 19.5]) / 100 * 100)
    1
    """
    if not len(values):
        return None

    def fits(part, places):  # np.allclose(rounded, part, rtol=1e-14, atol=0), cheaper
        return bool((np.abs(np.round(part, places) - part) <= 1e-14 * np.abs(part)).all())

    if not fits(values[:16], most):  # most columns of measurements: full precision
        return None
    places = 0  # the fewest places the first values need, then more values: then all
    for probe in (values[:16], values[:1024], values):
        places = next((p for p in range(places, most + 1) if fits(probe, p)), None)
        if places is None:
            return None
    return places


def plain_number_columns(pipeline):
    """The numeric columns a CSV reader may hand the pipeline as float64 where every cell
    of a chunk is a plain number (``TableReader(numbers=...)``): the encoder then makes of
    them what it makes of their text, without parsing it again.

    Examples
    --------
    >>> import pandas as pd
    >>> from ae_anomaly import Autoencoder
    >>> from ae_anomaly.tables.pipeline import make_table_pipeline
    >>> frame = pd.DataFrame({"n": [0.5, 1.0, 2.0], "p": ["1%", "2%", "3%"], "c": list("aba")})
    >>> plain_number_columns(make_table_pipeline(Autoencoder(max_iter=1)).fit(frame))
    ['n']
    """
    encoder = pipeline[0]
    options = encoder._options()
    return [
        name
        for name, spec in encoder.columns_.items()
        if spec["kind"] == NUMERIC and not spec["percent"] and floats_read_as_text(options, name)
    ]


def imputed_cells(encoder, features):
    """Per feature column with any, the missing cells ``encoder`` fills (its ``impute``)."""
    if encoder.impute is None:
        return {}
    options = encoder._options()
    counts = {column: int(missing_mask(features[column], options).sum())
              for column in features.columns}  # fmt: skip
    return {column: n for column, n in counts.items() if n}


def _encode(pipeline, schema, frame):
    """``(encoded DataFrame, finite-row mask, unseen categories)`` of a chunk: per column
    with any, ``(count, first unseen value)``."""
    encoder = pipeline[0]
    features = frame[list(schema.features)]
    encoded = pd.DataFrame(
        encoder._transform(features, warn=False),
        columns=encoder.get_feature_names_out(),
        index=frame.index,
        copy=False,  # the encoder's own new array
    )
    finite = np.isfinite(encoded.to_numpy()).all(axis=1)
    flags = encoder.unseen_categories(features)
    unseen = {}
    for column, n in flags.sum().items():
        if n:
            first = features[column].iloc[int(np.argmax(flags[column].to_numpy()))]
            unseen[column] = (int(n), first)
    return encoded, finite, unseen


def score_encoded(pipeline, schema, frame, *, threshold, explain=0, names=None, keep=None):
    """``(output chunk, unseen categories)``: ids (or the ``keep`` columns), anomaly score,
    flag, top original columns (unseen categories as :func:`_encode` gives them).

    A row with a non-finite encoded value (``inf``, ``1e308`` overflowing) or whose score
    overflows gets the score ``inf`` and is flagged; with ``explain`` its top columns are
    those that carry the non-finite values.
    """
    keep = schema.ids if keep is None else keep
    names = names or output_names(keep, explain)
    encoded, finite, unseen = _encode(pipeline, schema, frame)
    detector = pipeline[-1]
    scores = np.full(len(frame), np.inf)
    if finite.any():
        rows = encoded if finite.all() else encoded[finite]  # no copy in the common case
        with np.errstate(over="ignore", invalid="ignore"):
            scores[finite] = anomaly_scores(detector, rows)
    scores[~np.isfinite(scores)] = np.inf
    out = frame[keep].copy()
    out[names[SCORE]] = scores
    out[names[FLAG]] = (scores > threshold).astype(np.int8)
    if explain:
        shares = _explain(pipeline[0], detector, encoded, finite)
        columns = np.array(shares.columns, dtype=object)
        values = shares.to_numpy()
        top = np.argsort(-values, axis=1, kind="stable")[:, : min(explain, len(columns))]
        for k in range(top.shape[1]):
            out[names[f"top{k + 1}_column"]] = columns[top[:, k]]
            out[names[f"top{k + 1}_share"]] = np.round(
                np.take_along_axis(values, top[:, k : k + 1], 1)[:, 0], 6
            )
    return out, unseen, imputed_cells(pipeline[0], frame[list(schema.features)])


def _explain(encoder, detector, encoded, finite):
    """Shares per original column (and ``_code_distance``); non-finite rows are shared by
    the columns that hold the non-finite values."""
    columns = [*encoder.feature_groups_, CODE_DISTANCE]
    shares = pd.DataFrame(0.0, index=encoded.index, columns=columns)
    if finite.any():
        with np.errstate(over="ignore", invalid="ignore"):
            part = shares_of_encoded(encoder, detector, encoded[finite])
        shares.loc[finite] = part.to_numpy()
    if not finite.all():
        bad = ~np.isfinite(encoded[~finite].to_numpy())
        culprits = np.column_stack(
            [bad[:, idx].any(axis=1) for idx in encoder.feature_groups_.values()]
            + [np.zeros(len(bad), dtype=bool)]
        )
        shares.loc[~finite] = culprits / culprits.sum(axis=1, keepdims=True)
    return shares


def denoise_encoded(pipeline, schema, frame):
    """``(chunk, unseen categories)``: the chunk with each feature column replaced by its
    reconstruction (a denoising model's ``denoise``, see
    :func:`~ae_anomaly.tables.schema.denoiser`), in its own type.

    Numbers in their units (integer columns rounded, 0/1 columns 0 or 1, the others to
    the decimals of their training values), percentages as written (``48.3%``, with the
    model's decimal mark; the writer gives the other numbers theirs, see
    :func:`format_floats`), booleans as the training text spelled them (``yes``/``no``;
    0/1 otherwise; booleans where the input column holds them), categories the most
    likely training category, dates as ISO text (timestamps where the input holds them).
    Missing cells (of a model that imputes) stay missing; rows the model cannot score (a
    non-finite value, or one that overflows in its arithmetic, as ``score`` flags them:
    their reconstruction is infinite or made up) are copied unchanged, with a warning, and
    so are the other columns; and so are, whole, the rows whose reconstruction does not
    fit a column (:func:`_fitting`: ``qty = 1e30`` reconstructed ``-6e29``, no int64),
    never a wrapped or infinite value.
    """
    encoder, options = pipeline[0], pipeline[0]._options()
    encoded, finite, unseen = _encode(pipeline, schema, frame)
    finite = denoisable(pipeline[-1], encoded, finite, warn=False)
    recon = None
    if finite.any():
        recon = np.asarray(denoiser(pipeline[-1])(encoded[finite]), dtype=np.float64)
        fits = _fitting(encoder, schema, recon)
        finite[np.flatnonzero(finite)[~fits]] = False
        recon = recon if fits.all() else recon[fits]
    if not finite.all():
        warn_not_denoised()
    out = frame.copy()
    if not finite.any():
        return out, unseen
    rows = np.flatnonzero(finite)
    for name, kind in schema.features.items():
        idx = encoder.feature_groups_[name]
        block = recon[:, idx]
        column = out[name].astype(object)
        decoded = _decoded(encoder.columns_[name], name, kind, block, schema, frame[name].dtype)
        if decoded.dtype == object and kind == NUMERIC and encoder.decimal != ".":
            decoded = _with_decimal(decoded, encoder.decimal)  # 48,3%: text in any output
        column.iloc[rows] = list(decoded)
        column[missing_mask(frame[name], options)] = None  # the model's guess is no data
        out[name] = _tidy(column)
    return out, unseen


def _fitting(encoder, schema, recon):
    """The mask of the rows of ``recon`` (reconstructions, the encoder's columns) that
    decode to their columns' types: every value finite, integer columns' rounded values
    within int64 (``astype`` wraps others to -2**63), dates within pandas' timestamps.

    Examples
    --------
    >>> import pandas as pd
    >>> from ae_anomaly import Autoencoder
    >>> from ae_anomaly.tables.pipeline import make_table_pipeline
    >>> frame = pd.DataFrame({"n": [1, 2, 3], "x": [0.5, 1.5, 2.5]})
    >>> pipeline = make_table_pipeline(Autoencoder(max_iter=1)).fit(frame)
    >>> schema = encoded_schema(pipeline, frame, ["n", "x"], [])
    >>> _fitting(pipeline[0], schema, np.array([[2.0, 1e30], [-1e30, 1.0], [np.nan, 1.0]]))
    array([ True, False, False])
    """
    fits = np.isfinite(recon).all(axis=1)
    for name, kind in schema.features.items():
        values = recon[:, encoder.feature_groups_[name][0]]
        if kind == DATETIME:
            fits &= np.abs(values) < 9.2e9  # seconds: pandas' ns timestamps reach 2262
        elif kind == NUMERIC and name in schema.integers and name not in schema.binary:
            fits &= np.abs(values) < 2.0**63  # the largest float below 2**63 fits int64
    return fits


def _decoded(spec, name, kind, block, schema, dtype):
    """One column's reconstructions; booleans and timestamps in their types where the
    input column has them (Parquet), as text otherwise."""
    if kind == CATEGORICAL:
        categories = np.asarray(spec["categories"], dtype=object)
        if not len(categories):
            return np.full(len(block), UNSEEN, dtype=object)
        return categories[np.argmax(block[:, : len(categories)], axis=1)]
    values = block[:, 0]
    if kind == DATETIME:
        stamps = pd.to_datetime(np.round(values), unit="s", utc=True)
        if isinstance(dtype, pd.DatetimeTZDtype):
            return np.asarray(stamps.tz_convert(dtype.tz).astype(object))
        if pd.api.types.is_datetime64_dtype(dtype):  # naive: read as UTC
            return np.asarray(stamps.tz_localize(None).astype(object))
        fmt = "%Y-%m-%dT%H:%M:%S" if "hour" in spec["parts"] else "%Y-%m-%d"
        return stamps.strftime(fmt)
    if kind == BOOLEAN or name in schema.binary:
        bits = np.clip(np.round(values), 0, 1).astype(np.int64)
        if kind == BOOLEAN and pd.api.types.is_bool_dtype(dtype):
            return bits.astype(bool)
        words = spec.get("words") if kind == BOOLEAN else None
        return bits if words is None else np.where(bits == 1, words[0], words[1]).astype(object)
    if name in schema.integers:
        return np.round(values).astype(np.int64)
    places = schema.decimals.get(name) if isinstance(schema.decimals, dict) else None
    valid = isinstance(places, int) and 0 <= places <= 12  # a header's value, checked
    if spec.get("percent"):  # as written: 48.3%, with the training's decimals
        places = places if valid else 10
        return np.array([f"{v * 100:.{places}f}%" for v in values], dtype=object)
    return np.round(values, places) if valid else values


def _tidy(column):
    """An object column of one Python type as that type (booleans, ints, floats,
    timestamps, text), missing cells (None) as pandas' missing values of that type."""
    present = column[column.notna()]
    if not len(present):
        return column
    kinds, gaps = {type(v) for v in present}, len(present) < len(column)
    if kinds <= {bool, np.bool_}:
        return column.astype("boolean" if gaps else bool)
    if kinds <= {pd.Timestamp}:
        return pd.to_datetime(column)
    if kinds <= {int, np.int64}:
        return column.astype("Int64" if gaps else np.int64)
    if kinds <= {float, np.float64, int, np.int64}:
        return column.astype(np.float64)
    if str in kinds:  # text copied unchanged beside numbers written for other rows: all text
        return column.map(lambda v: v if v is None or isinstance(v, str) else str(v))
    return column


def check_float_format(float_format):
    """Refuse what is not a printf format of one float: ``{:.3f}`` was written in place
    of every number, ``%x`` failed once the work was done.

    Examples
    --------
    >>> check_float_format("%.3f")
    >>> check_float_format("{:.3f}")
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.errors.ParameterError: float_format='{:.3f}' is not a printf format ...
    """
    if float_format is not None and not FLOAT_FORMAT.fullmatch(float_format):
        raise ParameterError(f"{{float_format}}={escape(repr(float_format))} {NOT_A_FORMAT}")


def format_floats(frame, float_format, decimal=".", columns=None):
    """``frame`` with the float columns among ``columns`` (default: all; the columns the
    model writes, not those copied from the input) as text, ``float_format % value``
    (``"%.6g"``) or the shortest text that reads back as the float, written with the
    ``decimal`` mark; unchanged when there is nothing to do.

    Examples
    --------
    >>> format_floats(pd.DataFrame({"a": [1 / 3, np.inf], "b": [1, 2]}), "%.3g")["a"].tolist()
    ['0.333', 'inf']
    >>> format_floats(pd.DataFrame({"a": [1243.5, 0.25]}), None, decimal=",")["a"].tolist()
    ['1243,5', '0,25']
    """
    written = set(frame.columns if columns is None else columns)
    marked = written if decimal != "." else set()
    if not float_format and not marked:
        return frame
    out = frame.copy()
    for name in out.columns:
        if name not in written or not pd.api.types.is_float_dtype(out[name].dtype):
            continue
        if not float_format and name not in marked:
            continue
        values = out[name].to_numpy(dtype=np.float64)
        text = np.char.mod(float_format, values) if float_format else values.astype(str)
        text = text.astype(object)
        if name in marked:
            text = np.array([t.replace(".", decimal) for t in text], dtype=object)
        text[np.isnan(values)] = None
        out[name] = text
    return out


def _with_decimal(values, decimal):
    """Text such as ``48.3%`` with another decimal mark (``48,3%``)."""
    return np.array([str(v).replace(".", decimal) for v in values.tolist()], dtype=object)


__all__ = ["ENCODER_OPTIONS", "denoise_encoded", "encoded_schema", "format_floats",
           "plain_number_columns", "score_encoded"]  # fmt: skip
