"""``ae-anomaly``: fit, score, detect and denoise CSV/TSV/Parquet files from the shell.

A thin layer: reading and writing live in :mod:`ae_anomaly.tables.writer`, columns and pipelines in
:mod:`ae_anomaly.tables.schema`, model files in :mod:`ae_anomaly.persistence`. Data goes to
stdout (or ``-o``), diagnostics to stderr. Exit status: 0 success, 1 bad data or model
file, 2 bad usage (options, paths, an existing output without ``--force``).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import json
import os
import signal
import sys
import time
import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import click
import torch

from .. import __version__
from ..models.registry import autoencoders, cli_name
from ..persistence import ModelFileError, load_with_metadata, save
from ..tables.schema import (
    SCORE,
    Schema,
    build_pipeline,
    categorical_warnings,
    contamination_threshold,
    denoise_chunk,
    prepare,
    score_chunk,
    training_quantiles,
)
from ..tables.writer import STDIO, DataError, TableReader, TableWriter, UsageProblem, check_output
from .report import Report, print_info
from .scaling import DataPath, check_single_table, fit_out_of_core, score_with_dask

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
#: Rows per chunk when scoring a table already in memory (``detect``).
FRAME_CHUNK = 65536
#: Chunks scored at once while streaming (each with one torch thread).
SCORING_THREADS = 2


class UsageFailure(click.ClickException):
    """A one-line usage error (no usage banner) with exit status 2."""

    exit_code = 2


def friendly_errors(command):
    """Turn the library's errors into one-line messages and exit codes, no traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UsageProblem as exc:
            raise UsageFailure(str(exc)) from None
        except (DataError, ModelFileError) as exc:
            raise click.ClickException(str(exc)) from None
        except ValueError as exc:  # the estimators' own messages: bad parameters, divergence
            raise click.ClickException(str(exc).splitlines()[0]) from None

    return wrapper


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    click.echo(f"Warning: {str(message).splitlines()[0]}", err=True)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="ae-anomaly")
@click.pass_context
def cli(ctx):
    """Autoencoder anomaly detection for CSV, TSV and Parquet files.

    \b
    Fit a model, then score new files with it:
        ae-anomaly fit train.csv -o model.skops
        ae-anomaly score model.skops new.csv -o scores.csv
    Or do both on one file:
        ae-anomaly detect data.csv --explain 3 > scores.csv

    anomaly_score in the outputs is -score_samples, the model's anomaly error:
    higher = more anomalous.
    """
    ctx.with_resource(warnings.catch_warnings())
    warnings.simplefilter("default")
    warnings.showwarning = _one_line_warning


# ------------------------------------------------------------------------ shared options
def input_options(command):
    command = click.option(
        "--delimiter", metavar="CHAR", help="Field delimiter (default: from the extension)."
    )(command)
    return command


def output_options(command):
    command = click.option("--force", is_flag=True, help="Overwrite an existing output file.")(
        command
    )
    command = click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, allow_dash=True),
        help="Output file: .csv, .tsv or .parquet (.csv.gz ...). Default: CSV on stdout.",
    )(command)
    return command


def report_options(command):
    command = click.option(
        "--json", "as_json", is_flag=True, help="Print a one-line JSON summary on stderr."
    )(command)
    command = click.option(
        "-v", "--verbose", is_flag=True, help="Progress bars on stderr (on a terminal)."
    )(command)
    return command


