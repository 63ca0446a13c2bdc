"""Which shown sentences hold an answer's words: its support, the sentences it rests on
(re-attributed when the model named the wrong ones), its ``[n]`` markers, and quotations
the sentences do not contain.

Example:
    >>> from langchain_core.documents import Document
    >>> from rag.qa.evidence import select_evidence
    >>> ev = select_evidence("Who won?", [Document(page_content="Ana won. Rain fell.",
    ...     metadata={"article_id": "a", "title": "Vote"})], embed=None)
    >>> chosen = covering_sentences(ev.sentences, "Ana won.", "Who won?")
    >>> with_markers("Ana won.", chosen, ev)
    'Ana won. [1]'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from rag.qa.citations import Flag
from rag.qa.evidence import Evidence, EvidenceSentence
from rag.qa.passages import article_citations
from rag.retrieval.lexical import bm25_tokenize
from rag.text import sentence_spans

__all__ = [
    "answer_support",
    "covering_sentences",
    "evidence_signals",
    "new_words",
    "supporting_sentences",
    "unverified_quotes",
    "with_markers",
]

logger = logging.getLogger(__name__)

REATTRIBUTE_BELOW = 0.5  # answer support of the named sentences under which others are tried
MAX_REATTRIBUTED = 3
MIN_ADDED_WORDS = 2  # a further cited sentence adds at least this many answer words


def with_markers(answer: str, chosen: Sequence[EvidenceSentence], evidence: Evidence) -> str:
    """``[n]`` after the answer sentence that repeats each cited article's sentences most.

    Example:
        >>> from langchain_core.documents import Document
        >>> from rag.qa.evidence import select_evidence
        >>> ev = select_evidence("Who won?", [Document(page_content="Ana won. Rain fell.",
        ...     metadata={"article_id": "a", "title": "Vote"})], embed=None)
        >>> with_markers("Ana won. It rained.", ev.sentences[:1], ev)
        'Ana won. [1] It rained.'
    """
    citations = article_citations(evidence, chosen)
    spans = sentence_spans(answer) or [(0, len(answer))]
    parts = [answer[start:end] for start, end in spans]
    marks: list[list[int]] = [[] for _ in parts]
    words = [set(bm25_tokenize(part)) for part in parts]
    for citation in citations:
        if not citation.quote:
            continue
        quote = set(bm25_tokenize(citation.quote))
        overlaps = [len(w & quote) for w in words]
        best = max(range(len(parts)), key=lambda i: (overlaps[i], i == len(parts) - 1))
        marks[best].append(citation.number)
    out = []
    for part, numbers in zip(parts, marks, strict=True):
        # after the sentence, so a streamed answer only gains the markers at its end
        markers = "".join(f"[{n}]" for n in numbers)
        out.append(f"{part} {markers}" if markers else part)
    return " ".join(out)


_QUOTED = re.compile(r"[\"“]([^\"“”]{12,})[\"”]")


def unverified_quotes(answer: str, sentences: Sequence[str]) -> list[Flag]:
    """A quotation the chosen sentences do not contain word for word.

    Example:
        >>> [f.kind for f in unverified_quotes('She said "we will win it all".', ["We won."])]
        ['unsupported_quote']
    """
    haystack = _plain(" ".join(sentences))
    return [
        Flag(kind="unsupported_quote", message=f"the quote “{quote}” is not in the cited sentences")
        for quote in _QUOTED.findall(answer)
        if _plain(quote) not in haystack
    ]


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def answer_support(sentences: Sequence[EvidenceSentence], answer: str, question: str) -> float:
    """Share of the answer's words found in ``sentences`` or the question.

    Example:
        >>> answer_support([], "Ana Ruiz won the vote.", "Who won the vote?")  # "vote" only
        0.3333333333333333
    """
    support_words = set(bm25_tokenize(" ".join(s.seen for s in sentences) + " " + question))
    answer_words = bm25_tokenize(answer)
    if not answer_words:
        return 0.0
    return sum(1 for w in answer_words if w in support_words) / len(answer_words)


def supporting_sentences(
    evidence: Evidence, chosen: Sequence[EvidenceSentence], answer: str, question: str
) -> list[EvidenceSentence]:
    """The sentences the answer rests on: the model's choice, unless other shown sentences
    support its words better (a small model often names a neighbouring number).

    Example:
        >>> from langchain_core.documents import Document
        >>> from rag.qa.evidence import select_evidence
        >>> ev = select_evidence("Who won?", [Document(page_content="Ana won. Rain fell.",
        ...     metadata={"article_id": "a", "title": "Vote"})], embed=None)
        >>> [s.text for s in supporting_sentences(ev, ev.sentences[1:], "Ana won.", "Who won?")]
        ['Ana won.']
    """
    named = answer_support(chosen, answer, question)
    if not answer.strip() or named >= REATTRIBUTE_BELOW:
        return list(chosen)
    covering = covering_sentences(evidence.sentences, answer, question)
    if answer_support(covering, answer, question) <= named:
        return list(chosen)
    logger.debug(
        "citations re-attributed from %s to %s",
        [s.number for s in chosen],
        [s.number for s in covering],
    )
    return covering


def covering_sentences(
    sentences: Sequence[EvidenceSentence], answer: str, question: str
) -> list[EvidenceSentence]:
    """The few sentences (at most ``MAX_REATTRIBUTED``) that together hold most of the
    answer's words, added greedily; in shown order.

    A further sentence must add at least ``MIN_ADDED_WORDS`` of the answer's words: one
    shared common word ("office", "voted") is not evidence. Between sentences adding as
    much, the one sharing more words with the question (as the model read it, dates
    included) is the one meant.

    Example:
        >>> from langchain_core.documents import Document
        >>> from rag.qa.evidence import select_evidence
        >>> ev = select_evidence("Who won?", [Document(page_content="Ana won. Rain fell.",
        ...     metadata={"article_id": "a", "title": "Vote"})], embed=None)
        >>> [s.text for s in covering_sentences(ev.sentences, "Ana won.", "Who won?")]
        ['Ana won.']
    """
    question_words = set(bm25_tokenize(question))
    bags = [set(bm25_tokenize(sentence.seen)) for sentence in sentences]
    missing = set(new_words(answer, question))
    picked: list[int] = []

    def rank(i: int) -> tuple[int, int, float]:
        return len(missing & bags[i]), len(question_words & bags[i]), sentences[i].score

    while missing and len(picked) < MAX_REATTRIBUTED:
        index = max((i for i in range(len(bags)) if i not in picked), key=rank, default=None)
        added = 0 if index is None else len(missing & bags[index])
        if index is None or added == 0 or (picked and added < MIN_ADDED_WORDS):
            break
        picked.append(index)
        missing -= bags[index]
    return sorted((sentences[i] for i in picked), key=lambda s: s.number)


def evidence_signals(
    evidence: Evidence, chosen: Sequence[EvidenceSentence], answer: str, question: str
) -> dict[str, float]:
    """Numbers that tell how well the evidence and the reply fit the question.

    Example:
        >>> from langchain_core.documents import Document
        >>> from rag.qa.evidence import select_evidence
        >>> ev = select_evidence("Who won?", [Document(page_content="Ana won.",
        ...     metadata={"article_id": "a", "title": "Vote"})], embed=None)
        >>> evidence_signals(ev, ev.sentences, "Ana won.", "Who won?")["answer_support"]
        1.0
    """
    best = evidence.best
    return {
        "best_score": best.score if best else 0.0,
        "best_lexical": max((s.lexical for s in evidence.sentences), default=0.0),
        "best_dense": max((s.dense for s in evidence.sentences), default=0.0),
        "chosen": float(len(chosen)),
        "chosen_best_score": max((s.score for s in chosen), default=0.0),
        "answer_support": answer_support(chosen, answer, question),
        "answer_new_words": float(len(new_words(answer, question))),
    }


def new_words(answer: str, question: str) -> list[str]:
    """The answer's words that the question does not already hold: what it adds.

    An answer that adds nothing only restates the question ("Kofi Mensah provided the
    cross for his goal"), however well the evidence "supports" it.

    Example:
        >>> new_words("The budget is 3 million dollars.", "How big is the budget?")
        ['3', 'million', 'dollar']
        >>> new_words("Mensah provided the cross for his goal.", "Who provided the cross for "
        ...           "Mensah's goal?")
        []
    """
    asked = set(bm25_tokenize(question))
    return [word for word in bm25_tokenize(answer) if word not in asked]
