"""The tables library in one import: fit, score, denoise a table; thresholds; settings.

Each ``ae-anomaly`` command is one call to a function here (see :mod:`ae_anomaly.cli`)::

    read_table -> fit_table -> TableModel.save        # ae-anomaly fit / detect
    TableModel.load -> score_table / denoise_table     # ae-anomaly score / denoise

Errors name columns, values and parameters (:class:`~ae_anomaly.tables.errors.ParameterError`
and :class:`~ae_anomaly.tables.errors.TableError` can spell the parameters another way).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from ae_anomaly.tables.api import fit_table, make_estimator, score_table
>>> frame = pd.DataFrame(np.random.RandomState(0).normal(size=(300, 4)), columns=list("abcd"))
>>> model = fit_table(make_estimator("autoencoder", ["max_iter=3"]), frame)
>>> result = score_table(model, frame)
>>> result.rows == 300 and result.threshold == model.metadata["threshold"]
True
"""

from __future__ import annotations

from .distributed import DaskResult, score_files_dask
from .errors import ParameterError, TableError
from .fitting import Table, TableModel, TrainingSummary, fit_table, read_table
from .scoring import TableResult, denoise_table, map_chunks, score_table
from .settings import make_estimator, parse_settings
from .thresholds import anomaly_scores, check_one_threshold, decision_threshold

__all__ = [
    "DaskResult",
    "ParameterError",
    "Table",
    "TableError",
    "TableModel",
    "TableResult",
    "TrainingSummary",
    "anomaly_scores",
    "check_one_threshold",
    "decision_threshold",
    "denoise_table",
    "fit_table",
    "make_estimator",
    "map_chunks",
    "parse_settings",
    "read_table",
    "score_files_dask",
    "score_table",
]
