"""Hybrid retrieval: dense (Chroma) + BM25, fused by reciprocal rank fusion.

The BM25 index (:class:`rag.retrieval.lexical.ChunkIndex`) is built on the first query and then
kept in step per article whenever ``store.generation()`` changes, so ingests, deletes,
other processes and a Chroma server are reflected without a rebuild. Filters (outlet,
article ids, date range) apply to both sides; time words in the question become date
filters or a recency boost (:mod:`rag.retrieval.timewords`). A cap per article keeps one long
article from crowding out the others.

Every returned :class:`~langchain_core.documents.Document` carries, in its metadata,
``rrf_score``, ``dense_similarity`` (cosine, ``None`` when the chunk was found only by
BM25), ``dense_rank``, ``bm25_rank``, ``bm25_score``, ``rank`` and ``chunk_id``.

Example:
    >>> retriever = HybridRetriever(store=store, settings=settings)
    >>> docs = retriever.invoke("What did Hegseth rule out?")
    >>> docs[0].metadata["title"]
    'Hegseth tells allies in Brussels that Ukraine will not join NATO in a peace deal'
    >>> f = SearchFilters(outlets=["Civic Wire"])
    >>> {d.metadata["source"] for d in retriever.invoke("NATO", filters=f)}
    {'Civic Wire'}
"""

from __future__ import annotations

import functools
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import numpy as np
from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict, Field, PrivateAttr

from rag.renamed import KeepsOldNames, OldName, renamed_field
from rag.retrieval.lexical import ChunkIndex, bm25_tokenize
from rag.retrieval.timewords import TimeHints, parse_time_expressions
from rag.settings import Settings

__all__ = ["RECENCY_BOOST", "HybridRetriever", "SearchFilters", "bm25_tokenize"]

logger = logging.getLogger(__name__)

MAX_POST_FILTER_FETCH = 400
"""Widest unfiltered dense search post-filtered before handing the filter to Chroma."""

MIN_POST_FILTER_POOL = 5000
"""Fewer chunks passing a filter than this: Chroma's own filtered search is the fast path."""

RECENCY_BOOST = 0.5
"""How much "latest"/"most recent" questions favour newer articles among the best candidates."""


