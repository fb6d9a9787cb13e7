"""Byte-level pieces of :class:`~.reader.TableReader`'s CSV path.

Reading stdin (and replaying the bytes already read to learn the header), iterating
chunks one ahead in a background thread, cutting text between records and counting each
record's fields on the raw bytes. No pandas here: bytes and numpy only.
"""

from __future__ import annotations

import io
import re
import sys
import threading
from queue import Full, Queue

import numpy as np

from .formats import DataError

#: How long a consumer that stops waits for the reading thread to notice.
_JOIN_SECONDS = 5.0
_LINE_END = re.compile(rb"[\r\n]")


def binary_stdin():
    if sys.stdin is None or sys.stdin.closed:
        raise DataError("stdin is closed: pass a file, or pipe the data in.")
    return getattr(sys.stdin, "buffer", sys.stdin)


class Prefixed(io.RawIOBase):
    """A binary stream that replays ``head`` and then continues with ``rest``."""

    def __init__(self, head, rest):
        self._head = memoryview(head)
        self._rest = rest

    def readable(self):
        return True

    def readinto(self, buffer):
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def prefetch(chunks, depth=1):
    """Iterate ``chunks`` in a background thread, ``depth`` chunks ahead.

    Parsing (pandas' tokenizer, pyarrow) and scoring (torch) release the GIL, so on two
    cores the next chunk is parsed while this one is scored. Errors surface in order.
    """
    queue = Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def hand_over(item):
        """Put ``item`` in the queue unless the consumer has stopped; False if it has."""
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce():
        try:
            for chunk in chunks:
                if not hand_over((chunk, None)):
                    return
            hand_over((done, None))
        except BaseException as exc:  # handed to the consumer, raised there
            hand_over((done, exc))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            chunk, error = queue.get()
            if error is not None:
                raise error
            if chunk is done:
                return
            yield chunk
    finally:
        stop.set()  # the producer stops at its next hand-over, whatever the consumer did
        # Bounded: after an error or a signal the producer may be blocked reading a pipe
        # that never delivers; it is a daemon thread and goes with the process.
        thread.join(timeout=_JOIN_SECONDS)


def record_end(buffer):
    """The index after the last line end of ``buffer`` outside double quotes (``buffer``
    starts a record, and a quote inside a quoted field is doubled), or -1.

    A line ends at ``\\n``, ``\\r\\n`` or a bare ``\\r``, in any mixture, as pandas' C parser
    reads them (two exports joined, one from an old Mac). A ``\\r`` ending ``buffer`` is not
    taken: its ``\\n`` may come next.
    """
    if _unquoted_after_first_line(buffer):  # the common case: no quoting at all
        end = buffer.rfind(b"\n")
        end = max(end, buffer.rfind(b"\r", end + 1, len(buffer) - 1))  # a bare CR after it
        return end + 1 or -1
    codes = np.frombuffer(buffer, dtype=np.uint8)
    inside = np.cumsum(codes == ord('"'), dtype=np.uint8) & 1  # wraps: parity kept
    ends = np.flatnonzero(_line_ends(codes, final=False) & (inside == 0))
    return int(ends[-1]) + 1 if len(ends) else -1


def field_counts(piece, delimiter):
    """``(start offsets, field counts)`` of the records of ``piece`` (bytes, as is the
    one-byte ``delimiter``; whole records, as :func:`record_end` cuts them; double-quoted
    fields may hold delimiters and line breaks); blank lines, which the parser skips, are
    left out."""
    codes = np.frombuffer(piece, dtype=np.uint8)
    outside = None
    if b'"' in piece:
        outside = (np.cumsum(codes == ord('"'), dtype=np.uint8) & 1) == 0  # wraps: parity kept
    breaks = _line_ends(codes, final=True)
    separators = codes == delimiter[0]
    if outside is not None:
        breaks &= outside
        separators &= outside
    ends = np.flatnonzero(breaks)
    if not len(codes) or not breaks[-1]:
        ends = np.append(ends, len(codes))  # the last record has no line break
    starts = np.concatenate([[0], ends[:-1] + 1])
    before = np.searchsorted(np.flatnonzero(separators), ends)
    counts = np.diff(before, prepend=0) + 1
    length = ends - starts
    carriage = codes[np.minimum(starts, len(codes) - 1)] == ord("\r") if len(codes) else []
    blank = (length == 0) | ((length == 1) & carriage)  # "\r\n" alone is a blank line
    return starts[~blank], counts[~blank]


def count_lines(piece, end=None):
    """The line ends in ``piece[:end]`` (``\\n``, ``\\r\\n`` or a bare ``\\r``), quoted or not:
    the lines an editor shows before ``end``."""
    end = len(piece) if end is None else end
    return piece.count(b"\n", 0, end) + piece.count(b"\r", 0, end) - piece.count(b"\r\n", 0, end)


def _line_ends(codes, final):
    """Where ``codes`` end a line: a ``\\n``, or a ``\\r`` not followed by one (the
    last byte only if ``final``, the text's end)."""
    newline, carriage = codes == ord("\n"), codes == ord("\r")
    carriage[:-1] &= ~newline[1:]
    if not final:
        carriage[-1:] = False
    return newline | carriage


def _unquoted_after_first_line(buffer):
    """Whether ``buffer``'s quotes, if any, all lie in its first line and are balanced
    there (a quoted header): every later line end then ends a record."""
    first = buffer.find(b'"')
    if first < 0:
        return True
    line_end = _LINE_END.search(buffer, first)
    if line_end is None:
        return False
    end = line_end.start()
    return buffer.count(b'"', 0, end) % 2 == 0 and buffer.find(b'"', end) < 0
