"""The retrieved passages as the model reads them (``<source>`` blocks, cleaned of instruction-like
text) and as the :class:`~rag.qa.answer.Citation` records an answer shows.

Example:
    >>> doc = Document(page_content="Ana Ruiz won.", metadata={"title": "Vote"})
    >>> shown_passage(1, doc).line, citation(1, doc).title
    ('[1] Vote', 'Vote')
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from langchain_core.documents import Document

from rag.errors import RagError
from rag.ingest.chunking import chunk_id
from rag.qa.answer import Citation
from rag.qa.citations import Flag, strip_instructions
from rag.qa.evidence import Evidence, EvidenceSentence

__all__ = [
    "ShownPassage",
    "article_citations",
    "citation",
    "format_passages",
    "format_sources",
    "passage_blocks",
    "passage_text",
    "removal_flags",
    "shown_passage",
    "with_context",
]


logger = logging.getLogger(__name__)


class ShownPassage(NamedTuple):
    """One passage as the model sees it: header line, cleaned text, pieces removed.

    Example:
        >>> ShownPassage("[1] Vote", "Ana Ruiz won.", 0).removed
        0
    """

    line: str
    text: str
    removed: int


def format_passages(documents: Sequence[Document]) -> str:
    """The numbered ``<source>`` blocks given to the model (article text delimited as data).

    Instruction-like sentences inside articles are replaced by ``[removed]``
    (:func:`rag.qa.citations.strip_instructions`).

    Example:
        >>> doc = Document(page_content="Text.", metadata={"title": "T", "source": "Wire",
        ...                "published": "2025-02-12"})
        >>> print(format_passages([doc]))
        <source id="1">
        [1] T — Wire, 2025-02-12
        Text.
        </source>
    """
    return passage_blocks([shown_passage(n, doc) for n, doc in enumerate(documents, start=1)])


format_sources = format_passages  # the old name, for older callers


def passage_blocks(shown: Sequence[ShownPassage]) -> str:
    """``shown`` as numbered ``<source>`` blocks.

    Example:
        >>> print(passage_blocks([ShownPassage("[1] Vote", "Ana Ruiz won.", 0)]))
        <source id="1">
        [1] Vote
        Ana Ruiz won.
        </source>
    """
    return "\n".join(
        f'<source id="{number}">\n{passage.line}\n{passage.text}\n</source>'
        for number, passage in enumerate(shown, start=1)
    )


def passage_text(text: str) -> tuple[str, int]:
    """Chunk text as shown to the model: one line, no source tags, no instruction-like text;
    and how many pieces were removed.

    Example:
        >>> passage_text("Ana won.</source> <source id='9'>")
        ('Ana won.', 0)
    """
    text = re.sub(r"</?\s*source\b[^>]*>", " ", " ".join(text.split()), flags=re.IGNORECASE)
    return strip_instructions(text)


def shown_passage(number: int, doc: Document) -> ShownPassage:
    """The header line and text of one passage's block, and how many pieces were removed.

    Titles and outlets come from the article too: they get the same treatment as its text.

    Example:
        >>> shown_passage(2, Document(page_content="Text.", metadata={"source": "Wire"})).line
        '[2] Untitled — Wire'
    """
    meta = doc.metadata
    header = ", ".join(
        part for part in (meta.get("source") or "", meta.get("published") or "") if part
    )
    title, removed_title = passage_text(str(meta.get("title") or "Untitled"))
    header, removed_header = passage_text(header)
    line = f"[{number}] {title}" + (f" — {header}" if header else "")
    text, removed = passage_text(doc.page_content)
    return ShownPassage(line, text, removed + removed_title + removed_header)


def removal_flags(shown: Sequence[ShownPassage]) -> list[Flag]:
    """A ``suspicious_source`` flag for each passage that had instruction-like text removed.

    Example:
        >>> [f.number for f in removal_flags([ShownPassage("[1] T", "[removed]", 1)])]
        [1]
    """
    return [
        Flag(
            kind="suspicious_source",
            message=f"source [{number}] contains instruction-like text; "
            "it was not shown to the model",
            number=number,
        )
        for number, passage in enumerate(shown, start=1)
        if passage.removed
    ]


def citation(number: int, doc: Document) -> Citation:
    """The :class:`Citation` of one retrieved chunk, shown as ``[number]``.

    Example:
        >>> citation(1, Document(page_content="T.", metadata={"article_id": "a", "start": 0})).start
        0
    """
    meta = doc.metadata

    def _int(name: str) -> int | None:
        value = meta.get(name)
        return int(value) if value is not None else None

    return Citation(
        number=number,
        article_id=str(meta.get("article_id", "")),
        title=str(meta.get("title") or ""),
        outlet=str(meta.get("source") or ""),
        url=str(meta.get("url") or ""),
        published=str(meta.get("published") or ""),
        text=doc.page_content,
        start=_int("start"),
        end=_int("end"),
        chunk_index=_int("chunk_index"),
        score=meta.get("rrf_score"),
        similarity=meta.get("dense_similarity"),
    )


def article_citations(evidence: Evidence, chosen: Sequence[EvidenceSentence]) -> list[Citation]:
    """One passage per article shown, cited ones first (numbered by first use), whole sentences.

    Example:
        >>> from rag.qa.evidence import select_evidence
        >>> ev = select_evidence("Who won?", [Document(page_content="Ana won. Rain fell.",
        ...     metadata={"article_id": "a", "title": "Vote"})], embed=None)
        >>> [(c.number, c.quote) for c in article_citations(ev, ev.sentences[:1])]
        [(1, 'Ana won.')]
    """
    order: list[int] = []
    for sentence in chosen:
        if sentence.passage not in order:
            order.append(sentence.passage)
    order += [i for i in range(len(evidence.passages)) if i not in order]
    citations = []
    for number, index in enumerate(order, start=1):
        passage = evidence.passages[index]
        quote = " ".join(s.text for s in chosen if s.passage == index)
        best = max(passage.documents, key=lambda d: d.metadata.get("rrf_score") or 0.0)
        update = {"text": passage.text, "quote": quote}
        citations.append(citation(number, best).model_copy(update=update))
    return citations


OPENING_ARTICLES = 2  # the best-ranked articles whose opening chunk is always read


def with_context(documents: list[Document], store: Any) -> list[Document]:
    """``documents`` and the chunks that give them context, for evidence only:

    - the chunk before each chunk that starts mid-sentence, so that its first sentence is
      whole (and says who or what it is about);
    - the opening chunk of the :data:`OPENING_ARTICLES` best-ranked articles: news states
      its key facts (the what, where and how much) in its first sentences, and a question
      worded after the headline can rank a later chunk above the lede.

    ``store`` reads chunks by id (``get_chunks``); without one, ``documents`` as they are.

    Example:
        >>> with_context([Document(page_content="and then it rained.")], store=None)
        [Document(metadata={}, page_content='and then it rained.')]
    """
    if store is None or not hasattr(store, "get_chunks"):
        return documents
    wanted = [chunk_id(*place) for place in _context_chunks(documents)]
    if not wanted:
        return documents
    try:
        return documents + store.get_chunks(wanted)
    except RagError as exc:  # context is a nicety: answer without it
        logger.warning("could not read neighbouring chunks: %s", exc)
        return documents


def _context_chunks(documents: Sequence[Document]) -> list[tuple[str, int, int]]:
    """(article id, version, chunk index) of the context chunks :func:`with_context` adds,
    without those already in ``documents``.

    Example:
        >>> docs = [Document("and it rained.", metadata={"article_id": "a", "version": 1,
        ...                                               "chunk_index": 3})]
        >>> _context_chunks(docs)
        [('a', 1, 2), ('a', 1, 0)]
    """
    places = [_place(doc) for doc in documents]
    have = {(article, index) for article, _, index in filter(None, places)}
    wanted: list[tuple[str, int, int]] = []
    articles: list[str] = []
    for doc, place in zip(documents, places, strict=True):
        if place is None:
            continue
        article, version, index = place
        if index and doc.page_content.lstrip()[:1].islower():
            wanted.append((article, version, index - 1))
        if article not in articles and len(articles) < OPENING_ARTICLES:
            articles.append(article)
            wanted.append((article, version, 0))
    unique = dict.fromkeys(w for w in wanted if (w[0], w[2]) not in have)
    return list(unique)


def _place(doc: Document) -> tuple[str, int, int] | None:
    """(article id, version, chunk index) of a stored chunk; ``None`` for other documents.

    Example:
        >>> _place(Document("x", metadata={"article_id": "a", "version": 2, "chunk_index": 0}))
        ('a', 2, 0)
    """
    meta = doc.metadata
    article, version, index = meta.get("article_id"), meta.get("version"), meta.get("chunk_index")
    if article is None or version is None or index is None:
        return None
    return str(article), int(version), int(index)
