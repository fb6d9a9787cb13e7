"""Table formats and the two kinds of errors of table I/O (see :mod:`ae_anomaly.tables`)."""

from __future__ import annotations

import re
from pathlib import Path

#: Delimiter of each delimited-text extension; a compression suffix may follow (.csv.gz).
TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
COMPRESSION_SUFFIXES = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4"}
#: Compressions read but not written (pyarrow has no xz codec: Python's lzma reads it).
READ_ONLY_COMPRESSION = ".xz"
#: Spreadsheet files, named in their own error (they are not text to give a delimiter for).
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".numbers"}
#: Bytes of text parsed per chunk (about 30,000 rows of 30 numbers). 8 MiB rather than 16:
#: text cells and their encoded copies of ~4 chunks in flight (parsed ahead, queued, two
#: scored) took peak RSS from x1.0 to x1.3 for 10x the rows at 16 MiB, x1.05-1.1 at 8
#: (benchmarks/results/cli_throughput.md).
BLOCK_SIZE = 8 << 20
STDIO = "-"

#: One printf conversion of a float (``%.6g``, ``%10.3f``), with any text around it: what
#: ``--float-format`` / ``float_format`` take.
FLOAT_FORMAT = re.compile(r"(?:[^%]|%%)*%[-+ #0]*\d*(?:\.\d+)?[eEfFgG](?:[^%]|%%)*")
NOT_A_FORMAT = "is not a printf format of one number: use e.g. %.3f, %.6g or %.4e."


class DataError(ValueError):
    """The data is unreadable or does not fit the model (the CLI exits with status 1)."""


class UsageProblem(ValueError):
    """A path or option cannot work (unknown extension, output exists...): exit status 2."""


class OutputError(DataError):
    """The output cannot be written (disk full, read-only, I/O error): exit status 1."""


#: What a user may type for a character that a shell makes hard to type or to see.
_ESCAPES = {"\\t": "\t", "tab": "\t", "\\|": "|", "space": " ", "nbsp": "\u00a0"}
_CODE_POINT = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2}))")


def unescape_char(text):
    r"""A character typed on a command line: ``\t``, ``tab``, ``space``, ``nbsp`` or a code
    point written ``\u00a0`` / ``\xa0`` become the character; other text is kept.

    Examples
    --------
    >>> unescape_char("\\u202f") == "\u202f", unescape_char("nbsp") == "\xa0"
    (True, True)
    >>> unescape_char(";")
    ';'
    """
    if text is None:
        return None
    point = _CODE_POINT.fullmatch(text)
    return chr(int(point[1] or point[2], 16)) if point else _ESCAPES.get(text, text)


def escape_char(text):
    r"""``text`` with each character :func:`unescape_char` would need written as its code
    point (``\u00a0``): the invisible and the blank other than a space.

    Examples
    --------
    >>> escape_char("\xa0"), escape_char(",")
    ('\\u00a0', ',')
    """
    return "".join(
        c if c.isprintable() else "\\t" if c == "\t" else f"\\u{ord(c):04x}" for c in text
    )


def check_delimiter(delimiter):
    r"""``delimiter`` as one character: ``\t`` typed literally (or ``tab``) is a tab.

    Examples
    --------
    >>> check_delimiter("\\t") == "\t"
    True
    >>> check_delimiter(";;")
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.formats.UsageProblem: --delimiter must be one character, got ';;'.
    """
    if delimiter is None:
        return None
    delimiter = unescape_char(delimiter)
    if len(delimiter) != 1:
        raise UsageProblem(f"--delimiter must be one character, got {delimiter!r}.")
    if delimiter in '"\r\n':
        raise UsageProblem(f"--delimiter cannot be {delimiter!r}.")
    return delimiter


def is_table_path(path):
    """Whether ``path`` has a table's extension (``.csv``, ``.parquet``, ``.tsv.gz``...).

    Examples
    --------
    >>> is_table_path("scores.csv.gz"), is_table_path("model.skops")
    (True, False)
    """
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in {*COMPRESSION_SUFFIXES, READ_ONLY_COMPRESSION}:
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1] in {*TEXT_SUFFIXES, *PARQUET_SUFFIXES}


