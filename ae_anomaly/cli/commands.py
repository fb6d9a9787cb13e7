"""The ``ae-anomaly`` commands: options -> one call to :mod:`ae_anomaly.tables.api` -> report.

The library is imported inside each command, so that ``--help`` and ``--version`` load
neither torch nor scikit-learn. Errors are turned into one-line messages that name this
command line's flags by :mod:`.app`.
"""

from __future__ import annotations

import gc
import importlib
import json
import sys
import time

import click

from .options import (
    CONTEXT_SETTINGS,
    DataPath,
    fit_options,
    float_format_option,
    input_options,
    is_many_tables,
    model_file_argument,
    output_options,
    report_options,
    table_argument,
    threshold_options,
    typing_options,
)
from .report import Report, finish_dask, finish_fit, print_info, table_columns


class UsageFailure(click.ClickException):
    """A one-line usage error (no usage banner) with exit status 2."""

    exit_code = 2


#: What a command that fits or scores imports: the tables library and torch (through the
#: models); with skops, for a command that reads or writes a model file.
LIBRARY = ("ae_anomaly.tables.api", "ae_anomaly.models.registry")
MODEL_FILES = (*LIBRARY, "skops.io")


#: The ``obj`` of a command run by :func:`~ae_anomaly.cli.app.main`, the process's entry
#: point (not by ``cli`` called in a caller's process, e.g. click's ``CliRunner``).
OWN_PROCESS = object()


def import_library(modules=LIBRARY):
    """Import ``modules``; in a process of its own, with the cycle collector paused, then
    freeze what they made.

    Importing torch, scikit-learn, SciPy, pandas and skops makes a million objects that
    live as long as the process; each full collection during the imports walked all of
    them again (five in a `detect`: 0.4-0.5 CPU-s). :func:`gc.freeze` keeps the later
    collections, which run as usual, off them. Run from a caller's process the imports are
    plain: its collector is left alone.
    """
    context = click.get_current_context(silent=True)
    if context is None or context.find_root().obj is not OWN_PROCESS:
        for name in modules:
            importlib.import_module(name)
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        for name in modules:
            importlib.import_module(name)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@click.command(context_settings=CONTEXT_SETTINGS,
               short_help="Fit an autoencoder on a table and save it.")  # fmt: skip
@table_argument
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="Model file to write."
)
@click.option("--force", is_flag=True, help="Overwrite an existing model file.")
@fit_options
@typing_options
@click.option(
    "--chunksize",
    type=click.IntRange(1),
    metavar="N",
    help="Train out of core: stream N rows at a time, never the whole file (numeric columns).",
)
@input_options
@report_options
def fit(data, output, force, model, settings, columns, exclude, ids, categorical, impute,
        chunksize, delimiter, encoding, verbose, as_json, **typing):  # fmt: skip
    """Fit an autoencoder on DATA (CSV, TSV, Parquet; - for CSV on stdin) and save it.

    Each column is typed from its cells: numbers (also 3,14 with --decimal ',', 15,900
    with --thousands ',', 12.3%), booleans (true/false, yes/no: 0/1), ISO dates (seconds
    plus day-of-week and month cycles) and categories (one-hot, plus an <unseen> column
    that scoring sets for a category never seen here). A numeric column with a few
    cells that are not numbers is an error naming row and column (--coerce: missing);
    a text column with a different value on most rows is refused (pass it as --id-col),
    and so is one of numbers or dates written another way ($1,234.50, 70.5 kg, 03/15/2024),
    with the option that reads it.
    --id-col and --exclude columns are left out and copied to outputs as written. The
    typing options are stored with the model. With --chunksize, numeric columns only
    (the older numeric/one-hot schema). The saved model holds the whole pipeline, the column
    schema and the training summary (see `ae-anomaly info`). Runs are reproducible:
    random_state defaults to 0.

    \b
    Example:
        ae-anomaly fit train.csv -o model.skops --model denoising --set max_iter=50
        ae-anomaly fit big.parquet -o model.skops --chunksize 100000
    """
    import_library(MODEL_FILES)
    from ..tables.api import fit_table, make_estimator
    from ..tables.writer import check_output

    check_output(output, [data], force=force, table=False)
    fitted = fit_table(
        make_estimator(model, settings), data, kind=model, chunksize=chunksize,
        delimiter=delimiter, encoding=encoding, verbose=verbose, columns=columns,
        exclude=exclude, ids=ids, categorical=categorical, impute=impute, **typing,
    )  # fmt: skip
    fitted.save(output)
    finish_fit(fitted, output, as_json)


@click.command(context_settings=CONTEXT_SETTINGS,
               short_help="Score a table with a saved model (streamed).")  # fmt: skip
