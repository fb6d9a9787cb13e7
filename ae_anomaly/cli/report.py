"""What the CLI tells a person on stderr: progress bars, summaries, and ``info``'s text."""

from __future__ import annotations

import json
import sys
import time

import click

from ..tables.formats import escape_char
from .options import kind_of


class Report:
    """A progress bar of rows written (with ``-v``) and the summary of a streamed command."""

    def __init__(self, command, verbose, *, total=None, started=None):
        from tqdm.auto import tqdm

        self.command = command
        self.verbose = verbose
        self.started = time.perf_counter() if started is None else started
        self.stream_started = None
        self.bar = tqdm(
            total=total,
            unit=" rows",
            unit_scale=True,
            file=sys.stderr,
            desc=command,
            leave=False,
            disable=None if verbose else True,  # None: only when stderr is a terminal
        )

    def streaming(self):
        """Mark the start of the stream (the model loaded): the summary then also gives the
        streaming time and rate, ``stream_seconds`` and ``stream_rows_per_second``."""
        self.stream_started = time.perf_counter()

    def advance(self, out):
        self.bar.update(len(out))

    def finish(self, result, as_json, output):
        """Summarize a :class:`~ae_anomaly.tables.scoring.TableResult` in one line on
        stderr (JSON with ``--json``); the time is the whole command's."""
        self.bar.close()
        seconds = time.perf_counter() - self.started
        summary = {"command": self.command, "rows": result.rows}
        if result.threshold is not None:
            summary.update(anomalies=result.anomalies or 0, threshold=result.threshold,
                           unscorable=getattr(result, "unscorable", 0),
                           imputed_by_column=getattr(result, "imputed", {}))  # fmt: skip
        unseen = result.unseen_categories or {}
        summary.update(unseen_categories=sum(unseen.values()), unseen_by_column=unseen)
        summary.update(
            seconds=round(seconds, 3),
            rows_per_second=round(result.rows / seconds) if seconds > 0 else None,
        )
        if self.stream_started is not None:
            stream = time.perf_counter() - self.stream_started
            summary.update(
                stream_seconds=round(stream, 3),
                stream_rows_per_second=round(result.rows / stream) if stream > 0 else None,
            )
        summary["output"] = output or "-"
        if as_json:
            click.echo(json.dumps(summary), err=True)
            return
        text = f"{self.command}: {result.rows:,} rows in {seconds:.1f} s"
        if result.threshold is not None:
            score = (result.names or {}).get("anomaly_score", "anomaly_score")
            text += (f", {summary['anomalies']:,} anomalies ({score} > "
                     f"{result.threshold:.6g})")  # fmt: skip
        if summary["unseen_categories"]:
            text += f", {summary['unseen_categories']:,} unseen categories"
        click.echo(f"{text}; wrote {output or 'stdout'}.", err=True)


def finish_fit(model, output, as_json):
    """``ae-anomaly fit``'s summary of a :class:`~ae_anomaly.tables.fitting.TableModel`."""
    training = model.metadata["training"]
    summary = {
        "command": "fit",
        "model": model.metadata["kind"],
        "rows": training["rows"],
        "features": len(model.schema.features),
        "epochs": training["n_iter"],
        "seconds": training["seconds"],
        "threshold": model.metadata["threshold"],
        "flagged": training["flagged"],
        "output": output,
    }
    if as_json:
        click.echo(json.dumps(summary), err=True)
        return
    click.echo(
        f"Fitted {summary['model']} on {summary['rows']:,} rows x {summary['features']} "
        f"features in {summary['seconds']:.1f} s ({summary['epochs']} epochs); threshold "
        f"anomaly_score > {summary['threshold']:.6g} flags {summary['flagged']:,} training "
        f"rows. Saved {summary['output']}.",
        err=True,
    )


def finish_dask(result, output, as_json):
    """``ae-anomaly score --engine dask``'s summary of a :class:`DaskResult`."""
    summary = {
        "command": "score",
        "engine": "dask",
        "rows": result.rows,
        "files": result.files,
        "workers": result.workers,
        "threshold": result.threshold,
        "unscorable": result.unscorable,
        "output": output,
    }
    message = (
        f"scored {result.rows:,} rows on {result.workers} Dask worker(s) into {output} "
        f"({result.files} files)"
    )
    click.echo(json.dumps(summary) if as_json else message, err=True)


def _reading(options):
    """How a mixed table's cells are read, as ``info`` says it (what differs from plain)."""
    said = []
    if options.get("decimal", ".") != ".":
        said.append(f"decimal '{escape_char(str(options['decimal']))}'")
    if options.get("thousands") is not None:
        said.append(f"thousands '{escape_char(str(options['thousands']))}'")
    if options.get("date_format"):
        said.append(f"dates {options['date_format']}")
    if options.get("keep_default_na") is False:
        said.append("pandas' NA strings are values")
    if options.get("na_values"):
        said.append(f"also missing: {options['na_values']!r}")
    if options.get("coerce"):
        said.append("cells that do not fit their column are missing (--coerce)")
    return "; ".join(said) or "decimal '.', ISO dates, pandas' NA strings"


