"""Generations the app can stop: each answer, summary or digest runs in its own worker thread.

The browser's event handler does not iterate the model's stream itself: a :class:`Run` moves
the stream's items through a queue, and the handler reads that queue with a heartbeat. So
the handler can

- show elapsed time while the model is still reading (a :class:`Tick` every second),
- notice a Stop at once (:meth:`Run.cancel` wakes it), and return what was streamed so far,
- be closed by Gradio within a second (a cancelled event, a closed browser tab).

The worker checks for cancellation after every item and then closes the stream, which
closes the HTTP request to the model server, and the server stops generating. A run whose
reader has gone (no read for ``stall_seconds``: the client disconnected) cancels itself.

:class:`Runs` keeps the active runs per browser session so that a Stop button, a new
conversation or a closed tab can cancel them.

Example:
    >>> runs = Runs()
    >>> run = runs.start("answer", session="s1")
    >>> [item for item in run.items(lambda: iter(["a", "b"])) if not isinstance(item, Tick)]
    ['a', 'b']
    >>> runs.active("s1")
    []
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from rag.models.interrupt import interrupt_reads, interruptible

logger = logging.getLogger(__name__)

T = TypeVar("T")

HEARTBEAT_SECONDS = 1.0
STALL_SECONDS = 30.0  # no read for this long: the reader is gone, stop generating

_ITEM, _ERROR, _END, _WAKE = "item", "error", "end", "wake"


@dataclass(frozen=True)
class Tick:
    """Nothing new for a heartbeat: the run is still working ``elapsed`` seconds in.

    Example:
        >>> Tick(2.5).seconds
        2
    """

    elapsed: float

    @property
    def seconds(self) -> int:
        """Whole seconds, for display."""
        return int(self.elapsed)


class Stopped(Exception):
    """Raised inside a run's worker (e.g. by a progress callback) once the run is cancelled.

    Example:
        >>> raise Stopped("stopped by the user")
        Traceback (most recent call last):
        rag.ui.runs.Stopped: stopped by the user
    """


class Run:
    """One generation: its worker thread, its queue and its cancellation.

    ``reason`` says why it was cancelled (``"stopped"``, ``"new conversation"``,
    ``"session closed"``...), None while it runs or once it finished normally.

    Example:
        >>> run = Run("summary", session=None)
        >>> run.cancel("stopped"), run.cancelled
        (True, True)
        >>> list(run.items(lambda: iter([1, 2, 3]))), run.reason
        ([], 'stopped')
    """

    def __init__(
        self,
        kind: str,
        session: str | None,
        *,
        heartbeat: float = HEARTBEAT_SECONDS,
        stall_seconds: float = STALL_SECONDS,
        on_end: Callable[[Run], None] | None = None,
        on_worker: Callable[[Run, bool], None] | None = None,
    ) -> None:
        self.kind = kind
        self.session = session
        self.heartbeat = heartbeat
        self.stall_seconds = stall_seconds
        self.started = time.monotonic()
        self.reason: str | None = None
        self.finished = False
        self._cancelled = threading.Event()
        self._cancelled_at: float | None = None
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._last_read = time.monotonic()
        self._on_end = on_end
        self._on_worker = on_worker  # told when the worker starts (True) and ends (False)
        self._worker_ident: int | None = None

    @property
    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self.started

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called (by a Stop, a closed tab, a stalled reader)."""
        return self._cancelled.is_set()

    def cancel(self, reason: str = "stopped") -> bool:
        """Stop the run: the reader returns at once, the worker at its next item.

        Returns False when the run had already finished or been cancelled.
        """
        if self.finished or self._cancelled.is_set():
            return False
        self.reason = reason
        self._cancelled_at = time.monotonic()
        self._cancelled.set()
        self._queue.put((_WAKE, None))
        if self._worker_ident is not None and interrupt_reads(self._worker_ident):
            logger.debug("%s run: the model's reply was cut off mid-read", self.kind)
        logger.info("%s run cancelled (%s) after %.1f s", self.kind, reason, self.elapsed)
        return True

    def post(self, item: Any) -> None:
        """Hand an extra item to the reader from the worker (e.g. a progress update).

        Raises :class:`Stopped` when the run was cancelled, so a callback also stops the work.
        """
        if self.cancelled:
            raise Stopped(self.reason or "stopped")
        self._queue.put((_ITEM, item))

    def items(self, start: Callable[[], Iterable[T]]) -> Iterator[T | Tick]:
        """Run ``start()``'s iterator in a worker thread; yield its items, with a :class:`Tick`
        whenever nothing arrived for a heartbeat. An error of the worker is raised here.

        Ends early (without error) when the run is cancelled; closing this iterator
        cancels the run.
        """
        worker = threading.Thread(
            target=self._work, args=(start,), name=f"news-rag-{self.kind}", daemon=True
        )
        if self._on_worker is not None:
            self._on_worker(self, True)
        worker.start()
        try:
            while True:
                self._last_read = time.monotonic()
                try:
                    kind, value = self._queue.get(timeout=self.heartbeat)
                except queue.Empty:
                    yield Tick(self.elapsed)
                    continue
                if kind == _ITEM:
                    yield value
                elif kind == _ERROR:
                    raise value
                elif kind == _END or self.cancelled:
                    return
        finally:
            if not self.finished:
                self.cancel("closed")
            self._end()

    def _work(self, start: Callable[[], Iterable[Any]]) -> None:
        with interruptible() as ident:
            self._worker_ident = ident
            try:
                self._consume(start)
            finally:
                self._worker_ident = None

    def _consume(self, start: Callable[[], Iterable[Any]]) -> None:
        stream: Iterable[Any] | None = None
        try:
            if self.cancelled:
                return
            stream = start()
            for item in stream:
                self._queue.put((_ITEM, item))
                if self.cancelled or self._abandoned():
                    break
        except Stopped:
            pass
        except BaseException as exc:  # handed to the reader, which raises it
            if not self.cancelled:
                self._queue.put((_ERROR, exc))
        finally:
            self._close(stream)
            if not self.cancelled:
                self.finished = True
            elif stream is not None:  # the model server stops at its next token
                logger.info(
                    "%s stream closed %.1f s after the stop (%s)",
                    self.kind,
                    time.monotonic() - (self._cancelled_at or time.monotonic()),
                    self.reason,
                )
            self._queue.put((_END, None))
            if self._on_worker is not None:
                self._on_worker(self, False)

    def _abandoned(self) -> bool:
        if time.monotonic() - self._last_read <= self.stall_seconds:
            return False
        self.cancel("nobody is reading")
        return True

    @staticmethod
    def _close(stream: Iterable[Any] | None) -> None:
        """Close a generator early: its ``finally`` blocks close the model's HTTP stream."""
        close = getattr(stream, "close", None)
        if close is None:
            return
        try:
            close()
        except Exception:  # closing must never hide the run's own outcome
            logger.debug("closing a stream failed", exc_info=True)

    def _end(self) -> None:
        if self._on_end is not None:
            on_end, self._on_end = self._on_end, None
            on_end(self)


