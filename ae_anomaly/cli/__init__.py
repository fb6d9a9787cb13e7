"""``ae-anomaly``: the command line (see :mod:`.app`)."""

from .app import STDIO, cli, main

__all__ = ["STDIO", "cli", "main"]
