"""What the CLI tells a person on stderr: progress bars, summaries, and ``info``'s text."""

from __future__ import annotations

import json
import sys
import time

import click
from tqdm.auto import tqdm

from ..tables.schema import FLAG


class Report:
    """Counts rows and anomalies of a streamed command; a progress bar with ``-v``."""

    def __init__(self, command, verbose, *, threshold=None, total=None):
        self.command = command
        self.threshold = threshold
        self.rows = 0
        self.anomalies = 0
        self.verbose = verbose
        self.started = time.perf_counter()
        self.bar = tqdm(
            total=total,
            unit=" rows",
            unit_scale=True,
            file=sys.stderr,
            desc=command,
            leave=False,
            disable=None if verbose else True,  # None: only when stderr is a terminal
        )

    def advance(self, out):
        self.rows += len(out)
        if FLAG in out:
            self.anomalies += int(out[FLAG].sum())
        self.bar.update(len(out))

    def finish(self, as_json, output):
        self.bar.close()
        seconds = time.perf_counter() - self.started
        summary = {"command": self.command, "rows": self.rows}
        if self.threshold is not None:
            summary.update(anomalies=self.anomalies, threshold=self.threshold)
        summary.update(
            seconds=round(seconds, 3),
            rows_per_second=round(self.rows / seconds) if seconds > 0 else None,
            output=output or "-",
        )
        if as_json:
            click.echo(json.dumps(summary), err=True)
        elif self.verbose:
            text = f"{self.command}: {self.rows:,} rows in {seconds:.1f} s"
            if self.threshold is not None:
                text += f", {self.anomalies:,} anomalies (anomaly_score > {self.threshold:.6g})"
            click.echo(text, err=True)

    @staticmethod
    def finish_fit(summary, as_json):
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


def print_info(metadata):
    """``ae-anomaly info``: the model file's header as aligned text on stdout."""
    estimator = metadata.get("estimator", {})
    schema = metadata.get("schema")
    training = metadata.get("training")
    kind = metadata.get("kind") or _kind(estimator.get("class", ""))
    lines = [("model", f"{kind} ({estimator.get('class', '?')})")]
    params = estimator.get("params", {})
    lines.append(("parameters", ", ".join(f"{k}={v!r}" for k, v in params.items())))
    if schema:
        features = schema["features"]
        lines.append(("features", ", ".join(f"{name} ({kind})" for name, kind in features.items())))
        lines.append(("id columns", ", ".join(schema["ids"]) or "-"))
        lines.append(("ignored columns", ", ".join(schema["ignored"]) or "-"))
        lines.append(("missing values", schema["impute"] or "error (no imputation)"))
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
        click.echo(f"{key:<{width}}  {value}")


def _kind(class_name):
    """The CLI name of a saved estimator's class, when it is one of ours."""
    from ..models.registry import autoencoders, type_name

    names = {type_name(cls): name for name, cls in autoencoders().items()}
    return names.get(class_name, "-")