class SearchFilters(KeepsOldNames):
    """Restrict retrieval to outlets, articles and a published-date range (inclusive).

    Example:
        >>> from datetime import date
        >>> SearchFilters(outlets=["Reuters"], since=date(2025, 2, 1)).to_where()
        {'$and': [{'source': {'$in': ['Reuters']}}, {'published_int': {'$gte': 20250201}}]}
    """

    model_config = ConfigDict(frozen=True)

    outlets: list[str] | None = renamed_field(
        "outlets", "sources", default=None, description="Outlet names (case-insensitive)."
    )
    article_ids: list[str] | None = Field(None, description="Only these articles.")
    since: date | None = Field(None, description="Published on or after this day.")
    until: date | None = Field(None, description="Published on or before this day.")

    sources = OldName("outlets")  # the field's old name, for older callers

    @property
    def is_empty(self) -> bool:
        """True when nothing is filtered."""
        return not (self.outlets or self.article_ids or self.since or self.until)

    def with_dates(self, since: date | None, until: date | None) -> SearchFilters:
        """These filters with the date range intersected with ``[since, until]``.

        Example:
            >>> from datetime import date
            >>> f = SearchFilters(since=date(2025, 1, 1)).with_dates(date(2024, 1, 1), None)
            >>> f.since
            datetime.date(2025, 1, 1)
        """
        new_since = max(d for d in (self.since, since) if d) if (self.since or since) else None
        new_until = min(d for d in (self.until, until) if d) if (self.until or until) else None
        return self.model_copy(update={"since": new_since, "until": new_until})

    def matches(self, metadata: dict[str, Any]) -> bool:
        """Whether a chunk with this metadata passes the filters (as ``to_where`` would).

        Example:
            >>> SearchFilters(outlets=["AP"]).matches({"source": "AP", "published_int": 0})
            True
        """
        published = int(metadata.get("published_int") or 0)
        return not (
            (self.outlets and metadata.get("source") not in self.outlets)
            or (self.article_ids and metadata.get("article_id") not in self.article_ids)
            or (self.since and published < _date_int(self.since))
            or (self.until and published > _date_int(self.until))
        )

    def mask(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        """Which rows of per-chunk columns pass the filters (:meth:`matches`, vectorized).

        ``columns`` holds ``source`` (the outlet, as stored), ``article_id`` and ``published_int``
        arrays.

        Example:
            >>> import numpy as np
            >>> cols = {"source": np.array(["AP", "BBC"], object),
            ...         "article_id": np.array(["a", "b"], object),
            ...         "published_int": np.array([20250101, 20250101])}
            >>> SearchFilters(outlets=["AP"]).mask(cols).tolist()
            [True, False]
        """
        keep = np.ones(len(columns["source"]), dtype=bool)
        if self.outlets:
            keep &= np.isin(columns["source"], list(self.outlets))
        if self.article_ids:
            keep &= np.isin(columns["article_id"], list(self.article_ids))
        if self.since:
            keep &= columns["published_int"] >= _date_int(self.since)
        if self.until:
            keep &= columns["published_int"] <= _date_int(self.until)
        return keep

    def to_where(self) -> dict[str, Any] | None:
        """The Chroma ``where`` filter for these filters (``None`` when empty)."""
        clauses: list[dict[str, Any]] = []
        if self.outlets:  # stored chunks keep the outlet under "source"
            clauses.append({"source": {"$in": list(self.outlets)}})
        if self.article_ids:
            clauses.append({"article_id": {"$in": list(self.article_ids)}})
        if self.since:
            clauses.append({"published_int": {"$gte": _date_int(self.since)}})
        if self.until:
            clauses.append({"published_int": {"$lte": _date_int(self.until)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _date_int(value: date) -> int:
    return value.year * 10000 + value.month * 100 + value.day


def _chunk_key(metadata: dict[str, Any], fallback: str) -> str:
    """Same key for a chunk whether it came from Chroma or from the BM25 index."""
    if "article_id" in metadata and "chunk_index" in metadata:
        return f"{metadata['article_id']}:{metadata['chunk_index']}"
    return fallback


class HybridRetriever(BaseRetriever):
    """A LangChain retriever over the article store: dense + BM25, fused, filtered, capped.

    Pass ``filters=SearchFilters(...)`` and/or ``k=...`` to ``invoke``. The question's time
    words ("in 2024", "since March 3", "this week", "latest") are applied automatically,
    relative to ``clock()`` (injectable for tests).

    Example (the ``store`` here has fake vectors: its dense ranks are arbitrary):
        >>> retriever = HybridRetriever(store=store, settings=settings)
        >>> for doc in retriever.invoke("Who won the Westfield mayoral election?")[:2]:
        ...     m = doc.metadata
        ...     print(m["title"][:30], m["bm25_rank"], m["dense_rank"], round(m["rrf_score"], 4))
        Ana Ruiz elected Westfield's f 5 17 0.0284
        Norvanian Reserve Bank cuts in None 1 0.0164
    """

    store: Any = Field(description="An ArticleStore (or any object with the same methods).")
    settings: Settings
    clock: Callable[[], date] = Field(default=date.today, description="Returns today's date.")
    use_time_words: bool = Field(True, description="Turn time words into filters and boosts.")

    _index: ChunkIndex | None = PrivateAttr(default=None)
    _outlets: tuple[str, dict[str, str]] | None = PrivateAttr(default=None)

    # --- public API ------------------------------------------------------------------
    @classmethod
    def from_settings(
        cls, store: Any, settings: Settings, *, clock: Callable[[], date] | None = None
    ) -> HybridRetriever:
        """Build over ``store`` with k, mode, weights and caps from ``settings``.

        Example:
            >>> retriever = HybridRetriever.from_settings(store, settings)
            >>> retriever.settings.retrieval_mode, retriever.settings.retrieval_k
            ('hybrid', 5)
        """
        return cls(store=store, settings=settings, clock=clock or date.today)

    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        k: int | None = None,
        per_article: int | None = None,
    ) -> list[Document]:
        """Retrieve chunks for ``query`` (same as ``invoke`` without callbacks).

        ``per_article`` caps the chunks from one article (default
        ``settings.max_chunks_per_article``).

        Example:
            >>> f = SearchFilters(outlets=["Civic Wire"])
            >>> docs = retriever.search("NATO", f, k=3)
            >>> [d.metadata["title"][:40] for d in docs]
            ['Hegseth tells allies in Brussels that Uk', 'Hegseth tells allies in Brussels that Uk',
             'Flash floods hit the Ardent Valley after']
        """
        resolved, hints = self.resolve_filters(query, filters)
        k = k or self.settings.retrieval_k
        cap = per_article or self.settings.max_chunks_per_article
        results = self._retrieve(query, resolved, k, hints.prefer_recent, cap)
        if not results and hints.guessed_year:
            # "in November" guessed the most recent November; no articles then: any November
            # is better answered by retrieval itself than by an empty result.
            logger.debug("no chunks for %s; retrying without the guessed dates", hints.matched)
            resolved, _ = self.resolve_filters(query, filters, time_words=False)
            results = self._retrieve(query, resolved, k, hints.prefer_recent, cap)
        return results

    def _retrieve(
        self, query: str, filters: SearchFilters, k: int, prefer_recent: bool, cap: int
    ) -> list[Document]:
        fetch_k = max(self.settings.retrieval_fetch_k, k)
        mode = self.settings.retrieval_mode
        if mode == "hybrid":
            # The two sides overlap: the query embedding and Chroma's search release the GIL.
            lexical_future = _side_pool().submit(self._bm25, query, fetch_k, filters)
            dense = self._dense(query, fetch_k, filters)
            lexical = lexical_future.result()
        else:
            dense = self._dense(query, fetch_k, filters) if mode == "dense" else []
            lexical = self._bm25(query, fetch_k, filters) if mode == "bm25" else []
        return self._fuse(dense, lexical, k, prefer_recent=prefer_recent, cap=cap)

    def resolve_filters(
        self, query: str, filters: SearchFilters | None = None, *, time_words: bool = True
    ) -> tuple[SearchFilters, TimeHints]:
        """Combine explicit filters with the question's time words (ranges are intersected).

        Example:
            >>> f, hints = retriever.resolve_filters("What happened in 2024?")
            >>> f.since, f.until  # previews a month before, reports two weeks after
            (datetime.date(2023, 12, 1), datetime.date(2025, 1, 14))
        """
        filters = filters or SearchFilters()
        hints = TimeHints()
        if self.use_time_words and time_words:
            hints = parse_time_expressions(query, today=self.clock())
        since, until = hints.search_range()
        if since or until:
            filters = filters.with_dates(since, until)
        if filters.outlets:
            filters = filters.model_copy(
                update={"outlets": self.canonical_outlets(filters.outlets)}
            )
        if hints.matched:
            logger.debug("time words %s -> %s", hints.matched, filters)
        return filters, hints

    def canonical_outlets(self, names: Sequence[str]) -> list[str]:
        """Outlet names spelled as stored (matched case-insensitively); unknown names kept.

        Example:
            >>> retriever.canonical_outlets(["civic wire", "Daily Planet"])
            ['Civic Wire', 'Daily Planet']
        """
        known = self._known_outlets()
        return [known.get(name.strip().casefold(), name) for name in names]

    def _known_outlets(self) -> dict[str, str]:
        """casefolded outlet -> stored spelling, cached per store generation."""
        generation = str(self.store.generation())
        cached = self._outlets
        if cached is not None and cached[0] == generation:
            return cached[1]
        index = self._index
        if index is not None and index.generation == generation:
            names = index.outlets()
        elif hasattr(self.store, "list_articles"):
            names = {a.outlet or "" for a in self.store.list_articles()}
        else:
            names = self.lexical_index().outlets()
        known = {n.casefold(): n for n in names if n}
        self._outlets = (generation, known)
        return known

    def lexical_index(self) -> ChunkIndex:
        """The BM25 index over the store's chunks, brought in step with the store.

        Example:
            >>> len(retriever.lexical_index().live_ids)
            78
        """
        if self._index is None:
            self._index = ChunkIndex(self.store)
        self._index.sync()
        return self._index

    # --- LangChain hook ---------------------------------------------------------------
    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **options: Any
    ) -> list[Document]:
        return self._search_with(query, **options)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **options: Any
    ) -> list[Document]:
        # The base class would drop keyword arguments on the async path; forward them.
        return await run_in_executor(None, functools.partial(self._search_with, query, **options))

    def _search_with(
        self,
        query: str,
        filters: SearchFilters | dict | None = None,
        k: int | None = None,
        per_article: int | None = None,
    ) -> list[Document]:
        """``search`` with the options ``invoke`` passes (``filters`` may be a dict)."""
        if isinstance(filters, dict):
            filters = SearchFilters(**filters)
        return self.search(query, filters=filters, k=k, per_article=per_article)

    # --- the two retrievers -----------------------------------------------------------
    def _dense(self, query: str, k: int, filters: SearchFilters) -> list[tuple[Document, float]]:
        if filters.is_empty:
            return list(self.store.dense_search(query, k=k))
        wider = self._unfiltered_fetch(filters, k)
        if wider:
            # Exact whenever k hits survive: any other passing chunk ranks below all of them.
            hits = self.store.dense_search(query, k=wider)
            kept = [(doc, score) for doc, score in hits if filters.matches(doc.metadata)]
            if len(kept) >= k:
                return kept[:k]
        return list(self.store.dense_search(query, k=k, where=filters.to_where()))

    def _unfiltered_fetch(self, filters: SearchFilters, k: int) -> int:
        """How many unfiltered nearest chunks to post-filter (0: let Chroma filter).

        Chroma's metadata-filtered vector search is fast when few chunks pass, but ~5x an
        unfiltered search when many do (20k of 100k chunks: 224 vs 41 ms p95,
        ``benchmarks/bench_retrieval.py``). A broad filter (an outlet, a year) over a
        large store is cheaper applied to a wider unfiltered result. How many chunks
        pass is counted on the BM25 index's columns (hybrid mode).
        """
        index = self._index
        if filters.article_ids or index is None or not index.size:
            return 0
        # The count only picks the faster path (results are exact either way), so an index
        # one store change behind is good enough: no extra store read here.
        passing = index.count_passing(filters.mask)
        if passing < MIN_POST_FILTER_POOL:
            return 0
        wider = math.ceil(2 * k * index.size / passing)
        return wider if wider <= MAX_POST_FILTER_FETCH else 0

    def _bm25(self, query: str, k: int, filters: SearchFilters) -> list[tuple[Document, float]]:
        keep = None if filters.is_empty else filters.mask
        hits = self.lexical_index().search(bm25_tokenize(query), k, keep)
        return [
            (Document(id=chunk_id, page_content=text, metadata=metadata), score)
            for score, chunk_id, text, metadata in hits
        ]

    # --- fusion -----------------------------------------------------------------------
    def _fuse(
        self,
        dense: list[tuple[Document, float]],
        lexical: list[tuple[Document, float]],
        k: int,
        *,
        prefer_recent: bool = False,
        cap: int | None = None,
    ) -> list[Document]:
        s = self.settings
        docs: dict[str, Document] = {}
        info: dict[str, dict[str, Any]] = defaultdict(dict)
        scores: dict[str, float] = defaultdict(float)
        for name, results, weight in (
            ("dense", dense, s.dense_weight),
            ("bm25", lexical, s.bm25_weight),
        ):
            for rank, (doc, score) in enumerate(results, start=1):
                key = _chunk_key(doc.metadata, doc.id or doc.page_content[:64])
                docs.setdefault(key, doc)
                info[key][f"{name}_rank"] = rank
                info[key]["dense_similarity" if name == "dense" else "bm25_score"] = float(score)
                scores[key] += weight / (s.rrf_k + rank)
        ordered = sorted(scores, key=lambda key: scores[key], reverse=True)
        if prefer_recent:
            ordered = _recency_rerank(ordered, scores, docs, head=2 * k)
        return self._cap(ordered, docs, info, scores, k, cap or s.max_chunks_per_article)

    def _cap(
        self,
        ordered: list[str],
        docs: dict[str, Document],
        info: dict[str, dict[str, Any]],
        scores: dict[str, float],
        k: int,
        cap: int,
    ) -> list[Document]:
        per_article: dict[str, int] = defaultdict(int)
        results: list[Document] = []
        for key in ordered:
            doc = docs[key]
            article = str(doc.metadata.get("article_id", key))
            if per_article[article] >= cap:
                continue
            per_article[article] += 1
            metadata = {
                **doc.metadata,
                "chunk_id": doc.id or key,
                "rank": len(results) + 1,
                "rrf_score": scores[key],
                "dense_similarity": info[key].get("dense_similarity"),
                "dense_rank": info[key].get("dense_rank"),
                "bm25_rank": info[key].get("bm25_rank"),
                "bm25_score": info[key].get("bm25_score"),
            }
            results.append(Document(id=doc.id, page_content=doc.page_content, metadata=metadata))
            if len(results) >= k:
                break
        return results


@functools.cache
def _side_pool() -> ThreadPoolExecutor:
    """Threads that run the BM25 side of hybrid searches (created on first use)."""
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="bm25-search")


def _recency_rerank(
    ordered: list[str], scores: dict[str, float], docs: dict[str, Document], head: int
) -> list[str]:
    """Boost the newer of the top ``head`` candidates by up to ``RECENCY_BOOST`` (relative).

    Only the head is touched, so an irrelevant but recent chunk cannot jump the queue:
    a boost of 0.5 lets the newest article overtake one at most 1.5x as relevant.
    """
    top = ordered[:head]
    dates = sorted({int(docs[key].metadata.get("published_int") or 0) for key in top} - {0})
    if len(dates) < 2:
        return ordered
    position = {d: i / (len(dates) - 1) for i, d in enumerate(dates)}  # oldest 0 .. newest 1
    for key in top:
        published = int(docs[key].metadata.get("published_int") or 0)
        if published:
            scores[key] *= 1.0 + RECENCY_BOOST * position[published]
    return sorted(top, key=lambda key: scores[key], reverse=True) + ordered[head:]
