"""Where the rows of a chunk are in the whole data, for the messages that name a row.

A message names a row by its index label, and by its position too when another row has
the same label (``pd.concat([jan, feb])``). A chunk alone cannot tell either: a label may
repeat in the data and not in the chunk, and a position counted in the chunk is no row's.
The code that cuts data into chunks knows both, and records them with :func:`mark` in the
chunk's ``attrs``, which pandas carries through column selection, slicing and
``set_axis``; :func:`name_row` reads them. No import beyond the standard library: the
command line's ``--help`` imports this module.
"""

from __future__ import annotations

#: The key of a chunk's ``attrs`` that holds its :func:`mark`.
KEY = "ae_anomaly.rows"


def mark(chunk, *, offset, unique, files=()):
    """Record in ``chunk.attrs`` where its rows are in the whole data; return ``chunk``.

    Parameters
    ----------
    chunk : DataFrame
        Consecutive rows of the data, in order (a new object: its ``attrs`` are replaced,
        not edited, so the table it was cut from keeps its own).
    offset : int
        The position in the whole data of the chunk's first row.
    unique : bool or None
        Whether the index labels of the whole data are unique; None when unknown (a
        stream of tables): the chunk's own labels decide, and a position printed is
        still one in the whole data.
    files : tuple of (int, str)
        For rows read from several files, labelled by their data row in each file:
        ``(position in the chunk, file)`` where each file's rows start; a row is then
        named as its file does (``15 of part2.csv``), with no position.

    Examples
    --------
    >>> import pandas as pd
    >>> chunk = mark(pd.DataFrame({"a": [1.0, 2.0]}, index=[5, 6]), offset=70, unique=False)
    >>> name_row(chunk["a"], 1, "6")
    '6 (position 71)'
    """
    chunk.attrs = {**chunk.attrs, KEY: (int(offset), unique, len(chunk), tuple(files))}
    return chunk


def name_row(rows, position, label):
    """The row at ``position`` (from 0) of ``rows`` (a DataFrame, a Series or an Index),
    whose label reads ``label``, for a message: the label, with the row's position in the
    whole data when another row of the data has that label, or with its file (see
    :func:`mark`).

    Without a :func:`mark` (or with one that no longer fits: rows dropped since), ``rows``
    is taken for the whole data. A table cut into chunks outside the package is not: a
    repeated label is then named with its position in the piece given.

    Examples
    --------
    >>> import pandas as pd
    >>> name_row(pd.Index([0, 1, 0]), 2, "0"), name_row(pd.Index([0, 1, 2]), 2, "2")
    ('0 (position 2)', '2')
    >>> chunk = mark(pd.DataFrame({"a": [1.0, 2.0]}, index=[15, 1]), offset=50, unique=None,
    ...              files=((0, "part1.csv"), (1, "part2.csv")))
    >>> name_row(chunk, 0, "15"), name_row(chunk["a"], 1, "1")
    ('15 of part1.csv', '1 of part2.csv')
    """
    index = getattr(rows, "index", rows)  # an Index has no index
    origin = getattr(rows, "attrs", {}).get(KEY)
    offset, unique, files = 0, None, ()
    if origin is not None and origin[2] == len(index):
        offset, unique, _, files = origin
    if files:
        return f"{label} of {next(name for start, name in reversed(files) if start <= position)}"
    if unique is None:
        unique = index.is_unique
    return label if unique else f"{label} (position {offset + int(position)})"


def one_row(chunk, row):
    """The row at ``row`` of the DataFrame ``chunk``, without its columns, marked to be
    named as ``chunk`` names it (its position in the data, its file): an error about it
    can be raised once the chunk is gone.

    Examples
    --------
    >>> import pandas as pd
    >>> chunk = mark(pd.DataFrame({"a": [1.0, 2.0]}, index=[7, 7]), offset=10, unique=False)
    >>> name_row(one_row(chunk, 1), 0, "7")
    '7 (position 11)'
    """
    single = chunk.iloc[[row], :0]
    origin = chunk.attrs.get(KEY)
    if origin is None or origin[2] != len(chunk):
        return single
    offset, unique, _, files = origin
    if unique is None:  # the chunk's labels decide
        unique = chunk.index.is_unique
    named = [(0, name) for start, name in files if start <= row][-1:]
    return mark(single, offset=offset + row, unique=unique, files=named)


__all__ = ["KEY", "mark", "name_row", "one_row"]
