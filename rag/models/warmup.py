"""Background warm-up: load the models while the app (or a chat) is already usable.

A :class:`Warmup` runs named steps (load the embedder, start the model server, prime the
answer prompt's fixed prefix) one after another in a daemon thread. Nothing waits for it:
whoever needs a part before it is ready simply builds it, and the service's own locks make
that wait for the warm-up instead of loading a second copy. A failed step is logged and
ends the warm-up; the same error then reaches the user when they ask, with its hint.

Example:
    >>> warmup = Warmup([("nap", lambda: None)]).start()
    >>> warmup.wait(5)
    True
    >>> warmup.state, list(warmup.seconds)
    ('ready', ['nap'])
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Literal

logger = logging.getLogger(__name__)

Step = tuple[str, Callable[[], object]]
"""``(name, function)``: one warm-up step; the function's result is ignored."""

State = Literal["idle", "running", "ready", "failed"]


class Warmup:
    """Runs warm-up steps in order in one background thread; callers may wait for it.

    Example:
        >>> def boom() -> None:
        ...     raise RuntimeError("no model")
        >>> warmup = Warmup([("model", boom), ("never", lambda: None)]).start()
        >>> warmup.wait(5), warmup.state, warmup.error
        (True, 'failed', 'model: no model')
    """

    def __init__(self, steps: Sequence[Step], *, name: str = "news-rag-warmup") -> None:
        self._steps = list(steps)
        self._name = name
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.state: State = "idle"
        self.error: str | None = None
        self.seconds: dict[str, float] = {}
        """Seconds each finished step took, in order."""

    def start(self) -> Warmup:
        """Start the thread (once; later calls do nothing) and return ``self``."""
        with self._lock:
            if self._thread is None:
                self.state = "running"
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        return self

    def run(self) -> Warmup:
        """Run the steps in the calling thread (the same work as :meth:`start`, blocking).

        Example:
            >>> Warmup([("nap", lambda: None)]).run().state
            'ready'
        """
        with self._lock:
            if self._thread is not None or self._done.is_set():
                raise RuntimeError("this warm-up already ran")
            self.state = "running"
        self._run()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the warm-up ended (ready or failed); False if ``timeout`` passed first.

        Example:
            >>> Warmup([]).wait(0)
            False
        """
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        """True once every step ran or one failed."""
        return self._done.is_set()

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            for name, step in self._steps:
                begin = time.perf_counter()
                try:
                    step()
                except Exception as exc:  # the user sees this error again when they ask
                    self.error = f"{name}: {exc}"
                    self.state = "failed"
                    logger.warning("Warm-up stopped at %s: %s", name, exc)
                    return
                self.seconds[name] = round(time.perf_counter() - begin, 3)
                logger.debug("Warm-up step %s took %.2f s", name, self.seconds[name])
            self.state = "ready"
            logger.info(
                "Warm-up done in %.1f s (%s)",
                time.perf_counter() - started,
                ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items()),
            )
        finally:
            self._done.set()
