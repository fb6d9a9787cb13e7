"""A mixed-type example table that ships offline (built from scikit-learn's bundled data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.utils import check_random_state

#: The breast-cancer measurements kept, and their names in the example table.
MEASUREMENTS = {
    "mean radius": "radius",
    "mean texture": "texture",
    "mean smoothness": "smoothness",
    "mean concavity": "concavity",
    "worst area": "area",
}


def load_mixed_example(*, n_anomalies=20, random_state=0):
    """Tumour measurements with an id, categories, a percentage, a boolean and a date.

    The benign tumours of scikit-learn's breast-cancer data (357 rows) and
    ``n_anomalies`` malignant ones, shuffled, as a spreadsheet export would hold them:

    - ``patient_id``: text ids with leading zeros (``P00042``);
    - ``radius``, ``texture``, ``smoothness``, ``concavity``, ``area``: numbers;
    - ``compactness``: a percentage as text (``"10.4%"``);
    - ``size``: ``small``/``medium``/``large``, a binning of ``radius``;
    - ``clinic``: ``NA`` (North America), ``EU`` or ``APAC``; read it with
      ``keep_default_na=False`` or ``NA`` becomes a missing value;
    - ``biopsy``: ``yes``/``no``; ``visit``: an ISO date in 2023-2024.

    ``clinic``, ``biopsy`` and ``visit`` are drawn at random, independently of the label.

    Parameters
    ----------
    n_anomalies : int, default=20
        Malignant rows to include (at most 212).
    random_state : int, RandomState instance or None, default=0

    Returns
    -------
    frame : DataFrame of shape (357 + n_anomalies, 11)
    is_anomaly : Series of int
        1 for the malignant rows, with ``frame``'s index.

    Examples
    --------
    >>> frame, is_anomaly = load_mixed_example()
    >>> frame.shape, int(is_anomaly.sum())
    ((377, 11), 20)
    >>> frame.iloc[0].drop(list(MEASUREMENTS.values())).tolist()
    ['P00001', '5.4%', 'large', 'NA', 'no', '2023-12-04']
    """
    rng = check_random_state(random_state)
    data = load_breast_cancer(as_frame=True)
    measures = data.frame
    benign = np.flatnonzero(data.target.to_numpy() == 1)
    malignant = rng.choice(np.flatnonzero(data.target.to_numpy() == 0), n_anomalies, False)
    rows = rng.permutation(np.concatenate([benign, malignant]))
    n = len(rows)
    frame = measures.iloc[rows][list(MEASUREMENTS)].rename(columns=MEASUREMENTS)
    frame = frame.reset_index(drop=True)
    frame.insert(0, "patient_id", [f"P{i + 1:05d}" for i in range(n)])
    compactness = measures["mean compactness"].to_numpy()[rows]
    frame["compactness"] = [f"{100 * c:.1f}%" for c in compactness]
    cuts = np.quantile(measures["mean radius"].to_numpy()[benign], [1 / 3, 2 / 3])
    frame["size"] = np.array(["small", "medium", "large"])[np.searchsorted(cuts, frame["radius"])]
    frame["clinic"] = rng.choice(["NA", "EU", "APAC"], n, p=[0.5, 0.3, 0.2])
    frame["biopsy"] = rng.choice(["yes", "no"], n, p=[0.3, 0.7])
    days = rng.randint(0, 731, n)
    frame["visit"] = (pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D")).strftime(
        "%Y-%m-%d"
    )
    is_anomaly = pd.Series(np.isin(rows, malignant).astype(int), index=frame.index)
    return frame, is_anomaly
