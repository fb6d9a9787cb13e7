"""Out-of-core training: fit an autoencoder on data streamed in chunks, never all in memory.

:func:`fit_chunks` makes one streaming pass to fit the input scaler (``StandardScaler`` and
``MinMaxScaler`` with their own ``partial_fit``, so the result is that of the whole data),
then trains with :meth:`~ae_anomaly.models.base.BaseAutoencoder.partial_fit`, one chunk at a time,
epoch after epoch, and a last pass sets ``offset_`` from the training scores. Sources are a
CSV/TSV/Parquet file, a directory of Parquet files, a glob pattern, a list of those, a Dask
DataFrame (one partition at a time) or an in-memory array.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ..models.base import _SCALERS, BaseAutoencoder
from ..tables.sources import Reservoir, check_chunksize, iter_chunks

#: The score's statistics and ``offset_`` come from a uniform sample of
#: ``max(chunksize, OFFSET_MIN_SAMPLE)`` training rows (all of them on smaller data).
OFFSET_MIN_SAMPLE = 10_000
#: Scalers whose ``partial_fit`` gives exactly the scaler fitted on all the data at once.
_STREAMING_SCALERS = ("standard", "minmax")


def fit_chunks(estimator, source, *, chunksize=65_536, epochs=None, columns=None):
    """Fit ``estimator`` on data streamed in chunks: memory bounded by the chunk size.

    1. One streaming pass fits the input scaler: ``scaling="standard"`` and ``"minmax"``
       use the scaler's own ``partial_fit`` and equal a scaler fitted on all rows at once;
       ``"robust"`` (medians and quantiles cannot stream exactly) is fitted on a uniform
       sample of ``chunksize`` rows.
    2. Each epoch calls ``estimator.partial_fit`` on every chunk in turn (rows are shuffled
       within a chunk, not across chunks: shuffle a sorted file first).
    3. A last pass draws a uniform sample of ``max(chunksize, OFFSET_MIN_SAMPLE)`` rows
       (every row of smaller data); what :meth:`fit` computes from all training rows after
       training (the score's error statistics, then ``offset_``) is computed from it, by
       the estimator's own methods, so that memory stays flat in the number of rows.

    Any fitted state is discarded first, as ``fit`` does.

    Parameters
    ----------
    estimator : BaseAutoencoder
        An ae_anomaly autoencoder; fitted in place.
    source : path, glob pattern, list of paths, Dask DataFrame, DataFrame, ndarray or callable
        See :func:`iter_chunks`.
    chunksize : int, default=65536
        Rows per chunk: the most rows ever in memory at once.
    epochs : int, optional
        Number of passes over the data. By default up to ``estimator.max_iter``, stopping
        early once the epoch's mean training loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs (what ``fit`` does without a validation set).
    columns : list of str, optional
        The feature columns, in this order; default all.

    Returns
    -------
    estimator : BaseAutoencoder
        The fitted estimator: ``loss_curve_`` holds one mean training loss per epoch and
        ``n_iter_`` the number of epochs, as after ``fit``.

    See Also
    --------
    ae_anomaly.dask.fit_partitions : The same over a Dask DataFrame on a cluster.

    Examples
    --------
    >>> import numpy as np
    >>> from ae_anomaly import Autoencoder, fit_chunks
    >>> X = np.random.RandomState(0).normal(size=(1000, 4))
    >>> ae = fit_chunks(Autoencoder(random_state=0), X, chunksize=256, epochs=3)
    >>> ae.n_iter_, len(ae.loss_curve_)
    (3, 3)
    >>> np.allclose(ae.scaler_.mean_, X.mean(axis=0))
    True
    """
    if not isinstance(estimator, BaseAutoencoder):
        raise TypeError(
            f"fit_chunks needs an ae_anomaly autoencoder, got {type(estimator).__name__}."
        )
    chunksize = check_chunksize(chunksize)
    if epochs is not None and (not isinstance(epochs, int | np.integer) or epochs < 1):
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")

    def chunks():
        return iter_chunks(source, chunksize=chunksize, columns=columns)

    _discard_fitted_state(estimator)
    estimator._validate_params()
    seed = check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max)
    rng = np.random.default_rng(seed)
    scaler = _stream_scaler(estimator, chunks(), chunksize, rng)

    max_epochs = estimator.max_iter if epochs is None else int(epochs)
    losses, best, stall, converged = [], math.inf, 0, False
    for _ in range(max_epochs):
        total, n_rows = 0.0, 0
        for chunk in chunks():
            estimator.partial_fit(chunk, scaler=scaler)
            total += estimator.loss_curve_[-1] * len(chunk)
            n_rows += len(chunk)
        losses.append(total / n_rows)
        stall = 0 if losses[-1] < best - estimator.tol else stall + 1
        best = min(best, losses[-1])
        if epochs is None and stall >= estimator.n_iter_no_change:
            converged = True
            break
    if epochs is None and not converged:
        warnings.warn(
            f"{type(estimator).__name__}: maximum iterations ({max_epochs}) reached and the "
            "optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=2,
        )
    estimator.loss_curve_ = losses
    estimator.best_loss_ = best
    estimator.n_iter_ = len(losses)

    sample = Reservoir(max(chunksize, OFFSET_MIN_SAMPLE), rng)
    for chunk in chunks():
        sample.add(estimator._validate_input(chunk, reset=False))
    X_scaled = estimator._scale(sample.sample)
    if hasattr(estimator, "_fit_error_statistics"):  # the score's scales, as fit sets them
        estimator._fit_error_statistics(X_scaled)
    estimator._set_offset(estimator._score_scaled(X_scaled))
    return estimator


# ----------------------------------------------------------------------------- internals
def _discard_fitted_state(estimator):
    """Delete the fitted attributes (``name_``), so ``partial_fit`` starts over."""
    for name in [k for k in vars(estimator) if k.endswith("_") and not k.startswith("_")]:
        delattr(estimator, name)


def _stream_scaler(estimator, chunks, chunksize, rng):
    """The input scaler, fitted in one pass over ``chunks`` (None when ``scaling`` is None)."""
    exact = (
        estimator.scaling in _STREAMING_SCALERS
        and type(estimator)._make_scaler is BaseAutoencoder._make_scaler
    )
    scaler = _SCALERS[estimator.scaling]() if exact else None
    sample = Reservoir(chunksize, rng)
    n_rows = 0
    for chunk in chunks:
        X = estimator._validate_input(chunk, reset=True)  # clear errors: names, NaN rows
        n_rows += len(X)
        if scaler is not None:
            scaler.partial_fit(X)
        elif estimator.scaling is not None:
            sample.add(X)
    if n_rows == 0:
        raise ValueError("The data has no rows to fit on.")
    if estimator.scaling is None or exact:
        return scaler
    return estimator._make_scaler(sample.sample)


