"""The lexical (BM25) side of retrieval, kept in step with the store incrementally.

:class:`BM25Index` is an Okapi BM25 index (the Lucene variant, as bm25s computes it) that
takes documents in and out one at a time: postings are append-only arrays per term,
removed documents are tombstoned, and the collection statistics (document count, mean
length, document frequency of the query's terms) are computed from the live documents
at query time, so scores are exactly those of a fresh index over the live documents.

:class:`ChunkIndex` keeps a :class:`BM25Index` over a store's chunks. It asks the store
which chunk ids each article currently has (:meth:`ArticleStore.chunk_manifest`, one
small registry read) whenever the store's generation moves, and reads and tokenizes only
the chunks of articles that were added or changed. Every process (each app replica on a
shared Chroma server) follows the same store, so replicas never diverge; a new replica
builds its index once, from the store, on its first query.

Example:
    >>> index = BM25Index()
    >>> a = index.add(["nato", "ukraine", "hegseth"])
    >>> b = index.add(["flood", "valley", "rain"])
    >>> index.remove(b)
    >>> [slot for slot, _ in index.top(["nato"], k=5)]
    [0]
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
from array import array
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from rag.text import stop_words

__all__ = ["BM25Index", "ChunkIndex", "ChunkSource", "bm25_tokenize"]

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_QUESTION_WORDS = {
    "say", "said", "says", "saying", "tell", "told", "article", "articles", "mention",
    "mentioned", "according", "would", "could", "also",
}  # fmt: skip
_EMPTY = "\x00"  # stands in for a chunk with no indexable word, so lengths stay positive


@functools.cache
def _stopwords() -> frozenset[str]:
    """The shared stop words plus words that only phrase a question about the articles."""
    return stop_words() | _QUESTION_WORDS


def bm25_tokenize(text: str) -> list[str]:
    """Lowercase words without stopwords, with possessives and plurals folded.

    Example:
        >>> bm25_tokenize("What did Hegseth's allies say about the troops?")
        ['hegseth', 'ally', 'troop']
    """
    terms = _TERMS
    tokens = []
    for raw in _TOKEN.findall(text.lower()):
        term = terms.get(raw, _UNSEEN)
        if term is _UNSEEN:
            term = _term(raw)
            if len(terms) < _TERM_CACHE_SIZE:
                terms[raw] = term
        if term:
            tokens.append(term)
    return tokens


_TERMS: dict[str, str | None] = {}  # raw word -> its term (None: not indexed); news reuses words
_TERM_CACHE_SIZE = 500_000
_UNSEEN = object()


def _term(raw: str) -> str | None:
    word = raw[:-2] if raw.endswith("'s") else raw
    if word in _stopwords() or "'" in word:
        return None
    return _fold_plural(word)


def _fold_plural(word: str) -> str:
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class BM25Index:
    """Okapi BM25 over token lists, with documents added and removed in place.

    Slots are handed out in order and never reused; :attr:`dead_share` tells the owner
    when rebuilding (to reclaim tombstoned postings) is worth it. Not thread-safe: the
    owner serializes calls.

    Example:
        >>> index = BM25Index()
        >>> index.add(["rate", "cut", "bank"]), index.add(["bank", "holiday"])
        (0, 1)
        >>> [slot for slot, score in index.top(["rate", "bank"], k=2)]
        [0, 1]
    """

    def __init__(self, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._terms: dict[str, int] = {}
        self._slots: list[array] = []  # term id -> slots holding it (append-only)
        self._freqs: list[array] = []  # term id -> its count in each of those slots
        self._lengths = array("f")
        self._alive = array("b")
        self._live = 0
        self._live_length = 0.0

    @property
    def size(self) -> int:
        """Live documents."""
        return self._live

    @property
    def slots(self) -> int:
        """Slots handed out so far (live and removed)."""
        return len(self._alive)

    @property
    def dead_share(self) -> float:
        """Share of slots that were removed (0.0 when empty)."""
        return 1.0 - self._live / len(self._alive) if len(self._alive) else 0.0

    def add(self, tokens: Sequence[str]) -> int:
        """Index one document; return its slot."""
        return self.add_many([tokens])[0]

    def add_many(self, documents: Sequence[Sequence[str]]) -> list[int]:
        """Index several documents at once; return their slots, in order.

        Example:
            >>> BM25Index().add_many([["rain"], ["rain", "flood"]])
            [0, 1]
        """
        first = len(self._alive)
        documents = [doc or [_EMPTY] for doc in documents]
        if not documents:
            return []
        terms = self._terms
        flat = np.fromiter(
            (terms.setdefault(t, len(terms)) for doc in documents for t in doc), dtype=np.int64
        )
        for _ in range(len(terms) - len(self._slots)):
            self._slots.append(array("i"))
            self._freqs.append(array("f"))
        lengths = np.fromiter((len(doc) for doc in documents), dtype=np.int64)
        slots = np.repeat(np.arange(first, first + len(documents), dtype=np.int64), lengths)
        # One key per (term, slot) pair: sorting groups postings by term, slots ascending.
        pairs, counts = np.unique(flat * (first + len(documents)) + slots, return_counts=True)
        term_ids, pair_slots = np.divmod(pairs, first + len(documents))
        bounds = np.flatnonzero(np.diff(term_ids)) + 1
        for group, slot_group, count_group in zip(
            np.split(term_ids, bounds),
            np.split(pair_slots.astype(np.int32), bounds),
            np.split(counts.astype(np.float32), bounds),
            strict=True,
        ):
            term_id = int(group[0])
            self._slots[term_id].frombytes(slot_group.tobytes())
            self._freqs[term_id].frombytes(count_group.tobytes())
        self._lengths.frombytes(lengths.astype(np.float32).tobytes())
        self._alive.frombytes(b"\x01" * len(documents))
        self._live += len(documents)
        self._live_length += float(lengths.sum())
        return list(range(first, first + len(documents)))

    def remove(self, slot: int) -> None:
        """Drop the document in ``slot`` from every later score (idempotent)."""
        if self._alive[slot]:
            self._alive[slot] = 0
            self._live -= 1
            self._live_length -= self._lengths[slot]

    def alive_mask(self) -> bytes:
        """One byte per slot: 1 for a live document, 0 for a removed one."""
        return self._alive.tobytes()

    def is_live(self, slot: int) -> bool:
        """Whether ``slot`` holds a document that was not removed."""
        return bool(self._alive[slot])

    def scores(self, query_tokens: Iterable[str]) -> np.ndarray:
        """BM25 score of every slot for the query (0 for removed slots and non-matches)."""
        scores = np.zeros(len(self._alive), dtype=np.float64)
        if not self._live:
            return scores
        alive = np.frombuffer(self._alive, dtype=np.int8).astype(bool)
        lengths = np.frombuffer(self._lengths, dtype=np.float32)
        mean_length = self._live_length / self._live
        for term in dict.fromkeys(query_tokens):
            term_id = self._terms.get(term)
            if term_id is None:
                continue
            slots = np.frombuffer(self._slots[term_id], dtype=np.int32)
            freqs = np.frombuffer(self._freqs[term_id], dtype=np.float32)
            live = alive[slots]
            slots, freqs = slots[live], freqs[live]
            if not slots.size:
                continue
            idf = math.log(1.0 + (self._live - slots.size + 0.5) / (slots.size + 0.5))
            norm = self.k1 * (1.0 - self.b + self.b * lengths[slots] / mean_length)
            scores[slots] += idf * freqs / (freqs + norm)
        return scores

    def top(
        self, query_tokens: Iterable[str], k: int, keep: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` best ``(slot, score)`` with a positive score, among ``keep`` if given."""
        scores = self.scores(query_tokens)
        if keep is not None:
            scores = np.where(keep, scores, 0.0)
        candidates = np.flatnonzero(scores > 0)
        if candidates.size > k:
            candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        return [(int(slot), float(scores[slot])) for slot in order]


