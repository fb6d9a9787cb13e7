"""Byte-level pieces of :class:`~.reader.TableReader`'s CSV path.

Reading stdin (and replaying the bytes already read to learn the header), iterating
chunks one ahead in a background thread, cutting text between records and counting each
record's fields on the raw bytes. No pandas here: bytes and numpy only.
"""

from __future__ import annotations

import functools
import io
import re
import sys
import threading
from queue import Full, Queue

import numpy as np

from .formats import DataError

#: How long a consumer that stops waits for the reading thread to notice.
_JOIN_SECONDS = 5.0


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


def record_end(buffer, delimiter):
    """The index after the last line end of ``buffer`` outside quoted fields (``buffer``
    starts a record; ``delimiter`` is bytes), or -1.

    A line ends at ``\\n``, ``\\r\\n`` or a bare ``\\r``, in any mixture, as pandas' C parser
    reads them (two exports joined, one from an old Mac). A ``\\r`` ending ``buffer`` is not
    taken: its ``\\n`` may come next. Quotes are read as :func:`inside_quotes` says.

    Examples
    --------
    >>> record_end(b'a,b\\n1,"x\\ny"\\n2,"z\\n', b",")  # the last line break is quoted
    12
    >>> record_end(b'a,b\\n12" LCD,1\\n2,', b",")  # a quote inside a field is a character
    14
    """
    end = buffer.rfind(b"\n")
    end = max(end, buffer.rfind(b"\r", end + 1, len(buffer) - 1)) + 1  # a bare CR after it
    last_quote = buffer.rfind(b'"')
    if last_quote < 0:  # the common case: no quoting at all
        return end or -1
    # Quotes end at the last one: the state after it holds for every later line end.
    inside = inside_quotes(buffer[: last_quote + 1], delimiter)
    if end > last_quote and not inside[-1]:
        return end
    codes = np.frombuffer(buffer, dtype=np.uint8, count=last_quote + 1)
    ends = np.flatnonzero(_line_ends(codes, final=False) & ~inside)
    return int(ends[-1]) + 1 if len(ends) else -1


def field_counts(piece, delimiter):
    """``(start offsets, field counts)`` of the records of ``piece`` (bytes, as is the
    one-byte ``delimiter``; whole records, as :func:`record_end` cuts them; quoted fields
    may hold delimiters and line breaks); blank lines, which the parser skips, are left
    out."""
    codes = np.frombuffer(piece, dtype=np.uint8)
    breaks = _line_ends(codes, final=True)
    separators = codes == delimiter[0]
    if b'"' in piece:
        outside = ~inside_quotes(piece, delimiter)
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
    single = (counts == 1) & ~blank  # none in most tables: no pass over their bytes
    if single.any():  # pandas skips a line of blanks (spaces; tabs unless they delimit)
        spaces = [32, 13] if delimiter == b"\t" else [32, 9, 13]
        solid = np.concatenate([[0], np.cumsum(~np.isin(codes, spaces))])
        blank |= single & (solid[ends] == solid[starts])
    return starts[~blank], counts[~blank]


def inside_quotes(buffer, delimiter):
    """Whether each byte of ``buffer`` (which starts a record) leaves the reader inside a
    quoted field, as pandas' C parser, Python's csv and pyarrow read quotes: a quote opens
    a field only where the field starts (after ``delimiter``, a line end, or at the
    start); inside, ``""`` is a quote and a lone one closes it; elsewhere a quote is a
    character like any other (``12" LCD``), however many follow."""
    codes = np.frombuffer(buffer, dtype=np.uint8)
    quotes = codes == ord('"')
    if _parity_reads_quotes(codes, np.flatnonzero(quotes), delimiter):
        return (np.cumsum(quotes, dtype=np.uint8) & 1).astype(bool)  # wraps: parity kept
    marks = np.zeros(len(codes) + 1, dtype=np.int8)
    for field in _quoted_field(delimiter).finditer(buffer):
        marks[field.start()] += 1
        if field.group(1):  # closed: outside from its closing quote on
            marks[field.end() - 1] -= 1
    return np.cumsum(marks[:-1], dtype=np.int8) > 0  # fields never nest: 0 or 1


def _parity_reads_quotes(codes, quotes, delimiter):
    """Whether counting quotes reads them as :func:`inside_quotes` does (the common case,
    fast): every quote that opens by count starts a field or follows a closing one
    (``""``), and every one that closes ends its field or precedes an opening one."""
    if len(delimiter) != 1:
        return False
    beside = np.zeros(256, dtype=bool)  # the bytes a quote may follow or precede so
    beside[[delimiter[0], ord("\n"), ord("\r"), ord('"')]] = True
    opening, closing = quotes[0::2], quotes[1::2]
    opening = opening[1:] if len(opening) and opening[0] == 0 else opening
    closing = closing[:-1] if len(closing) and closing[-1] == len(codes) - 1 else closing
    return bool(beside[codes[opening - 1]].all() and beside[codes[closing + 1]].all())


@functools.cache
def _quoted_field(delimiter):
    """A quoted field, from its opening quote to its closing one (group 1), or to the end
    of the text if it is never closed."""
    rest = rb'[^"]*+(?:""[^"]*+)*+("?)'
    if len(delimiter) == 1:  # the quote first (fast to search), then what it follows
        return re.compile(rb'"(?<![^\r\n' + re.escape(delimiter) + rb']")' + rest)
    return re.compile(rb"(?:^|(?<=[\r\n])|(?<=" + re.escape(delimiter) + rb'))"' + rest)


def count_lines(piece, end=None):
    """The line ends in ``piece[:end]`` (``\\n``, ``\\r\\n`` or a bare ``\\r``), quoted or not:
    the lines an editor shows before ``end``."""
    end = len(piece) if end is None else end
    lines = piece.count(b"\n", 0, end)
    if piece.find(b"\r", 0, end) < 0:  # the common case: one pass, not three (5 ms per 8 MiB)
        return lines
    return lines + piece.count(b"\r", 0, end) - piece.count(b"\r\n", 0, end)


def _line_ends(codes, final):
    """Where ``codes`` end a line: a ``\\n``, or a ``\\r`` not followed by one (the
    last byte only if ``final``, the text's end)."""
    newline, carriage = codes == ord("\n"), codes == ord("\r")
    carriage[:-1] &= ~newline[1:]
    if not final:
        carriage[-1:] = False
    return newline | carriage
