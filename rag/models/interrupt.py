"""Stop a thread's HTTP read at once, for a Stop button pressed while the model reads.

While a local model reads a long prompt, the first token can take ten seconds or more,
and a thread waiting for it is blocked in a socket read that no flag can reach. The HTTP
clients of the LLM connection track which socket each thread is reading from;
:func:`interrupt_reads` shuts that socket down, so the read returns at once, the request
fails in that thread only, and the model server (which cancels a request whose client
went away) frees its slot.

Example:
    >>> import threading
    >>> interrupt_reads(threading.get_ident())  # this thread reads nothing: nothing to do
    False
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["interrupt_reads", "interruptible", "track_reads"]

logger = logging.getLogger(__name__)

_reading: dict[int, socket.socket] = {}  # thread ident -> the socket it is reading from
_scoped: set[int] = set()  # threads inside interruptible()
_interrupted: set[int] = set()  # threads whose further reads fail at once (no retries)
_lock = threading.Lock()


class Interrupted(OSError):
    """Raised in a thread whose HTTP reads were interrupted."""


def _check() -> int:
    ident = threading.get_ident()
    if ident in _interrupted:
        raise Interrupted("the request was stopped")
    return ident


class _TrackedStream:
    """A network stream that records which thread is reading from its socket."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        ident = _check()
        sock = self._inner.get_extra_info("socket")
        if sock is not None:
            with _lock:
                _reading[ident] = sock
        try:
            return self._inner.read(max_bytes, timeout)
        finally:
            with _lock:
                _reading.pop(ident, None)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _check()
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, *args: Any, **kwargs: Any) -> _TrackedStream:
        return _TrackedStream(self._inner.start_tls(*args, **kwargs))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _TrackingBackend:
    """Wraps a connection pool's network backend so that its streams are tracked."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(self, *args: Any, **kwargs: Any) -> _TrackedStream:
        _check()  # a client retrying a stopped request fails at once
        return _TrackedStream(self._inner.connect_tcp(*args, **kwargs))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> _TrackedStream:
        return _TrackedStream(self._inner.connect_unix_socket(*args, **kwargs))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def track_reads(client: Any) -> bool:
    """Make ``client`` (an httpx-style sync client) interruptible by :func:`interrupt_reads`.

    Returns False, and leaves the client as it was, when its transport is not the usual
    connection pool (then a Stop waits for the next token instead).

    Example:
        >>> import openai
        >>> track_reads(openai.DefaultHttpxClient())
        True
    """
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is None:
        logger.debug("HTTP client without a known connection pool: reads not interruptible")
        return False
    if not isinstance(backend, _TrackingBackend):
        pool._network_backend = _TrackingBackend(backend)
    return True


@contextlib.contextmanager
def interruptible() -> Iterator[int]:
    """Run a block whose HTTP reads :func:`interrupt_reads` may stop; yields the thread id.

    Example:
        >>> with interruptible() as ident:
        ...     ident == threading.get_ident()
        True
    """
    ident = threading.get_ident()
    with _lock:
        _scoped.add(ident)
    try:
        yield ident
    finally:
        with _lock:
            _scoped.discard(ident)
            _interrupted.discard(ident)
            _reading.pop(ident, None)


def interrupt_reads(thread_ident: int) -> bool:
    """Stop the HTTP reads of the thread ``thread_ident`` (inside :func:`interruptible`):
    the socket it is reading from is shut down, and its further requests fail at once.

    Other threads' requests and the client itself keep working (the pool replaces the
    closed connection). Returns True when a read was under way.

    Example:
        >>> interrupt_reads(0)
        False
    """
    with _lock:
        if thread_ident not in _scoped:
            return False
        _interrupted.add(thread_ident)
        sock = _reading.get(thread_ident)
    if sock is None:
        return False
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        return False
    logger.debug("interrupted the HTTP read of thread %d", thread_ident)
    return True
