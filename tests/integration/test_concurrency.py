"""Concurrent ingests and questions: nothing lost, nothing duplicated, BM25 and vectors agree.

- Two ``news-rag ingest`` processes write overlapping article sets into one Chroma
  server (the embedded store belongs to one process at a time, see README) while
  threads of this process keep retrieving.
- In one process, threads ingest overlapping sets into the embedded store while other
  threads ask questions.

Afterwards every article is stored once, its chunk ids are exactly those its registry
record names, and the BM25 snapshot holds the same chunk ids as the vector store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_helpers import assert_store_consistent, stored_chunk_ids, write_stories
from test_chroma_server import ChromaServer

from rag import NewsRAG
from rag.models.embeddings import shared_local_embeddings
from rag.settings import Settings, load_settings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
TOTAL = 60  # stories 0..59; the two writers share 20..39


def news_rag() -> list[str]:
    script = Path(sys.executable).parent / "news-rag"
    return [str(script)] if script.exists() else [sys.executable, "-m", "rag.cli"]


def split_sets(tmp_path: Path) -> tuple[Path, Path]:
    """Two folders holding stories 0..39 and 20..59 (the same files' content overlap)."""
    first, second = tmp_path / "set-a", tmp_path / "set-b"
    write_stories(first, range(0, 40))
    write_stories(second, range(20, TOTAL))
    return first, second


class Readers:
    """Threads that retrieve in a loop until stopped, recording failures."""

    def __init__(self, work: Callable[[int], None], count: int = 2) -> None:
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.rounds = 0
        self._work = work
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(count)]

    def _run(self) -> None:
        n = 0
        while not self.stop.is_set():
            try:
                self._work(n)
                self.rounds += 1
            except BaseException as exc:  # reported by the test
                self.errors.append(exc)
                return
            n += 1

    def __enter__(self) -> Readers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def retrieve(rag: NewsRAG) -> Callable[[int], None]:
    """One hybrid retrieval per call; every hit must be a whole, listed article's chunk."""

    def work(n: int) -> None:
        docs = rag.retriever.invoke(f"What did officials in district {n % TOTAL} decide?")
        for doc in docs:
            assert doc.metadata["article_id"]

    return work


def assert_bm25_matches_vectors(rag: NewsRAG) -> None:
    """The BM25 index holds exactly the chunks the vector store holds."""
    live = rag.retriever.lexical_index().live_ids
    assert sorted(live) == sorted(stored_chunk_ids(rag.store))
    assert len(live) == len(set(live))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ChromaServer]:
    chroma = ChromaServer(tmp_path / "chroma-db")
    chroma.start()
    yield chroma
    chroma.stop()


def test_two_processes_ingest_overlapping_sets_into_a_server_while_threads_read(
    tmp_path: Path, server: ChromaServer
) -> None:
    first, second = split_sets(tmp_path)
    settings = load_settings(data_dir=tmp_path / "data", chroma_url=server.url)
    rag = NewsRAG.from_settings(settings, embeddings=shared_local_embeddings())
    rag.ingest([first / "story-000.txt"])  # the collections exist before the race
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= {"RAG_DATA_DIR": str(tmp_path / "data"), "RAG_CHROMA_URL": server.url}
    with Readers(retrieve(rag)) as readers:
        writers = [
            subprocess.Popen(
                [*news_rag(), "ingest", "--json", str(folder)],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for folder in (first, second)
        ]
        outputs = [w.communicate(timeout=300) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], [err[-2000:] for _, err in outputs]
    assert not readers.errors, readers.errors[0]
    assert readers.rounds > 0
    reports = [json.loads(out) for out, _ in outputs]
    assert all(not r.get("failed") for r in reports), reports

    articles = rag.list_articles()
    assert len(articles) == TOTAL == len({a.id for a in articles})
    assert_store_consistent(rag.store)
    assert_bm25_matches_vectors(rag)


def embedded(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


def test_threads_ingest_overlapping_sets_into_the_embedded_store_while_others_ask(
    tmp_path: Path,
) -> None:
    first, second = split_sets(tmp_path)
    rag = NewsRAG.from_settings(embedded(tmp_path), embeddings=shared_local_embeddings())
    rag.ingest([first / "story-000.txt"])
    results: dict[str, Any] = {}

    def ingest(name: str, folder: Path) -> None:
        try:
            results[name] = rag.ingest([folder])
        except BaseException as exc:  # reported below
            results[name] = exc

    with Readers(retrieve(rag)) as readers:
        writers = [
            threading.Thread(target=ingest, args=(name, folder), daemon=True)
            for name, folder in (("a", first), ("b", second))
        ]
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + 300
        for writer in writers:
            writer.join(timeout=max(1.0, deadline - time.monotonic()))
    assert not any(w.is_alive() for w in writers)
    assert not readers.errors, readers.errors[0]
    for name in ("a", "b"):
        report = results[name]
        assert not isinstance(report, BaseException), report
        assert report.total_ok == 40 and not report.failed

    articles = rag.list_articles()
    assert len(articles) == TOTAL == len({a.id for a in articles})
    assert_store_consistent(rag.store)
    assert_bm25_matches_vectors(rag)

    reopened = NewsRAG.from_settings(embedded(tmp_path), embeddings=shared_local_embeddings())
    assert len(reopened.list_articles()) == TOTAL
    assert_store_consistent(reopened.store)
