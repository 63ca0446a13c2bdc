"""Evidence selection: the few sentences of the retrieved passages most likely to hold the answer.

A small model answers best from a short, numbered list of sentences rather than from whole
chunks. :func:`select_evidence` splits the retrieved chunks into sentences, scores each one
against the question (cosine similarity of embeddings plus IDF-weighted term overlap),
keeps the best few under a token budget (with a neighbour on each side for context, and at
least one sentence from each strongly matching article so multi-article questions see
both sides), and groups them by article under a header with the article's title, outlet
and date. The model is then asked for sentence numbers first and the answer second, so
citations come from the sentences it chose.

Example:
    >>> from langchain_core.documents import Document
    >>> doc = Document(page_content="The council met. It approved a 3 million budget. "
    ...                "Snow fell.", metadata={"article_id": "a", "title": "Council"})
    >>> ev = select_evidence("How big is the budget?", [doc], embed=None)
    >>> [s.text for s in ev.sentences if s.anchor]
    ['It approved a 3 million budget.']
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from langchain_core.documents import Document

from rag.qa.question_parts import question_parts
from rag.qa.relative_dates import date_relative_days
from rag.retrieval.lexical import bm25_tokenize
from rag.text import estimate_llm_tokens, paragraph_spans, sentence_spans

__all__ = ["Evidence", "EvidenceSentence", "Passage", "select_evidence"]

Embedder = Callable[[list[str]], list[list[float]]] | None
"""Embeds texts (e.g. ``LocalEmbeddings.embed_documents``); ``None``: lexical scores only."""
Cleaner = Callable[[str], str]
"""Makes one sentence safe to show the model (e.g. removes instruction-like text)."""
REMOVED = "[removed]"

MAX_SENTENCE_CHARS = 600  # a run-on "sentence" (tables, lists) is cut for the prompt
DENSE_WEIGHT = 0.5
LEXICAL_WEIGHT = 0.5
RANK_PRIOR = 0.05  # a small nudge towards the retriever's own order
SECOND_ARTICLE_RATIO = 0.75  # another article's best sentence this close to the best joins
ANCHOR_RATIO = 0.5  # further anchors must score at least this share of the best sentence
NEIGHBOURED_ANCHORS = 3  # the best anchors also get the sentence before and after
TITLE_CREDIT = 1.0  # a question term in the title: every sentence of that article is about it


@dataclass
class Passage:
    """One article's part of the evidence: its header fields and the retrieved chunk(s).

    Example:
        >>> Passage(article_id="a", title="T", outlet="Wire", published="2025-01-02").header
        'T (Wire, 2025-01-02)'
    """

    article_id: str
    title: str
    outlet: str = ""
    published: str = ""
    documents: list[Document] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The retrieved chunks as stored, overlaps merged, gaps marked with an ellipsis."""
        return " … ".join(text.strip() for text, _ in _segments(self, {}))

    @property
    def header(self) -> str:
        """Title with outlet and date, as the model sees it."""
        extra = ", ".join(p for p in (self.outlet, self.published) if p)
        return f"{self.title} ({extra})" if extra else self.title


@dataclass
class EvidenceSentence:
    """One sentence shown to the model; ``anchor`` marks a selected (not context) sentence.

    Example:
        >>> EvidenceSentence(number=1, text="It rained.", passage=0, position=(0, 0)).anchor
        False
    """

    number: int
    text: str
    passage: int
    position: tuple[int, int]
    """(segment of merged chunks within the passage, sentence index within the segment)."""
    score: float = 0.0
    lexical: float = 0.0
    dense: float = 0.0
    anchor: bool = False
    shown: str = ""
    """The text as the model reads it (relative days dated); '' when it is ``text``."""
    following: str = ""
    """The article's next sentence in the retrieved text (cleaned), shown or not; '' at the end."""

    @property
    def seen(self) -> str:
        """What the model reads: ``text`` with weekdays and "yesterday" dated by the article.

        Example:
            >>> EvidenceSentence(number=1, text="It rained.", passage=0, position=(0, 0)).seen
            'It rained.'
        """
        return self.shown or self.text