class Runs:
    """The active runs of every browser session (thread-safe).

    :meth:`stop` is what a Stop button does: it cancels the session's running work, or,
    when none has started yet (a request still waiting in the queue), remembers the stop
    so that :meth:`start` refuses the waiting request when its turn comes.

    Example:
        >>> runs = Runs()
        >>> run = runs.start("digest", session="s1")
        >>> [r.kind for r in runs.stop("s1", ["digest"], reason="stopped")]
        ['digest']
        >>> run.reason
        'stopped'
        >>> runs.stop("s1", ["answer"]), runs.start("answer", "s1", asked_at=0.0)
        ([], None)
    """

    def __init__(
        self, *, heartbeat: float = HEARTBEAT_SECONDS, stall_seconds: float = STALL_SECONDS
    ) -> None:
        self.heartbeat = heartbeat
        self.stall_seconds = stall_seconds
        self._lock = threading.Lock()
        self._active: dict[str | None, list[Run]] = {}
        self._stopped_at: dict[tuple[str | None, str], float] = {}
        self._workers: set[Run] = set()

    def start(self, kind: str, session: str | None, asked_at: float | None = None) -> Run | None:
        """A new run of ``kind`` for ``session``, registered until its reader is done.

        None when the session pressed Stop after ``asked_at`` (``time.time()`` when the
        request was made): the request was stopped while it waited.
        """
        run = Run(
            kind,
            session,
            heartbeat=self.heartbeat,
            stall_seconds=self.stall_seconds,
            on_end=self._forget,
            on_worker=self._worker,
        )
        with self._lock:
            stopped_at = self._stopped_at.get((session, kind))
            if asked_at is not None and stopped_at is not None and stopped_at >= asked_at:
                logger.info("%s request stopped while it waited", kind)
                return None
            self._active.setdefault(session, []).append(run)
        return run

    def active(self, session: str | None, kinds: Iterable[str] | None = None) -> list[Run]:
        """The runs of ``session`` still working (of the given ``kinds``, default all)."""
        wanted = set(kinds) if kinds is not None else None
        with self._lock:
            runs = list(self._active.get(session, []))
        return [r for r in runs if wanted is None or r.kind in wanted]

    def busy(self) -> int:
        """How many runs are using the model now, across all sessions (a stopped one too,
        until its stream is closed)."""
        with self._lock:
            return len(self._workers)

    def wait_idle(self, session: str | None, kinds: Iterable[str], timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the session's runs of ``kinds`` to end (a
        stopped answer draws its last update); True when none is left."""
        deadline = time.monotonic() + timeout
        while self.active(session, kinds):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def cancel(
        self, session: str | None, kinds: Iterable[str] | None = None, reason: str = "stopped"
    ) -> list[Run]:
        """Cancel the session's runs (of ``kinds``); returns those that were working."""
        return [run for run in self.active(session, kinds) if run.cancel(reason)]

    def stop(self, session: str | None, kinds: Iterable[str], reason: str = "stopped") -> list[Run]:
        """Cancel the session's running ``kinds`` of work; when none runs, refuse the ones
        still waiting (see :meth:`start`). Returns the runs cancelled."""
        kinds = list(kinds)
        with self._lock:
            now = time.time()
            for kind in kinds:
                self._stopped_at[(session, kind)] = now
        return self.cancel(session, kinds, reason)

    def end_session(self, session: str | None, reason: str = "session closed") -> list[Run]:
        """Cancel all of a closed session's work and forget it."""
        with self._lock:
            for key in [k for k in self._stopped_at if k[0] == session]:
                del self._stopped_at[key]
        return self.cancel(session, reason=reason)

    def _worker(self, run: Run, alive: bool) -> None:
        with self._lock:
            if alive:
                self._workers.add(run)
            else:
                self._workers.discard(run)

    def _forget(self, run: Run) -> None:
        with self._lock:
            runs = self._active.get(run.session, [])
            if run in runs:
                runs.remove(run)
            if not runs:
                self._active.pop(run.session, None)