def table_columns(model):
    """The ``schema`` and ``reading`` fields that ``info`` prints for a ``TableEncoder``
    pipeline saved by :func:`ae_anomaly.save` (``make_table_pipeline(...).fit(frame)``),
    whose header has neither (``fit_table`` and the CLI write them): its feature columns
    with their kinds and its id columns, which the header's ``feature_names_in`` lists
    among the features (the pipeline takes them, to leave them out). ``{}`` for any
    other model.

    Examples
    --------
    >>> import pandas as pd
    >>> from ae_anomaly import Autoencoder, make_table_pipeline
    >>> frame = pd.DataFrame({"id": [f"t{i}" for i in range(40)], "x": range(40),
    ...                       "region": ["EU", "US"] * 20})
    >>> pipeline = make_table_pipeline(Autoencoder(max_iter=1), id_cols=["id"]).fit(frame)
    >>> schema = table_columns(pipeline)["schema"]
    >>> schema["features"], schema["ids"]
    ({'x': 'numeric', 'region': 'categorical'}, ['id'])
    """
    from ..tables.encoder import TableEncoder

    steps = getattr(model, "steps", None)
    encoder = steps[0][1] if steps else None
    if not isinstance(encoder, TableEncoder) or not hasattr(encoder, "columns_"):
        return {}
    features = {name: spec["kind"] for name, spec in encoder.columns_.items()}
    ids = [name for name in encoder.id_cols if name not in features]
    taken = [str(name) for name in getattr(encoder, "feature_names_in_", ())]
    schema = {"features": features, "ids": ids, "impute": encoder.impute,
              "ignored": [name for name in taken if name not in features and name not in ids]}
    return {"schema": schema, "reading": encoder.get_params()}  # fmt: skip


def print_info(metadata):
    """``ae-anomaly info``: the model file's header as aligned text on stdout."""
    estimator = metadata.get("estimator", {})
    schema = metadata.get("schema")
    training = metadata.get("training")
    kind = metadata.get("kind") or kind_of(estimator.get("class", ""))
    lines = [("model", f"{kind} ({estimator.get('class', '?')})")]
    params = estimator.get("params", {})
    lines.append(("parameters", ", ".join(f"{k}={v!r}" for k, v in params.items())))
    if schema:
        features = schema["features"]
        lines.append(("features", ", ".join(f"{name} ({kind})" for name, kind in features.items())))
        lines.append(("id columns", ", ".join(schema["ids"]) or "-"))
        lines.append(("ignored columns", ", ".join(schema["ignored"]) or "-"))
        lines.append(("missing values", schema["impute"] or "error (no imputation)"))
        if isinstance(metadata.get("reading"), dict):
            lines.append(("reading cells", _reading(metadata["reading"])))
    elif estimator.get("feature_names_in"):
        lines.append(("features", ", ".join(estimator["feature_names_in"])))
    elif estimator.get("n_features_in"):
        lines.append(("features", f"{estimator['n_features_in']} (fitted on an array)"))
    if training:
        lines.append(
            (
                "training",
                f"{training['rows']:,} rows from {training['source']}, {training['n_iter']} "
                f"epochs in {training['seconds']} s, final loss {training['final_loss']:.6g}",
            )
        )
        q = training["score_quantiles"]
        last = len(q) - 1
        lines.append(
            (
                "training scores",
                f"median {q[last // 2]:.4g}, 90% {q[last * 9 // 10]:.4g}, "
                f"99% {q[last * 99 // 100]:.4g}, max {q[-1]:.4g}",
            )
        )
    if "threshold" in metadata:
        flagged = f", flags {training['flagged']:,} training rows" if training else ""
        lines.append(("threshold", f"anomaly_score > {metadata['threshold']:.6g}{flagged}"))
    elif "offset" in estimator:
        lines.append(("threshold", f"anomaly_score > {-estimator['offset']:.6g}"))
    lines.append(("versions", ", ".join(f"{k} {v}" for k, v in metadata["versions"].items())))
    lines.append(("file format", f"{metadata['format']} {metadata['format_version']}"))
    lines.append(("created", metadata.get("created", "-")))
    width = max(len(key) for key, _ in lines)
    for key, value in lines:
        click.echo(f"{key:<{width}}  {printable(value)}")


def printable(text):
    r"""``text`` with control characters (ANSI escapes, carriage returns...) shown as
    escapes: a model file's header cannot drive the terminal that reads it.

    Examples
    --------
    >>> printable("red \x1b[31m text")
    'red \\x1b[31m text'
    """
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in str(text)
    )
