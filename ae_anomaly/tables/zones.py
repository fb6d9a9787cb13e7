"""Time zones of typed date columns, fitted and scored.

Naive times are read as UTC (:func:`ae_anomaly.tables.typing.parse_datetimes`). A model
fitted on times with a zone (``America/New_York``) and given the same wall-clock times
without one took them as UTC: five hours off, with other hours and days of the week, and
no warning. Where both columns are typed (DataFrames, Parquet files), a table whose times
have a zone other than UTC where the fitted ones had none, or the other way round, is
refused; times in UTC and times without a zone read alike.
"""

from __future__ import annotations

import pandas as pd

from .errors import TableError, escape

#: The zone recorded for a column of times without one.
NAIVE = "naive"
#: Zones that are UTC under another name: times in them read as times without a zone do
#: (Spark, DuckDB and Polars write Parquet timestamps in UTC).
UTC_NAMES = frozenset(["UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal",
                       "Etc/Zulu", "Zulu", "GMT", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0",
                       "Etc/GMT-0", "GMT0", "Etc/Greenwich", "Greenwich", "UTC+00:00"])  # fmt: skip


def time_zone(series):
    """The time zone of a typed date column (:data:`NAIVE` without one), or None for
    text and objects, whose cells may each say another.

    Examples
    --------
    >>> time_zone(pd.Series(pd.to_datetime(["2024-05-31"]).tz_localize("Europe/Paris")))
    'Europe/Paris'
    >>> time_zone(pd.Series(pd.to_datetime(["2024-05-31"]))), time_zone(pd.Series(["2024"]))
    ('naive', None)
    """
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return str(series.dtype.tz)
    return NAIVE if pd.api.types.is_datetime64_dtype(series.dtype) else None


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
