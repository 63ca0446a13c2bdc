"""The registry's records: one per article (metadata, chunk count, version), the ids of the
store's own ``meta`` records, and the plan of a write (an article's new chunks and version).

The registry is the ``<collection>_articles`` Chroma collection; its records carry a
placeholder vector because Chroma needs one, and are never searched.

Example:
    >>> from rag.ingest.article import Article
    >>> plan = PlannedWrite(Article.create(title="T", text="Rain fell."), 1, [], 0, 0)
    >>> meta = record_meta(plan)
    >>> meta["kind"], meta["version"], plan.replaced
    ('article', 1, False)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rag.ingest.article import Article
from rag.ingest.chunking import ArticleChunk, published_int
from rag.store.reports import ArticleInfo

__all__ = [
    "EMBEDDER_ID",
    "GENERATION_ID",
    "PLACEHOLDER_VECTOR",
    "REGISTRY_SUFFIX",
    "PlannedWrite",
    "article_from_record",
    "article_info",
    "is_article",
    "is_unchanged",
    "metadata_hash",
    "record_meta",
    "whole_article_groups",
]

REGISTRY_SUFFIX = "_articles"
GENERATION_ID = "__meta__:generation"
EMBEDDER_ID = "__meta__:embedder"
PLACEHOLDER_VECTOR = [1.0]  # registry records need a vector; it is never searched


@dataclass
class PlannedWrite:
    """One article to write: its new version and chunks, and what it replaces.

    Example:
        >>> from rag.ingest.article import Article
        >>> PlannedWrite(Article.create(title="T", text="x"), 2, [], 1, 3).replaced
        True
    """

    article: Article
    version: int
    chunks: list[ArticleChunk]
    old_version: int
    old_chunks: int

    @property
    def replaced(self) -> bool:
        """True when an older version of the article is stored."""
        return self.old_version > 0


def metadata_hash(article: Article) -> str:
    """Hash of the metadata a reader sees (title, outlet, url, author, date, language).

    Example:
        >>> from rag.ingest.article import Article
        >>> a = Article.create(title="T", text="x")
        >>> metadata_hash(a) == metadata_hash(a.model_copy(update={"origin": "elsewhere"}))
        True
    """
    parts = [article.title, article.outlet, article.url, article.author, article.published]
    payload = "\x1f".join(p or "" for p in [*parts, article.language])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def is_article(meta: dict[str, Any] | None) -> bool:
    """True for the metadata of an article record (not a journal or ``meta`` record).

    Example:
        >>> is_article({"kind": "article"}), is_article({"kind": "journal"}), is_article(None)
        (True, False, False)
    """
    return bool(meta) and meta.get("kind") == "article"


def is_unchanged(old: dict[str, Any], article: Article) -> bool:
    """True when the stored record ``old`` already holds ``article`` (text and metadata).

    Example:
        >>> from rag.ingest.article import Article
        >>> a = Article.create(title="T", text="x")
        >>> is_unchanged(record_meta(PlannedWrite(a, 1, [], 0, 0)), a)
        True
    """
    return (
        old.get("content_hash") == article.content_hash
        and old.get("meta_hash") == metadata_hash(article)
        and old.get("status") == "complete"
    )


def record_meta(plan: PlannedWrite) -> dict[str, Any]:
    """The registry metadata of a written article.

    Example:
        >>> from rag.ingest.article import Article
        >>> a = Article.create(title="T", text="x", published="2025-02-14")
        >>> record_meta(PlannedWrite(a, 1, [], 0, 0))["published_int"]
        20250214
    """
    a = plan.article
    return {
        "kind": "article",
        "status": "complete",
        "title": a.title,
        "source": a.outlet or "",  # the stored key keeps its old name
        "url": a.url or "",
        "author": a.author or "",
        "published": a.published or "",
        "published_int": published_int(a.published),
        "language": a.language or "",
        "origin": a.origin,
        "content_hash": a.content_hash,
        "meta_hash": metadata_hash(a),
        "chunks": len(plan.chunks),
        "version": plan.version,
        "stored_at": _now_iso(),
    }


def article_info(article_id: str, meta: dict[str, Any]) -> ArticleInfo:
    """The listing entry of an article record.

    Example:
        >>> article_info("a1", {"title": "T", "chunks": 2, "source": ""}).outlet is None
        True
    """
    return ArticleInfo(
        id=article_id,
        title=meta.get("title", ""),
        outlet=meta.get("source") or None,
        url=meta.get("url") or None,
        published=meta.get("published") or None,
        author=meta.get("author") or None,
        chunks=int(meta.get("chunks", 0)),
        content_hash=meta.get("content_hash", ""),
    )


def article_from_record(article_id: str, meta: dict[str, Any], text: str) -> Article | None:
    """The stored article of a registry record with its full text (``None`` if not an article).

    Example:
        >>> article_from_record("a1", {"kind": "article", "title": "T"}, "Body.").text
        'Body.'
    """
    if meta.get("kind") != "article":
        return None
    return Article(
        id=article_id,
        title=meta.get("title", ""),
        text=text,
        outlet=meta.get("source") or None,
        url=meta.get("url") or None,
        author=meta.get("author") or None,
        published=meta.get("published") or None,
        language=meta.get("language") or None,
        content_hash=meta.get("content_hash", ""),
        origin=meta.get("origin", ""),
    )


def whole_article_groups(plans: list[PlannedWrite], limit: int) -> Iterator[list[PlannedWrite]]:
    """Groups of whole articles, each under ``limit`` chunks when an article allows it
    (Chroma's batch limit: one upsert call per group).

    Example:
        >>> from rag.ingest.article import Article
        >>> a = Article.create(title="T", text="x")
        >>> plans = [PlannedWrite(a, 1, [None] * n, 0, 0) for n in (2, 2, 3)]
        >>> [[len(p.chunks) for p in g] for g in whole_article_groups(plans, 4)]
        [[2, 2], [3]]
    """
    group: list[PlannedWrite] = []
    size = 0
    for plan in plans:
        if group and size + len(plan.chunks) > limit:
            yield group
            group, size = [], 0
        group.append(plan)
        size += len(plan.chunks)
    if group:
        yield group


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
