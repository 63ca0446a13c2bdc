"""What each thread of a running app is doing, for a request that seems stuck.

``kill -USR1 <pid>`` on the app makes it log, at WARNING, the stack of every thread that is
running code of the ``rag`` package (answers, summaries, the warm-up) and of the main thread; idle
server threads are left out so the log stays short. Nothing stops or changes.

Example:
    >>> "MainThread" in thread_stacks()
    True
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import traceback
from pathlib import Path
from types import FrameType

__all__ = ["log_stacks_on_signal", "thread_stacks"]

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent  # the rag package, wherever it is installed
MAX_FRAMES = 12  # innermost frames shown per thread


def thread_stacks(max_frames: int = MAX_FRAMES) -> str:
    """The stacks (innermost frame first) of the main thread and of threads in ``rag`` code.

    Example:
        >>> thread_stacks().splitlines()[0].startswith("thread MainThread")
        True
    """
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    blocks = []
    for ident, frame in sys._current_frames().items():
        name = names.get(ident, f"thread-{ident}")
        frames = traceback.extract_stack(frame)[::-1]
        if name != "MainThread" and not any(_in_project(f.filename) for f in frames):
            continue
        lines = [f"thread {name}:"]
        lines += [f"  {_short(f.filename)}:{f.lineno} in {f.name}" for f in frames[:max_frames]]
        blocks.append((name != "MainThread", "\n".join(lines)))
    return "\n".join(text for _, text in sorted(blocks))


def log_stacks_on_signal(signum: int | None = None) -> bool:
    """Log :func:`thread_stacks` whenever the process receives ``signum`` (default SIGUSR1).

    Returns False where the signal does not exist (Windows) or outside the main thread.

    Example:
        >>> log_stacks_on_signal()  # doctest: +SKIP
        True
    """
    signum = signum if signum is not None else getattr(signal, "SIGUSR1", None)
    if signum is None or threading.current_thread() is not threading.main_thread():
        return False

    def handler(_signum: int, _frame: FrameType | None) -> None:
        logger.warning("Thread stacks (signal %d):\n%s", _signum, thread_stacks())

    try:
        signal.signal(signum, handler)
    except (ValueError, OSError):
        return False
    return True


def _in_project(filename: str) -> bool:
    return Path(filename).is_relative_to(PACKAGE_DIR)


def _short(filename: str) -> str:
    path = Path(filename)
    if path.is_relative_to(PACKAGE_DIR.parent):
        return str(path.relative_to(PACKAGE_DIR.parent))
    parts = path.parts
    return str(Path(*parts[-3:])) if len(parts) > 3 else filename
