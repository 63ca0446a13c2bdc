"""Compound questions answered part by part, then joined into one :class:`Answer`.

Asked "Who coached the Rovers, and who won the marathon?" in one go, a small model often
answers one half, or gives one part's name to the other. Asked each part alone it gets
both. Every part reads the whole question's excerpts (chosen with each part in mind, see
:mod:`rag.qa.question_parts`), so the prompts of the parts differ only in their last
line, the question: the server's prompt cache holds the rest, and a second part costs
little more than its answer.

A later part that leans on an earlier one ("..., and what did it find?") is first
rewritten to stand alone, like a follow-up, with the earlier part as the conversation.

Example:
    >>> first = Answer(question="Who won?", answer="Ana won. [1]", standalone_question="Who won?",
    ...                citations=[Citation(number=1, article_id="a", text="Ana won.")])
    >>> second = Answer(question="Who lost?", answer="Ben lost. [1]",
    ...                 standalone_question="Who lost?",
    ...                 citations=[Citation(number=1, article_id="b", text="Ben lost.")])
    >>> turn = Turn(question="Who won, and who lost?", history=[], filters=None)
    >>> join_answers(turn, [first, second]).answer
    'Ana won. [1] Ben lost. [2]'
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from rag.qa.answer import ABSTAIN_MESSAGE, Answer, Citation, Stage, Token
from rag.qa.calls import Step, muted
from rag.qa.citations import Flag
from rag.qa.question_parts import question_parts
from rag.qa.turn import Turn
from rag.retrieval.lexical import bm25_tokenize
from rag.settings import Settings

__all__ = [
    "answer_in_parts",
    "join_answers",
    "leans_on_earlier",
    "part_turn",
    "parts_to_answer",
]

_MARKER = re.compile(r"\[(\d{1,3})\]")
_BACK_REFERENCE = re.compile(
    r"\b(it|its|they|them|their|he|him|his|she|her|this|these|those)\b", re.IGNORECASE
)
MIN_STANDALONE_TERMS = 2  # "In what time?" (one term) is not a question on its own


def parts_to_answer(turn: Turn, settings: Settings) -> list[str]:
    """The parts of the turn's question to answer one by one; one part, the whole question,
    when the setting is off or the turn has no excerpts.

    Example:
        >>> from rag.settings import load_settings
        >>> turn = Turn(question="Who won?", history=[], filters=None, standalone="Who won?")
        >>> parts_to_answer(turn, load_settings())
        ['Who won?']
    """
    if not settings.qa_answer_parts or turn.evidence is None:
        return [turn.standalone]
    return question_parts(turn.standalone)


def answer_in_parts(
    turn: Turn,
    parts: list[str],
    *,
    answer: Callable[[Turn, bool], Step[Answer]],
    condense: Callable[[Turn], Step[Turn]],
    stream: bool,
) -> Step[Answer]:
    """Each part answered alone over the turn's excerpts by the ``answer`` step (a part
    leaning on the first is first rewritten by the ``condense`` step, with the first part
    as the conversation), then the answers joined by :func:`join_answers`.
    The parts' own stages are not shown: one "reading" stage names how many there are.

    Example:
        >>> from rag.qa.calls import drive
        >>> def echo(sub, stream):
        ...     yield from ()
        ...     return Answer(question=sub.question, answer=sub.question.replace("?", "."),
        ...                   standalone_question=sub.question)
        >>> whole = Turn(question="Who coached the Rovers, and who won the marathon?",
        ...              history=[], filters=None)
        >>> parts = ["Who coached the Rovers?", "Who won the city marathon?"]
        >>> run = answer_in_parts(whole, parts, answer=echo, condense=None, stream=False)
        >>> events = list(drive(run))  # no part leans on another: no rewrite
        >>> events[-1].value.answer
        'Who coached the Rovers. Who won the city marathon.'
    """
    yield Stage("reading", f"{turn.reading_detail()} ({len(parts)} questions, answered in turn)")
    answers: list[Answer] = []
    for part in parts:
        sub = part_turn(turn, part)
        if answers and leans_on_earlier(part):
            sub.history = [(answers[0].question, answers[0].answer)]
            yield from muted(condense(sub), Stage)
        if answers and stream:
            yield Token(" ")
        answers.append((yield from muted(answer(sub, stream), Stage)))
    return join_answers(turn, answers)


def part_turn(turn: Turn, part: str) -> Turn:
    """A turn for one part: the whole turn's sources, excerpts and clock, the part as its
    question.

    Example:
        >>> whole = Turn(question="Who won, and who lost?", history=[], filters=None)
        >>> part_turn(whole, "Who lost?").standalone
        'Who lost?'
    """
    return replace(
        turn,
        question=part,
        standalone=part,
        history=[],
        passages=list(turn.passages),
        abstain_reason=None,
        notices=[],
        timings={},
        prompt_tokens=None,
        completion_tokens=None,
        signals={},
    )


def leans_on_earlier(part: str) -> bool:
    """True when a later part needs an earlier one to make sense: it refers back with a
    pronoun ("what did it find?") or names too little on its own ("in what time?").

    Example:
        >>> leans_on_earlier("What did it find?"), leans_on_earlier("In what time?")
        (True, True)
        >>> leans_on_earlier("Who won the men's Lakeport Marathon?")
        False
    """
    terms = set(bm25_tokenize(part))
    return bool(_BACK_REFERENCE.search(part)) or len(terms) < MIN_STANDALONE_TERMS


def join_answers(turn: Turn, answers: Sequence[Answer]) -> Answer:
    """One answer to the whole question from its parts' answers: their texts in order (a
    part the articles do not answer says so), citations merged by article and renumbered.
    The refusal when no part is answered.

    Example:
        >>> no = Answer(question="Who lost?", answer=ABSTAIN_MESSAGE,
        ...             standalone_question="Who lost?", abstained=True)
        >>> turn = Turn(question="Who won, and who lost?", history=[], filters=None)
        >>> join_answers(turn, [no, no]).abstained
        True
    """
    answered = [a for a in answers if not a.abstained]
    base = answered[0] if answered else answers[0]
    numbers = _Renumbering()
    texts = [
        numbers.renumber(a) if not a.abstained else f'On "{a.question}": {ABSTAIN_MESSAGE}'
        for a in answers
        if not _repeated_by_another(a, answered)
    ]
    for answer in answers:
        numbers.add_uncited(answer.passages)
    return base.model_copy(
        update={
            "question": turn.question,
            "standalone_question": turn.standalone,
            "answer": " ".join(texts) if answered else ABSTAIN_MESSAGE,
            "citations": numbers.cited if answered else [],
            "passages": numbers.passages,
            "flags": _merged_flags(turn, answers),
            "timings": _summed_timings(turn, answers),
            "prompt_tokens": _total(turn.prompt_tokens, *(a.prompt_tokens for a in answers)),
            "completion_tokens": _total(
                turn.completion_tokens, *(a.completion_tokens for a in answers)
            ),
        }
    )


def _repeated_by_another(answer: Answer, answered: Sequence[Answer]) -> bool:
    """True when another part's answer already says all this one says (a second part's
    answer often repeats the first: "X won." then "X won in 2:19:48."); of two that say
    the same, the first is kept."""
    if answer.abstained:
        return False
    place = next(i for i, a in enumerate(answered) if a is answer)
    words = _words(answer.answer)
    for other_place, other in enumerate(answered):
        others = _words(other.answer)
        says_more = len(words) < len(others) or other_place < place
        if other_place != place and words <= others and says_more:
            return True
    return False


def _words(text: str) -> set[str]:
    return set(bm25_tokenize(_MARKER.sub(" ", text)))


class _Renumbering:
    """Citations of several answers numbered as one list: one number per article, in the
    order the joined answer first cites them; passages no part cites follow."""

    def __init__(self) -> None:
        self.by_article: dict[str, Citation] = {}

    @property
    def cited(self) -> list[Citation]:
        return [c for c in self.by_article.values() if c.quote]

    @property
    def passages(self) -> list[Citation]:
        return list(self.by_article.values())

    def renumber(self, answer: Answer) -> str:
        """The answer's text with its markers changed to the joint numbers."""
        joint = {c.number: self._number_of(c) for c in answer.citations}

        def swap(match: re.Match[str]) -> str:
            number = joint.get(int(match[1]))
            return f"[{number}]" if number is not None else match[0]

        return _MARKER.sub(swap, answer.answer)

    def add_uncited(self, passages: Sequence[Citation]) -> None:
        for passage in passages:
            if passage.article_id not in self.by_article:
                number = len(self.by_article) + 1
                self.by_article[passage.article_id] = passage.model_copy(
                    update={"number": number, "quote": ""}
                )

    def _number_of(self, citation: Citation) -> int:
        known = self.by_article.get(citation.article_id)
        if known is None:
            number = len(self.by_article) + 1
            self.by_article[citation.article_id] = citation.model_copy(update={"number": number})
            return number
        if citation.quote and citation.quote not in known.quote:
            quote = f"{known.quote} {citation.quote}".strip()
            self.by_article[citation.article_id] = known.model_copy(update={"quote": quote})
        return known.number


def _merged_flags(turn: Turn, answers: Sequence[Answer]) -> list[Flag]:
    flags: dict[tuple[str, str], Flag] = {}
    for flag in [*turn.notices, *(f for a in answers for f in a.flags)]:
        flags.setdefault((flag.kind, flag.message), flag)
    return list(flags.values())


def _summed_timings(turn: Turn, answers: Sequence[Answer]) -> dict[str, float]:
    timings = dict(turn.timings)
    for answer in answers:
        for key, seconds in answer.timings.items():
            if key == "first_token":  # the first part's first token is the answer's
                timings.setdefault(key, seconds)
            elif key != "total":
                timings[key] = timings.get(key, 0.0) + seconds
    timings["total"] = time.perf_counter() - turn.started
    return {key: round(seconds, 4) for key, seconds in timings.items()}


def _total(*counts: int | None) -> int | None:
    known = [c for c in counts if c is not None]
    return sum(known) if known else None
