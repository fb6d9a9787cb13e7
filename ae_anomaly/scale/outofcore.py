"""Out-of-core training: fit an autoencoder on data streamed in chunks, never all in memory.

:func:`fit_chunks` turns a source into a stream of chunks and hands it to the estimator's
:meth:`~ae_anomaly.models.base.BaseAutoencoder.fit_stream`: one streaming pass fits the input
scaler (``StandardScaler`` and ``MinMaxScaler`` with their own ``partial_fit``, so the result
is that of the whole data) and draws a uniform sample of rows, then every epoch trains on
the chunks through the same epoch driver as ``fit``. Sources are a CSV/TSV/Parquet file, a
directory of Parquet files, a glob pattern, a list of those, a Dask DataFrame (one
partition at a time) or an in-memory array.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ..models.base import BaseAutoencoder
from ..tables.sources import Reservoir, check_chunksize, iter_chunks

#: The score's statistics, ``offset_`` and a ``"robust"`` scaler come from a uniform sample
#: of ``max(chunksize, OFFSET_MIN_SAMPLE)`` training rows (all of them on smaller data).
OFFSET_MIN_SAMPLE = 10_000


def fit_chunks(estimator, source, *, chunksize=65_536, epochs=None, columns=None):
    """Fit ``estimator`` on data streamed in chunks: memory bounded by the chunk size.

    1. One streaming pass validates every chunk, fits the input scaler
       (``scaling="standard"`` and ``"minmax"`` use the scaler's own ``partial_fit`` and
       equal a scaler fitted on all rows at once) and draws a uniform sample of
       ``max(chunksize, OFFSET_MIN_SAMPLE)`` rows (every row of smaller data).
    2. Each epoch trains on every chunk in turn, through the epoch driver ``fit`` uses
       (rows are shuffled within a chunk, not across chunks: shuffle a sorted file first).
       :class:`~ae_anomaly.EnsembleAutoencoder`, whose members train on ``max_samples``
       rows each, trains on the sample instead, as ``fit`` does on all the rows: the
       data is read once.
    3. What :meth:`fit` computes from all training rows after training (the score's error
       statistics, then ``offset_``) is computed from the sample, and so is a
       ``"robust"`` scaler (medians and quantiles cannot stream exactly): memory stays flat
       in the number of rows.

    The estimator starts over, as with ``fit``; see
    :meth:`~ae_anomaly.models.base.BaseAutoencoder.fit_stream`.

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
    seed = check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max)
    sample = Reservoir(max(chunksize, OFFSET_MIN_SAMPLE), np.random.default_rng(seed))
    return estimator.fit_stream(
        lambda: iter_chunks(source, chunksize=chunksize, columns=columns),
        sample=sample,
        epochs=None if epochs is None else int(epochs),
    )
