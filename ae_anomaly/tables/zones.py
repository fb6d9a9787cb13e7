"""Time zones of typed date columns, fitted and scored.

Naive times are read as UTC (:func:`ae_anomaly.tables.typing.parse_datetimes`). A model
fitted on times with a zone (``America/New_York``) and given the same wall-clock times
without one took them as UTC: five hours off, with other hours and days of the week, and
no warning. Where both columns are typed (DataFrames, Parquet files), a table whose times
have a zone other than UTC where the fitted ones had none, or the other way round, is
refused; times in UTC and times without a zone read alike. Times with a zone are written
to CSV as pandas writes them (:func:`zoned_text`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pa_compute

from .errors import TableError, escape

#: The zone recorded for a column of times without one.
NAIVE = "naive"
#: Zones that are UTC under another name: times in them read as times without a zone do
#: (Spark, DuckDB and Polars write Parquet timestamps in UTC).
UTC_NAMES = frozenset(["UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal",
                       "Etc/Zulu", "Zulu", "GMT", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0",
                       "Etc/GMT-0", "GMT0", "Etc/Greenwich", "Greenwich", "UTC+00:00"])  # fmt: skip


def time_zone(series):
    """The time zone of a typed date column, NumPy's or Arrow's (:data:`NAIVE` without
    one), or None for text and objects, whose cells may each say another.

    Examples
    --------
    >>> time_zone(pd.Series(pd.to_datetime(["2024-05-31"]).tz_localize("Europe/Paris")))
    'Europe/Paris'
    >>> time_zone(pd.Series(pd.to_datetime(["2024-05-31"]))), time_zone(pd.Series(["2024"]))
    ('naive', None)
    """
    dtype = _numpy_type(series.dtype)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return str(dtype.tz)
    return NAIVE if pd.api.types.is_datetime64_dtype(dtype) else None


def numpy_times(series):
    """``series`` as NumPy times (``datetime64[unit, tz]``, or naive) when it holds Arrow
    timestamps (``pd.ArrowDtype(pa.timestamp("us", tz="Europe/Paris"))``, what
    ``pd.read_parquet(..., dtype_backend="pyarrow")`` gives), the same instants in the same
    zone; any other column as it is. Their zone is then checked, and they are encoded, as
    NumPy's are: it was taken for no zone, and the times as UTC.

    Examples
    --------
    >>> paris = pd.Series(pd.to_datetime(["2024-01-01"]).tz_localize("Europe/Paris"))
    >>> numpy_times(paris.astype(pd.ArrowDtype(pa.timestamp("us", tz="Europe/Paris")))).dtype
    datetime64[us, Europe/Paris]
    >>> numpy_times(paris.astype(pd.ArrowDtype(pa.timestamp("s", tz="+00:00")))).dtype
    datetime64[s, UTC]
    """
    dtype = _numpy_type(series.dtype)
    return series if dtype is series.dtype else series.astype(dtype)


def _numpy_type(dtype):
    """NumPy's type for Arrow timestamps (``datetime64[us, UTC]`` for ``+00:00``, as pandas
    spells the zone), else ``dtype`` itself."""
    if not (isinstance(dtype, pd.ArrowDtype) and pa.types.is_timestamp(dtype.pyarrow_dtype)):
        return dtype
    unit, tz = dtype.pyarrow_dtype.unit, dtype.pyarrow_dtype.tz
    return np.dtype(f"datetime64[{unit}]") if tz is None else pd.DatetimeTZDtype(unit, tz)


#: Digits of a second's fraction, the finest first, and the Arrow unit that holds them.
_FRACTIONS = ((pa_compute.nanosecond, "ns"), (pa_compute.microsecond, "us"),
              (pa_compute.millisecond, "ms"))  # fmt: skip
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


def zoned_text(column):
    """A column of times with a zone (Arrow ``timestamp[unit, tz]``) as the text pandas'
    ``to_csv`` writes: the wall-clock time in the zone and its UTC offset,
    ``2024-01-01 02:37:36+01:00`` (ISO 8601 with a space; UTC ``+00:00``), a fraction of a
    second only where the column has one, with as many digits as its finest needs (3, 6
    or 9, as pandas), missing times missing. Read back by pandas, the same instants. A
    time whose offset has seconds (a local mean time, before time zones: Paris was
    ``+00:09:21`` until 1911) is written in UTC, ``+00:00``: pandas writes that offset,
    which neither ISO 8601 nor pandas' reader knows.

    Arrow writes ``2024-01-01 02:37:36.000000+0100``: an offset without its colon (not
    ISO 8601 in a time with colons), six zeros of fraction in every cell.

    Examples
    --------
    >>> times = pd.Series(pd.to_datetime(["2024-01-01 02:37:36", None]), dtype="datetime64[us]")
    >>> zoned_text(pa.array(times.dt.tz_localize("Europe/Paris"))).to_pylist()
    ['2024-01-01 02:37:36+01:00', None]
    >>> zoned_text(pa.array(times.dt.tz_localize("UTC") + pd.Timedelta("5ms"))).to_pylist()
    ['2024-01-01 02:37:36.005+00:00', None]
    """
    finer = (unit for part, unit in _FRACTIONS if pa_compute.max(part(column)).as_py())
    unit = next(finer, "s")  # the coarsest unit that holds every value
    exact = column.cast(pa.timestamp(unit, column.type.tz))  # safe: nothing finer is lost
    wall = pa_compute.strftime(exact, format="%Y-%m-%d %H:%M:%S")  # in the zone

    def ticks(times):
        return pa_compute.fill_null(times.cast(pa.int64()), 0).to_numpy()

    shift = ticks(pa_compute.local_timestamp(exact)) - ticks(exact.cast(pa.timestamp(unit)))
    shift //= _PER_SECOND[unit]
    odd = shift % 60 != 0  # an offset of seconds (local mean time): written in UTC
    if odd.any():
        utc = pa_compute.strftime(exact.cast(pa.timestamp(unit, "UTC")), format="%Y-%m-%d %H:%M:%S")
        wall = pa_compute.if_else(pa.array(odd), utc, wall)
        shift[odd] = 0
    offsets, where = np.unique(shift, return_inverse=True)
    texts = np.array([_offset_text(int(seconds)) for seconds in offsets], dtype=object)
    return pa_compute.binary_join_element_wise(wall, pa.array(texts[where], pa.string()), "")


def _offset_text(seconds):
    """``+01:00``, ``-03:30``: a UTC offset of whole minutes as ISO 8601 writes it.

    Examples
    --------
    >>> _offset_text(3600), _offset_text(-12600), _offset_text(0)
    ('+01:00', '-03:30', '+00:00')
    """
    hours, rest = divmod(abs(seconds), 3600)
    return f"{'-' if seconds < 0 else '+'}{hours:02d}:{rest // 60:02d}"


def check_time_zone(series, fitted):
    """Refuse ``series`` when its times have a zone other than UTC and the fitted ones
    (``fitted``, from :func:`time_zone`) had none, or the other way round.

    Examples
    --------
    >>> naive = pd.Series(pd.to_datetime(["2024-05-31 09:00"]), name="seen")
    >>> check_time_zone(naive, "naive"), check_time_zone(naive, "UTC")
    (None, None)
    >>> check_time_zone(naive, "America/New_York")
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.errors.TableError: column 'seen' was fitted with times in ...
    """
    zone = time_zone(series)
    if fitted is None or zone is None or (zone == NAIVE) == (fitted == NAIVE):
        return
    if (fitted if zone == NAIVE else zone) in UTC_NAMES:  # read as naive times are
        return
    name = escape(repr(series.name))
    if zone == NAIVE:
        raise TableError(
            f"column {name} was fitted with times in {fitted} and holds times without a "
            "time zone, which would be read as UTC; give them their zone first "
            f"(.dt.tz_localize({fitted!r}) in pandas; in a CSV file, ISO times with their "
            "offset, 2024-05-01T08:00:00-04:00)."
        )
    raise TableError(
        f"column {name} was fitted with times without a time zone (read as UTC) and holds "
        f"times in {zone}; convert them to the fitted times' zone and drop it first "
        "(.dt.tz_convert(...).dt.tz_localize(None) in pandas), or fit on times with their "
        "zone."
    )
