"""Kill a real ``news-rag ingest`` process with SIGKILL at several points; nothing half-stored.

Each round starts the CLI on a folder of many articles, waits until it writes to the
embedded Chroma store, and kills it (right at a write, a few milliseconds into the
write phase, or in the middle of embedding). A separate process then inspects the
raw Chroma collections *before* any recovery, then opens the store (which recovers)
and checks that every article is complete or absent. A final run completes the job.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from child_python import child_env, run_child, run_python

pytestmark = pytest.mark.integration

ARTICLES = 192
# Debug log lines of rag.store.writer marking the phases of each batch.
EMBED = "Embedding "
WRITE = "Writing "
COMMITTED = "Committed "

INSPECT = textwrap.dedent(
    """
    import json, sys
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    path, name = sys.argv[1], sys.argv[2]
    settings = ChromaSettings(anonymized_telemetry=False)
    client = chromadb.PersistentClient(path=path, settings=settings)
    chunks = client.get_collection(name, embedding_function=None)
    registry = client.get_collection(name + "_articles", embedding_function=None)
    reg = registry.get(include=["metadatas"])
    got = chunks.get(include=["metadatas"])
    by_article = {}
    for cid, meta in zip(got["ids"], got["metadatas"]):
        by_article.setdefault(meta["article_id"], set()).add(cid)
    records = {i: m for i, m in zip(reg["ids"], reg["metadatas"]) if m.get("kind") == "article"}
    journals = {m["article_id"]: m for m in reg["metadatas"] if m.get("kind") == "journal"}
    incomplete, partial, orphans = [], [], []
    for aid, meta in records.items():
        expected = {f"{aid}:{meta['version']}:{i}" for i in range(meta["chunks"])}
        if not expected <= by_article.get(aid, set()):
            incomplete.append(aid)
    for aid, meta in journals.items():
        new = {f"{aid}:{meta['version']}:{i}" for i in range(meta["chunks"])}
        present = len(new & by_article.get(aid, set()))
        if 0 < present < len(new):
            partial.append(aid)
    for aid in by_article:
        if aid not in records and aid not in journals:
            orphans.append(aid)
    raw = {"articles": len(records), "journals": len(journals), "incomplete": incomplete,
           "partial_writes": partial, "orphans": orphans}

    from rag.models.embeddings import shared_local_embeddings
    from rag.settings import load_settings
    from rag.store.articles import ArticleStore

    from rag.retrieval.hybrid import HybridRetriever

    store = ArticleStore.from_settings(load_settings(), shared_local_embeddings())
    listed = store.list_articles()
    problems = store.check_consistency()
    # What BM25 indexes must be exactly what dense search can return: the raw vectors.
    retriever = HybridRetriever.from_settings(store, load_settings())
    bm25_ids = sorted(retriever.lexical_index().live_ids)
    vector_ids = sorted(chunks.get(include=[])["ids"])
    print(json.dumps({"raw": raw, "articles": len(listed), "problems": problems,
                      "chunks": store.stats().chunks, "chunk_sum": sum(a.chunks for a in listed),
                      "bm25_matches_vectors": bm25_ids == vector_ids}))
    """
)


def write_articles(folder: Path) -> None:
    folder.mkdir()
    topics = ["harbour", "council", "rail", "school", "weather", "market", "museum", "bridge"]
    for n in range(ARTICLES):
        topic = topics[n % len(topics)]
        sentences = " ".join(
            f"Officials in district {n} said the {topic} plan, item {i}, would move ahead "
            f"after a vote of {n % 9 + 3} to {i % 4 + 1} on the {i + 1}th day of talks."
            for i in range(4 + n % 3)
        )
        (folder / f"story-{n:03d}.txt").write_text(
            f"Title: The {topic} plan in district {n}\nSource: Wire {n % 3}\n"
            f"Date: 2025-02-{n % 28 + 1:02d}\nURL: https://wire.example/{topic}/{n}\n\n{sentences}\n"
        )


def ingest_command(folder: Path, verbose: bool = False) -> list[str]:
    script = Path(sys.executable).parent / "news-rag"
    if script.exists():
        base = [str(script)]
    else:
        base = [sys.executable, "-c", "from rag.cli import main; main()"]
    return [*base, *(["-v"] if verbose else []), "ingest", "--json", str(folder)]


class Child:
    """A ``news-rag -v ingest`` process whose debug log lines are read as events."""

    def __init__(self, folder: Path, data_dir: Path, cwd: Path) -> None:
        self.proc = subprocess.Popen(
            ingest_command(folder, verbose=True),
            env=child_env(data_dir),
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, marker: str, count: int, timeout: float = 300) -> bool:
        """Block until ``marker`` has appeared ``count`` times; False if the process ended."""
        seen = sum(marker in line for line in self.log)
        deadline = time.monotonic() + timeout
        while seen < count:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return False
            if line is None:
                return False
            self.log.append(line)
            seen += marker in line
        return True

    def kill(self) -> bool:
        """SIGKILL the process; True if it was still running."""
        running = self.proc.poll() is None
        if running:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        return running and self.proc.returncode == -signal.SIGKILL


def inspect(data_dir: Path) -> dict:
    return run_python(INSPECT, str(data_dir / "chroma"), "news", env=child_env(data_dir))


def test_sigkill_mid_ingest_never_leaves_half_an_article(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write_articles(folder)
    data_dir = tmp_path / "data"
    # (commits to let through, then the log line to kill at, delay after it)
    # An upsert into embedded Chroma takes ~0.1-0.2 s here, so these delays land in
    # different steps of a write: journal, chunks, registry record, clean-up.
    plans = [
        (0, WRITE, 0.0),
        (1, WRITE, 0.25),
        (0, EMBED, 1.0),  # while embedding: nothing pending
        (1, WRITE, 0.45),
        (0, WRITE, 0.7),
        (1, COMMITTED, 0.0),  # right after a commit
        (0, WRITE, 0.1),
    ]
    history = []
    for skip, marker, delay in plans:
        child = Child(folder, data_dir, tmp_path)
        try:
            reached = child.wait_for(COMMITTED, skip) and child.wait_for(marker, skip + 1)
            if reached:
                time.sleep(delay)
            killed = child.kill()
        finally:
            if child.proc.poll() is None:
                child.proc.kill()
                child.proc.wait()
        state = inspect(data_dir)
        history.append((f"{skip}/{marker}/{delay}", killed, state))
        raw = state["raw"]
        assert raw["incomplete"] == [], history  # registry records always point at full chunks
        assert raw["orphans"] == [], history  # every stored chunk belongs to an article or journal
        assert raw["partial_writes"] == [], history  # one upsert per article: all or nothing
        assert state["problems"] == [], history  # after recovery: complete or absent
        assert state["chunks"] == state["chunk_sum"], history
        assert state["bm25_matches_vectors"], history
        if not killed:
            break

    summary = [
        (plan, killed, s["articles"], s["raw"]["articles"], s["raw"]["journals"])
        for plan, killed, s in history
    ]
    print("\nkill rounds (plan, killed, articles after recovery, raw articles, raw journals):")
    print("\n".join(map(str, summary)))
    stored = [s["articles"] for *_, s in history]
    assert stored == sorted(stored), summary  # progress is kept between runs
    assert any(killed and 0 < s["articles"] < ARTICLES for _, killed, s in history), summary

    output = run_child(ingest_command(folder), env=child_env(data_dir), cwd=tmp_path, timeout=900)
    report = json.loads(output)
    assert report["failed"] == []
    assert report["added"] + report["unchanged"] == ARTICLES
    assert report["unchanged"] == stored[-1]
    state = inspect(data_dir)
    assert state["articles"] == ARTICLES and state["problems"] == []
    assert state["bm25_matches_vectors"]
    assert state["raw"]["journals"] == 0
