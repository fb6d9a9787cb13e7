"""``ae_anomaly.dask``: score and train on Dask DataFrames (see :mod:`ae_anomaly.scale.dask`)."""

from .scale.dask import (
    apply_model,
    fit_partitions,
    iter_partitions,
    open_client,
    score_parquet,
    ship,
)

__all__ = [
    "apply_model",
    "fit_partitions",
    "iter_partitions",
    "open_client",
    "score_parquet",
    "ship",
]
