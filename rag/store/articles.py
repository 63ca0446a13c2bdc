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

:class:`ArticleStore` is the facade over the store's parts; it reads and searches itself.
The parts: :mod:`rag.store.clients` (clients and collections), :mod:`rag.store.writer`
(adds and deletes), :mod:`rag.store.records` (what a registry record holds),
:mod:`rag.store.journal` (the write journal and recovery), :mod:`rag.store.consistency`
(the store checked against itself), :mod:`rag.store.embedder` (vectors from the
collection's own embedder), :mod:`rag.store.disk` (free space) and
:mod:`rag.store.failures` (errors people can act on).

Example:
    >>> import tempfile
    >>> from langchain_core.embeddings import DeterministicFakeEmbedding
    >>> from rag.ingest.article import Article
    >>> from rag.settings import load_settings
    >>> store = ArticleStore.from_settings(load_settings(data_dir=tempfile.mkdtemp()),
    ...                                    DeterministicFakeEmbedding(size=384))
    >>> report = store.add_articles([Article.create(title="T", text="Rain fell.")])
    >>> report.added, store.stats().articles
    (1, 1)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from rag.ingest.chunking import Chunker, chunk_id
from rag.store.clients import open_client, open_collections
from rag.store.consistency import consistency_problems
from rag.store.embedder import CheckedEmbedder
from rag.store.failures import StoreFailures
from rag.store.journal import WriteJournal
from rag.store.records import GENERATION_ID, article_from_record, article_info
from rag.store.reports import ArticleInfo, IngestReport, ProgressCallback, StoreStats
from rag.store.writer import DEFAULT_BATCH_ARTICLES, ArticleWriter

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings

    from rag.ingest.article import Article
    from rag.settings import Settings

__all__ = ["DEFAULT_BATCH_ARTICLES", "ArticleStore"]

_write_locks: dict[str, threading.RLock] = {}  # one write lock per store in this process


class ArticleStore:
    """Articles in Chroma: add (atomic per article, idempotent), list, get, delete, search.

    Build it with :meth:`from_settings`. ``embeddings`` embeds chunks (with the title
    prefixed) and queries; vectors are computed here and upserted explicitly, so Chroma
    never runs an embedding function of its own.

    Attributes: ``client`` (the Chroma client, embedded or server), ``embeddings``,
    ``collection`` (the chromadb chunk collection) and ``registry`` (the article
    registry collection: one record per article, plus journals).

    Example (``embeddings`` here are fake vectors, so the nearest chunks are arbitrary):
        >>> from rag.ingest.locations import load_location
        >>> store = ArticleStore.from_settings(settings, embeddings)
        >>> store.add_articles(load_location("samples/briefs.jsonl")).added
        3
        >>> len(store.dense_search("floods", k=2))
        2
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
        self.client: ClientAPI = client
        self.embeddings: Embeddings = embeddings
        self.collection_name = collection
        self.chunker = chunker or Chunker()
        self.mode = mode
        self.location = location
        key = f"{mode}|{location}|{collection}"
        self._lock = _write_locks.setdefault(key, threading.RLock())
        self._vectorstore: Chroma | None = None
        self._failures = StoreFailures(mode, location)
        self._errors = self._failures.during
        self.collection: Collection
        self.registry: Collection
        with self._errors("open the collections"):
            self.collection, self.registry = open_collections(client, collection)
        self._embedder = CheckedEmbedder(
            embeddings, self.registry, collection=collection, failures=self._failures
        )
        self._journal = WriteJournal(
            self.collection, self.registry, key=key, lock=self._lock, failures=self._failures
        )
        self._writer = ArticleWriter(
            client,
            self.collection,
            self.registry,
            journal=self._journal,
            embedder=self._embedder,
            chunker=self.chunker,
            lock=self._lock,
            failures=self._failures,
            batch_articles=batch_articles,
        )
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
        client, mode, location = open_client(settings)
        return cls(
            client,
            embeddings,
            collection=settings.collection,
            chunker=chunker or Chunker.from_settings(settings),
            mode=mode,
            location=location,
        )

    # -- properties --------------------------------------------------------------
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
                    client=self.client,
                    collection_name=self.collection_name,
                    embedding_function=self.embeddings,
                )
        return self._vectorstore

    # -- reading -------------------------------------------------------------------
    def generation(self) -> str:
        """A token that changes whenever chunks are added or removed (any process).

        Example:
            >>> before = store.generation()
            >>> store.delete(["8782db0870783fc4"])
            1
            >>> store.generation() != before
            True
        """
        self._journal.resolve_failed_writes()
        with self._errors("read the store generation"):
            got = self.registry.get(ids=[GENERATION_ID], include=["metadatas"])
        metas = got.get("metadatas") or []
        return str(metas[0].get("value", "0")) if metas and metas[0] else "0"

    def list_articles(self, outlet: str | None = None) -> list[ArticleInfo]:
        """All stored articles, newest first (optionally one outlet, case-insensitive).

        Example:
            >>> [a.title for a in store.list_articles(outlet="civic wire")][-1]
            'Flash floods hit the Ardent Valley after record rainfall; thousands evacuated'
        """
        self._journal.resolve_failed_writes()
        with self._errors("list the articles"):
            got = self.registry.get(where={"kind": "article"}, include=["metadatas"])
        rows = zip(got["ids"], got["metadatas"] or [], strict=False)
        infos = [article_info(i, m) for i, m in rows]
        if outlet:
            wanted = outlet.strip().casefold()
            infos = [a for a in infos if (a.outlet or "").casefold() == wanted]
        infos.sort(key=lambda a: a.title.casefold())
        infos.sort(key=lambda a: a.published or "", reverse=True)
        return infos

    def get_article(self, article_id: str) -> Article | None:
        """The stored article with its full text, or ``None``.

        Example:
            >>> store.get_article("8782db0870783fc4").title
            'Flash floods hit the Ardent Valley after record rainfall; thousands evacuated'
            >>> store.get_article("no-such-id") is None
            True
        """
        self._journal.resolve_failed_writes()
        with self._errors("read an article"):
            got = self.registry.get(ids=[article_id], include=["metadatas", "documents"])
        if not got["ids"]:
            return None
        return article_from_record(article_id, got["metadatas"][0], got["documents"][0])

    def stats(self) -> StoreStats:
        """Article and chunk counts, mode and location.

        Example:
            >>> store.stats().articles
            10
        """
        self._journal.resolve_failed_writes()
        with self._errors("count the articles"):
            articles = len(self.registry.get(where={"kind": "article"}, include=[])["ids"])
            chunks = self.collection.count()
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
            >>> store.chunk_manifest()["8782db0870783fc4"][:2]
            ['8782db0870783fc4:1:0', '8782db0870783fc4:1:1']
        """
        self._journal.resolve_failed_writes()
        with self._errors("list the chunks"):
            got = self.registry.get(where={"kind": "article"}, include=["metadatas"])
        return {
            aid: [chunk_id(aid, int(m["version"]), i) for i in range(int(m["chunks"]))]
            for aid, m in zip(got["ids"], got["metadatas"] or [], strict=True)
        }

    def iter_chunks(self, batch_size: int = 1000) -> Iterator[list[tuple[str, str, dict]]]:
        """Every chunk as ``(id, text, metadata)``, in batches (for consistency checks).

        Example:
            >>> sum(len(batch) for batch in store.iter_chunks()) == store.stats().chunks
            True
        """
        offset = 0
        while True:
            with self._errors("read chunks"):
                got = self.collection.get(
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
        self._journal.resolve_failed_writes()
        with self._errors("read chunks"):
            got = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
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
            >>> sorted(doc.metadata)[:3], -1.0 <= score <= 1.0
            (['article_id', 'chunk_index', 'end'], True)
        """
        from langchain_core.documents import Document

        if k <= 0 or not query.strip():
            return []
        self._journal.resolve_failed_writes()
        vector = self._embedder.embed_query(query)
        with self._errors("search"):
            got = self.collection.query(
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
            >>> from rag.ingest.article import Article
            >>> article = Article.create(title="Ferries resume", text="Ferries ran again.")
            >>> store.add_articles([article]).added
            1
            >>> store.add_articles([article]).unchanged
            1
        """
        return self._writer.add_articles(articles, progress)

    def delete(self, article_ids: Iterable[str]) -> int:
        """Delete articles and all their chunks; returns how many existed.

        Example:
            >>> store.delete(["8782db0870783fc4", "no-such-id"])
            1
        """
        return self._writer.delete(article_ids)

    def recover(self) -> int:
        """Resolve interrupted writes of dead processes; returns how many were resolved.

        An interrupted add is rolled forward when all of its new chunks are present and
        rolled back otherwise; an interrupted delete is completed. Called on open and
        before every write.

        Example:
            >>> store.recover()
            0
        """
        return self._journal.recover()

    def check_consistency(self) -> list[str]:
        """Problems found (empty when consistent): partial or orphan chunks, pending journals.

        Example:
            >>> store.check_consistency()
            []
        """
        with self._errors("check the store"):
            registry = self.registry.get(include=["metadatas"])
        return consistency_problems(registry, self.iter_chunks())

    def close(self) -> None:
        """Drop references to the client (embedded Chroma persists on every write).

        Example:
            >>> store.close()
        """
        self._vectorstore = None
