"""The store checked against itself: every article's chunks present, no others, no pending write.

Example:
    >>> registry = {"ids": ["a1"], "metadatas": [{"kind": "article", "version": 1, "chunks": 2}]}
    >>> chunks = [[("a1:1:0", "text", {"article_id": "a1"})]]
    >>> consistency_problems(registry, chunks)
    ['article a1: 1/2 chunks, 0 extra']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rag.ingest.chunking import chunk_id

__all__ = ["consistency_problems"]

ChunkRows = Iterable[list[tuple[str, str, dict[str, Any]]]]


def consistency_problems(registry: dict[str, Any], chunk_batches: ChunkRows) -> list[str]:
    """Problems found (empty when consistent): partial or orphan chunks, pending journals.

    ``registry`` is a read of every registry record with its metadata; ``chunk_batches``
    every chunk as ``(id, text, metadata)`` rows, in batches.

    Example:
        >>> orphan = ("a9:1:0", "text", {"article_id": "a9"})
        >>> consistency_problems({"ids": [], "metadatas": []}, [[orphan]])
        ['orphan chunks of a9 (1)']
    """
    problems: list[str] = []
    articles = {i: m for i, m in zip(registry["ids"], registry["metadatas"], strict=True)}
    for jid, meta in articles.items():
        if meta.get("kind") == "journal":
            problems.append(f"pending write {jid}")
    seen: dict[str, set[str]] = {}
    for batch in chunk_batches:
        for cid, _, meta in batch:
            seen.setdefault(meta["article_id"], set()).add(cid)
    for aid, meta in articles.items():
        if meta.get("kind") != "article":
            continue
        expected = {chunk_id(aid, meta["version"], i) for i in range(meta["chunks"])}
        present = seen.pop(aid, set())
        if present != expected:
            problems.append(
                f"article {aid}: {len(present & expected)}/{len(expected)} chunks, "
                f"{len(present - expected)} extra"
            )
    problems.extend(f"orphan chunks of {aid} ({len(c)})" for aid, c in seen.items())
    return problems
