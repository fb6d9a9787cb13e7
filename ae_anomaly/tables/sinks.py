"""Whole writes to stdout, for :class:`~.writer.TableWriter`.

Under ``python -u`` (or ``PYTHONUNBUFFERED=1``) ``sys.stdout.buffer`` is the raw
:class:`io.FileIO`, whose ``write`` makes one system call and returns how many bytes it
wrote: a pipe whose reader goes away (``| head``) while a large write waits takes the
first 64 KiB, and Arrow, which ignores the count, dropped the rest with no error. The
output then ended early and the run reported success.
"""

from __future__ import annotations

import io
import select


class WholeWrites(io.RawIOBase):
    """A binary stream over ``raw`` whose ``write`` writes every byte or raises (a
    reader gone: ``BrokenPipeError``), as a buffered stream's does.

    Examples
    --------
    >>> class Short(io.RawIOBase):  # takes 3 bytes per call
    ...     data = b""
    ...     def writable(self):
    ...         return True
    ...     def write(self, b):
    ...         self.data += bytes(b[:3])
    ...         return min(3, len(b))
    >>> raw = Short()
    >>> WholeWrites(raw).write(b"id,score\\n")
    9
    >>> raw.data
    b'id,score\\n'
    """

    def __init__(self, raw):
        self._raw = raw

    def writable(self):
        return True

    def write(self, data):
        view = memoryview(data).cast("B")
        total = view.nbytes
        while view.nbytes:
            n = self._raw.write(view)
            if not n:  # a non-blocking stream that is full (None): when it takes more
                select.select([], [self._raw], [])
                continue
            view = view[n:]
        return total

    def flush(self):
        self._raw.flush()

    def fileno(self):
        return self._raw.fileno()


def whole_writes(sink):
    """``sink`` (``sys.stdout.buffer``), wrapped in :class:`WholeWrites` where it is a raw
    stream, whose writes may be short; a buffered stream writes everything already."""
    return WholeWrites(sink) if isinstance(sink, io.RawIOBase) else sink


__all__ = ["WholeWrites", "whole_writes"]
