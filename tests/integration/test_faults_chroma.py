"""A real Chroma server goes away mid-session (killed or frozen) and comes back.

``chroma run`` is started on a free port (``test_chroma_server.ChromaServer``), articles
are ingested and questions answered, then the server is killed with SIGKILL (or
frozen with SIGSTOP). Every operation must fail with a :class:`StoreError` naming the
server (no traceback, bounded time); after a restart on the same port and folder the
same ``NewsRAG`` object must work again, with nothing lost or half-written.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fake_llm import FakeLLMServer
from fault_helpers import assert_store_consistent, write_stories
from test_chroma_server import ChromaServer

from rag import NewsRAG
from rag.cli import main
from rag.errors import RagError, StoreError
from rag.models.embeddings import shared_local_embeddings
from rag.settings import Settings, load_settings

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
HEGSETH = SAMPLES / "hegseth-brussels-ukraine.txt"
RATES = SAMPLES / "norvania-rate-cut.html"
QUESTION = "What did Hegseth rule out?"
CHROMA_TIMEOUT = 3.0
BOUND = 2 * CHROMA_TIMEOUT + 6.0  # at most two requests time out, plus a loaded machine


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ChromaServer]:
    chroma = ChromaServer(tmp_path / "chroma-db")
    chroma.start()
    yield chroma
    if chroma.process is not None and chroma.process.poll() is None:
        chroma.process.send_signal(signal.SIGCONT)
    chroma.stop()


def kill(server: ChromaServer) -> None:
    """SIGKILL the server (no clean shutdown) and reap it."""
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=30)


def make_settings(tmp_path: Path, server: ChromaServer, llm: FakeLLMServer) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data",
        chroma_url=server.url,
        chroma_timeout=CHROMA_TIMEOUT,
        llm_base_url=llm.base_url,
        llm_timeout=2.0,
    )


def assert_store_error(error: BaseException, server: ChromaServer) -> None:
    """A StoreError that names the server and how to start it on its own port."""
    assert isinstance(error, StoreError), repr(error)
    assert "Chroma" in error.message
    assert server.url in (error.hint or "")
    assert f"--port {server.port}" in (error.hint or "")


def operations(rag: NewsRAG, article_id: str, tmp_path: Path) -> dict[str, Any]:
    """Every library call that touches the store."""
    extra = tmp_path / "extra.txt"
    extra.write_text("Title: Extra\n\nA council vote on the harbour plan passed 5 to 2.\n")
    return {
        "list": lambda: rag.list_articles(),
        "stats": lambda: rag.stats(),
        "get_article": lambda: rag.get_article(article_id),
        "ask": lambda: rag.ask(QUESTION),
        "stream": lambda: list(rag.stream(QUESTION)),
        "summarize": lambda: rag.summarize(article_id, refresh=True),
        "ingest": lambda: rag.ingest([extra]),
        "ingest_text": lambda: rag.ingest_text("Rain fell on the harbour all day.", "Rain"),
        "delete": lambda: rag.delete([article_id]),
    }


def test_killed_server_gives_clear_errors_and_the_same_object_recovers(
    tmp_path: Path, server: ChromaServer, fake_llm: FakeLLMServer
) -> None:
    rag = NewsRAG.from_settings(
        make_settings(tmp_path, server, fake_llm), embeddings=shared_local_embeddings()
    )
    assert rag.ingest([HEGSETH]).added == 1
    assert "NATO" in rag.ask(QUESTION).answer
    article_id = rag.list_articles()[0].id
    before = (rag.stats().articles, rag.stats().chunks)

    kill(server)
    for name, call in operations(rag, article_id, tmp_path).items():
        started = time.monotonic()
        with pytest.raises(RagError) as info:
            call()
        assert time.monotonic() - started < BOUND, name
        assert_store_error(info.value, server)

    server.start()  # same port, same folder
    assert (rag.stats().articles, rag.stats().chunks) == before
    assert [a.id for a in rag.list_articles()] == [article_id]
    assert "NATO" in rag.ask(QUESTION).answer
    assert rag.ingest([RATES]).added == 1
    assert rag.stats().articles == 2
    assert_store_consistent(rag.store)


def test_cli_with_the_server_down(
    tmp_path: Path, server: ChromaServer, fake_llm: FakeLLMServer
) -> None:
    env = {
        "RAG_DATA_DIR": str(tmp_path / "data"),
        "RAG_CHROMA_URL": server.url,
        "RAG_CHROMA_TIMEOUT": str(CHROMA_TIMEOUT),
        "RAG_LLM_BASE_URL": fake_llm.base_url,
    }
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", str(HEGSETH)], env=env).exit_code == 0
    kill(server)
    for args in (["list"], ["ask", QUESTION], ["ingest", str(RATES)], ["digest", "--limit", "2"]):
        started = time.monotonic()
        result = runner.invoke(main, args, env=env)
        assert time.monotonic() - started < BOUND, args
        assert result.exit_code == 1, (args, result.output)
        assert isinstance(result.exception, SystemExit), (args, result.exception)
        assert "Error: " in result.output and server.url in result.output
        assert "Traceback" not in result.output
    server.start()
    result = runner.invoke(main, ["list"], env=env)
    assert result.exit_code == 0 and "Hegseth" in result.output


def test_frozen_server_times_out_and_recovers(
    tmp_path: Path, server: ChromaServer, fake_llm: FakeLLMServer
) -> None:
    settings = make_settings(tmp_path, server, fake_llm)
    rag = NewsRAG.from_settings(settings, embeddings=shared_local_embeddings())
    assert rag.ingest([HEGSETH]).added == 1
    assert server.process is not None
    server.process.send_signal(signal.SIGSTOP)  # accepts connections, never answers
    try:
        for call in (rag.list_articles, lambda: rag.ask(QUESTION), lambda: rag.ingest([RATES])):
            started = time.monotonic()
            with pytest.raises(StoreError) as info:
                call()
            assert time.monotonic() - started < BOUND
            assert_store_error(info.value, server)
        started = time.monotonic()
        with pytest.raises(StoreError, match="cannot reach the Chroma server"):
            NewsRAG.from_settings(settings, embeddings=shared_local_embeddings()).stats()
        assert time.monotonic() - started < BOUND
    finally:
        server.process.send_signal(signal.SIGCONT)
    assert len(rag.list_articles()) == 1
    assert "NATO" in rag.ask(QUESTION).answer
    report = rag.ingest([RATES])
    assert report.added + report.unchanged == 1
    assert_store_consistent(rag.store)


class _Marker(logging.Handler):
    """Sets an event when ``rag.store.writer`` logs the start of a write."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.writing = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Writing "):
            self.writing.set()