def input_stream(path):
    """A pyarrow stream of the bytes of the file ``path``, decompressed as its extension
    says (``.gz``, ``.bz2``, ``.zst``, ``.lz4`` by pyarrow, ``.xz`` by Python's lzma)."""
    import pyarrow as pa

    if Path(path).suffix.lower() == READ_ONLY_COMPRESSION:
        import lzma

        return pa.PythonFile(lzma.open(path, "rb"), mode="r")
    return pa.input_stream(str(path), compression="detect")


def table_format(path, delimiter=None, *, output=False):
    """``("csv", delimiter)`` or ``("parquet", None)`` from a path's extension.

    ``"-"`` (stdin/stdout) is CSV. ``delimiter`` overrides the extension's. ``output``
    phrases the refusal of a workbook or an archive for a file to write.

    Examples
    --------
    >>> table_format("scores.tsv")
    ('csv', '\\t')
    >>> table_format("data.csv.gz"), table_format("data.tsv.xz")
    (('csv', ','), ('csv', '\\t'))
    >>> table_format("data.parquet")
    ('parquet', None)
    >>> table_format("export.xlsx", ";")
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.formats.UsageProblem: 'export.xlsx' has a spreadsheet workbook's ...
    >>> table_format("scores.xlsx", output=True)
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.formats.UsageProblem: 'scores.xlsx': outputs are CSV/TSV or Parquet ...
    """
    delimiter = check_delimiter(delimiter)
    if path == STDIO:
        return "csv", delimiter or ","
    suffixes = [s.lower() for s in Path(path).suffixes]
    if output and suffixes and suffixes[-1] == READ_ONLY_COMPRESSION:
        raise UsageProblem(
            f"{str(path)!r}: xz-compressed tables are read, not written; name a .csv.gz, "
            ".csv.bz2 or .csv.zst output (or compress the .csv with xz afterwards)."
        )
    compressed = bool(suffixes) and suffixes[-1] in {*COMPRESSION_SUFFIXES, READ_ONLY_COMPRESSION}
    if compressed:
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in PARQUET_SUFFIXES:
        if compressed:
            raise UsageProblem(
                f"{str(path)!r}: Parquet compresses inside the file; a compressed Parquet file "
                f"({suffix}{Path(path).suffix}) is not readable: drop {Path(path).suffix}."
            )
        return "parquet", None
    if suffix in TEXT_SUFFIXES:
        return "csv", delimiter or TEXT_SUFFIXES[suffix]
    if output and (suffix in WORKBOOK_SUFFIXES or suffix == ".zip"):
        raise UsageProblem(
            f"{str(path)!r}: outputs are CSV/TSV or Parquet files; name a .csv file "
            "(spreadsheets open it), a .csv.gz or a .parquet one."
        )
    if suffix in WORKBOOK_SUFFIXES:
        raise UsageProblem(
            f"{str(path)!r} has a spreadsheet workbook's extension: tables are CSV/TSV or "
            "Parquet here; save the sheet as CSV (CSV UTF-8 in Excel), or name a .csv or "
            ".parquet file."
        )
    if suffix == ".zip":
        raise UsageProblem(
            f"{str(path)!r} is a zip archive, which may hold several files: unzip it and name "
            "the .csv inside (a single compressed table reads as .csv.gz)."
        )
    if delimiter:
        return "csv", delimiter
    if suffix == ".skops":
        raise UsageProblem(
            f"{str(path)!r} is a model file, not a table: score and denoise take the model "
            "first, then the table (ae-anomaly score MODEL DATA)."
        )
    known = ", ".join(sorted([*TEXT_SUFFIXES, *PARQUET_SUFFIXES]))
    raise UsageProblem(
        f"Cannot tell the format of {str(path)!r} from its extension (known: {known}, "
        f"optionally compressed: {', '.join([*COMPRESSION_SUFFIXES, READ_ONLY_COMPRESSION])}); "
        "pass --delimiter for "
        "other text files."
    )