@model_file_argument
@click.argument("data", type=DataPath())
@output_options
@threshold_options
@click.option("--ignore-extra", is_flag=True, help="Ignore columns the model does not know.")
@float_format_option
@click.option(
    "--engine",
    type=click.Choice(["pandas", "dask"]),
    default="pandas",
    show_default=True,
    help="dask: score Parquet files (a directory or a quoted glob) partition by partition "
    "on a cluster, writing a directory of Parquet files (-o DIR).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="With --engine dask: a Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: an "
    "in-process cluster with no network port). A scheduler you name is yours to secure: "
    "without TLS (distributed.Security) anyone who can reach it can run code on its workers.",
)
@input_options
@report_options
def score(model_file, data, output, force, threshold, contamination, explain, keep_columns,
          ignore_extra, float_format, engine, scheduler, delimiter, encoding, verbose,
          as_json):  # fmt: skip
    """Score DATA with MODEL, streaming in chunks (constant memory for any file size).

    Writes the id columns (as written; every column with --keep-columns), anomaly_score
    (-score_samples, the anomaly error: higher = more anomalous; inf for a row the model
    cannot score, e.g. an infinite value) and is_anomaly (1 when anomaly_score is above
    the threshold). An output name that an input column already has gets a suffix
    (anomaly_score_2). --explain K adds the
    K original columns (or _code_distance, the code's distance from the training codes)
    with the largest share of each row's error. Categories never seen in fitting are
    counted in the summary and a warning.

    \b
    Example:
        ae-anomaly score model.skops new.parquet -o scores.parquet --explain 3
        ae-anomaly score model.skops 'data/*.parquet' --engine dask -o scores/
    """
    started = time.perf_counter()
    if engine == "dask":
        if keep_columns:
            raise UsageFailure("--keep-columns goes with --engine pandas (dask writes ids and "
                               "scores).")  # fmt: skip
        from ..tables.api import score_files_dask

        result = score_files_dask(
            model_file, data, output, threshold=threshold, contamination=contamination,
            explain=explain, scheduler=scheduler, ignore_extra=ignore_extra,
        )  # fmt: skip
        finish_dask(result, output, as_json)
        return
    if scheduler:
        raise UsageFailure("--scheduler goes with --engine dask.")
    if is_many_tables(data):
        raise UsageFailure(
            f"{data!r} is a directory or a pattern: score it with --engine dask, or name one file."
        )
    import_library(MODEL_FILES)
    from ..tables.api import TableModel, score_table
    from ..tables.writer import STDIO, check_output

    check_output(output, [data, model_file], force=force, delimiter=delimiter)
    report = Report("score", verbose, started=started)
    model = TableModel.load(model_file)
    report.streaming()
    result = score_table(
        model, data, output or STDIO, threshold=threshold, contamination=contamination,
        explain=explain, delimiter=delimiter, ignore_extra=ignore_extra, progress=report.advance,
        float_format=float_format, encoding=encoding, keep_columns=keep_columns,
    )  # fmt: skip
    report.finish(result, as_json, output)


@click.command(context_settings=CONTEXT_SETTINGS, short_help="Fit and score one table in one go.")
@table_argument
@output_options
@fit_options
@typing_options
@threshold_options
@float_format_option
@click.option(
    "--save-model", type=click.Path(dir_okay=False), help="Also save the fitted model here."
)
@input_options
@report_options
def detect(data, output, force, model, settings, columns, exclude, ids, categorical, impute,
           threshold, contamination, explain, keep_columns, float_format, save_model,
           delimiter, encoding, verbose, as_json, **typing):  # fmt: skip
    """Fit on DATA and score the same rows: the one-liner.

    Columns are typed as `ae-anomaly fit` types them (see its --help) and the output is
    `ae-anomaly score`'s (see its --help).

    --contamination here is the fraction of DATA's rows to flag (the estimator's
    contamination parameter); by default outliers are the rows beyond Tukey's fence.
    --save-model keeps --contamination with the model, not --threshold, which is this
    run's cut only: give it to `ae-anomaly score` again.

    \b
    Example:
        ae-anomaly detect transactions.csv --id-col id --contamination 0.01 -o flagged.csv
    """
    started = time.perf_counter()
    import_library(MODEL_FILES if save_model else LIBRARY)
    import numpy as np

    from ..tables import api
    from ..tables.schema import SCORE, output_names
    from ..tables.writer import STDIO, check_columns, check_output

    check_output(output, [data], force=force, delimiter=delimiter)
    if save_model:
        check_output(save_model, [data, output], force=force, table=False)
    api.check_one_threshold(threshold, contamination)
    given = {} if contamination is None else {"contamination": contamination}
    estimator = api.make_estimator(model, settings, **given)
    table = api.read_table(
        data, delimiter=delimiter, encoding=encoding, columns=columns, exclude=exclude,
        ids=ids, categorical=categorical, impute=impute, **typing,
    )  # fmt: skip
    kept = list(table.frame.columns) if keep_columns else list(table.schema.ids)
    check_columns(table.frame[kept], output, delimiter=delimiter)
    # the training rows are scored once, for the output: the model's summary takes those
    fitted = api.fit_table(estimator, table, kind=model, verbose=verbose, score_training=False)
    report = Report("detect", verbose, total=len(table.frame), started=started)
    score_name, scores = output_names(kept)[SCORE], []

    def progress(out):
        report.advance(out)
        if save_model:
            scores.append(out[score_name].to_numpy())

    result = api.score_table(
        fitted, table, output or STDIO, threshold=threshold, explain=explain,
        delimiter=delimiter, progress=progress, float_format=float_format,
        keep_columns=keep_columns,
    )  # fmt: skip
    if save_model:
        fitted.add_training_scores(np.concatenate(scores))
        fitted.save(save_model)
    report.finish(result, as_json, output)


