"""Kill a real ``news-rag ingest`` process with SIGKILL at several points; nothing half-stored.

Each round starts the CLI on a folder of many articles, waits until it writes to the
embedded Chroma store, and kills it (right at a write, a few milliseconds into the
write phase, or in the middle of embedding). A separate process then inspects the
raw Chroma collections *before* any recovery, then opens the store (which recovers)
and checks that every article is complete or absent. A final run completes the job.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
ARTICLES = 160

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

    from rag.embeddings import shared_local_embeddings
    from rag.settings import load_settings
    from rag.store import ArticleStore

    store = ArticleStore.from_settings(load_settings(), shared_local_embeddings())
    listed = store.list_articles()
    print(json.dumps({"raw": raw, "articles": len(listed), "problems": store.check_consistency(),
                      "chunks": store.stats().chunks, "chunk_sum": sum(a.chunks for a in listed)}))
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
            for i in range(8 + n % 5)
        )
        (folder / f"story-{n:03d}.txt").write_text(
            f"Title: The {topic} plan in district {n}\nSource: Wire {n % 3}\n"
            f"Date: 2025-02-{n % 28 + 1:02d}\nURL: https://wire.example/{topic}/{n}\n\n{sentences}\n"
        )


def child_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_DATA_DIR"] = str(data_dir)
    return env


def ingest_command(folder: Path) -> list[str]:
    script = Path(sys.executable).parent / "news-rag"
    if script.exists():
        return [str(script), "ingest", "--json", str(folder)]
    return [
        sys.executable,
        "-c",
        "from rag.cli import main; main()",
        "ingest",
        "--json",
        str(folder),
    ]


def store_state(chroma_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """Sizes and mtimes of every file of the embedded store (changes on every write)."""
    state = []
    for root, _, files in os.walk(chroma_dir):
        for name in files:
            try:
                stat = os.stat(os.path.join(root, name))
            except FileNotFoundError:
                continue
            state.append((os.path.join(root, name), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(state))


def wait_quiet(proc: subprocess.Popen, chroma_dir: Path, quiet: float, timeout: float) -> bool:
    """Wait until the store exists and has not changed for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline and proc.poll() is None:
        state = store_state(chroma_dir)
        if state != last:
            last, since = state, time.monotonic()
        elif state and time.monotonic() - since >= quiet:
            return True
        time.sleep(0.02)
    return False


def wait_write(proc: subprocess.Popen, chroma_dir: Path, timeout: float) -> bool:
    """Poll tightly until the store changes (a write began)."""
    before = store_state(chroma_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if store_state(chroma_dir) != before:
            return True
        time.sleep(0.001)
    return False


def inspect(data_dir: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", INSPECT, str(data_dir / "chroma"), "news"],
        env=child_env(data_dir),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_sigkill_mid_ingest_never_leaves_half_an_article(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write_articles(folder)
    data_dir = tmp_path / "data"
    chroma_dir = data_dir / "chroma"
    # (batches to let through, then: kill at the next write + delay, or mid-embedding).
    plans = [(0, "write", 0.0), (1, "write", 0.0), (0, "write", 0.01), (1, "quiet", 1.5)]
    plans += [(1, "write", 0.03), (2, "write", 0.002)]
    history = []
    for skip, when, delay in plans:
        proc = subprocess.Popen(
            ingest_command(folder),
            env=child_env(data_dir),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            reached = wait_quiet(proc, chroma_dir, quiet=0.5, timeout=240)
            for _ in range(skip):  # let whole batches commit first
                reached = (
                    reached
                    and wait_write(proc, chroma_dir, timeout=240)
                    and wait_quiet(proc, chroma_dir, quiet=0.5, timeout=240)
                )
            if reached and when == "write":
                reached = wait_write(proc, chroma_dir, timeout=240)
            if not reached:
                break  # it finished before we could kill it
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
        killed = proc.returncode == -signal.SIGKILL
        state = inspect(data_dir)
        history.append((f"{skip}/{when}/{delay}", killed, state))
        raw = state["raw"]
        assert raw["incomplete"] == [], history  # registry records always point at full chunks
        assert raw["orphans"] == [], history  # every stored chunk belongs to an article or journal
        assert raw["partial_writes"] == [], history  # one upsert per article: all or nothing
        assert state["problems"] == [], history  # after recovery: complete or absent
        assert state["chunks"] == state["chunk_sum"], history
        if not killed:
            break

    print(json.dumps(history, indent=1))
    stored = [s["articles"] for *_, s in history]
    assert stored == sorted(stored), history  # progress is kept between runs
    assert any(killed and 0 < s["articles"] < ARTICLES for _, _, killed, s in history), history
    assert (
        any(killed and s["raw"]["journals"] > 0 for _, _, killed, s in history) or len(history) >= 3
    ), history

    final = subprocess.run(
        ingest_command(folder),
        env=child_env(data_dir),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert final.returncode == 0, final.stderr[-3000:]
    report = json.loads(final.stdout)
    assert report["failed"] == []
    assert report["added"] + report["unchanged"] == ARTICLES
    assert report["unchanged"] == stored[-1]
    state = inspect(data_dir)
    assert state["articles"] == ARTICLES and state["problems"] == []
    assert state["raw"]["journals"] == 0
