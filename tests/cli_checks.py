"""Assertions and helpers shared by the CLI tests (no test in here)."""

import resource
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from ae_anomaly.cli import cli


def assert_error(result, code, *fragments):
    """``result`` (a ``CliRunner`` result) failed with exit status ``code`` and exactly one
    ``Error:`` line on stderr holding every fragment, with no traceback; that line."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    message = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(message) == 1, result.stderr
    for fragment in fragments:
        assert fragment in message[0], message[0]
    return message[0]


# ------------------------------------------------- running the CLI (the hostile-I/O tests)
ROOT = Path(__file__).resolve().parents[1]
#: a fit of two epochs, seeded: enough for a model file to score with
FAST = ["--set", "max_iter=2", "--set", "random_state=0"]
ROWS = "".join(f"{i},{i % 7}.5,{i % 5}.25,{i % 3}.125\n" for i in range(60))


def run(*args, input=None):
    """The CLI in process (``CliRunner``), every argument passed as a string."""
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def no_leftovers(folder):
    """No hidden file (a ``.part`` of an interrupted write) is left in ``folder``."""
    left = [p.name for p in Path(folder).iterdir() if p.name.startswith(".")]
    assert left == [], left


def train_model(folder):
    """``folder/m.skops``, fitted on ``folder/train.csv`` (an id column and three numbers)."""
    (folder / "train.csv").write_text("id,amount,age,score\n" + ROWS)
    result = run("fit", folder / "train.csv", "-o", folder / "m.skops", "--id-col", "id", *FAST)
    assert result.exit_code == 0, result.output
    return folder / "m.skops"


def cli_subprocess(*args, stdin=None, limits=None, **kwargs):
    """``python -m ae_anomaly`` in a real process (closed stdin, file-size limits...)."""

    def prepare():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a size limit gives EFBIG, not death
        for what, value in (limits or {}).items():
            resource.setrlimit(what, (value, value))

    return subprocess.run(
        [sys.executable, "-m", "ae_anomaly", *map(str, args)],
        cwd=ROOT, stdin=stdin, capture_output=True, text=True, preexec_fn=prepare,
        timeout=300, **kwargs,
    )  # fmt: skip


def one_line_error(result, code, *fragments):
    """:func:`assert_error` for a finished process (``subprocess.run``'s result)."""
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
