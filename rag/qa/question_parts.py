"""Compound questions split into their parts, so evidence is chosen for every part.

"Who coached the Rovers, and who won the marathon?" asks two things, often answered by two
articles. Scored as one question, the sentences about the first part crowd out the second;
scored part by part, each part's best sentence joins the evidence. The model still reads
the whole question and answers it in one reply.

Two shapes are split, both recognisable without a parser:

* clauses joined by ", and" or ";" where the second starts with a question word
  ("..., and who won ...?", "...; what did it find?");
* one question asked about two times or places with the preposition repeated
  ("... in December 2024 and in February 2025?").

Anything else is one part: the whole question.

Example:
    >>> question_parts("Who coached the Rovers, and who won the marathon?")
    ['Who coached the Rovers?', 'Who won the marathon?']
"""

from __future__ import annotations

import re

__all__ = ["MAX_PARTS", "question_parts"]

MAX_PARTS = 3

_QUESTION_WORDS = (
    "what|who|whom|whose|which|when|where|why|how|did|does|do|is|are|was|were|has|have|had"
    "|can|could|will|would|should"
)
# ", and who won ..." / "; what did ..." / ", and in what time ..."
_CLAUSE_BREAK = re.compile(
    rf"(?:,\s*and|;\s*(?:and\s+)?)\s+(?=(?:(?:in|on|at|for|by|to|from|with)\s+)?"
    rf"(?:{_QUESTION_WORDS})\b)",
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


def question_parts(question: str) -> list[str]:
    """The parts of a compound question (at most three), else ``[question]`` normalised.

    Example:
        >>> question_parts("What did Marsh say in May and in June?")
        ['What did Marsh say in May?', 'What did Marsh say in June?']
        >>> question_parts("What was it sent to find, and what did it find?")
        ['What was it sent to find?', 'What did it find?']
        >>> question_parts("How did the rate change between 2024 and 2025?")
        ['How did the rate change between 2024 and 2025?']
    """
    whole = " ".join(question.split())
    parts = _clause_parts(whole) or _preposition_parts(whole) or [whole]
    return parts if len(parts) <= MAX_PARTS else [whole]


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
