"""A detector for mixed tables in one line, and which original column makes a row anomalous.

:func:`make_table_pipeline` puts a :class:`~ae_anomaly.tables.encoder.TableEncoder` before
a detector; :func:`feature_scores_by_column` splits each row's anomaly error into one share
per *original* column plus the code-distance term, ``_code_distance``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from .encoder import TableEncoder
from .errors import cell_repr, user_stacklevel
from .thresholds import anomaly_scores

#: Name of the share of the anomaly error that is the code's distance from the training codes.
CODE_DISTANCE = "_code_distance"


def make_table_pipeline(detector, **encoder_options):
    """``Pipeline([("table", TableEncoder(**encoder_options)), ("detector", detector)])``.

    The encoder hands the detector a DataFrame (``set_output(transform="pandas")``), so the
    detector's errors and :meth:`feature_scores` name the encoded columns.

    Parameters
    ----------
    detector : estimator
        An :mod:`ae_anomaly` detector (e.g. ``Autoencoder()``).
    **encoder_options
        Parameters of :class:`~ae_anomaly.tables.encoder.TableEncoder` (``id_cols``,
        ``impute``, ``decimal``, ``keep_default_na``...).

    Returns
    -------
    pipeline : Pipeline

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ae_anomaly import Autoencoder
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"amount": rng.normal(size=60),
    ...                       "region": rng.choice(["EU", "NA"], size=60),
    ...                       "id": [f"t{i}" for i in range(60)]})
    >>> pipeline = make_table_pipeline(Autoencoder(max_iter=2, random_state=0),
    ...                                id_cols=["id"], keep_default_na=False).fit(frame)
    >>> pipeline.score_samples(frame).shape
    (60,)
    """
    encoder = TableEncoder(**encoder_options).set_output(transform="pandas")
    return Pipeline([("table", encoder), ("detector", detector)])


def feature_scores_by_column(pipeline, X):
    """Each row's anomaly error split into shares per original column and ``_code_distance``.

    The detector's anomaly error of a row (minus its ``score_samples``) is a reconstruction
    part (the mean of its per-encoded-column errors) plus the distance of its code from the
    training codes (see :meth:`ae_anomaly.Autoencoder.score_samples`). Here:

    - ``_code_distance`` is that distance's exact share of the error, reported on its own
      (the detector's :meth:`feature_scores` adds an equal part of it to every encoded
      column; it is not smeared over the columns here). The ensemble's error is centered
      on its training rows' (``member_center_``), so no share of it is the distance
      alone: there it is 0, and occlusion charges the distance to the columns that move
      the code (a wine row planted in ``malic_acid``: 0.93 to ``malic_acid``, where a
      separate term of the distance above its typical value took it all);
    - the reconstruction part is split over the original columns in proportion to how
      much of it goes away when that column alone is replaced by its typical encoding
      (``TableEncoder.feature_means_``: a number's training mean, a category's training
      frequencies, a date's mean features) -- occlusion. Each column is replaced as one
      block, so a 10-level category weighs one column, not 11; and a planted extreme value
      in one column, which pushes the code off and so spoils the reconstruction of other
      columns too, is charged to the column that caused it. Rows where no single column
      lowers the error share it by each column's mean encoded error (from
      ``feature_scores``, less the code-distance part).

    It costs two passes of the detector per original column.

    Parameters
    ----------
    pipeline : Pipeline
        A fitted pipeline whose steps before the last end with a ``TableEncoder`` (e.g.
        from :func:`make_table_pipeline`) and whose last step has ``feature_scores``.
    X : DataFrame

    Returns
    -------
    shares : DataFrame of shape (n_samples, n_columns + 1)
        With ``X``'s index; one column per feature column, then ``_code_distance``. Each
        row sums to 1. A row whose error overflows (infinite or NaN) is shared equally among
        the columns whose occlusion makes it finite, and ``_code_distance`` when the code
        distance overflows too; such rows come with one warning, naming the
        first.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ae_anomaly import Autoencoder
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    >>> frame["size"] = pd.cut(frame["a"], 3, labels=["S", "M", "L"]).astype(str)
    >>> pipeline = make_table_pipeline(Autoencoder(max_iter=5, random_state=0)).fit(frame)
    >>> odd = frame.iloc[:1].assign(c=8.0)
    >>> shares = feature_scores_by_column(pipeline, odd)
    >>> list(shares.columns), str(shares.iloc[0].idxmax())
    (['a', 'b', 'c', 'size', '_code_distance'], 'c')
    """
    encoder, detector = _encoder(pipeline), pipeline[-1]
    if not hasattr(detector, "feature_scores"):
        raise TypeError(f"{type(detector).__name__} has no feature_scores method.")
    encoded = pipeline[:-1].transform(X)
    total, distance = _error_parts(detector, encoded)
    shares = shares_of_encoded(encoder, detector, encoded, (total, distance))
    shares.index = X.index if isinstance(X, pd.DataFrame) else shares.index
    unscorable = ~np.isfinite(total)
    if unscorable.any():  # the scores are the quiet ones: this is the rows' one warning
        first = cell_repr(shares.index[int(np.flatnonzero(unscorable)[0])])
        warnings.warn(
            f"{int(unscorable.sum())} row(s) could not be scored: their values overflow to "
            f"infinity or NaN in the model's arithmetic (first: row {first}). Their shares "
            "go to the columns whose typical value makes the error finite.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    return shares


def shares_of_encoded(encoder, detector, encoded, parts=None):
    """:func:`feature_scores_by_column` of rows already encoded by ``encoder``, with no
    warning for the rows that cannot be scored (the caller counts them); ``parts``: their
    ``(anomaly error, code distance)`` when already computed."""
    total, distance = _error_parts(detector, encoded) if parts is None else parts
    groups = list(encoder.feature_groups_.values())
    occluded = [_error_parts(detector, _occlude(encoded, idx, encoder)) for idx in groups]
    with np.errstate(invalid="ignore", over="ignore"):
        recon = total - distance
        drops = np.column_stack([recon - (t - d) for t, d in occluded])
        drops = np.where(np.isnan(drops), 0.0, np.clip(drops, 0.0, None))
        fallback = ~(drops.sum(axis=1) > 0) & np.isfinite(total)  # unscorable: below
        if fallback.any():
            rows = encoded[fallback]
            drops[fallback] = _mean_errors(detector, rows, distance[fallback], groups)
        weights = drops / drops.sum(axis=1, keepdims=True)
        recon_share = np.clip(recon / total, 0.0, 1.0)
        shares = np.column_stack([weights * recon_share[:, None], 1.0 - recon_share])
    # an error that overflowed goes to the columns whose occlusion makes it finite
    broken = ~np.isfinite(shares).all(axis=1)
    if broken.any():
        culprits = np.column_stack([np.isfinite(t) for t, _ in occluded] + [~np.isfinite(distance)])
        culprits = culprits[broken]
        culprits[~culprits.any(axis=1)] = True
        shares[broken] = culprits / culprits.sum(axis=1, keepdims=True)
    names = [*encoder.feature_groups_, CODE_DISTANCE]
    index = encoded.index if isinstance(encoded, pd.DataFrame) else None
    return pd.DataFrame(shares, columns=names, index=index)


def _error_parts(detector, encoded):
    """``(anomaly error, code distance)`` per row; ``inf`` error, with no warning, where
    the row cannot be scored (the caller counts such rows; the occluded passes too)."""
    total = np.asarray(anomaly_scores(detector, encoded), dtype=np.float64)
    return total, _code_distance(detector, encoded)


def _occlude(encoded, idx, encoder):
    """``encoded`` with columns ``idx`` set to their typical (training mean) value."""
    occluded = encoded.copy()
    if isinstance(occluded, pd.DataFrame):
        occluded.iloc[:, idx] = encoder.feature_means_[idx]
    else:
        occluded[:, idx] = encoder.feature_means_[idx]
    return occluded


def _mean_errors(detector, encoded, distance, groups):
    """Each column's mean encoded error, less the code distance ``feature_scores`` adds."""
    scores = np.asarray(detector.feature_scores(encoded), dtype=np.float64)
    total = np.asarray(anomaly_scores(detector, encoded), dtype=np.float64)
    # feature_scores = errors + c, c equal over the columns, and total = mean(errors) + d
    added = scores.mean(axis=1) - (total - distance)
    errors = np.clip(scores - added[:, None], 0.0, None)
    return np.column_stack([errors[:, idx].mean(axis=1) for idx in groups])


def _encoder(pipeline):
    steps = pipeline[:-1] if isinstance(pipeline, Pipeline) else None
    encoder = steps[-1] if steps is not None and len(steps) else None
    if not isinstance(encoder, TableEncoder):
        raise TypeError(
            "feature_scores_by_column needs a Pipeline whose step before the detector is a "
            "TableEncoder (see make_table_pipeline)."
        )
    return encoder


def _code_distance(detector, encoded):
    """Per-row mean squared standardized distance of the code from the training codes."""
    code_mean = getattr(detector, "code_mean_", None)
    if code_mean is None:  # a detector scoring the reconstruction error alone
        return np.zeros(len(encoded))
    codes = np.asarray(detector.transform(encoded), dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return ((codes - code_mean) ** 2 / detector.code_scale_).mean(axis=1)
