"""The article store: chunks and their vectors in Chroma, plus a registry of whole articles.

Two Chroma collections (embedded ``PersistentClient`` at ``RAG_DATA_DIR/chroma``, or a
Chroma server at ``RAG_CHROMA_URL``):

- ``<collection>``: one record per chunk, cosine space. The record's document is
  exactly ``article.text[start:end]``; its vector embeds ``title + "\\n" + chunk``;
  metadata keys are listed in :func:`rag.ingest.chunking.chunk_metadata`. Chunk id:
  ``<article id>:<version>:<index>``.
- ``<collection>_articles``: the registry. One ``article`` record per article (full
  text, metadata, chunk count, content hash, version), ``journal`` records for writes
  in progress, and ``meta`` records (the store generation, the embedder in use).

Writes are atomic per article, through a journal: (1) a journal record holding the
new version is written, (2) all chunks of the new version are upserted in one call,
(3) the registry record is written, (4) chunks of the old version are deleted, (5) the
journal record is deleted and the generation bumped. A process killed anywhere leaves
either the old version or the new one complete: on open and before every write,
journals of dead writers are resolved (rolled forward when every new chunk is present,
rolled back otherwise). Deletes are journaled the same way.

Re-adding an unchanged article (same id, content hash and metadata) embeds nothing.
A changed article at the same URL (same id) replaces the old version.

Embedded mode serves one process at a time (Chroma's ``PersistentClient`` is not
multi-process safe): another process sees registry changes (list, generation) at once,
but new vectors only after it reopens the store. To ingest while the app is serving,
use a Chroma server (``RAG_CHROMA_URL``).

Example:
    >>> from langchain_core.embeddings import DeterministicFakeEmbedding
    >>> from rag.ingest.article import Article
    >>> from rag.settings import load_settings
    >>> store = ArticleStore.from_settings(load_settings(data_dir="/tmp/x"),
    ...                                    DeterministicFakeEmbedding(size=384))
    >>> report = store.add_articles([Article.create(title="T", text="Rain fell.")])
    >>> report.added, store.stats().articles
    (1, 1)
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from rag.errors import ModelError, RagError, StoreError
from rag.ingest.article import Article
from rag.ingest.chunking import ArticleChunk, Chunker, chunk_id, published_int

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings

    from rag.settings import Settings

logger = logging.getLogger(__name__)

REGISTRY_SUFFIX = "_articles"
GENERATION_ID = "__meta__:generation"
EMBEDDER_ID = "__meta__:embedder"
JOURNAL_PREFIX = "journal:"
STALE_JOURNAL_SECONDS = 600.0
DEFAULT_BATCH_ARTICLES = 32
MIN_FREE_BYTES = 16 * 1024 * 1024  # embedded writes need room for the database and index
_PLACEHOLDER_VECTOR = [1.0]  # registry records need a vector; it is never searched

_HOST = socket.gethostname()
_inflight: set[str] = set()  # journal keys being written by this process
_inflight_lock = threading.Lock()
_write_locks: dict[str, threading.RLock] = {}


# --------------------------------------------------------------------------- reports
class IngestReport(BaseModel):
    """What an ingest did: counts, failures with reasons, time, and the article ids.

    ``article_ids`` lists every article now stored from this ingest (added, replaced
    or unchanged), in input order.

    Example:
        >>> r = IngestReport(added=2, failed=[("x.pdf", "unsupported file type")])
        >>> r.total_ok, r.all_failed
        (2, False)
    """

    added: int = 0
    unchanged: int = 0
    replaced: int = 0
    failed: list[tuple[str, str]] = Field(default_factory=list)
    chunks_added: int = 0
    seconds: float = 0.0
    article_ids: list[str] = Field(default_factory=list)

    @property
    def total_ok(self) -> int:
        """Articles stored or already up to date."""
        return self.added + self.unchanged + self.replaced

    @property
    def all_failed(self) -> bool:
        """True when nothing was stored and something failed."""
        return self.total_ok == 0 and bool(self.failed)

    def merge(self, other: IngestReport) -> IngestReport:
        """Add ``other``'s counts, failures and ids to this report (returns self).

        Example:
            >>> IngestReport(added=1).merge(IngestReport(added=2)).added
            3
        """
        self.added += other.added
        self.unchanged += other.unchanged
        self.replaced += other.replaced
        self.failed.extend(other.failed)
        self.chunks_added += other.chunks_added
        self.seconds += other.seconds
        self.article_ids.extend(other.article_ids)
        return self


@dataclass
class IngestProgress:
    """A progress update, sent after each stored batch and each failure.

    Example:
        >>> IngestProgress(articles=10, chunks=55).articles
        10
    """

    articles: int = 0  # articles processed (added + replaced + unchanged)
    chunks: int = 0  # chunks embedded and stored
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    failed: int = 0
    current: str = ""  # origin of the last article or source
    sources_done: int = 0
    sources_total: int | None = None
    elapsed: float = 0.0


ProgressCallback = Callable[[IngestProgress], None]


class ArticleInfo(BaseModel):
    """One stored article, without its text (what ``news-rag list`` shows).

    Example:
        >>> ArticleInfo(id="a1", title="T", chunks=3, content_hash="h").source is None
        True
    """

    id: str
    title: str
    source: str | None = None
    url: str | None = None
    published: str | None = None
    author: str | None = None
    chunks: int = 0
    content_hash: str


class StoreStats(BaseModel):
    """Counts and location of the store.

    Example:
        >>> StoreStats(articles=1, chunks=4, mode="embedded", location="data/chroma",
        ...            collection="news").chunks
        4
    """

    articles: int
    chunks: int
    mode: Literal["embedded", "server"]
    location: str
    collection: str


@dataclass
class _Planned:
    article: Article
    version: int
    chunks: list[ArticleChunk]
    old_version: int
    old_chunks: int

    @property
    def replaced(self) -> bool:
        return self.old_version > 0


# --------------------------------------------------------------------------- helpers
def metadata_hash(article: Article) -> str:
    """Hash of the metadata a reader sees (title, outlet, url, author, date, language).

    Example:
        >>> a = Article.create(title="T", text="x")
        >>> metadata_hash(a) == metadata_hash(a.model_copy(update={"origin": "elsewhere"}))
        True
    """
    parts = [article.title, article.source, article.url, article.author, article.published]
    payload = "\x1f".join(p or "" for p in [*parts, article.language])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def embedder_name(embeddings: Embeddings) -> str:
    """A name for the embedding model, recorded in the store to catch mix-ups.

    Example:
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> embedder_name(DeterministicFakeEmbedding(size=8))
        'DeterministicFakeEmbedding'
    """
    if type(embeddings).__name__ == "LocalEmbeddings":
        from rag.models.embeddings import MODEL_ID

        return MODEL_ID
    model = getattr(embeddings, "model", None) or getattr(embeddings, "model_name", None)
    return (
        f"{type(embeddings).__name__}:{model}"
        if isinstance(model, str)
        else type(embeddings).__name__
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child not yet reaped is a zombie: it writes nothing any more
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- the store
class ArticleStore:
    """Articles in Chroma: add (atomic per article, idempotent), list, get, delete, search.

    Build it with :meth:`from_settings`. ``embeddings`` embeds chunks (with the title
    prefixed) and queries; vectors are computed here and upserted explicitly, so Chroma
    never runs an embedding function of its own.

    Example:
        >>> store = ArticleStore.from_settings(settings, embeddings)
        >>> store.add_articles(articles).added
        >>> [(d.metadata["title"], s) for d, s in store.dense_search("floods", k=3)]
    """

    def __init__(
        self,
        client: ClientAPI,
        embeddings: Embeddings,
        *,
        collection: str = "news",
        chunker: Chunker | None = None,
        mode: Literal["embedded", "server"] = "embedded",
        location: str = "",
        batch_articles: int = DEFAULT_BATCH_ARTICLES,
    ) -> None:
        self._client = client
        self._embeddings = embeddings
        self.collection_name = collection
        self.chunker = chunker or Chunker()
        self.mode = mode
        self.location = location
        self.batch_articles = max(1, batch_articles)
        self._key = f"{mode}|{location}|{collection}"
        self._lock = _write_locks.setdefault(self._key, threading.RLock())
        self._vectorstore: Chroma | None = None
        self._max_batch: int | None = None
        self._embedder_checked = False
        self._unresolved = False  # a write failed and could not be rolled back yet
        self._last_query: tuple[str, list[float]] | None = None
        with self._errors("open the collections"):
            self._chunks = client.get_or_create_collection(
                collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
            self._registry = client.get_or_create_collection(
                collection + REGISTRY_SUFFIX, embedding_function=None
            )
        self._check_space()
        self.recover()

    @classmethod
    def from_settings(
        cls, settings: Settings, embeddings: Embeddings, *, chunker: Chunker | None = None
    ) -> ArticleStore:
        """Open (or create) the store configured by settings: server if ``RAG_CHROMA_URL``.

        Example:
            >>> from rag.settings import load_settings
            >>> from langchain_core.embeddings import DeterministicFakeEmbedding
            >>> fake = DeterministicFakeEmbedding(size=384)
            >>> s = ArticleStore.from_settings(load_settings(), fake)
            >>> s.stats().mode
            'embedded'
        """
        chunker = chunker or Chunker.from_settings(settings)
        if settings.chroma_url:
            client = _http_client(settings.chroma_url, settings.chroma_timeout)
            return cls(
                client,
                embeddings,
                collection=settings.collection,
                chunker=chunker,
                mode="server",
                location=settings.chroma_url,
            )
        client = _persistent_client(settings.chroma_dir)
        return cls(
            client,
            embeddings,
            collection=settings.collection,
            chunker=chunker,
            mode="embedded",
            location=str(settings.chroma_dir.resolve()),
        )

    # -- properties --------------------------------------------------------------
    @property
    def client(self) -> ClientAPI:
        """The Chroma client (embedded or server) holding the store's collections."""
        return self._client

    @property
    def collection(self) -> Collection:
        """The chunk collection (chromadb ``Collection``)."""
        return self._chunks

    @property
    def registry(self) -> Collection:
        """The article registry collection (one record per article, plus journals)."""
        return self._registry

    @property
    def embeddings(self) -> Embeddings:
        """The embedding model used for chunks and queries."""
        return self._embeddings

    @property
    def vectorstore(self) -> Chroma:
        """A ``langchain_chroma.Chroma`` over the chunk collection (for reading and retrievers).

        Write through :meth:`add_articles`, not through the vector store, so the registry
        and the journal stay consistent.
        """
        if self._vectorstore is None:
            from langchain_chroma import Chroma

            with self._errors("open the LangChain vector store"):
                self._vectorstore = Chroma(
                    client=self._client,
                    collection_name=self.collection_name,
                    embedding_function=self._embeddings,
                )
        return self._vectorstore

    # -- reading -------------------------------------------------------------------
    def generation(self) -> str:
        """A token that changes whenever chunks are added or removed (any process).

        Example:
            >>> before = store.generation(); store.delete(["a1"]); store.generation() != before
        """
        self._resolve_failed_writes()
        with self._errors("read the store generation"):
            got = self._registry.get(ids=[GENERATION_ID], include=["metadatas"])
        metas = got.get("metadatas") or []
        return str(metas[0].get("value", "0")) if metas and metas[0] else "0"

    def list_articles(self, source: str | None = None) -> list[ArticleInfo]:
        """All stored articles, newest first (optionally one outlet, case-insensitive).

        Example:
            >>> [a.title for a in store.list_articles(source="Civic Wire")]
        """
        self._resolve_failed_writes()
        with self._errors("list the articles"):
            got = self._registry.get(where={"kind": "article"}, include=["metadatas"])
        infos = [_info(i, m) for i, m in zip(got["ids"], got["metadatas"] or [], strict=False)]
        if source:
            wanted = source.strip().casefold()
            infos = [a for a in infos if (a.source or "").casefold() == wanted]
        infos.sort(key=lambda a: a.title.casefold())
        infos.sort(key=lambda a: a.published or "", reverse=True)
        return infos

    def get_article(self, article_id: str) -> Article | None:
        """The stored article with its full text, or ``None``.

        Example:
            >>> store.get_article("8782db0870783fc4").title
        """
        self._resolve_failed_writes()
        with self._errors("read an article"):
            got = self._registry.get(ids=[article_id], include=["metadatas", "documents"])
        if not got["ids"]:
            return None
        meta, text = got["metadatas"][0], got["documents"][0]
        if meta.get("kind") != "article":
            return None
        return Article(
            id=article_id,
            title=meta.get("title", ""),
            text=text,
            source=meta.get("source") or None,
            url=meta.get("url") or None,
            author=meta.get("author") or None,
            published=meta.get("published") or None,
            language=meta.get("language") or None,
            content_hash=meta.get("content_hash", ""),
            origin=meta.get("origin", ""),
        )

    def stats(self) -> StoreStats:
        """Article and chunk counts, mode and location.

        Example:
            >>> store.stats().articles
        """
        self._resolve_failed_writes()
        with self._errors("count the articles"):
            articles = len(self._registry.get(where={"kind": "article"}, include=[])["ids"])
            chunks = self._chunks.count()
        return StoreStats(
            articles=articles,
            chunks=chunks,
            mode=self.mode,
            location=self.location,
            collection=self.collection_name,
        )

    def chunk_manifest(self) -> dict[str, list[str]]:
        """Article id -> ids of its current chunks, for every complete article.

        One registry read (no chunk text), so followers such as the BM25 index can tell
        which articles changed since they last looked.

        Example:
            >>> store.chunk_manifest()["8782db0870783fc4"]
            ['8782db0870783fc4:1:0', '8782db0870783fc4:1:1']
        """
        self._resolve_failed_writes()
        with self._errors("list the chunks"):
            got = self._registry.get(where={"kind": "article"}, include=["metadatas"])
        return {
            aid: [chunk_id(aid, int(m["version"]), i) for i in range(int(m["chunks"]))]
            for aid, m in zip(got["ids"], got["metadatas"] or [], strict=True)
        }

    def iter_chunks(self, batch_size: int = 1000) -> Iterator[list[tuple[str, str, dict]]]:
        """Every chunk as ``(id, text, metadata)``, in batches (for consistency checks).

        Example:
            >>> sum(len(batch) for batch in store.iter_chunks()) == store.stats().chunks
        """
        offset = 0
        while True:
            with self._errors("read chunks"):
                got = self._chunks.get(
                    limit=batch_size, offset=offset, include=["documents", "metadatas"]
                )
            ids = got["ids"]
            if not ids:
                return
            yield list(zip(ids, got["documents"], got["metadatas"], strict=True))
            if len(ids) < batch_size:
                return
            offset += len(ids)

    def get_chunks(self, ids: Sequence[str]) -> list[Document]:
        """Chunks by id as LangChain documents, in the order asked (unknown ids skipped).

        Example:
            >>> store.get_chunks(["8782db0870783fc4:1:0"])[0].metadata["chunk_index"]
            0
        """
        from langchain_core.documents import Document

        if not ids:
            return []
        self._resolve_failed_writes()
        with self._errors("read chunks"):
            got = self._chunks.get(ids=list(ids), include=["documents", "metadatas"])
        found = {
            cid: Document(page_content=doc, metadata=dict(meta), id=cid)
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }
        return [found[cid] for cid in ids if cid in found]

    def dense_search(
        self, query: str, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[Document, float]]:
        """The ``k`` chunks nearest to ``query`` with their cosine similarity (higher is better).

        ``where`` is a Chroma metadata filter, e.g. ``{"published_int": {"$gte": 20250201}}``.

        Example:
            >>> doc, score = store.dense_search("Hegseth NATO", k=1)[0]
        """
        from langchain_core.documents import Document

        if k <= 0 or not query.strip():
            return []
        self._resolve_failed_writes()
        vector = self._embed_query(query)
        with self._errors("search"):
            got = self._chunks.query(
                query_embeddings=[vector],
                n_results=k,
                where=where or None,
                include=["documents", "metadatas", "distances"],
            )
        rows = zip(
            got["ids"][0],
            got["documents"][0],
            got["metadatas"][0],
            got["distances"][0],
            strict=True,
        )
        return [
            (Document(page_content=doc, metadata=dict(meta), id=cid), 1.0 - float(dist))
            for cid, doc, meta, dist in rows
        ]

    # -- writing -----------------------------------------------------------------------
    def add_articles(
        self, articles: Iterable[Article], progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Store articles (streamed in batches): new ones added, changed ones replaced,
        unchanged ones skipped without embedding. Each article is stored atomically.

        ``progress`` receives an :class:`IngestProgress` after every batch.

        Example:
            >>> store.add_articles([article]).added
            1
            >>> store.add_articles([article]).unchanged
            1
        """
        started = time.perf_counter()
        report = IngestReport()
        with self._lock:
            self.recover()
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
            >>> store.delete(["8782db0870783fc4", "no-such-id"])
            1
        """
        wanted = list(dict.fromkeys(str(i) for i in article_ids))
        if not wanted:
            return 0
        with self._lock:
            self.recover()
            with self._errors("look up the articles to delete"):
                got = self._registry.get(ids=wanted, include=["metadatas"])
            found = [i for i, m in zip(got["ids"], got["metadatas"], strict=True) if _is_article(m)]
            if not found:
                return 0
            journal_ids = [JOURNAL_PREFIX + i for i in found]
            metas = [{**self._journal_owner(), "op": "delete", "article_id": i} for i in found]
            try:
                with self._inflight(journal_ids), self._errors("delete articles"):
                    self._registry.upsert(
                        ids=journal_ids,
                        metadatas=metas,
                        documents=["" for _ in found],
                        embeddings=[_PLACEHOLDER_VECTOR for _ in found],
                    )
                    self._finish_delete(found)
                    self._bump_generation()
            except StoreError:
                self._unresolved = True  # finished by the next read or write
                raise
        logger.info("Deleted %d article(s)", len(found))
        return len(found)

    def recover(self) -> int:
        """Resolve interrupted writes of dead processes; returns how many were resolved.

        An interrupted add is rolled forward when all of its new chunks are present and
        rolled back otherwise; an interrupted delete is completed. Called on open and
        before every write.

        Example:
            >>> store.recover()
            0
        """
        with self._lock, self._errors("recover interrupted writes"):
            got = self._registry.get(where={"kind": "journal"}, include=["metadatas", "documents"])
            resolved = 0
            for jid, meta, doc in zip(got["ids"], got["metadatas"], got["documents"], strict=True):
                if not self._is_stale(jid, meta):
                    continue
                self._resolve(jid, meta, doc)
                resolved += 1
            if resolved:
                self._bump_generation()
                logger.warning("Recovered %d interrupted write(s) in the article store", resolved)
            return resolved

    def check_consistency(self) -> list[str]:
        """Problems found (empty when consistent): partial or orphan chunks, pending journals.

        Example:
            >>> store.check_consistency()
            []
        """
        problems: list[str] = []
        with self._errors("check the store"):
            registry = self._registry.get(include=["metadatas"])
        articles = {i: m for i, m in zip(registry["ids"], registry["metadatas"], strict=True)}
        for jid, meta in articles.items():
            if meta.get("kind") == "journal":
                problems.append(f"pending write {jid}")
        seen: dict[str, set[str]] = {}
        for batch in self.iter_chunks():
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

    def close(self) -> None:
        """Drop references to the client (embedded Chroma persists on every write)."""
        self._vectorstore = None

    # -- batch internals ------------------------------------------------------------
    def _add_batch(
        self,
        batch: list[Article],
        report: IngestReport,
        progress: ProgressCallback | None,
        started: float,
    ) -> None:
        with self._errors("look up existing articles"):
            got = self._registry.get(ids=[a.id for a in batch], include=["metadatas"])
        existing = {
            i: m for i, m in zip(got["ids"], got["metadatas"], strict=True) if _is_article(m)
        }
        plans: list[_Planned] = []
        for article in batch:
            old = existing.get(article.id)
            if old and _unchanged(old, article):
                report.unchanged += 1
                continue
            version = int(old["version"]) + 1 if old else 1
            chunks = self.chunker.chunk_article(article, version)
            plans.append(
                _Planned(
                    article,
                    version,
                    chunks,
                    int(old["version"]) if old else 0,
                    int(old["chunks"]) if old else 0,
                )
            )
        if plans:
            texts = [c.embed_text for p in plans for c in p.chunks]
            logger.debug("Embedding %d chunk(s) of %d article(s)", len(texts), len(plans))
            vectors = self._embed(texts)
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

    def _commit(self, plans: list[_Planned], vectors: list[list[float]]) -> None:
        self._check_free_space(plans, vectors)
        journal_ids = [JOURNAL_PREFIX + p.article.id for p in plans]
        owner = self._journal_owner()
        logger.debug("Writing %d article(s), %d chunk(s)", len(plans), len(vectors))
        with self._inflight(journal_ids):
            try:
                self._registry.upsert(
                    ids=journal_ids,
                    documents=[p.article.model_dump_json() for p in plans],
                    metadatas=[_journal_meta(p, owner) for p in plans],
                    embeddings=[_PLACEHOLDER_VECTOR for _ in plans],
                )
                offset = 0
                for group in self._upsert_groups(plans):
                    count = sum(len(p.chunks) for p in group)
                    self._upsert_chunks(group, vectors[offset : offset + count])
                    offset += count
                self._registry.upsert(
                    ids=[p.article.id for p in plans],
                    documents=[p.article.text for p in plans],
                    metadatas=[_record_meta(p) for p in plans],
                    embeddings=[_PLACEHOLDER_VECTOR for _ in plans],
                )
                stale = [
                    chunk_id(p.article.id, p.old_version, i)
                    for p in plans
                    if p.replaced
                    for i in range(p.old_chunks)
                ]
                if stale:
                    self._chunks.delete(ids=stale)
                self._registry.delete(ids=journal_ids)
                self._bump_generation()
                logger.debug("Committed %d article(s)", len(plans))
            except RagError:
                raise
            except Exception as exc:
                self._rollback_after_error(journal_ids)
                raise self._store_error("write articles", exc) from exc

    def _check_free_space(self, plans: list[_Planned], vectors: list[list[float]]) -> None:
        """Refuse a write to an embedded store on a (nearly) full disk before it starts.

        Embedded Chroma can stall instead of failing when the disk fills up mid-write.
        """
        if self.mode != "embedded":
            return
        payload = sum(len(v) * 4 for v in vectors) + sum(len(p.article.text) for p in plans)
        try:
            free = shutil.disk_usage(self.location).free
        except OSError:
            return
        if free < MIN_FREE_BYTES + 4 * payload:
            full = OSError(errno.ENOSPC, "No space left on device")
            raise _disk_full_error(full, self.location, "write articles")  # type: ignore[misc]

    def _upsert_chunks(self, plans: list[_Planned], vectors: list[list[float]]) -> None:
        chunks = [c for p in plans for c in p.chunks]
        self._chunks.upsert(
            ids=[c.id for c in chunks],
            embeddings=vectors,
            documents=[c.text for c in chunks],
            metadatas=[c.metadata for c in chunks],
        )

    def _upsert_groups(self, plans: list[_Planned]) -> Iterator[list[_Planned]]:
        """Groups of whole articles under Chroma's batch limit (one call per group)."""
        limit = self._max_batch_size()
        group: list[_Planned] = []
        size = 0
        for plan in plans:
            if group and size + len(plan.chunks) > limit:
                yield group
                group, size = [], 0
            group.append(plan)
            size += len(plan.chunks)
        if group:
            yield group

    def _max_batch_size(self) -> int:
        if self._max_batch is None:
            try:
                self._max_batch = int(self._client.get_max_batch_size())
            except Exception:  # older servers: fall back to a safe size
                self._max_batch = 1000
        return self._max_batch

    def _rollback_after_error(self, journal_ids: list[str]) -> None:
        """Undo a failed write (best effort; what is left is resolved by the next recover).

        When the store cannot be reached to undo it (server gone), reads resolve it
        first once the store answers again, so a half-written article is never served.
        """
        self._unresolved = True
        with contextlib.suppress(Exception):
            got = self._registry.get(ids=journal_ids, include=["metadatas", "documents"])
            for jid, meta, doc in zip(got["ids"], got["metadatas"], got["documents"], strict=True):
                self._resolve(jid, meta, doc, prefer_rollback=True)
            self._unresolved = False

    def _resolve_failed_writes(self) -> None:
        """Before a read: resolve this process's writes that failed half-way, if any."""
        if self._unresolved:
            with self._lock:
                if self._unresolved:
                    self.recover()
                    self._unresolved = False

    # -- journal ---------------------------------------------------------------------
    def _journal_owner(self) -> dict[str, Any]:
        return {"kind": "journal", "host": _HOST, "pid": os.getpid(), "created": time.time()}

    @contextlib.contextmanager
    def _inflight(self, journal_ids: list[str]) -> Iterator[None]:
        keys = [f"{self._key}|{j}" for j in journal_ids]
        with _inflight_lock:
            _inflight.update(keys)
        try:
            yield
        finally:
            with _inflight_lock:
                _inflight.difference_update(keys)

    def _is_stale(self, journal_id: str, meta: dict[str, Any]) -> bool:
        with _inflight_lock:
            if f"{self._key}|{journal_id}" in _inflight:
                return False
        if meta.get("host") == _HOST:
            pid = int(meta.get("pid", 0))
            return pid == os.getpid() or not _pid_alive(pid)
        return time.time() - float(meta.get("created", 0)) > STALE_JOURNAL_SECONDS

    def _resolve(
        self,
        journal_id: str,
        meta: dict[str, Any],
        doc: str | None,
        *,
        prefer_rollback: bool = False,
    ) -> None:
        """Finish or undo one journaled write.

        A write whose registry record already names the new version is always finished.
        Otherwise it is rolled forward when every new chunk is present (unless
        ``prefer_rollback``: the caller was told the write failed) and rolled back if not.
        """
        article_id = str(meta["article_id"])
        if meta.get("op") == "delete":
            self._finish_delete([article_id])
            return
        version, count = int(meta["version"]), int(meta["chunks"])
        expected = [chunk_id(article_id, version, i) for i in range(count)]
        present = self._chunks.get(ids=expected, include=[])["ids"]
        record = self._registry.get(ids=[article_id], include=["metadatas"])["metadatas"]
        committed = bool(record) and int(record[0].get("version", 0)) == version
        complete = len(present) == count and bool(doc)
        if committed or (complete and not prefer_rollback):
            if doc:
                article = Article.model_validate_json(doc)
                plan = _Planned(article, version, [], int(meta.get("old_version", 0)), 0)
                self._registry.upsert(
                    ids=[article_id],
                    documents=[article.text],
                    metadatas=[{**_record_meta(plan), "chunks": count}],
                    embeddings=[_PLACEHOLDER_VECTOR],
                )
            self._chunks.delete(
                where={"$and": [{"article_id": article_id}, {"version": {"$ne": version}}]}
            )
            logger.info("Rolled forward interrupted write of article %s", article_id)
        else:
            if present:
                self._chunks.delete(ids=present)
            logger.info("Rolled back interrupted write of article %s", article_id)
        self._registry.delete(ids=[journal_id])

    def _finish_delete(self, article_ids: list[str]) -> None:
        """Delete chunks, then registry records, then the delete journals."""
        self._chunks.delete(where={"article_id": {"$in": article_ids}})
        self._registry.delete(ids=article_ids)
        self._registry.delete(ids=[JOURNAL_PREFIX + i for i in article_ids])

    def _bump_generation(self) -> None:
        value = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        self._registry.upsert(
            ids=[GENERATION_ID],
            metadatas=[{"kind": "meta", "value": value}],
            documents=[""],
            embeddings=[_PLACEHOLDER_VECTOR],
        )

    # -- embeddings ----------------------------------------------------------------------
    def _embed(self, texts: list[str]) -> list[list[float]]:
        try:
            vectors = self._embeddings.embed_documents(texts)
        except RagError:
            raise
        except Exception as exc:
            raise ModelError(
                f"embedding failed: {exc}",
                hint="check the embedding settings (RAG_EMBEDDING_PROVIDER, "
                "RAG_EMBEDDING_BASE_URL) and that the endpoint is up",
            ) from exc
        if len(vectors) != len(texts):
            raise ModelError(f"the embedder returned {len(vectors)} vectors for {len(texts)} texts")
        if vectors:
            self._check_embedder(len(vectors[0]))
        return vectors

    def _embed_query(self, query: str) -> list[float]:
        last = self._last_query  # a filtered search may ask twice for the same question
        if last is not None and last[0] == query:
            return last[1]
        try:
            vector = self._embeddings.embed_query(query)
        except RagError:
            raise
        except Exception as exc:
            raise ModelError(f"embedding the query failed: {exc}") from exc
        self._check_embedder(len(vector), record=False)
        self._last_query = (query, vector)
        return vector

    def _check_embedder(self, dimensions: int, *, record: bool = True) -> None:
        """Refuse an embedder other than the one the collection was built with."""
        if self._embedder_checked:
            return
        name = embedder_name(self._embeddings)
        with self._errors("check the embedder"):
            got = self._registry.get(ids=[EMBEDDER_ID], include=["metadatas"])
            if not got["ids"]:
                if not record:
                    return  # an empty store: nothing to compare with yet
                self._registry.upsert(
                    ids=[EMBEDDER_ID],
                    metadatas=[{"kind": "meta", "embedder": name, "dimensions": dimensions}],
                    documents=[""],
                    embeddings=[_PLACEHOLDER_VECTOR],
                )
                self._embedder_checked = True
                return
        meta = got["metadatas"][0]
        if int(meta.get("dimensions", dimensions)) != dimensions or meta.get("embedder") != name:
            raise StoreError(
                f"collection {self.collection_name!r} was built with the embedder "
                f"{meta.get('embedder')} ({meta.get('dimensions')} dimensions), but "
                f"{name} ({dimensions} dimensions) is configured",
                hint="use the original embedding settings, or a new RAG_COLLECTION "
                "(then ingest the articles again)",
            )
        self._embedder_checked = True

    # -- errors ----------------------------------------------------------------------------
    def _check_space(self) -> None:
        try:
            space = (self._chunks.configuration or {}).get("hnsw", {}).get("space")
        except Exception:  # configuration shape differs across servers: skip the check
            return
        if space and space != "cosine":
            raise StoreError(
                f"collection {self.collection_name!r} uses the {space!r} distance, not cosine",
                hint="choose another RAG_COLLECTION name; news-rag creates cosine collections",
            )

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except RagError:
            raise
        except Exception as exc:
            raise self._store_error(action, exc) from exc

    def _store_error(self, action: str, exc: Exception) -> StoreError:
        if self.mode == "server":
            port = urlsplit(self.location).port or 8000
            hint = (
                f"is the Chroma server at {self.location} running? Start one with: "
                f"chroma run --path DIR --host 127.0.0.1 --port {port}"
            )
        else:
            full = _disk_full_error(exc, self.location, action)
            if full is not None:
                return full
            hint = f"check that {self.location or 'the Chroma folder'} is writable and not damaged"
        return StoreError(f"could not {action} in Chroma: {type(exc).__name__}: {exc}", hint=hint)


# --------------------------------------------------------------------------- records
def _is_article(meta: dict[str, Any] | None) -> bool:
    return bool(meta) and meta.get("kind") == "article"


def _unchanged(old: dict[str, Any], article: Article) -> bool:
    return (
        old.get("content_hash") == article.content_hash
        and old.get("meta_hash") == metadata_hash(article)
        and old.get("status") == "complete"
    )


def _journal_meta(plan: _Planned, owner: dict[str, Any]) -> dict[str, Any]:
    return {
        **owner,
        "op": "add",
        "article_id": plan.article.id,
        "version": plan.version,
        "chunks": len(plan.chunks),
        "old_version": plan.old_version,
        "old_chunks": plan.old_chunks,
    }


def _record_meta(plan: _Planned) -> dict[str, Any]:
    a = plan.article
    return {
        "kind": "article",
        "status": "complete",
        "title": a.title,
        "source": a.source or "",
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


def _info(article_id: str, meta: dict[str, Any]) -> ArticleInfo:
    return ArticleInfo(
        id=article_id,
        title=meta.get("title", ""),
        source=meta.get("source") or None,
        url=meta.get("url") or None,
        published=meta.get("published") or None,
        author=meta.get("author") or None,
        chunks=int(meta.get("chunks", 0)),
        content_hash=meta.get("content_hash", ""),
    )


# --------------------------------------------------------------------------- clients
def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_FULL_WORDS = ("disk is full", "no space left", "disk quota exceeded")


def _is_disk_full(exc: BaseException | None) -> bool:
    """True when ``exc`` (or an exception it came from) says the disk is full."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        if any(word in str(exc).lower() for word in _FULL_WORDS):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _disk_full_error(exc: BaseException, location: str, action: str) -> StoreError | None:
    """A StoreError about free space when ``exc`` means the disk is full, else None."""
    if not _is_disk_full(exc):
        return None
    free = ""
    with contextlib.suppress(OSError):
        free = f" ({shutil.disk_usage(location).free / 1e6:.0f} MB free)"
    return StoreError(
        f"could not {action} in Chroma: the disk holding {location} is full{free}",
        hint="free disk space, then ingest again (articles already stored are kept and "
        "skipped), or set RAG_DATA_DIR to a folder on a disk with more free space",
    )


def _read_only(path: Path) -> bool:
    """True when the store folder (or its database file) exists but cannot be written."""
    database = path / "chroma.sqlite3"
    return (path.is_dir() and not os.access(path, os.W_OK)) or (
        database.exists() and not os.access(database, os.W_OK)
    )


def _persistent_client(path: Any) -> ClientAPI:
    import chromadb

    if _read_only(Path(path)):
        # Chroma writes even to open a store for reading: say so before it fails obscurely.
        raise StoreError(
            f"the embedded Chroma store at {path} is read-only (permissions or a read-only "
            "file system), and Chroma needs to write to it even to read it",
            hint="make RAG_DATA_DIR writable, copy the store to a writable folder, or set "
            "RAG_CHROMA_URL to use a Chroma server",
        )
    try:
        os.makedirs(path, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    except Exception as exc:
        full = _disk_full_error(exc, str(path), "create the store folder")
        if full is not None:
            raise full from exc
        raise StoreError(
            f"cannot open the embedded Chroma store at {path}: {exc}",
            hint="check RAG_DATA_DIR (it must be a writable folder), or set RAG_CHROMA_URL "
            "to use a Chroma server",
        ) from exc


def _http_client(url: str, timeout: float = 30.0) -> ClientAPI:
    import chromadb
    import httpx

    parts = urlsplit(url)
    ssl = parts.scheme == "https"
    port = parts.port or (443 if ssl else 8000)
    try:
        # chromadb's client waits forever for an answer: probe first with a deadline,
        # then give its HTTP session one, so a frozen server cannot hang a request.
        httpx.get(f"{url}/api/v2/heartbeat", timeout=timeout).raise_for_status()
        client = chromadb.HttpClient(
            host=parts.hostname or "localhost", port=port, ssl=ssl, settings=_chroma_settings()
        )
        _limit_wait(client, timeout)
        client.heartbeat()
        return client
    except Exception as exc:
        raise StoreError(
            f"cannot reach the Chroma server at {url} ({type(exc).__name__}: {exc})",
            hint="start it with: chroma run --path DIR --host 127.0.0.1 "
            f"--port {port} (or unset RAG_CHROMA_URL to use the embedded store)",
        ) from exc


def _limit_wait(client: ClientAPI, timeout: float) -> None:
    """Give the Chroma HTTP client's session a timeout (it has none by default)."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(timeout)
    else:  # another chromadb layout: requests keep chromadb's own behaviour
        logger.debug("Cannot set a timeout on the Chroma client (%s)", type(session).__name__)
