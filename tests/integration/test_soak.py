"""A bounded soak test: 16 concurrent API clients against the running app for a few minutes.

Clients mix questions, summaries and library listings (the real embedded model behind
them; repeated requests come from the caches, as they would for real users). The test
stops by itself after ``NEWS_RAG_SOAK_SECONDS`` (default 150). It requires zero errors, and
that the app process's memory, open files and threads stay flat once it has warmed up.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

CLIENTS = 16
SECONDS = float(os.environ.get("NEWS_RAG_SOAK_SECONDS", "150"))
QUESTIONS = [
    "What did Hegseth rule out?",
    "How much rain fell in Kessler Falls?",
    "Who won the Westfield mayoral election?",
]


@dataclass
class Usage:
    """One reading of a process's memory, open files and threads (from /proc)."""

    rss_mb: float
    open_files: int
    threads: int

    @classmethod
    def of(cls, pid: int) -> Usage:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        fields = dict(line.split(":", 1) for line in status if ":" in line)
        assert "VmRSS" in fields, f"the app process has exited: {fields.get('State')}"
        return cls(
            rss_mb=int(fields["VmRSS"].split()[0]) / 1024,
            open_files=len(os.listdir(f"/proc/{pid}/fd")),
            threads=int(fields["Threads"]),
        )


def app_pid(port: int) -> int:
    """The app process serving ``port`` (found by its RAG_UI_PORT environment)."""
    wanted = f"RAG_UI_PORT={port}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if wanted in environ and b"app.py" in cmdline:
            return int(entry)
    raise AssertionError(f"no app process found for port {port}")


@dataclass
class Tally:
    """Requests made and errors seen by all clients."""

    requests: dict[str, int] = field(default_factory=dict)
    clients_served: set[int] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, kind: str, client: int) -> None:
        with self.lock:
            self.requests[kind] = self.requests.get(kind, 0) + 1
            self.clients_served.add(client)

    def fail(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


def one_request(client: Any, step: int, articles: list[str]) -> tuple[str, bool]:
    """Make the ``step``-th request of a client; return its kind and whether it looked right."""
    kind = ("list", "ask", "summarize")[step % 3]
    if kind == "list":
        return kind, len(client.predict(api_name="/list_articles")) == len(articles)
    if kind == "ask":
        answer = client.predict(QUESTIONS[step % len(QUESTIONS)], api_name="/ask")
        return kind, answer["done"] is True and bool(answer["answer"])
    article = articles[step % 2]  # two articles: the summary cache serves the rest
    summary = client.predict(article, "headline", api_name="/summarize")
    return kind, summary["done"] is True and bool(summary["text"])


def run_client(url: str, deadline: float, articles: list[str], offset: int, tally: Tally) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    step = offset
    while time.monotonic() < deadline:
        try:
            kind, ok = one_request(client, step, articles)
        except Exception as error:  # any failure is a finding, with its type and message
            tally.fail(f"{type(error).__name__}: {error}")
        else:
            tally.count(kind, offset)
            if not ok:
                tally.fail(f"{kind}: unexpected response")
        step += 1


def test_sixteen_clients_for_minutes_without_errors_or_leaks(
    start_app, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from gradio_client import Client

    with start_app(tmp_path_factory.mktemp("soak") / "data") as url:
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        pid = app_pid(port)
        warm = Client(url, verbose=False, download_files=False)
        articles = [a["id"] for a in warm.predict(api_name="/list_articles")]
        # Load the model and fill part of the caches first: the clients then meet one new
        # question and one new summary among answers served from the caches.
        for question in QUESTIONS[:-1]:
            warm.predict(question, api_name="/ask")
        warm.predict(articles[0], "headline", api_name="/summarize")
        start = Usage.of(pid)

        tally = Tally()
        deadline = time.monotonic() + SECONDS
        threads = [
            threading.Thread(target=run_client, args=(url, deadline, articles, n, tally))
            for n in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        midway: Usage | None = None
        while any(thread.is_alive() for thread in threads):
            time.sleep(5)
            if midway is None and time.monotonic() > deadline - SECONDS / 2:
                midway = Usage.of(pid)
        for thread in threads:
            thread.join(timeout=900)
        assert not any(thread.is_alive() for thread in threads), "clients did not finish"
        time.sleep(3)
        end = Usage.of(pid)

    assert tally.errors == [], f"{len(tally.errors)} errors, e.g. {tally.errors[:3]}"
    assert midway is not None
    # Flat once warm: the second half adds no memory, files or threads to speak of.
    assert end.rss_mb - midway.rss_mb < 150, (start, midway, end)
    assert end.open_files <= max(start.open_files, midway.open_files) + 8, (start, midway, end)
    assert end.threads <= max(start.threads, midway.threads) + 8, (start, midway, end)
    served = tally.requests
    assert all(served.get(kind, 0) >= 1 for kind in ("list", "ask", "summarize")), served
    assert len(tally.clients_served) == CLIENTS, served  # nobody was starved