@click.command(context_settings=CONTEXT_SETTINGS,
               short_help="Replace feature values by reconstructions.")  # fmt: skip
@model_file_argument
@table_argument
@output_options
@click.option("--ignore-extra", is_flag=True, help="Ignore columns the model does not know.")
@float_format_option
@input_options
@report_options
def denoise(model_file, data, output, force, ignore_extra, float_format, delimiter, encoding,
            verbose, as_json):  # fmt: skip
    """Write DATA with its feature columns replaced by MODEL's reconstructions.

    Numbers come back in their own units (integer columns as integers, 0/1 columns as 0
    or 1, others with the decimals of the training values and the model's decimal mark,
    percentages as 48.3%; a model fitted with --chunksize writes full precision),
    booleans as the training file spelled them (yes/no), a categorical column gets its
    most likely category and a date column an ISO date. Id and ignored columns, and rows
    the model cannot score (values that overflow: score flags them), are copied
    unchanged. Parquet to Parquet keeps the input's column types where the values fit
    them (uint8 stays uint8, float32 float32, dates and categories as such).

    \b
    Example:
        ae-anomaly denoise model.skops noisy.csv -o clean.csv
    """
    import_library(MODEL_FILES)
    from ..tables.api import denoise_table
    from ..tables.writer import STDIO, check_output

    started = time.perf_counter()
    check_output(output, [data, model_file], force=force, delimiter=delimiter)
    report = Report("denoise", verbose, started=started)
    result = denoise_table(model_file, data, output or STDIO, delimiter=delimiter,
                           ignore_extra=ignore_extra, progress=report.advance,
                           float_format=float_format, encoding=encoding)  # fmt: skip
    report.finish(result, as_json, output)


@click.command(context_settings=CONTEXT_SETTINGS, short_help="Describe a saved model.")
@model_file_argument
@click.option("--json", "as_json", is_flag=True, help="Print the header as JSON.")
def info(model_file, as_json):
    """Describe MODEL: kind, parameters, columns, training summary, threshold, versions.

    Verifies the whole file first, as loading does (a file `score` would refuse is
    refused here too); nothing in it can run code.

    \b
    Example:
        ae-anomaly info model.skops
    """
    from ..persistence import load_with_metadata

    if sys.stdout is None:  # started with stdout closed (>&-): click would print nothing
        raise UsageFailure("stdout is closed: there is nowhere to print the description.")
    model, metadata = load_with_metadata(model_file)
    try:
        if as_json:
            click.echo(json.dumps(metadata))
        elif "schema" in metadata:
            print_info(metadata)
        else:  # saved by ae_anomaly.save: a table pipeline's columns, from the pipeline
            print_info({**metadata, **table_columns(model)})
    except OSError as exc:  # a full disk; a reader gone (| head) is click's to end quietly
        if isinstance(exc, BrokenPipeError):
            raise
        raise click.ClickException(f"Cannot write to stdout: {exc.strerror or exc}.") from None


@click.command(context_settings=CONTEXT_SETTINGS, short_help="Export a model to ONNX.")
@model_file_argument
@click.argument("output", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option(
    "--dtype",
    type=click.Choice(["float64", "float32"]),
    help="The graph's number type (default float64; float32 for convolutional models).",
)
@click.option("--no-reconstruction", is_flag=True, help="Output the score only.")
def export(model_file, output, force, dtype, no_reconstruction):
    """Export MODEL to ONNX, to serve it without Python (e.g. with onnxruntime).

    The graph's input X is the matrix of the model's numeric feature columns, in the order
    `ae-anomaly info` lists them; the scaling and the score are inside. Its output score
    is score_samples (higher = more normal): anomaly_score = -score, and a row is an
    anomaly when score < offset (in the file's metadata). Models with one-hot encoded or
    imputed columns cannot be exported.

    \b
    Example:
        ae-anomaly export model.skops model.onnx
    """
    import_library(MODEL_FILES)
    from ..persistence import load
    from ..scale.onnx import export_onnx
    from ..tables.writer import check_output

    check_output(output, [model_file], force=force, table=False)
    model = _exportable(load(model_file))
    export_onnx(model, output, reconstruction=not no_reconstruction, dtype=dtype)
    click.echo(f"wrote {output}", err=True)


def _exportable(model):
    """A mixed-table pipeline whose columns are all plain numbers, without imputation,
    feeds them to its detector unchanged, in order: the detector alone is the graph."""
    from ..tables.encoder import TableEncoder

    steps = getattr(model, "steps", None)
    if not steps or len(steps) != 2 or not isinstance(steps[0][1], TableEncoder):
        return model
    encoder = steps[0][1]
    plain = all(spec["kind"] == "numeric" and not spec["percent"]
                for spec in encoder.columns_.values())  # fmt: skip
    return steps[1][1] if plain and encoder.impute is None else model


COMMANDS = [fit, score, detect, denoise, info, export]
