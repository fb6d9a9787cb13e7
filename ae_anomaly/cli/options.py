"""Options shared by several ``ae-anomaly`` commands, as decorators (sqlite-utils' shape).

Nothing here imports torch or scikit-learn: ``ae-anomaly --help`` stays fast. The ``--model``
choices are the estimator names of ``ae_anomaly.__all__``, derived from the names alone.
"""

from __future__ import annotations

import glob
import math
import re
import shlex
from pathlib import Path

import click

from ..tables.formats import FLOAT_FORMAT, NOT_A_FORMAT, escape_char, unescape_char

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
#: ``--model`` of ``fit`` and ``detect`` when none is named: the family's best detector on
#: ADBench's 36 sets, where its defaults were tuned (benchmarks/results/adbench.md).
DEFAULT_MODEL = "ensemble"


def model_names():
    """``--model`` choices: the exported ``*Autoencoder`` classes, as their CLI names.

    Equal to ``list(ae_anomaly.models.registry.autoencoders())`` (a test checks it), without
    importing a single estimator.

    Examples
    --------
    >>> model_names()[:2]
    ['autoencoder', 'contractive']
    """
    import ae_anomaly

    return [kind_of(name) for name in ae_anomaly.__all__ if name.endswith("Autoencoder")]


def kind_of(class_name):
    """``"ae_anomaly.models.denoising.DenoisingAutoencoder"`` -> ``"denoising"``.

    The rule of :func:`ae_anomaly.models.registry.cli_name`, applied to a name; ``"-"`` for
    a class that ``ae_anomaly`` does not export.

    Examples
    --------
    >>> kind_of("ConvVariationalAutoencoder"), kind_of("sklearn.ensemble.IsolationForest")
    ('conv-variational', '-')
    """
    import ae_anomaly

    name = class_name.rpartition(".")[2]
    if name not in ae_anomaly.__all__ or not name.endswith("Autoencoder"):
        return "-"
    stem = name.removesuffix("Autoencoder") or name
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", stem).lower()


def _split(ctx, param, values):
    r"""``--columns a,b --columns c`` -> ``["a", "b", "c"]``; ``a\,b`` names a column
    ``a,b`` (a comma inside a name).

    Examples
    --------
    >>> _split(None, None, ["a, b", r"Name\, first", "a"])
    ['a', 'b', 'Name, first']
    """
    names = []
    for value in values:
        parts = re.split(r"(?<!\\),", value)
        names += [part.replace("\\,", ",").strip() for part in parts if part.strip()]
    return list(dict.fromkeys(names))  # a name given twice is one column (not two outputs)


class DataPath(click.Path):
    """A table path as ``click.Path(exists=True)`` checks it, or a glob pattern (for Dask)."""

    def __init__(self):
        super().__init__(exists=True, dir_okay=True, allow_dash=True)

    def convert(self, value, param, ctx):
        if isinstance(value, str) and glob.has_magic(value):
            return value
        return super().convert(value, param, ctx)


def is_many_tables(data):
    """A directory or a glob pattern: several files, for ``--engine dask``."""
    return data != "-" and (glob.has_magic(data) or Path(data).is_dir())


def _apply(command, options):
    for option in reversed(options):
        command = option(command)
    return command


def model_file_argument(command):
    return click.argument(
        "model_file", metavar="MODEL", type=click.Path(exists=True, dir_okay=False)
    )(command)


def table_argument(command):
    return click.argument(
        "data", type=click.Path(exists=True, dir_okay=False, allow_dash=True)
    )(command)


def input_options(command):
    return _apply(command, [
        click.option("--delimiter", metavar="CHAR",
                     help="Field delimiter (default: from the extension)."),
        click.option("--encoding", metavar="CODEC",
                     help="Text encoding of a CSV/TSV input, e.g. cp1252 for a Windows or Excel "
                     "export (default: UTF-8). Outputs are UTF-8."),
    ])  # fmt: skip


