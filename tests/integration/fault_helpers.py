"""Helpers shared by the fault and concurrency tests: article files and store invariants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rag.ingest.chunking import chunk_id

TOPICS = ["harbour", "council", "rail", "school", "weather", "market", "museum", "bridge"]


def write_stories(folder: Path, numbers: range) -> list[Path]:
    """One small text article per number (``story-NNN.txt``, distinct title and URL)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in numbers:
        topic = TOPICS[n % len(TOPICS)]
        sentences = " ".join(
            f"Officials in district {n} said the {topic} plan, item {i}, would move ahead "
            f"after a vote of {n % 9 + 3} to {i % 4 + 1} on the {i + 1}th day of talks."
            for i in range(4 + n % 3)
        )
        path = folder / f"story-{n:03d}.txt"
        path.write_text(
            f"Title: The {topic} plan in district {n}\nSource: Wire {n % 3}\n"
            f"Date: 2025-02-{n % 28 + 1:02d}\nURL: https://wire.example/{topic}/{n}\n\n"
            f"{sentences}\n",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def expected_chunk_ids(store: Any) -> set[str]:
    """Chunk ids the registry says must exist (article id, version, index)."""
    ids: set[str] = set()
    for article in store.list_articles():
        meta = store.registry.get(ids=[article.id], include=["metadatas"])["metadatas"][0]
        ids |= {chunk_id(article.id, int(meta["version"]), i) for i in range(article.chunks)}
    return ids


def stored_chunk_ids(store: Any) -> list[str]:
    """Every chunk id in the chunk collection (duplicates would show twice)."""
    return [cid for batch in store.iter_chunks() for cid, _, _ in batch]


def assert_store_consistent(store: Any) -> None:
    """No pending journal, no partial or orphan chunks, ids exactly as the registry says."""
    assert store.check_consistency() == []
    stored = stored_chunk_ids(store)
    assert len(stored) == len(set(stored))
    assert set(stored) == expected_chunk_ids(store)
    assert store.stats().chunks == len(stored)
