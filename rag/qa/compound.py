"""Compound questions split into the parts a small model answers one at a time.

A 1.5B reader given "Who coached the Rovers, and who won the marathon?" tends to answer
the first part and drop or garble the second, even when the excerpts hold both facts.
Asked one part at a time, with the whole question kept as context, it answers each.

Two shapes are split, both recognisable without a parser:

- coordinated questions: "What was X sent to look for, and what did it find?" (a comma or
  semicolon, "and", then a question word or auxiliary verb);
- a repeated preposition: "What did Marsh say in December 2024 and in February 2025?"
  (the same question asked of two short phrases).

Anything else is one part: the whole question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_PARTS = 3

_QUESTION_WORDS = (
    "what|who|whom|whose|which|when|where|why|how|did|does|do|is|are|was|were|has|have|had"
    "|can|could|will|would|should"
)
# ", and who won ..." / "; what did ..." / ", and in what time ..."
_CLAUSE_BREAK = re.compile(
    rf"(?:,\s*and|;\s*(?:and\s+)?)\s+(?=(?:(?:in|on|at|for|by|to|from|with)\s+)?(?:{_QUESTION_WORDS})\b)",
    re.IGNORECASE,
)
_PREPOSITIONS = "in|on|at|during|before|after|since|until|from|for|between|about|with|to|by"
# "<stem> in A and in B<tail>?" with A and B short phrases and the preposition repeated.
_REPEATED_PREPOSITION = re.compile(
    rf"^(?P<stem>.+?\b(?P<prep>{_PREPOSITIONS})\s+)(?P<a>[^,;?]{{1,40}}?)\s+and\s+"
    rf"(?P=prep)\s+(?P<b>[^;?]{{1,40}}?)(?P<tail>(?:,\s*[^?]*)?)\?\s*$",
    re.IGNORECASE,
)
_MIN_PART_WORDS = 2
_MIN_STEM_WORDS = 3


@dataclass(frozen=True)
class QuestionPart:
    """One part of a compound question, and the whole question it belongs to.

    Example:
        >>> part = split_question("Who coached the Rovers, and who won the race?")[1]
        >>> part.text
        'Who won the race?'
        >>> part.reader_question()
        'Who coached the Rovers, and who won the race? Answer only this part: Who won the race?'
    """

    text: str
    whole: str

    @property
    def is_whole(self) -> bool:
        """True when the question was not split (the part is the whole question).

        Example:
            >>> split_question("Who won?")[0].is_whole
            True
        """
        return self.text == self.whole

    def reader_question(self) -> str:
        """The question as the reader model sees it: the whole, then the part to answer.

        The whole question resolves the part's pronouns ("what did *it* find?").

        Example:
            >>> split_question("Who won?")[0].reader_question()
            'Who won?'
        """
        if self.is_whole:
            return self.whole
        return f"{self.whole} Answer only this part: {self.text}"


def split_question(question: str) -> list[QuestionPart]:
    """Split a compound question into at most three parts (one part when it is not compound).

    Example:
        >>> [p.text for p in split_question("What did Marsh say in May and in June?")]
        ['What did Marsh say in May?', 'What did Marsh say in June?']
        >>> [p.text for p in split_question("What was it sent to find, and what did it find?")]
        ['What was it sent to find?', 'What did it find?']
        >>> [p.text for p in split_question("How did the rate change between 2024 and 2025?")]
        ['How did the rate change between 2024 and 2025?']
    """
    whole = " ".join(question.split())
    texts = _clause_parts(whole) or _preposition_parts(whole) or [whole]
    if len(texts) > MAX_PARTS:
        texts = [whole]
    return [QuestionPart(text=text, whole=whole) for text in texts]


def _clause_parts(question: str) -> list[str]:
    pieces = [p.strip(" ,;?") for p in _CLAUSE_BREAK.split(question)]
    if len(pieces) < 2 or any(len(p.split()) < _MIN_PART_WORDS for p in pieces):
        return []
    return [_as_question(p) for p in pieces]


def _preposition_parts(question: str) -> list[str]:
    match = _REPEATED_PREPOSITION.match(question)
    if not match or len(match["stem"].split()) < _MIN_STEM_WORDS:
        return []
    stem, tail = match["stem"], match["tail"]
    return [_as_question(f"{stem}{phrase}{tail}") for phrase in (match["a"], match["b"])]


def _as_question(text: str) -> str:
    text = text.strip(" ,;?")
    return f"{text[:1].upper()}{text[1:]}?"
