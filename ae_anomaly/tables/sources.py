"""Where rows come from: files, globs, directories, Dask or in-memory tables, in chunks.

:func:`iter_chunks` yields DataFrames of a fixed number of rows from any source, holding one
chunk (plus one block of the underlying reader) at a time; :class:`Reservoir` keeps a
uniform sample of a stream. Used by out-of-core training, the CLI and the Dask engine.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from .._rows import mark
from .formats import BLOCK_SIZE, PARQUET_SUFFIXES
from .reader import TableReader


def iter_chunks(source, *, chunksize, columns=None):
    """Yield the rows of ``source`` as DataFrames of ``chunksize`` rows (the last may be fewer).

    Only one chunk, plus at most one block of the underlying reader, is in memory at a time.

    Parameters
    ----------
    source : path, glob pattern, list of paths, Dask DataFrame, DataFrame, ndarray or callable
        A CSV/TSV/Parquet file (by extension), a directory (its ``*.parquet`` files, in
        sorted order, searched recursively), a glob pattern such as ``"data/*.parquet"``,
        a list of those, a ``dask.dataframe.DataFrame`` (computed one partition at a time),
        an in-memory table, or a function returning a new iterator of tables at each call.
    chunksize : int
        Rows per chunk.
    columns : list of str, optional
        The columns to keep, in this order; default all.

    Yields
    ------
    chunk : DataFrame of shape (<= chunksize, n_columns)
        A file's rows are labelled by their 1-based data row in that file (the header
        line not counted), the row the command line and every error message name;
        a table's rows keep their index, an array's are numbered from 0. Its ``attrs``
        say where its rows are in the whole data (:func:`ae_anomaly._rows.mark`), so
        that a message names a row by its position in the data, not in the chunk, and
        a row of one of several files by its file.

    Examples
    --------
    >>> import numpy as np
    >>> [len(chunk) for chunk in iter_chunks(np.zeros((10, 2)), chunksize=4)]
    [4, 4, 2]
    """
    chunksize = check_chunksize(chunksize)
    frames, unique, several = _frames(source, chunksize)
    for chunk in _rechunk(frames, chunksize, unique, several):
        if columns is not None:
            missing = [c for c in columns if c not in chunk.columns]
            if missing:
                raise ValueError(f"Column(s) {missing} not found; the data has {list(chunk)}.")
            chunk = chunk[list(columns)]
        yield chunk


# ----------------------------------------------------------------------------- internals
def check_chunksize(chunksize):
    if not isinstance(chunksize, int | np.integer) or isinstance(chunksize, bool):
        raise TypeError(f"chunksize must be an integer, got {chunksize!r}.")
    if chunksize < 1:
        raise ValueError(f"chunksize must be at least 1, got {chunksize}.")
    return int(chunksize)


class Reservoir:
    """A uniform sample without replacement of at most ``size`` rows of a stream.

    Every row gets a random key and the ``size`` smallest keys are kept ("bottom-k"
    sampling), so memory is one sample plus the chunk being added.
    """

    def __init__(self, size, rng):
        self.size, self.rng = size, rng
        self.sample, self._keys = None, None

    def add(self, rows):
        keys = self.rng.random(len(rows))
        if self.sample is not None:
            rows = np.concatenate([self.sample, rows])
            keys = np.concatenate([self._keys, keys])
        if len(rows) > self.size:
            keep = np.sort(np.argpartition(keys, self.size)[: self.size])
            rows, keys = rows[keep], keys[keep]
        self.sample, self._keys = rows, keys


def _frames(source, chunksize):
    """``(frames, unique, several)`` of ``source`` (see :func:`iter_chunks`): an iterator
    of ``(DataFrame of any size, file or None)``, whether the whole data's index labels
    are unique (None: unknown, a stream), and whether the rows come from several files."""
    if callable(source):
        frames = (frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
                  for frame in source())  # fmt: skip
        return ((frame, None) for frame in frames), None, False
    if isinstance(source, pd.DataFrame):
        return iter([(source, None)]), source.index.is_unique, False
    if isinstance(source, np.ndarray):
        return iter([(pd.DataFrame(np.atleast_2d(source) if source.ndim == 1 else source),
                      None)]), True, False  # fmt: skip
    dask = sys.modules.get("dask")  # a Dask collection implies dask is imported
    if dask is not None and dask.is_dask_collection(source):
        return ((part, None) for part in iter_partitions(source)), None, False
    paths = expand_paths(source)
    return _file_frames(paths, chunksize), True, len(paths) > 1


def _file_frames(paths, chunksize):
    """``(DataFrame, path)`` of the files ``paths``, one block at a time, labelled by their
    1-based data rows."""
    first_columns = None
    for path in paths:
        reader = TableReader(path)
        # about one chunk of float64 per block, so the reader holds no more than a chunk
        reader.block_size = int(np.clip(chunksize * 8 * len(reader.columns), 1 << 16, BLOCK_SIZE))
        if first_columns is None:
            first_columns = reader.columns
        elif reader.columns != first_columns:
            raise ValueError(
                f"{path} has columns {reader.columns}, but {paths[0]} has {first_columns}."
            )
        # numbers stay numbers; text in a column becomes an error that names the rows
        types = {
            name: pa.float64()
            for name, arrow_type in reader.arrow_types.items()
            if not (pa.types.is_floating(arrow_type) or pa.types.is_integer(arrow_type))
        }
        for frame in reader.with_types(types) if types else reader:
            # the reader's 0-based rows as the 1-based data rows its own errors name
            yield frame.set_axis(frame.index + 1, axis=0), path


def expand_paths(source):
    """The files of a path, directory, glob pattern or list of those, in a stable order."""
    if isinstance(source, str | Path):
        source = [source]
    paths = []
    for item in source:
        item = str(item)
        if Path(item).is_dir():
            found = sorted(
                str(p) for p in Path(item).rglob("*") if p.suffix.lower() in PARQUET_SUFFIXES
            )
            if not found:
                raise FileNotFoundError(f"No Parquet file (*.parquet, *.pq) in {item}.")
        elif glob.has_magic(item):
            found = sorted(glob.glob(item, recursive=True))
            if not found:
                raise FileNotFoundError(f"No file matches {item!r}.")
        elif Path(item).is_file():
            found = [item]
        else:
            raise FileNotFoundError(f"No such file or directory: {item!r}.")
        paths.extend(found)
    return paths


def input_holding(output, source):
    """The item of ``source`` (a path, directory, glob pattern or list of those) whose
    files ``output`` would be among, or None: an output at or under an input directory
    (searched recursively), under the fixed part of a ``**`` pattern, or that a pattern
    matches, would be read as input by the next run over the same data.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> input_holding(f"{folder}/scores", folder) == folder
    True
    >>> input_holding(f"{folder}/../scores", folder) is None
    True
    """
    items = [source] if isinstance(source, str | Path) else list(source)
    target = Path(os.path.realpath(output))
    for item in map(str, items):
        if glob.has_magic(item):
            parts = Path(item).parts
            n_fixed = next(i for i, part in enumerate(parts) if glob.has_magic(part))
            base = Path(os.path.realpath(Path(*parts[:n_fixed]) if n_fixed else "."))
            pattern = str(base.joinpath(*parts[n_fixed:]))
            if ("**" in item and target.is_relative_to(base)) or any(
                fnmatch.fnmatch(str(path), pattern) for path in [target, *target.parents]
            ):
                return item
        elif Path(item).is_dir() and target.is_relative_to(os.path.realpath(item)):
            return item
    return None


def _rechunk(frames, chunksize, unique, several):
    """Regroup the DataFrames of ``(frame, file)`` pairs into chunks of exactly
    ``chunksize`` rows, each marked with where its rows are (:func:`ae_anomaly._rows.mark`;
    ``unique`` and ``several``: see :func:`_frames`)."""
    pending, n_pending, offset, files = [], 0, 0, []
    for frame, path in frames:
        start = 0
        while start < len(frame):
            piece = frame.iloc[start : start + chunksize - n_pending]
            start += len(piece)
            if several and (not files or files[-1][1] != str(path)):
                files.append((n_pending, str(path)))
            pending.append(piece)
            n_pending += len(piece)
            if n_pending == chunksize:
                yield _chunk(pending, offset, unique, files)
                offset += n_pending
                pending, n_pending, files = [], 0, []
    if pending:
        yield _chunk(pending, offset, unique, files)


def _chunk(pieces, offset, unique, files):
    chunk = pieces[0] if len(pieces) == 1 else pd.concat(pieces)
    return mark(chunk, offset=offset, unique=unique, files=files)


def iter_partitions(ddf):
    """Compute and yield the partitions of a Dask DataFrame one at a time, as pandas frames.

    Examples
    --------
    >>> import pandas as pd, dask.dataframe as dd
    >>> ddf = dd.from_pandas(pd.DataFrame({"a": range(10)}), npartitions=3)
    >>> [len(part) for part in iter_partitions(ddf)]
    [4, 3, 3]
    """
    for part in ddf.to_delayed():
        yield part.compute()
