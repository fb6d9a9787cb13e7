"""Warnings silenced for a block, one block at a time across threads.

:class:`warnings.catch_warnings` saves the process-wide filters on entry and puts them
back on exit: two threads inside it at once put back each other's state, and can leave an
``ignore`` filter in force for good (a web server loading models on several threads
would then lose every later warning). The package's quiet blocks take one lock, so they
never interleave; what other threads warn meanwhile is silenced for that moment only.
"""

from __future__ import annotations

import contextlib
import threading
import warnings

_LOCK = threading.RLock()


@contextlib.contextmanager
def quiet_warnings(message=""):
    """Ignore warnings (those whose text starts with ``message``, if given) in the block.

    Examples
    --------
    >>> import warnings
    >>> before = list(warnings.filters)
    >>> with quiet_warnings():
    ...     warnings.warn("not shown")
    >>> warnings.filters == before
    True
    """
    with _LOCK, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message)
        yield


__all__ = ["quiet_warnings"]
