"""Assertions shared by the CLI tests (no test in here)."""


def assert_error(result, code, *fragments):
    """``result`` (a ``CliRunner`` result) failed with exit status ``code`` and exactly one
    ``Error:`` line on stderr holding every fragment, with no traceback."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    message = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(message) == 1, result.stderr
    for fragment in fragments:
        assert fragment in message[0], message[0]
