"""``ae_anomaly.dask``: score and train on Dask DataFrames (see :mod:`ae_anomaly.scale.dask`)."""

from .scale.dask import *  # noqa: F403  (the public names, re-exported)
from .scale.dask import __all__  # noqa: F401