class ChunkSource(Protocol):
    """What :class:`ChunkIndex` needs from a store (``ArticleStore`` has all three)."""

    def generation(self) -> str:
        """A token that changes whenever chunks are added or removed."""
        ...

    def chunk_manifest(self) -> Mapping[str, Sequence[str]]:
        """Article id -> the ids of its current chunks."""
        ...

    def get_chunks(self, ids: Sequence[str]) -> list[Any]:
        """Chunks by id as documents (``id``, ``page_content``, ``metadata``)."""
        ...


class ChunkIndex:
    """BM25 over a store's chunks, synced per article when the store's generation moves.

    Holds each indexed chunk's id, text and metadata (what a BM25 hit returns) and
    per-slot arrays for the filters. Thread-safe: :meth:`search` syncs, then scores,
    under one lock.

    Example:
        >>> index = ChunkIndex(store)
        >>> [(round(score, 1), chunk_id) for score, chunk_id, _, _ in index.search(["nato"], k=1)]
        [(1.4, '348e103238df743c:1:2')]
    """

    COMPACT_AT = 0.5
    """Rebuild from memory once this share of slots holds removed chunks."""

    def __init__(self, store: ChunkSource) -> None:
        self.store = store
        self.generation: str | None = None
        self._lock = threading.RLock()
        self._reset()

    def _reset(self) -> None:
        self._bm25 = BM25Index()
        self._articles: dict[str, tuple[tuple[str, ...], list[int]]] = {}
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.metadatas: list[dict[str, Any]] = []
        self._columns: dict[str, np.ndarray] | None = None

    # -- reading -------------------------------------------------------------------
    @property
    def live_ids(self) -> list[str]:
        """Ids of the chunks currently indexed."""
        with self._lock:
            return [i for slot, i in enumerate(self.ids) if self._bm25.is_live(slot)]

    def outlets(self) -> set[str]:
        """Outlet names of the indexed chunks."""
        with self._lock:
            self.sync()
            return {
                str(m.get("source") or "")
                for slot, m in enumerate(self.metadatas)
                if self._bm25.is_live(slot)
            }

    def search(
        self, query_tokens: Sequence[str], k: int, keep: Any = None
    ) -> list[tuple[float, str, str, dict[str, Any]]]:
        """Top ``k`` hits as ``(score, chunk id, text, metadata)``.

        ``keep`` is called with the per-slot columns (``article_id``, ``source``,
        ``published_int`` arrays) and returns a boolean mask; ``None`` keeps every chunk.
        """
        with self._lock:
            self.sync()
            mask = keep(self._column_arrays()) if keep is not None else None
            return [
                (score, self.ids[slot], self.texts[slot], self.metadatas[slot])
                for slot, score in self._bm25.top(query_tokens, k, mask)
            ]

    @property
    def size(self) -> int:
        """Chunks currently indexed."""
        return self._bm25.size

    def count_passing(self, keep: Any) -> int:
        """How many indexed chunks ``keep`` (as in :meth:`search`) lets through.

        Example:
            >>> index = ChunkIndex(store)
            >>> index.sync()
            True
            >>> index.count_passing(lambda columns: columns["source"] == "Civic Wire")
            25
        """
        with self._lock:
            live = np.frombuffer(self._bm25.alive_mask(), dtype=np.int8).astype(bool)
            if keep is not None:
                live &= keep(self._column_arrays())
            return int(np.count_nonzero(live))

    # -- keeping in step -----------------------------------------------------------
    def sync(self) -> bool:
        """Bring the index in step with the store; True when anything changed.

        Example:
            >>> index = ChunkIndex(store)
            >>> index.sync(), index.size  # the first sync reads every chunk
            (True, 78)
            >>> index.sync()  # nothing changed since
            False
        """
        with self._lock:
            generation = str(self.store.generation())
            if generation == self.generation:
                return False
            manifest = {a: tuple(ids) for a, ids in self.store.chunk_manifest().items()}
            removed = [a for a in self._articles if manifest.get(a) != self._articles[a][0]]
            added = [a for a, ids in manifest.items() if self._articles.get(a, ((),))[0] != ids]
            for article_id in removed:
                self._remove_article(article_id)
            complete = self._add_articles({a: manifest[a] for a in added})
            # An article rewritten while we read it is fetched again at the next sync.
            self.generation = generation if complete else None
            if self._bm25.dead_share > self.COMPACT_AT and self._bm25.slots > 1000:
                self._compact()
            logger.debug(
                "BM25 in step with generation %s: -%d +%d articles, %d chunks",
                generation,
                len(removed),
                len(added),
                self._bm25.size,
            )
            return bool(removed or added)

    def _remove_article(self, article_id: str) -> None:
        _, slots = self._articles.pop(article_id)
        for slot in slots:
            self._bm25.remove(slot)
        self._columns = None

    def _add_articles(self, wanted: Mapping[str, tuple[str, ...]], batch: int = 2000) -> bool:
        """Read and index the chunks of ``wanted`` articles; False if some were missing."""
        complete = True
        pending = list(wanted.items())
        while pending:
            group, pending = _take(pending, batch)
            docs = {d.id: d for d in self.store.get_chunks([c for _, ids in group for c in ids])}
            present = [(a, ids) for a, ids in group if all(c in docs for c in ids)]
            complete &= len(present) == len(group)
            rows = [
                (c, docs[c].page_content, dict(docs[c].metadata or {}))
                for _, ids in present
                for c in ids
            ]
            slots = iter(self._add_chunks(rows))
            for article_id, ids in present:
                self._articles[article_id] = (ids, [next(slots) for _ in ids])
        self._columns = None
        return complete

    def _add_chunks(self, rows: Sequence[tuple[str, str, dict[str, Any]]]) -> list[int]:
        """Index ``(id, text, metadata)`` rows; the title counts as part of the text."""
        slots = self._bm25.add_many(
            [bm25_tokenize(f"{meta.get('title', '')}\n{text}") for _, text, meta in rows]
        )
        for chunk_id, text, meta in rows:
            self.ids.append(chunk_id)
            self.texts.append(text)
            self.metadatas.append(meta)
        return slots

    def _compact(self) -> None:
        """Re-index the live chunks from memory (no store read), dropping tombstones."""
        kept = [
            (article_id, ids, [(self.ids[s], self.texts[s], self.metadatas[s]) for s in slots])
            for article_id, (ids, slots) in self._articles.items()
        ]
        generation = self.generation
        self._reset()
        slots = iter(self._add_chunks([row for _, _, rows in kept for row in rows]))
        for article_id, ids, rows in kept:
            self._articles[article_id] = (ids, [next(slots) for _ in rows])
        self.generation = generation

    def _column_arrays(self) -> dict[str, np.ndarray]:
        if self._columns is None:
            metas = self.metadatas
            self._columns = {
                "article_id": np.array([str(m.get("article_id", "")) for m in metas], object),
                "source": np.array([str(m.get("source") or "") for m in metas], object),
                "published_int": np.array([int(m.get("published_int") or 0) for m in metas]),
            }
        return self._columns


def _take(items: list, size: int) -> tuple[list, list]:
    """Split off whole articles until about ``size`` chunks are taken."""
    taken, count = 0, 0
    while taken < len(items) and (count == 0 or count + len(items[taken][1]) <= size):
        count += len(items[taken][1])
        taken += 1
    return items[:taken], items[taken:]