def _split(values):
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def fit_options(command):
    names = list(autoencoders())
    options = [
        click.option(
            "--model",
            type=click.Choice(names),
            default=names[0],
            show_default=True,
            help="Which autoencoder.",
        ),
        click.option(
            "--set",
            "settings",
            multiple=True,
            metavar="KEY=VALUE",
            help="An estimator parameter, e.g. --set max_iter=50 --set hidden_layer_sizes=64,16.",
        ),
        click.option(
            "--columns", multiple=True, help="Feature columns to use (default: all others)."
        ),
        click.option("--exclude", multiple=True, help="Columns to ignore."),
        click.option("--id-col", "ids", multiple=True, help="Id columns, copied to outputs."),
        click.option(
            "--categorical",
            multiple=True,
            help="Treat these numeric-looking columns as categories.",
        ),
        click.option(
            "--impute",
            type=click.Choice(["median", "mean", "most_frequent"]),
            help="Fill missing values (default: a missing value is an error).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def threshold_options(command):
    options = [
        click.option(
            "--threshold",
            type=float,
            help="Flag rows whose anomaly_score is above this (default: the model's).",
        ),
        click.option(
            "--contamination",
            type=click.FloatRange(0, 0.5, min_open=True),
            help="Flag this fraction of rows (as the training rows would be flagged).",
        ),
        click.option(
            "--explain",
            type=click.IntRange(1),
            metavar="K",
            help="Add the K columns with the largest share of each row's error.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


# ------------------------------------------------------------------------ helpers
def parse_settings(model, settings):
    """``--set key=value`` -> estimator parameters (values parsed as Python literals)."""
    valid = model().get_params()
    params = {}
    for setting in settings:
        key, sep, raw = setting.partition("=")
        key = key.strip().replace("-", "_")
        if not sep:
            raise UsageFailure(f"--set {setting!r}: expected KEY=VALUE, e.g. --set max_iter=50.")
        if key not in valid:
            raise UsageFailure(
                f"--set: {cli_name(model)} has no parameter {key!r}; it has "
                f"{', '.join(sorted(valid))}."
            )
        try:
            params[key] = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError):
            params[key] = raw.strip()
    params.setdefault("random_state", 0)
    return params


def _read_training_table(data, delimiter, columns, exclude, ids, categorical, impute):
    reader = TableReader(data, delimiter=delimiter)
    schema = Schema.infer(
        reader.arrow_types,
        columns=_split(columns),
        exclude=_split(exclude),
        ids=_split(ids),
        categorical=_split(categorical),
        impute=impute,
    )
    reader = reader.with_types(schema.arrow_types())
    frame = reader.read_all()
    if len(frame) == 0:
        raise DataError(f"{reader.name} has a header but no data rows.")
    schema.check_missing_values(frame, reader.name)
    for message in categorical_warnings(frame, schema):
        warnings.warn(message, UserWarning, stacklevel=2)
    return reader.name, frame, schema


def _fit(model, settings, frame, schema, verbose):
    estimator_class = autoencoders()[model]
    params = parse_settings(estimator_class, settings)
    if verbose:
        params.setdefault("verbose", 1)
    pipeline = build_pipeline(schema, estimator_class(**params))
    started = time.perf_counter()
    pipeline.fit(prepare(frame, schema))
    seconds = time.perf_counter() - started
    training_scores = score_chunk(pipeline, schema, frame, threshold=float("inf"))[SCORE]
    return pipeline, seconds, training_scores.to_numpy()


def _fit_metadata(model, source, frame, schema, pipeline, seconds, training_scores):
    estimator = pipeline[-1]
    threshold = -float(estimator.offset_)
    return {
        "kind": model,
        "schema": schema.to_json(),
        "threshold": threshold,
        "training": {
            "source": source,
            "rows": int(len(frame)),
            "seconds": round(seconds, 3),
            "n_iter": int(estimator.n_iter_),
            "best_loss": float(estimator.best_loss_),
            "final_loss": float(estimator.loss_curve_[-1]),
            "flagged": int((training_scores > threshold).sum()),
            "score_quantiles": training_quantiles(training_scores),
        },
    }


def _threshold(metadata, model, threshold, contamination):
    if threshold is not None and contamination is not None:
        raise UsageFailure("--threshold and --contamination exclude each other: pass one.")
    if threshold is not None:
        return threshold
    if contamination is not None:
        return contamination_threshold(metadata["training"]["score_quantiles"], contamination)
    return -float(model[-1].offset_)


def _load_cli_model(path):
    model, metadata = load_with_metadata(path)
    if "schema" not in metadata:
        raise ModelFileError(
            f"{path!r} was saved from Python without a column schema; the CLI needs a model "
            "written by `ae-anomaly fit`."
        )
    return model, metadata, Schema.from_json(metadata["schema"])


def _frame_chunks(frame):
    for start in range(0, len(frame), FRAME_CHUNK):
        yield frame.iloc[start : start + FRAME_CHUNK]


def _stream(chunks, writer, transform, report, schema, source):
    """Apply ``transform`` chunk by chunk and write, in the input's order.

    The reader parses ahead in a background thread and two worker threads transform two
    chunks at once, each running torch on one thread: parsing and scoring both release
    the GIL, so every core stays busy. At most ``SCORING_THREADS`` chunks are in flight,
    so memory stays flat; errors surface in the input's order.
    """

    def work(chunk):
        schema.check_missing_values(chunk, source)
        return transform(chunk)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(SCORING_THREADS, thread_name_prefix="ae-score") as pool:
            pending = deque()
            try:
                for chunk in chunks:
                    pending.append(pool.submit(work, chunk))
                    if len(pending) >= SCORING_THREADS:
                        _write(pending.popleft().result(), writer, report)
                while pending:
                    _write(pending.popleft().result(), writer, report)
            finally:
                for future in pending:  # after an error: drop the work not started yet
                    future.cancel()
    finally:
        torch.set_num_threads(threads)
    if report.rows == 0:
        raise DataError(f"{source} has a header but no data rows.")


def _write(out, writer, report):
    writer.write(out)
    report.advance(out)


# ------------------------------------------------------------------------ commands
@cli.command(
    context_settings=CONTEXT_SETTINGS, short_help="Fit an autoencoder on a table and save it."
)
@click.argument("data", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="Model file to write."
)
@click.option("--force", is_flag=True, help="Overwrite an existing model file.")
@fit_options
@click.option(
    "--chunksize",
    type=click.IntRange(1),
    metavar="N",
    help="Train out of core: stream N rows at a time, never the whole file (numeric columns).",
)
@input_options
@report_options
@friendly_errors
def fit(data, output, force, model, settings, columns, exclude, ids, categorical, impute,
        chunksize, delimiter, verbose, as_json):  # fmt: skip
    """Fit an autoencoder on DATA (CSV, TSV, Parquet; - for CSV on stdin) and save it.

    Numeric columns are used as they are and other columns one-hot encoded; --id-col and
    --exclude columns are left out. The saved model holds the whole pipeline, the column
    schema and the training summary (see `ae-anomaly info`). Runs are reproducible:
    random_state defaults to 0.

    \b
    Example:
        ae-anomaly fit train.csv -o model.skops --model denoising --set max_iter=50
        ae-anomaly fit big.parquet -o model.skops --chunksize 100000
    """
    check_output(output, [data], force=force, table=False)
    if chunksize:
        estimator_class = autoencoders()[model]
        params = parse_settings(estimator_class, settings)
        source, n_rows, schema, pipeline, seconds, scores, flagged = fit_out_of_core(
            estimator_class(**params),
            data,
            chunksize=chunksize,
            delimiter=delimiter,
            schema_options={
                "columns": _split(columns),
                "exclude": _split(exclude),
                "ids": _split(ids),
                "categorical": _split(categorical),
                "impute": impute,
            },
        )
        frame = range(n_rows)  # _fit_metadata and the summary only count the rows
        metadata = _fit_metadata(model, source, frame, schema, pipeline, seconds, scores)
        metadata["training"]["flagged"] = flagged  # over every row, not the score sample
    else:
        source, frame, schema = _read_training_table(
            data, delimiter, columns, exclude, ids, categorical, impute
        )
        pipeline, seconds, scores = _fit(model, settings, frame, schema, verbose)
        metadata = _fit_metadata(model, source, frame, schema, pipeline, seconds, scores)
    save(pipeline, output, metadata=metadata)
    summary = {
        "command": "fit",
        "model": model,
        "rows": int(len(frame)),
        "features": len(schema.features),
        "epochs": metadata["training"]["n_iter"],
        "seconds": round(seconds, 3),
        "threshold": metadata["threshold"],
        "flagged": metadata["training"]["flagged"],
        "output": output,
    }
    Report.finish_fit(summary, as_json)


@cli.command(
    context_settings=CONTEXT_SETTINGS, short_help="Score a table with a saved model (streamed)."
)
@click.argument("model_file", metavar="MODEL", type=click.Path(exists=True, dir_okay=False))
@click.argument("data", type=DataPath())
@output_options
@threshold_options
@click.option("--ignore-extra", is_flag=True, help="Ignore columns the model does not know.")
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
    help="With --engine dask: a Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local "
    "cluster on this machine).",
)
@input_options
@report_options
@friendly_errors
def score(model_file, data, output, force, threshold, contamination, explain, ignore_extra,
          engine, scheduler, delimiter, verbose, as_json):  # fmt: skip
    """Score DATA with MODEL, streaming in chunks (constant memory for any file size).

    Writes the id columns, anomaly_score (-score_samples, the anomaly error: higher = more
    anomalous) and is_anomaly (1 when anomaly_score is above the threshold).

    \b
    Example:
        ae-anomaly score model.skops new.parquet -o scores.parquet --explain 3
        ae-anomaly score model.skops 'data/*.parquet' --engine dask -o scores/
    """
    if engine == "dask":
        pipeline, metadata, schema = _load_cli_model(model_file)
        cut = _threshold(metadata, pipeline, threshold, contamination)
        rows, files, workers = score_with_dask(
            pipeline, schema, data, output, threshold=cut, explain=explain,
            scheduler=scheduler, ignore_extra=ignore_extra,
        )  # fmt: skip
        summary = {"command": "score", "engine": "dask", "rows": rows, "files": files,
                   "workers": workers, "threshold": cut, "output": output}  # fmt: skip
        message = f"scored {rows:,} rows on {workers} Dask worker(s) into {output} ({files} files)"
        click.echo(json.dumps(summary) if as_json else message, err=True)
        return
    if scheduler:
        raise UsageFailure("--scheduler goes with --engine dask.")
    check_single_table(data)
    check_output(output, [data, model_file], force=force)
    pipeline, metadata, schema = _load_cli_model(model_file)
    cut = _threshold(metadata, pipeline, threshold, contamination)
    reader = TableReader(data, delimiter=delimiter, column_types=schema.arrow_types())
    schema.check_columns(reader.columns, reader.name, allow_extra=ignore_extra)
    report = Report("score", verbose, threshold=cut)
    with TableWriter(output, delimiter=delimiter) as writer:
        _stream(
            reader,
            writer,
            lambda chunk: score_chunk(pipeline, schema, chunk, threshold=cut, explain=explain),
            report,
            schema,
            reader.name,
        )
    report.finish(as_json, output)


@cli.command(context_settings=CONTEXT_SETTINGS, short_help="Fit and score one table in one go.")
@click.argument("data", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@output_options
@fit_options
@threshold_options
@click.option(
    "--save-model", type=click.Path(dir_okay=False), help="Also save the fitted model here."
)
@input_options
@report_options
@friendly_errors
def detect(data, output, force, model, settings, columns, exclude, ids, categorical, impute,
           threshold, contamination, explain, save_model, delimiter, verbose,
           as_json):  # fmt: skip
    """Fit on DATA and score the same rows: the one-liner.

    --contamination here is the fraction of DATA's rows to flag (the estimator's
    contamination parameter); by default outliers are the rows beyond Tukey's fence.

    \b
    Example:
        ae-anomaly detect transactions.csv --id-col id --contamination 0.01 -o flagged.csv
    """
    check_output(output, [data], force=force)
    if save_model:
        check_output(save_model, [data, output], force=force, table=False)
    if threshold is not None and contamination is not None:
        raise UsageFailure("--threshold and --contamination exclude each other: pass one.")
    if contamination is not None:
        settings = (*settings, f"contamination={contamination}")
    source, frame, schema = _read_training_table(
        data, delimiter, columns, exclude, ids, categorical, impute
    )
    pipeline, seconds, scores = _fit(model, settings, frame, schema, verbose)
    if save_model:
        metadata = _fit_metadata(model, source, frame, schema, pipeline, seconds, scores)
        save(pipeline, save_model, metadata=metadata)
    cut = -float(pipeline[-1].offset_) if threshold is None else threshold
    report = Report("detect", verbose, threshold=cut, total=len(frame))
    with TableWriter(output, delimiter=delimiter) as writer:
        _stream(
            _frame_chunks(frame),
            writer,
            lambda chunk: score_chunk(pipeline, schema, chunk, threshold=cut, explain=explain),
            report,
            schema,
            source,
        )
    report.finish(as_json, output)


@cli.command(
    context_settings=CONTEXT_SETTINGS, short_help="Replace feature values by reconstructions."
)
@click.argument("model_file", metavar="MODEL", type=click.Path(exists=True, dir_okay=False))
@click.argument("data", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@output_options
@click.option("--ignore-extra", is_flag=True, help="Ignore columns the model does not know.")
@input_options
@report_options
@friendly_errors
def denoise(model_file, data, output, force, ignore_extra, delimiter, verbose, as_json):
    """Write DATA with its feature columns replaced by MODEL's reconstructions.

    Numbers come back in their own units; a categorical column gets its most likely
    category. Id and ignored columns are copied unchanged.

    \b
    Example:
        ae-anomaly denoise model.skops noisy.csv -o clean.csv
    """
    check_output(output, [data, model_file], force=force)
    pipeline, _, schema = _load_cli_model(model_file)
    reader = TableReader(data, delimiter=delimiter, column_types=schema.arrow_types())
    schema.check_columns(reader.columns, reader.name, allow_extra=ignore_extra)
    report = Report("denoise", verbose)
    with TableWriter(output, delimiter=delimiter) as writer:
        _stream(
            reader,
            writer,
            lambda chunk: denoise_chunk(pipeline, schema, chunk),
            report,
            schema,
            reader.name,
        )
    report.finish(as_json, output)


@cli.command(context_settings=CONTEXT_SETTINGS, short_help="Describe a saved model.")
@click.argument("model_file", metavar="MODEL", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the header as JSON.")
@friendly_errors
def info(model_file, as_json):
    """Describe MODEL: kind, parameters, columns, training summary, threshold, versions.

    Reads the file's header only; no model code is loaded.

    \b
    Example:
        ae-anomaly info model.skops
    """
    from ..persistence import read_metadata

    metadata = read_metadata(model_file)
    if as_json:
        click.echo(json.dumps(metadata))
    else:
        print_info(metadata)


@cli.command(context_settings=CONTEXT_SETTINGS, short_help="Export a model to ONNX.")
@click.argument("model_file", metavar="MODEL", type=click.Path(exists=True, dir_okay=False))
@click.argument("output", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option(
    "--dtype",
    type=click.Choice(["float64", "float32"]),
    help="The graph's number type (default float64; float32 for convolutional models).",
)
@click.option("--no-reconstruction", is_flag=True, help="Output the score only.")
@friendly_errors
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
    from ..persistence import load_with_metadata
    from ..scale.onnx import export_onnx

    check_output(output, [model_file], force=force, table=False)
    model, _ = load_with_metadata(model_file)
    export_onnx(model, output, reconstruction=not no_reconstruction, dtype=dtype)
    click.echo(f"wrote {output}", err=True)


def main(argv=None):
    """Console entry point (``ae-anomaly``, ``python -m ae_anomaly``).

    SIGTERM (``kill``, ``timeout``, a scheduler stopping the job) unwinds like Ctrl-C, so
    the temporary file of an output being written is removed rather than left behind.
    """
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return cli.main(args=argv, prog_name="ae-anomaly")
    except _Terminated as stop:  # the outputs are cleaned up by now
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        # Skip the interpreter's shutdown: a reading thread blocked on stdin holds its lock,
        # and closing stdin under it would abort the process.
        os._exit(stop.code)


class _Terminated(SystemExit):
    """Raised by the SIGTERM handler; unwinds every ``with`` block like Ctrl-C does."""


def _terminated(signum, frame):
    raise _Terminated(128 + signum)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["STDIO", "cli", "main"]
