"""The app's thread stacks on SIGUSR1: busy project threads are shown, idle ones are not."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pytest

from rag.models.warmup import Warmup
from rag.stacks import log_stacks_on_signal, thread_stacks

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="no SIGUSR1 here"),
]


def test_a_busy_project_thread_is_shown_and_an_idle_one_is_not() -> None:
    release = threading.Event()
    busy = Warmup([("nap", release.wait)], name="busy-in-project").start()
    idle = threading.Thread(target=release.wait, name="idle-elsewhere", daemon=True)
    idle.start()
    try:
        time.sleep(0.1)
        stacks = thread_stacks()
    finally:
        release.set()
        busy.wait(5)
    assert "thread busy-in-project:" in stacks
    assert "rag/models/warmup.py" in stacks
    assert "idle-elsewhere" not in stacks


def test_the_signal_logs_the_stacks_and_changes_nothing_else(caplog) -> None:
    previous = signal.getsignal(signal.SIGUSR1)
    try:
        assert log_stacks_on_signal()
        with caplog.at_level(logging.WARNING, logger="rag.stacks"):
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.1)  # Python runs the handler on the main thread's next turn
    finally:
        signal.signal(signal.SIGUSR1, previous)
    [record] = [r for r in caplog.records if r.name == "rag.stacks"]
    assert "thread MainThread:" in record.getMessage()
    assert "test_stacks.py" in record.getMessage()


def test_outside_the_main_thread_nothing_is_installed() -> None:
    results: list[bool] = []
    worker = threading.Thread(target=lambda: results.append(log_stacks_on_signal()))
    worker.start()
    worker.join()
    assert results == [False]
