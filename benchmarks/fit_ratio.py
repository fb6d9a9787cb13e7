"""The warm fit-time ratio of a model to ``IsolationForest(n_estimators=100)`` (in process).

``python -m benchmarks.tabular --fit-ratio`` reports it on :data:`RATIO_DATASETS`;
``benchmarks/fit_ratio_cold.py`` times the same fits as a one-off script pays them.
"""

from __future__ import annotations

import time

import pandas as pd

from .protocol import split

#: Datasets of the fit-time ratio: narrow and wide, small and large.
RATIO_DATASETS = (
    "4_breastw",
    "6_cardio",
    "8_celeba",
    "11_donors",
    "17_InternetAds",
    "22_magic.gamma",
    "24_mnist",
    "29_Pima",
    "32_shuttle",
    "35_SpamBase",
)


def fit_time_ratio(datasets, make, repeats=3, seed=1):
    """Fit seconds of ``make(seed)`` against ``IsolationForest(n_estimators=100)``.

    Timed as a user runs them: in this process, at the libraries' default thread counts,
    interleaved (so both see the same machine load), best of ``repeats`` fits, on the
    protocol's training part of each dataset (seed ``seed``).

    Returns
    -------
    DataFrame
        One row per dataset: both fit times and their ratio.
    """
    import warnings

    from sklearn.ensemble import IsolationForest

    rows = {}
    for dataset in datasets:
        X_train = split(*dataset.load(), seed)[0]
        best = {"model": float("inf"), "IsolationForest": float("inf")}
        for _ in range(repeats):
            for name, build in (
                ("IsolationForest", lambda: IsolationForest(n_estimators=100, random_state=seed)),
                ("model", lambda: make(seed)),
            ):
                estimator = build()
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    estimator.fit(X_train)
                best[name] = min(best[name], time.perf_counter() - start)
        rows[dataset.name] = {**best, "ratio": best["model"] / best["IsolationForest"]}
    return pd.DataFrame.from_dict(rows, orient="index")
