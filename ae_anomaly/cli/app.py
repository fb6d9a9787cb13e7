"""``ae-anomaly``: fit, score, detect and denoise CSV/TSV/Parquet files from the shell.

A thin layer over :mod:`ae_anomaly.tables.api`: the commands live in :mod:`.commands`, their
shared options in :mod:`.options`, what they print in :mod:`.report`. This module holds the
group, the entry point, SIGTERM handling and the mapping of library errors to one-line
messages that name the command line's flags. Data goes to stdout (or ``-o``), diagnostics to
stderr. Exit status: 0 success, 1 bad data or model file, 2 bad usage (options, paths, an
existing output without ``--force``).
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import warnings

import click

from .. import __version__
from ..tables.errors import Phrased
from ..tables.formats import STDIO, UsageProblem
from .commands import COMMANDS, OWN_PROCESS, UsageFailure
from .options import CONTEXT_SETTINGS, spell_flag


def message(exc):
    """A library error's first line, its parameters spelled as this command line's flags."""
    text = exc.rephrase(spell_flag) if isinstance(exc, Phrased) else str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


class Group(click.Group):
    """Runs a command; turns the library's errors into one-line messages, no traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except UsageProblem as exc:  # a path or a parameter that cannot work: status 2
            raise UsageFailure(message(exc)) from None
        except ValueError as exc:  # bad data, a model file, the estimators' own checks: 1
            raise click.ClickException(message(exc)) from None
        except KeyboardInterrupt:  # Ctrl-C: the shell's status, not that of bad data (1)
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except MemoryError:  # a limit no check foresaw: still one line, outputs removed
            raise click.ClickException(
                "out of memory: the input (or a model's encoding of it) needs more memory "
                "than this process may use."
            ) from None
        finally:  # what check_output saw is this command's only (not imported: not used)
            writer = sys.modules.get("ae_anomaly.tables.writer")
            if writer is not None:
                writer.forget_checked_outputs()


def _one_line_warnings():
    """A ``showwarning`` that prints each distinct warning once, on one line: the same
    warning raised for every chunk, thread or explained column is said once (Python's own
    once-per-location registry is reset whenever a library enters ``catch_warnings``)."""
    shown = set()

    def show(warning, category, filename, lineno, file=None, line=None):
        text = message(warning)
        if text not in shown:
            shown.add(text)
            click.echo(f"Warning: {text}", err=True)

    return show


@click.group(cls=Group, context_settings=CONTEXT_SETTINGS)
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
    warnings.showwarning = _one_line_warnings()


for _command in COMMANDS:
    cli.add_command(_command)


def main(argv=None):
    """Console entry point (``ae-anomaly``, ``python -m ae_anomaly``).

    SIGTERM (``kill``, ``timeout``, a scheduler stopping the job) unwinds like Ctrl-C, so
    the temporary file of an output being written is removed rather than left behind.

    The command ends the process (click's ``SystemExit``, also on success): it imports
    the library with the cycle collector paused (``commands.import_library``), and on the
    way out every object alive is frozen (:func:`gc.freeze`): the interpreter's exit then
    skips the cyclic garbage collection over the objects torch, SciPy and scikit-learn
    made at import (0.7 s of a 5 s ``detect``, measured). Reference counting, ``atexit``
    handlers and module teardown still run; the outputs are closed by then.
    """
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return cli.main(args=argv, prog_name="ae-anomaly", obj=OWN_PROCESS)
    except _Terminated as stop:  # the outputs are cleaned up by now
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        # Skip the interpreter's shutdown: a reading thread blocked on stdin holds its lock,
        # and closing stdin under it would abort the process.
        os._exit(stop.code)
    except SystemExit:
        gc.freeze()
        raise


class _Terminated(SystemExit):
    """Raised by the SIGTERM handler; unwinds every ``with`` block like Ctrl-C does."""


def _terminated(signum, frame):
    raise _Terminated(128 + signum)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["STDIO", "Group", "cli", "main", "message"]
