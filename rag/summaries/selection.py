"""Which articles a digest covers: ranked by a topic, or the newest of an outlet and dates.

Example:
    >>> from rag.summaries.request import DigestRequest
    >>> len(recent_article_ids(store, DigestRequest(limit=2)))
    2
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from rag.summaries.request import DigestRequest

if TYPE_CHECKING:
    from langchain_core.documents import Document

__all__ = ["recent_article_ids", "topic_article_ids"]

TOPIC_BM25_SHARE = 0.5  # a keyword-only hit must score at least this share of the best one


def topic_article_ids(retriever: Any, settings: Any, request: DigestRequest) -> list[str]:
    """Ids of the articles about ``request.topic``, best first, at most ``request.limit``.

    The retriever ranks chunks (the outlet and dates as filters); only chunks that are
    about the topic count (:func:`_topical`).

    Example:
        >>> request = DigestRequest(topic="floods in the Ardent Valley", limit=1)
        >>> len(topic_article_ids(retriever, settings, request)) <= request.limit
        True
    """
    per_article = int(getattr(settings, "max_chunks_per_article", 2))
    k = min(request.limit * per_article + 10, 100)
    docs = retriever.invoke(request.topic, filters=request.search_filters(), k=k)
    ids: list[str] = []
    for doc in _topical(docs, float(settings.abstain_min_similarity)):
        article_id = str(doc.metadata.get("article_id", ""))
        if article_id and article_id not in ids:
            ids.append(article_id)
    return ids[: request.limit]


def recent_article_ids(store: Any, request: DigestRequest) -> list[str]:
    """Ids of the newest articles of ``request.outlet`` within its dates, at most ``limit``.

    Example:
        >>> recent_article_ids(store, DigestRequest(outlet="Civic Wire", limit=1))
        ['...']
    """
    infos = list(store.list_articles(request.outlet))
    if request.since or request.until:
        low = (request.since or date.min).isoformat()
        high = (request.until or date.max).isoformat()
        infos = [i for i in infos if i.published and low <= str(i.published)[:10] <= high]
    infos.sort(key=lambda i: str(i.title).casefold())
    infos.sort(key=lambda i: str(i.published or ""), reverse=True)  # newest first
    return [str(i.id) for i in infos[: request.limit]]


def _topical(docs: Sequence[Document], threshold: float) -> list[Document]:
    """The retrieved chunks that are about the topic, in rank order.

    A chunk the dense search found counts when its cosine similarity reaches
    ``threshold``. A chunk found only by keywords (no similarity) counts when its BM25
    score is at least :data:`TOPIC_BM25_SHARE` of the best one: a story that shares a
    single common word with the topic ("jobs" in "Apple and Steve Jobs") is not about it.

    Example:
        >>> from langchain_core.documents import Document
        >>> hit = Document("a", metadata={"dense_similarity": 0.5, "bm25_score": 8.0})
        >>> word = Document("b", metadata={"dense_similarity": None, "bm25_score": 1.2})
        >>> [d.page_content for d in _topical([hit, word], 0.25)]
        ['a']
    """
    scores = [float(d.metadata.get("bm25_score") or 0.0) for d in docs]
    floor = TOPIC_BM25_SHARE * max(scores, default=0.0)
    chosen = []
    for doc, score in zip(docs, scores, strict=True):
        similarity = doc.metadata.get("dense_similarity")
        if similarity is not None:
            if float(similarity) >= threshold:
                chosen.append(doc)
        elif score > 0 and score >= floor:
            chosen.append(doc)
    return chosen