@dataclass
class Evidence:
    """The numbered sentences given to the model, grouped by article.

    Example:
        >>> Evidence(passages=[], sentences=[]).render()
        ''
    """

    passages: list[Passage]
    sentences: list[EvidenceSentence]

    def render(self) -> str:
        """The evidence block of the prompt: article headers, then numbered sentences."""
        lines: list[str] = []
        current = -1
        for sentence in self.sentences:
            if sentence.passage != current:
                current = sentence.passage
                letter = _article_label(current)
                lines.append(f"Article {letter}: {self.passages[current].header}")
            lines.append(f"[{sentence.number}] {sentence.seen}")
        return "\n".join(lines)

    def render_excerpts(self) -> str:
        """The evidence as plain excerpts: each article's header, then its sentences as
        running text (adjacent ones joined, an ellipsis where text was left out).

        Example:
            >>> from langchain_core.documents import Document
            >>> doc = Document(page_content="Ana Ruiz won. Turnout was 40%.",
            ...                metadata={"article_id": "a", "title": "Vote"})
            >>> print(select_evidence("Who won?", [doc], embed=None).render_excerpts())
            Article A: Vote
            Ana Ruiz won. Turnout was 40%.
        """
        blocks: list[str] = []
        previous: EvidenceSentence | None = None
        for sentence in self.sentences:
            if previous is None or sentence.passage != previous.passage:
                header = self.passages[sentence.passage].header
                blocks.append(f"Article {_article_label(sentence.passage)}: {header}\n")
            elif _follows(previous, sentence):
                blocks[-1] += " "
            else:
                blocks[-1] += " … "
            blocks[-1] += sentence.seen
            previous = sentence
        return "\n\n".join(blocks)

    @property
    def numbers(self) -> list[int]:
        """Every sentence number shown."""
        return [s.number for s in self.sentences]

    def by_number(self, number: int) -> EvidenceSentence | None:
        """The sentence shown as ``[number]``, if any."""
        for sentence in self.sentences:
            if sentence.number == number:
                return sentence
        return None

    def next_sentence(self, sentence: EvidenceSentence) -> EvidenceSentence | None:
        """The article's sentence after ``sentence``: the shown one, else one numbered after
        the last shown, for citations to quote (``sentences`` is left as it is: the parts
        of a compound question share it, and their prompts stay the same); ``None`` at the
        end of the retrieved text.

        Example:
            >>> from langchain_core.documents import Document
            >>> doc = Document(page_content="Ana Ruiz won. She said rents would fall. Rain fell.",
            ...                metadata={"article_id": "a", "title": "Vote"})
            >>> ev = select_evidence("Who won?", [doc], embed=None, budget_tokens=14, max_anchors=1)
            >>> [s.text for s in ev.sentences]
            ['Ana Ruiz won.']
            >>> after = ev.next_sentence(ev.sentences[0])
            >>> after.text, after.number, len(ev.sentences)
            ('She said rents would fall.', 2, 1)
        """
        if not sentence.following:
            return None
        segment, index = sentence.position
        place = (segment, index + 1)
        for shown in self.sentences:
            if shown.passage == sentence.passage and shown.position == place:
                return shown
        return EvidenceSentence(
            number=max(self.numbers, default=0) + 1,
            text=sentence.following,
            shown=_dated(sentence.following, self.passages[sentence.passage].published),
            passage=sentence.passage,
            position=place,
        )

    @property
    def best(self) -> EvidenceSentence | None:
        """The highest-scoring sentence."""
        return max(self.sentences, key=lambda s: s.score, default=None)


def _follows(before: EvidenceSentence, after: EvidenceSentence) -> bool:
    """True when ``after`` comes right after ``before`` in the article."""
    segment, index = before.position
    return after.position == (segment, index + 1)