@pytest.mark.parametrize("moment", ["write_starts", "before_chunks", "after_chunks"])
def test_server_killed_during_ingest_loses_nothing(
    tmp_path: Path,
    server: ChromaServer,
    fake_llm: FakeLLMServer,
    moment: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kill the server as a batch starts writing, after its journal, or after its chunks.

    The kill is real; only its moment is chosen by wrapping the store's chunk upsert.
    """
    folder = tmp_path / "stories"
    write_stories(folder, range(48))
    rag = NewsRAG.from_settings(
        make_settings(tmp_path, server, fake_llm), embeddings=shared_local_embeddings()
    )
    upsert_chunks = rag.store._writer._upsert_chunks

    def killing_upsert(*args: Any) -> None:
        if moment == "before_chunks":
            kill(server)
        upsert_chunks(*args)
        if moment == "after_chunks":
            kill(server)

    monkeypatch.setattr(rag.store._writer, "_upsert_chunks", killing_upsert)
    marker = _Marker()
    store_logger = logging.getLogger("rag.store.writer")
    old_level = store_logger.level
    store_logger.setLevel(logging.DEBUG)
    store_logger.addHandler(marker)
    outcome: dict[str, Any] = {}

    def ingest() -> None:
        try:
            outcome["report"] = rag.ingest([folder])
        except Exception as exc:  # checked below
            outcome["error"] = exc

    worker = threading.Thread(target=ingest, daemon=True)
    try:
        worker.start()
        assert marker.writing.wait(60), "the ingest never started writing"
        if moment == "write_starts":
            kill(server)
        worker.join(BOUND + 60)  # the rest of the embedding, then the failing write
    finally:
        store_logger.removeHandler(marker)
        store_logger.setLevel(old_level)
    assert not worker.is_alive()
    assert_store_error(outcome.get("error"), server)

    server.start()  # the same object, before any new write
    listed = rag.list_articles()
    for article in listed:  # whatever is listed is whole
        assert rag.get_article(article.id).text
    answer = rag.ask("What did officials say about the harbour plan in district 8?")
    assert {c.article_id for c in answer.passages} <= {a.id for a in listed}
    assert rag.store.check_consistency() == []

    monkeypatch.setattr(rag.store._writer, "_upsert_chunks", upsert_chunks)
    report = rag.ingest([folder])  # the same object finishes the job
    assert report.total_ok == 48 and not report.failed
    assert len(rag.list_articles()) == 48
    assert_store_consistent(rag.store)