def output_options(command):
    return _apply(command, [
        click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
                     help="Output file: .csv, .tsv or .parquet (.csv.gz ...). Default: CSV on "
                     "stdout."),
        click.option("--force", is_flag=True, help="Overwrite an existing output file."),
    ])  # fmt: skip


def report_options(command):
    return _apply(command, [
        click.option("-v", "--verbose", is_flag=True,
                     help="Progress bars on stderr (on a terminal)."),
        click.option("--json", "as_json", is_flag=True,
                     help="Print a one-line JSON summary on stderr."),
    ])  # fmt: skip


def fit_options(command):
    names = model_names()
    return _apply(command, [
        click.option("--model", type=click.Choice(names),
                     default=DEFAULT_MODEL if DEFAULT_MODEL in names else names[0],
                     show_default=True, help="Which autoencoder."),
        click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
                     help="An estimator parameter, e.g. --set max_iter=50 --set "
                     "hidden_layer_sizes=64,16."),
        click.option("--columns", multiple=True, callback=_split,
                     help="Feature columns to use, comma-separated like every column option "
                     "(a comma inside a name: \\,); default: all others."),
        click.option("--exclude", multiple=True, callback=_split, help="Columns to ignore."),
        click.option("--id-col", "ids", multiple=True, callback=_split,
                     help="Id columns, copied to outputs."),
        click.option("--categorical", multiple=True, callback=_split,
                     help="Treat these numeric-looking columns as categories."),
        click.option("--impute", type=click.Choice(["median", "most_frequent"]),
                     help="Fill missing values (default: a missing value is an error)."),
    ])  # fmt: skip


def _na_values(ctx, param, values):
    """``--na-values ?`` -> ``["?"]``; ``--na-values region=-`` -> ``{"region": ["-"]}``."""
    if not values:
        return None
    per_column = [v.partition("=") for v in values]
    if all(sep for _, sep, _ in per_column):
        out = {}
        for column, _, value in per_column:
            out.setdefault(column, []).append(value)
        return out
    if any(sep for _, sep, _ in per_column):
        raise click.BadParameter("give every value as COL=VALUE, or none.", ctx, param)
    return list(values)


def _char(ctx, param, value):
    """A mark typed as itself or by name: 'space', 'nbsp', '\\u202f' (see ``unescape_char``)."""
    return unescape_char(value)


def typing_options(command):
    """How ``fit``/``detect`` read the cells of a mixed table (stored with the model)."""
    return _apply(command, [
        click.option("--decimal", default=".", show_default=True, metavar="CHAR",
                     callback=_char,
                     help="Decimal mark of numbers written as text (',' reads 3,14)."),
        click.option("--thousands", metavar="CHAR", callback=_char,
                     help="Thousands separator (',' reads 15,900; groups of 3 digits only; "
                     "'space', or 'nbsp' and '\\u202f' for the no-break spaces of "
                     "French-style exports)."),
        click.option("--coerce", is_flag=True,
                     help="Read cells that do not fit their column's type (a typo such as "
                     "1O5 in a numeric column) as missing, with a warning, instead of failing."),
        click.option("--na-values", multiple=True, callback=_na_values, metavar="[COL=]VALUE",
                     help="Another string meaning missing, for every column or COL only "
                     "(repeatable), as in pandas."),
        click.option("--keep-default-na/--no-keep-default-na", default=True, show_default=True,
                     help="Whether pandas' missing strings (NA, None, null, N/A, empty...) "
                     "mean missing. --no-keep-default-na keeps a category called NA; add "
                     "--na-values '' for empty cells to stay missing."),
        click.option("--numeric", multiple=True, callback=_split,
                     help="Read these columns as numbers, e.g. measurements written with "
                     "leading zeros (00123) without the warning that they may be codes; a "
                     "cell that is not a number is an error (--coerce: missing)."),
        click.option("--date-cols", multiple=True, callback=_split,
                     help="Date/time columns (default: ISO dates are detected)."),
        click.option("--date-format", metavar="FORMAT",
                     help="strftime format of the dates, e.g. %d/%m/%Y (default: ISO 8601)."),
    ])  # fmt: skip


