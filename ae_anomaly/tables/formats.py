"""Table formats and the two kinds of errors of table I/O (see :mod:`ae_anomaly.tables`)."""

from __future__ import annotations

from pathlib import Path

#: Delimiter of each delimited-text extension; a compression suffix may follow (.csv.gz).
TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
COMPRESSION_SUFFIXES = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4"}
#: Bytes of text parsed per chunk (about 28,000 rows of 30 numbers).
BLOCK_SIZE = 16 << 20
STDIO = "-"


class DataError(ValueError):
    """The data is unreadable or does not fit the model (the CLI exits with status 1)."""


class UsageProblem(ValueError):
    """A path or option cannot work (unknown extension, output exists...): exit status 2."""


def table_format(path, delimiter=None):
    """``("csv", delimiter)`` or ``("parquet", None)`` from a path's extension.

    ``"-"`` (stdin/stdout) is CSV. ``delimiter`` overrides the extension's.

    Examples
    --------
    >>> table_format("scores.tsv")
    ('csv', '\\t')
    >>> table_format("data.csv.gz")
    ('csv', ',')
    >>> table_format("data.parquet")
    ('parquet', None)
    """
    if path == STDIO:
        return "csv", delimiter or ","
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in PARQUET_SUFFIXES:
        return "parquet", None
    if suffix in TEXT_SUFFIXES:
        return "csv", delimiter or TEXT_SUFFIXES[suffix]
    if delimiter:
        return "csv", delimiter
    known = ", ".join(sorted([*TEXT_SUFFIXES, *PARQUET_SUFFIXES]))
    raise UsageProblem(
        f"Cannot tell the format of {str(path)!r} from its extension (known: {known}, "
        "optionally compressed: .gz, .bz2, .zst); pass --delimiter for other text files."
    )