def _article_label(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else str(index + 1)


@dataclass
class _Candidate:
    passage: int
    segment: int
    index: int
    text: str
    rank: int
    lexical: float = 0.0
    dense: float = 0.0
    score: float = 0.0
    part_scores: list[float] = field(default_factory=list)


def _group_passages(documents: Sequence[Document]) -> list[Passage]:
    """One passage per article, in the order its first chunk was retrieved."""
    passages: dict[str, Passage] = {}
    for doc in documents:
        meta = doc.metadata
        key = str(meta.get("article_id") or meta.get("title") or id(doc))
        if key not in passages:
            passages[key] = Passage(
                article_id=str(meta.get("article_id") or ""),
                title=" ".join(str(meta.get("title") or "Untitled").split()),
                outlet=str(meta.get("source") or ""),
                published=str(meta.get("published") or ""),
            )
        passages[key].documents.append(doc)
    for passage in passages.values():
        passage.documents.sort(key=lambda d: d.metadata.get("start") or 0)
    return list(passages.values())


def _segments(passage: Passage, rank_of: dict[int, int]) -> list[tuple[str, int]]:
    """The passage's chunks as continuous texts: overlapping or touching chunks are merged
    by their offsets, so a sentence cut at a chunk edge is whole again. Each with its best
    retrieval rank."""
    segments: list[list] = []  # [text, end offset or None, rank]
    for doc in passage.documents:  # sorted by start offset
        start, text = doc.metadata.get("start"), doc.page_content
        rank = rank_of.get(id(doc), len(rank_of))
        last = segments[-1] if segments else None
        if last is not None and last[1] is not None and start is not None and start <= last[1]:
            last[0] += text[last[1] - start :]
            last[1] = max(last[1], start + len(text))
            last[2] = min(last[2], rank)
            continue
        segments.append([text, None if start is None else start + len(text), rank])
    return [(text, rank) for text, _, rank in segments]


def _sentences(text: str, clean: Cleaner | None) -> list[str]:
    """Whole sentences of one segment, paragraph by paragraph, cleaned; headings dropped."""
    out: list[str] = []
    for start, end in paragraph_spans(text):
        paragraph = text[start:end]
        if paragraph.lstrip().startswith("#"):
            continue  # a Markdown heading, not a statement
        for sentence in _quote_whole(paragraph):
            if clean is not None:
                sentence = clean(sentence)
            if len(sentence) < 2 or sentence == REMOVED:
                continue
            out.append(sentence[:MAX_SENTENCE_CHARS])
    if out and out[0][:1].islower():
        out[0] = "…" + out[0]  # the chunk starts mid-sentence
    return out


def _quote_whole(paragraph: str) -> list[str]:
    """The paragraph's sentences, a quotation that runs over several kept in one piece
    ('Hegseth answered: "No. There will be no US troops."' is one statement)."""
    out: list[str] = []
    open_quote = False
    for start, end in sentence_spans(paragraph):
        sentence = " ".join(paragraph[start:end].split())
        if open_quote and out:
            out[-1] = f"{out[-1]} {sentence}"
        else:
            out.append(sentence)
        open_quote = _opens_quote(out[-1])
    return out


def _opens_quote(text: str) -> bool:
    """True when ``text`` leaves a double quotation mark open."""
    return text.count('"') % 2 == 1 or text.count("“") > text.count("”")


def _candidates(
    passages: Sequence[Passage], documents: Sequence[Document], clean: Cleaner | None
) -> list[_Candidate]:
    """Every distinct sentence of the retrieved chunks, in article order."""
    rank_of = {id(doc): rank for rank, doc in enumerate(documents)}
    seen: set[tuple[int, str]] = set()
    out: list[_Candidate] = []
    for p_index, passage in enumerate(passages):
        for g_index, (text, rank) in enumerate(_segments(passage, rank_of)):
            index = 0
            for sentence in _sentences(text, clean):
                key = (p_index, sentence.lower())
                if key in seen:
                    continue
                seen.add(key)
                out.append(_Candidate(p_index, g_index, index, sentence, rank))
                index += 1
    return out


def _lexical_scores(question: str, texts: Sequence[str], titles: Sequence[str]) -> list[float]:
    """IDF-weighted share of the question's terms in each sentence; a term in the article
    title counts for every sentence of that article."""
    terms = list(dict.fromkeys(bm25_tokenize(question)))
    if not terms or not texts:
        return [0.0] * len(texts)
    bags = [set(bm25_tokenize(t)) for t in texts]
    title_bags = [set(bm25_tokenize(t)) for t in titles]
    df = Counter(term for bag in bags for term in set(terms) & bag)
    n = len(bags)
    idf = {t: math.log((n + 1) / (df[t] + 0.5)) + 1.0 for t in terms}
    total = sum(idf.values())
    scores = []
    for bag, title_bag in zip(bags, title_bags, strict=True):
        hit = sum(
            idf[t] if t in bag else TITLE_CREDIT * idf[t] if t in title_bag else 0.0 for t in terms
        )
        scores.append(hit / total)
    return scores


def _dense_scores(
    queries: Sequence[str], texts: Sequence[str], embed: Embedder
) -> list[list[float]]:
    """Cosine similarity of each query to each text (one embedding call for all)."""
    if embed is None or not texts:
        return [[0.0] * len(texts) for _ in queries]
    vectors = np.asarray(embed([*queries, *texts]), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1)
    norms[norms == 0] = 1.0
    vectors /= norms[:, None]
    n = len(queries)
    return (vectors[:n] @ vectors[n:].T).tolist()


def _score(
    queries: Sequence[str],
    candidates: list[_Candidate],
    passages: Sequence[Passage],
    embed: Embedder,
) -> None:
    """Score every candidate against each query: the whole question first, then its parts
    (``part_scores``) when it has more than one."""
    texts = [c.text for c in candidates]
    titles = [passages[c.passage].title for c in candidates]
    dense = _dense_scores(queries, texts, embed)
    weight = DENSE_WEIGHT if embed is not None else 0.0
    for q_index, query in enumerate(queries):
        lexical = _lexical_scores(query, texts, titles)
        for c, lex, den in zip(candidates, lexical, dense[q_index], strict=True):
            score = weight * den + LEXICAL_WEIGHT * lex + RANK_PRIOR / (1 + c.rank)
            if q_index == 0:
                c.lexical, c.dense, c.score = lex, den, score
            else:
                c.part_scores.append(score)


def _pick_anchors(candidates: list[_Candidate], max_anchors: int) -> list[_Candidate]:
    """The best sentences: each question part's best first, then the best of every article
    scoring close to the top, then the rest of the best."""
    ranked = sorted(candidates, key=lambda c: c.score, reverse=True)
    if not ranked:
        return []
    top = ranked[0].score
    anchors: list[_Candidate] = []
    for part in range(len(ranked[0].part_scores)):
        best = max(candidates, key=lambda c: c.part_scores[part])
        if best not in anchors:
            anchors.append(best)
    best_per_passage: dict[int, _Candidate] = {}
    for c in ranked:
        best_per_passage.setdefault(c.passage, c)
    for c in best_per_passage.values():
        if c.score >= SECOND_ARTICLE_RATIO * top and len(anchors) < max_anchors:
            anchors.append(c)
    for c in ranked:
        if len(anchors) >= max_anchors or c.score < ANCHOR_RATIO * top:
            break
        if c not in anchors:
            anchors.append(c)
    return anchors


def _neighbours(
    c: _Candidate, by_place: dict[tuple[int, int, int], _Candidate]
) -> list[_Candidate]:
    places = [(c.passage, c.segment, c.index - 1), (c.passage, c.segment, c.index + 1)]
    return [by_place[p] for p in places if p in by_place]


def select_evidence(
    question: str,
    documents: Sequence[Document],
    *,
    embed: Embedder,
    budget_tokens: int = 420,
    max_anchors: int = 8,
    clean: Cleaner | None = None,
) -> Evidence:
    """Choose and number the sentences the model will read for ``question``.

    Anchors (the best sentences) come first in the budget, then one neighbour on each
    side of the best anchors. Sentences keep their article order. ``clean`` is applied to
    every sentence shown (sentences it turns into ``[removed]`` are left out).

    Example:
        >>> from langchain_core.documents import Document
        >>> docs = [Document(page_content="Ana Ruiz won the vote. Turnout was 40%.",
        ...                  metadata={"article_id": "a", "title": "Election"})]
        >>> print(select_evidence("Who won the vote?", docs, embed=None).render())
        Article A: Election
        [1] Ana Ruiz won the vote.
        [2] Turnout was 40%.
    """
    passages = _group_passages(documents)
    candidates = _candidates(passages, documents, clean)
    if not candidates:
        return Evidence(passages=passages, sentences=[])
    parts = question_parts(question)
    _score([question, *parts] if len(parts) > 1 else [question], candidates, passages, embed)
    by_place = {(c.passage, c.segment, c.index): c for c in candidates}
    chosen: dict[int, _Candidate] = {}
    anchors = _pick_anchors(candidates, max_anchors)
    used = sum(estimate_llm_tokens(p.header) + 4 for p in passages)  # headers, roughly
    context = [_neighbours(a, by_place) for a in anchors[:NEIGHBOURED_ANCHORS]]
    for wave in ([anchors], context):
        for group in wave:
            for c in group:
                cost = estimate_llm_tokens(c.text) + 3
                if id(c) in chosen or used + cost > budget_tokens:
                    continue
                chosen[id(c)] = c
                used += cost
    following = {
        id(c): after.text
        for c in chosen.values()
        if (after := by_place.get((c.passage, c.segment, c.index + 1))) is not None
    }
    return _number(passages, list(chosen.values()), {id(a) for a in anchors}, following)


def _dated(text: str, published: str) -> str:
    dated = date_relative_days(text, published)
    return dated if dated != text else ""


def _number(
    passages: list[Passage],
    chosen: list[_Candidate],
    anchor_ids: set[int],
    following: dict[int, str],
) -> Evidence:
    """Order by article (best article first), then by place; number from 1; drop unused."""
    best: dict[int, float] = {}
    for c in chosen:
        best[c.passage] = max(best.get(c.passage, -1.0), c.score)
    order = sorted(best, key=lambda p: -best[p])
    renumber = {old: new for new, old in enumerate(order)}
    chosen.sort(key=lambda c: (renumber[c.passage], c.segment, c.index))
    sentences = [
        EvidenceSentence(
            number=i,
            text=c.text,
            shown=_dated(c.text, passages[c.passage].published),
            passage=renumber[c.passage],
            position=(c.segment, c.index),
            score=round(c.score, 4),
            lexical=round(c.lexical, 4),
            dense=round(c.dense, 4),
            anchor=id(c) in anchor_ids,
            following=following.get(id(c), ""),
        )
        for i, c in enumerate(chosen, start=1)
    ]
    return Evidence(passages=[passages[p] for p in order], sentences=sentences)