def _float_format(ctx, param, value):
    """A printf format of one float: anything else wrote its own text in place of every
    number (``{:.3f}``) or failed after the work was done (``%x``)."""
    if value is not None and not FLOAT_FORMAT.fullmatch(value):
        raise click.BadParameter(f"{value!r} {NOT_A_FORMAT}", ctx, param)
    return value


def _finite(ctx, param, value):
    """A finite number: NaN flagged nothing, infinity not even the rows that could not be
    scored (their score is infinite), and ``--json`` then printed what JSON cannot hold."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number.", ctx, param)
    return value


def float_format_option(command):
    return click.option(
        "--float-format", metavar="FORMAT", callback=_float_format,
        help="printf format of the numbers the model writes to CSV/TSV (scores, shares, "
        "denoised values; ids and kept columns stay as read), e.g. %.6g (default: the "
        "shortest text that reads back as the exact float); Parquet keeps floats.",
    )(command)  # fmt: skip


def threshold_options(command):
    return _apply(command, [
        click.option("--threshold", type=float, callback=_finite,
                     help="Flag rows whose anomaly_score is above this (default: the model's)."),
        click.option("--contamination", type=click.FloatRange(0, 0.5, min_open=True),
                     help="Flag this fraction of rows (as the training rows would be flagged)."),
        click.option("--explain", type=click.IntRange(1), metavar="K",
                     help="Add the K columns with the largest share of each row's error."),
        click.option("--keep-columns", is_flag=True,
                     help="Write every input column (as written; a --chunksize model's numbers "
                     "as read), then the scores: the table back with its anomaly scores, not "
                     "only the id columns."),
    ])  # fmt: skip


#: How the command line spells the library's parameters (see ``ae_anomaly.tables.errors``).
FLAGS = {
    "settings": "--set",
    "ids": "--id-col",
    "kind": "--model",
    "output": "-o",
    "id_cols": "--id-col",
    "ignore_extra": "--ignore-extra",
}


_PLAIN_VALUE = re.compile(r"[\w.=-]*\w[\w.=-]*")  # not a lone mark: "--thousands '.'"


def spell_flag(name, value):
    r"""``threshold`` -> ``--threshold``; ``impute='median'`` -> ``--impute median``;
    ``keep_default_na=False`` -> ``--no-keep-default-na``.

    Examples
    --------
    >>> spell_flag("keep_default_na", "False"), spell_flag("coerce", "True")
    ('--no-keep-default-na', '--coerce')
    >>> spell_flag("decimal", ","), spell_flag("thousands", "."), spell_flag("impute", "median")
    ("--decimal ','", "--thousands '.'", '--impute median')
    >>> spell_flag("date_format", "%d %b %Y"), spell_flag("thousands", "\u202f")
    ("--date-format '%d %b %Y'", "--thousands '\\u202f'")
    """
    flag = FLAGS.get(name, "--" + name.replace("_", "-"))
    if value == "False" and flag.startswith("--"):
        return "--no-" + flag[2:]
    if value in (None, "True"):
        return flag
    if not value.isprintable():  # a no-break space: invisible, and not a space
        return f"{flag} '{escape_char(value)}'"
    return f"{flag} {value if _PLAIN_VALUE.fullmatch(value) else _quoted(value)}"


def _quoted(value):
    r"""A value quoted for the shell, even where ``shlex.quote`` would not (``','``); an
    apostrophe in double quotes (``"'"``, not ``''"'"''``) where nothing else needs them.

    Examples
    --------
    >>> _quoted(","), _quoted("'"), _quoted("%d %b")
    ("','", '"\'"', "'%d %b'")
    """
    if "'" in value and not set(value) & set('"$`\\!'):
        return f'"{value}"'
    quoted = shlex.quote(value)
    return quoted if quoted.startswith("'") else f"'{value}'"
