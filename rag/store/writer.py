"""The store's writes: articles added in batches and deleted, each through the write journal.

An article is planned (unchanged ones skipped without embedding, changed ones given the
next version), its chunks embedded, then written in the journal's order: journal record,
new chunks, registry record, old chunks removed, journal record removed. See
:mod:`rag.store.journal` for why a write killed anywhere leaves a whole version.

Example:
    >>> from rag.ingest.article import Article
    >>> report = store._writer.add_articles([Article.create(title="T", text="Rain fell.")])
    >>> report.added, store._writer.delete([report.article_ids[0]])
    (1, 1)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Any

from rag.errors import RagError
from rag.ingest.chunking import Chunker, chunk_id
from rag.store.disk import check_free_space
from rag.store.journal import journal_id
from rag.store.records import (
    PLACEHOLDER_VECTOR,
    PlannedWrite,
    is_article,
    is_unchanged,
    record_meta,
    whole_article_groups,
)
from rag.store.reports import IngestProgress, IngestReport, ProgressCallback

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from rag.ingest.article import Article
    from rag.store.embedder import CheckedEmbedder
    from rag.store.failures import StoreFailures
    from rag.store.journal import WriteJournal

__all__ = ["DEFAULT_BATCH_ARTICLES", "ArticleWriter"]

logger = logging.getLogger(__name__)

DEFAULT_BATCH_ARTICLES = 32


@dataclass(eq=False)  # identity, as before: one writer per store
class ArticleWriter:
    """Adds and deletes a store's articles, atomically per article, under its write lock.

    ``chunks`` and ``registry`` are the store's collections; ``journal`` records every
    write and recovers those of dead processes first; ``embedder`` embeds new chunks;
    ``batch_articles`` articles are embedded and written together.

    Example:
        >>> from rag.ingest.article import Article
        >>> writer = store._writer
        >>> article = Article.create(title="Ferries resume", text="Ferries ran again.")
        >>> writer.add_articles([article]).added, writer.add_articles([article]).unchanged
        (1, 1)
    """

    client: ClientAPI
    chunks: Collection
    registry: Collection
    _: KW_ONLY
    journal: WriteJournal
    embedder: CheckedEmbedder
    chunker: Chunker
    lock: threading.RLock
    failures: StoreFailures
    batch_articles: int = DEFAULT_BATCH_ARTICLES
    _max_batch: int | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.batch_articles = max(1, self.batch_articles)

    def add_articles(
        self, articles: Iterable[Article], progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Store articles (streamed in batches): new ones added, changed ones replaced,
        unchanged ones skipped without embedding; ``progress`` hears after every batch.

        Example:
            >>> store._writer.add_articles([]).total_ok
            0
        """
        started = time.perf_counter()
        report = IngestReport()
        with self.lock:
            self.journal.recover()
            batch: list[Article] = []
            for article in articles:
                if any(a.id == article.id for a in batch) or len(batch) >= self.batch_articles:
                    self._add_batch(batch, report, progress, started)
                    batch = []
                batch.append(article)
            if batch:
                self._add_batch(batch, report, progress, started)
        report.seconds = time.perf_counter() - started
        return report

    def delete(self, article_ids: Iterable[str]) -> int:
        """Delete articles and all their chunks; returns how many existed.

        Example:
            >>> store._writer.delete(["no-such-id"])
            0
        """
        wanted = list(dict.fromkeys(str(i) for i in article_ids))
        if not wanted:
            return 0
        with self.lock:
            self.journal.recover()
            with self.failures.during("look up the articles to delete"):
                got = self.registry.get(ids=wanted, include=["metadatas"])
            found = list(_articles(got))
            if not found:
                return 0
            self.journal.delete(found)
        logger.info("Deleted %d article(s)", len(found))
        return len(found)

    def _add_batch(
        self,
        batch: list[Article],
        report: IngestReport,
        progress: ProgressCallback | None,
        started: float,
    ) -> None:
        plans = self._plan(batch, report)
        if plans:
            texts = [c.embed_text for p in plans for c in p.chunks]
            logger.debug("Embedding %d chunk(s) of %d article(s)", len(texts), len(plans))
            vectors = self.embedder.embed(texts)
            self._commit(plans, vectors)
        for plan in plans:
            if plan.replaced:
                report.replaced += 1
            else:
                report.added += 1
            report.chunks_added += len(plan.chunks)
        report.article_ids.extend(a.id for a in batch)
        if progress is not None:
            progress(
                IngestProgress(
                    articles=report.total_ok,
                    chunks=report.chunks_added,
                    added=report.added,
                    replaced=report.replaced,
                    unchanged=report.unchanged,
                    current=batch[-1].origin or batch[-1].title,
                    elapsed=time.perf_counter() - started,
                )
            )

    def _plan(self, batch: list[Article], report: IngestReport) -> list[PlannedWrite]:
        """The batch's changed and new articles, chunked at their next version."""
        with self.failures.during("look up existing articles"):
            got = self.registry.get(ids=[a.id for a in batch], include=["metadatas"])
        existing = _articles(got)
        plans: list[PlannedWrite] = []
        for article in batch:
            old = existing.get(article.id)
            if old and is_unchanged(old, article):
                report.unchanged += 1
                continue
            version = int(old["version"]) + 1 if old else 1
            chunks = self.chunker.chunk_article(article, version)
            plans.append(
                PlannedWrite(
                    article,
                    version,
                    chunks,
                    int(old["version"]) if old else 0,
                    int(old["chunks"]) if old else 0,
                )
            )
        return plans

    def _commit(self, plans: list[PlannedWrite], vectors: list[list[float]]) -> None:
        if self.failures.mode == "embedded":  # embedded Chroma can stall when the disk fills
            payload = sum(len(v) * 4 for v in vectors) + sum(len(p.article.text) for p in plans)
            check_free_space(self.failures.location, payload)
        journal_ids = [journal_id(p.article.id) for p in plans]
        logger.debug("Writing %d article(s), %d chunk(s)", len(plans), len(vectors))
        with self.journal.inflight(journal_ids):
            try:
                self.journal.begin_adds(plans)
                self._write(plans, vectors)
                self.journal.commit(journal_ids)
                logger.debug("Committed %d article(s)", len(plans))
            except RagError:
                raise
            except Exception as exc:
                self.journal.rollback(journal_ids)
                raise self.failures.error("write articles", exc) from exc

    def _write(self, plans: list[PlannedWrite], vectors: list[list[float]]) -> None:
        """New chunks, then the registry records, then the old versions' chunks removed."""
        offset = 0
        for group in whole_article_groups(plans, self._max_batch_size()):
            count = sum(len(p.chunks) for p in group)
            self._upsert_chunks(group, vectors[offset : offset + count])
            offset += count
        self.registry.upsert(
            ids=[p.article.id for p in plans],
            documents=[p.article.text for p in plans],
            metadatas=[record_meta(p) for p in plans],
            embeddings=[PLACEHOLDER_VECTOR for _ in plans],
        )
        stale = [
            chunk_id(p.article.id, p.old_version, i)
            for p in plans
            if p.replaced
            for i in range(p.old_chunks)
        ]
        if stale:
            self.chunks.delete(ids=stale)

    def _upsert_chunks(self, plans: list[PlannedWrite], vectors: list[list[float]]) -> None:
        chunks = [c for p in plans for c in p.chunks]
        self.chunks.upsert(
            ids=[c.id for c in chunks],
            embeddings=vectors,
            documents=[c.text for c in chunks],
            metadatas=[c.metadata for c in chunks],
        )

    def _max_batch_size(self) -> int:
        if self._max_batch is None:
            try:
                self._max_batch = int(self.client.get_max_batch_size())
            except Exception:  # older servers: fall back to a safe size
                self._max_batch = 1000
        return self._max_batch


def _articles(got: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The article records of a registry read, by id (journal and meta records left out)."""
    return {i: m for i, m in zip(got["ids"], got["metadatas"], strict=True) if is_article(m)}
