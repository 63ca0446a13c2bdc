"""Split article text into overlapping chunks that fit the embedder, on sentence boundaries.

Chunks are measured in the embedder's word pieces (the all-MiniLM-L6-v2 WordPiece
tokenizer by default, loaded without the ONNX model). Paragraphs and sentences are
kept whole when they fit; a sentence longer than a chunk is split between words.
Neighbouring chunks share up to ``chunk_overlap`` word pieces of whole sentences (or
the tail words of the last sentence when no whole sentence fits).

Offsets are exact: ``chunk.text == article.text[chunk.start:chunk.end]``. The text that
gets embedded is the title, a newline, then the chunk (:func:`embedding_text`), and the
chunk budget leaves room for the title inside the model's 256 word pieces.

Example:
    >>> from rag.ingest.chunking import Chunker
    >>> chunker = Chunker(chunk_tokens=40, chunk_overlap=8, count_tokens=lambda s: len(s.split()))
    >>> text = " ".join(f"Sentence number {i} is here." for i in range(30))
    >>> chunks = chunker.split(text)
    >>> all(c.text == text[c.start:c.end] for c in chunks), len(chunks) > 1
    (True, True)
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.text import estimate_word_pieces, paragraph_spans, sentence_spans

if TYPE_CHECKING:
    from rag.ingest.article import Article
    from rag.settings import Settings

logger = logging.getLogger(__name__)

TokenCounter = Callable[[str], int]

MODEL_MAX_TOKENS = 256  # all-MiniLM-L6-v2 position limit used by the embedder
SPECIAL_TOKENS = 2  # [CLS] and [SEP]
MAX_TITLE_TOKENS = 48  # longer titles are cut in the embedded prefix
MIN_BUDGET = 32
# A chunk never holds more characters than this per word piece of its budget. Real text
# has about 4-5 characters per word piece; a long run the tokenizer counts as one unknown
# piece (a 5 MB "word", a line of punctuation) would otherwise make one giant chunk.
MAX_CHARS_PER_TOKEN = 10
PARAGRAPH_BREAK_FILL = 0.6  # start a new chunk at a paragraph once this full


@dataclass(frozen=True)
class Chunk:
    """A slice of an article's text: ``text == article.text[start:end]``.

    Example:
        >>> Chunk(index=0, start=0, end=5, text="Hello", tokens=1).end
        5
    """

    index: int
    start: int
    end: int
    text: str
    tokens: int


@dataclass(frozen=True)
class ArticleChunk:
    """A chunk ready for the store: id, stored text, embedded text and Chroma metadata.

    Example:
        >>> ArticleChunk("abc:1:0", "Body", "Title\\nBody", {"chunk_index": 0}).id
        'abc:1:0'
    """

    id: str
    text: str
    embed_text: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int
    paragraph: int
    para_start: bool
    heading: bool = False


# --------------------------------------------------------------------------- token counting
@functools.lru_cache(maxsize=1)
def default_token_counter() -> TokenCounter:
    """Count word pieces with the embedder's tokenizer (no special tokens, no truncation).

    Loads only the tokenizer file (no ONNX model). Falls back to a conservative word
    estimate when the tokenizer cannot be loaded.

    Example:
        >>> default_token_counter()("Ceasefire talks resume")
        3
    """
    try:
        from rag.models.embeddings import embedding_tokenizer

        tokenizer = embedding_tokenizer()
        tokenizer.no_truncation()
        tokenizer.no_padding()
    except Exception as exc:  # ImportError, ModelError: degrade to an estimate
        logger.warning("embedder tokenizer unavailable (%s); estimating chunk sizes", exc)
        return estimate_word_pieces

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    return count


def chunk_id(article_id: str, version: int, index: int) -> str:
    """Chroma id of one chunk: article id, article version and chunk index.

    Example:
        >>> chunk_id("8782db0870783fc4", 2, 0)
        '8782db0870783fc4:2:0'
    """
    return f"{article_id}:{version}:{index}"


def embedding_text(title: str, chunk_text: str) -> str:
    """What gets embedded for a chunk: the title, a newline, the chunk text.

    Example:
        >>> embedding_text("Floods", "Rain fell.")
        'Floods\\nRain fell.'
    """
    return f"{title}\n{chunk_text}" if title else chunk_text


def published_int(published: str | None) -> int:
    """``YYYY-MM-DD`` as the integer ``YYYYMMDD`` (0 when unknown), for range filters.

    Example:
        >>> published_int("2025-02-14"), published_int(None)
        (20250214, 0)
    """
    return int(published.replace("-", "")) if published else 0


def chunk_metadata(article: Article, chunk: Chunk, version: int) -> dict[str, Any]:
    """Chroma metadata of a chunk (the keys every consumer relies on).

    Example:
        >>> from rag.ingest.article import Article
        >>> a = Article.create(title="T", text="Body.", published="2025-02-14")
        >>> chunk_metadata(a, Chunk(0, 0, 5, "Body.", 2), 1)["published_int"]
        20250214
    """
    return {
        "article_id": article.id,
        "chunk_index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "title": article.title,
        "source": article.outlet or "",  # the stored key keeps its old name
        "url": article.url or "",
        "published": article.published or "",
        "published_int": published_int(article.published),
        "version": version,
    }


_WORD = re.compile(r"\S+")


# --------------------------------------------------------------------------- chunker
class Chunker:
    """Sentence- and paragraph-aware splitter measured in embedder word pieces.

    ``count_tokens`` defaults to the embedder's tokenizer (loaded on first use).

    Example:
        >>> chunker = Chunker(chunk_tokens=64, chunk_overlap=10, count_tokens=len)
        >>> [c.index for c in chunker.split("One. Two. Three.")]
        [0]
    """

    def __init__(
        self,
        chunk_tokens: int = 180,
        chunk_overlap: int = 30,
        count_tokens: TokenCounter | None = None,
        *,
        max_tokens: int = MODEL_MAX_TOKENS,
    ) -> None:
        if chunk_tokens < 1 or chunk_overlap < 0 or chunk_overlap >= chunk_tokens:
            raise ValueError("need chunk_tokens >= 1 and 0 <= chunk_overlap < chunk_tokens")
        self.chunk_tokens = chunk_tokens
        self.chunk_overlap = chunk_overlap
        self.max_tokens = max_tokens
        if count_tokens is not None:
            self.count_tokens = count_tokens  # given: the tokenizer is never loaded

    @classmethod
    def from_settings(cls, settings: Settings, count_tokens: TokenCounter | None = None) -> Chunker:
        """A chunker with ``RAG_CHUNK_TOKENS`` and ``RAG_CHUNK_OVERLAP``.

        Example:
            >>> from rag.settings import load_settings
            >>> Chunker.from_settings(load_settings()).chunk_tokens
            180
        """
        return cls(settings.chunk_tokens, settings.chunk_overlap, count_tokens)

    @functools.cached_property
    def count_tokens(self) -> TokenCounter:
        """The word-piece counter in use."""
        return default_token_counter()

    # -- public ---------------------------------------------------------------
    def title_prefix(self, title: str) -> str:
        """The title as embedded: cut to at most ``MAX_TITLE_TOKENS`` word pieces.

        Example:
            >>> Chunker(count_tokens=lambda s: len(s.split())).title_prefix("Short title")
            'Short title'
        """
        if self.count_tokens(title) <= MAX_TITLE_TOKENS:
            return title
        words, kept = title.split(), []
        for word in words:
            if self.count_tokens(" ".join([*kept, word])) > MAX_TITLE_TOKENS:
                break
            kept.append(word)
        return " ".join(kept)

    def budget_for(self, title: str) -> int:
        """Word pieces available to a chunk embedded after ``title``.

        Example:
            >>> Chunker(180, 30, count_tokens=lambda s: len(s.split())).budget_for("A title")
            180
        """
        room = self.max_tokens - SPECIAL_TOKENS - 1 - self.count_tokens(title) if title else 1e9
        return max(MIN_BUDGET, min(self.chunk_tokens, int(room)))

    def split(self, text: str, budget: int | None = None) -> list[Chunk]:
        """Split ``text`` into chunks of at most ``budget`` word pieces (default: chunk_tokens).

        Example:
            >>> chunks = Chunker(20, 5, count_tokens=lambda s: len(s.split())).split("A b. " * 30)
            >>> max(c.tokens for c in chunks) <= 20
            True
        """
        budget = budget or self.chunk_tokens
        overlap = min(self.chunk_overlap, budget // 2)
        max_chars = budget * MAX_CHARS_PER_TOKEN
        units = self._units(text, budget, max_chars)
        groups = _pack(
            units, budget, overlap, self._tail_unit(text), self._measure(text), max_chars
        )
        return [
            Chunk(i, g[0].start, g[-1].end, text[g[0].start : g[-1].end], sum(u.tokens for u in g))
            for i, g in enumerate(groups)
        ]

    def chunk_article(self, article: Article, version: int = 1) -> list[ArticleChunk]:
        """Chunks of an article with ids, metadata and the title-prefixed text to embed.

        Example:
            >>> from rag.ingest.article import Article
            >>> a = Article.create(title="Floods", text="Rain fell. Rivers rose.")
            >>> [c.embed_text for c in Chunker(count_tokens=len).chunk_article(a)]
            ['Floods\\nRain fell. Rivers rose.']
        """
        prefix = self.title_prefix(article.title)
        chunks = self.split(article.text, self.budget_for(prefix))
        return [
            ArticleChunk(
                id=chunk_id(article.id, version, chunk.index),
                text=chunk.text,
                embed_text=embedding_text(prefix, chunk.text),
                metadata=chunk_metadata(article, chunk, version),
            )
            for chunk in chunks
        ]

    # -- units ------------------------------------------------------------------
    def _units(self, text: str, budget: int, max_chars: int) -> list[_Unit]:
        units: list[_Unit] = []
        for number, (p_start, p_end) in enumerate(paragraph_spans(text)):
            pieces = [
                piece
                for s_start, s_end in sentence_spans(text, p_start, p_end)
                for piece in self._fit(text, s_start, s_end, budget, max_chars)
            ]
            heading = len(pieces) == 1 and _looks_like_heading(text[p_start:p_end])
            for k, (start, end, tokens) in enumerate(pieces):
                units.append(_Unit(start, end, tokens, number, k == 0, heading))
        return units

    def _fit(
        self, text: str, start: int, end: int, budget: int, max_chars: int
    ) -> list[tuple[int, int, int]]:
        """Split a span into pieces of at most ``budget`` tokens and ``max_chars`` characters:
        whole, by words, by characters."""
        if end - start <= max_chars:
            tokens = self.count_tokens(text[start:end])
            if tokens <= budget:
                return [(start, end, tokens)]
        words = ((m.start(), m.end()) for m in _WORD.finditer(text, start, end))
        first = next(words, None)
        second = next(words, None)
        if first is None or second is None:
            return self._split_chars(text, start, end, budget, max_chars)
        return self._pack_words(text, itertools.chain((first, second), words), budget, max_chars)

    def _pack_words(
        self, text: str, words: Iterable[tuple[int, int]], budget: int, max_chars: int
    ) -> list[tuple[int, int, int]]:
        """Greedy runs of whole words within the limits; words are read lazily, so a
        sentence of a million words never holds a million counts in memory."""
        source = iter(words)
        window: deque[tuple[int, int, int]] = deque()  # (start, end, tokens) not yet packed

        def available(n: int) -> bool:
            while len(window) < n:
                span = next(source, None)
                if span is None:
                    return False
                s, e = span
                count = self.count_tokens(text[s:e]) if e - s <= max_chars else budget + 1
                window.append((s, e, count))
            return True

        pieces: list[tuple[int, int, int]] = []
        while available(1):
            first_start, first_end, first_count = window[0]
            if first_count > budget:
                window.popleft()
                pieces.extend(self._split_chars(text, first_start, first_end, budget, max_chars))
                continue
            m, total = 0, 0
            while (
                available(m + 1)
                and window[m][2] <= budget
                and total + window[m][2] <= budget
                and window[m][1] - first_start <= max_chars
            ):
                total += window[m][2]
                m += 1
            real = self.count_tokens(text[first_start : window[m - 1][1]])
            while real > budget and m > 1:
                m -= 1
                real = self.count_tokens(text[first_start : window[m - 1][1]])
            pieces.append((first_start, window[m - 1][1], real))
            for _ in range(m):
                window.popleft()
        return pieces

    def _split_chars(
        self, text: str, start: int, end: int, budget: int, max_chars: int
    ) -> list[tuple[int, int, int]]:
        pieces = []
        while start < end:
            lo, hi = start + 1, min(end, start + max_chars)
            while lo < hi:  # longest prefix that fits
                mid = (lo + hi + 1) // 2
                if self.count_tokens(text[start:mid]) <= budget:
                    lo = mid
                else:
                    hi = mid - 1
            pieces.append((start, lo, self.count_tokens(text[start:lo])))
            start = lo
        return pieces

    def _tail_unit(self, text: str) -> Callable[[_Unit, int], _Unit | None]:
        def tail(unit: _Unit, overlap: int) -> _Unit | None:
            """The longest run of whole trailing words of ``unit`` within ``overlap``."""
            starts = [m.start() for m in re.finditer(r"(?<=\s)\S", text[unit.start : unit.end])]
            best = None
            for offset in reversed(starts):
                start = unit.start + offset
                tokens = self.count_tokens(text[start : unit.end])
                if tokens > overlap:
                    break
                best = _Unit(start, unit.end, tokens, unit.paragraph, False)
            return best

        return tail

    def _measure(self, text: str) -> Callable[[int, int], int]:
        return lambda start, end: self.count_tokens(text[start:end])


def _pack(
    units: list[_Unit],
    budget: int,
    overlap: int,
    tail: Callable[[_Unit, int], _Unit | None],
    measure: Callable[[int, int], int],
    max_chars: int | None = None,
) -> list[list[_Unit]]:
    """Greedy packing of units into chunks, preferring paragraph breaks, with overlap.

    A chunk holds at most ``budget`` tokens and (when given) ``max_chars`` characters.
    """
    groups: list[list[_Unit]] = []
    i = 0
    while i < len(units):
        room = min(overlap, budget - units[i].tokens)
        carry = _overlap(groups[-1], room, tail) if groups and room > 0 else []
        if carry and max_chars is not None and units[i].end - carry[0].start > max_chars:
            carry = []
        group, tokens = list(carry), sum(u.tokens for u in carry)
        j = i
        while j < len(units):
            unit = units[j]
            if j > i and tokens + unit.tokens > budget:
                break
            if j > i and max_chars is not None and unit.end - group[0].start > max_chars:
                break
            if (
                j > i
                and unit.para_start
                and tokens >= budget * PARAGRAPH_BREAK_FILL
                and tokens + _paragraph_tokens(units, j) > budget
            ):
                break
            group.append(unit)
            tokens += unit.tokens
            j += 1
        while j - i > 1 and measure(group[0].start, group[-1].end) > budget:
            group.pop()  # the tokenizer is not additive at this boundary: give one back
            j -= 1
        while j - i > 1 and j < len(units) and group[-1].heading:
            group.pop()  # a heading opens the next chunk instead of closing this one
            j -= 1
        groups.append(group)
        i = j
    return groups


def _looks_like_heading(paragraph: str) -> bool:
    stripped = paragraph.strip().lstrip("#").strip()
    return 0 < len(stripped.split()) <= 15 and not stripped.endswith(
        (".", "!", "?", ":", ";", ",", '"', "”", "’", "…")
    )


def _paragraph_tokens(units: list[_Unit], j: int) -> int:
    total, paragraph = 0, units[j].paragraph
    while j < len(units) and units[j].paragraph == paragraph:
        total += units[j].tokens
        j += 1
    return total


def _overlap(
    group: list[_Unit], overlap: int, tail: Callable[[_Unit, int], _Unit | None]
) -> list[_Unit]:
    if overlap <= 0:
        return []
    carry: list[_Unit] = []
    total = 0
    for unit in reversed(group[1:] if len(group) > 1 else group):
        if total + unit.tokens > overlap:
            break
        carry.insert(0, unit)
        total += unit.tokens
    if len(carry) == len(group):
        carry = carry[1:]  # always move forward
    if carry:
        return carry
    piece = tail(group[-1], overlap)
    return [piece] if piece is not None and piece.start > group[0].start else []


def split_text(
    text: str,
    chunk_tokens: int = 180,
    chunk_overlap: int = 30,
    count_tokens: TokenCounter | None = None,
) -> list[Chunk]:
    """Shortcut for ``Chunker(chunk_tokens, chunk_overlap, count_tokens).split(text)``.

    Example:
        >>> [c.text for c in split_text("One. Two.", count_tokens=lambda s: len(s.split()))]
        ['One. Two.']
    """
    return Chunker(chunk_tokens, chunk_overlap, count_tokens).split(text)
