"""Which names in a question appear in none of the retrieved sources.

A question about a person, place or organisation that no retrieved source mentions cannot be
answered from those sources, however similar the rest of the question is ("What did Hegseth
say about Taiwan?" over articles that never mention Taiwan). Small models answer such
questions anyway with a related fact, so :mod:`rag.qa.abstention` abstains before calling the model.

The check errs on the side of answering: a multi-word name counts as present when any of its
words is; words match by a shared prefix (``Ukrainian`` ~ ``Ukraine``); sentence-initial
question words, month and day names, and short all-capital acronyms (``EU`` may be written
out as "European Union") are never treated as names.

Example:
    >>> missing_names("What did Hegseth say about Taiwan?", ["Hegseth spoke in Brussels."])
    ['Taiwan']
    >>> missing_names("What did Pete Hegseth rule out?", ["Hegseth ruled out NATO membership."])
    []
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rag.text import stop_words

__all__ = ["missing_names", "question_names"]

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’\-]*")
_CONNECTORS = {"of", "de", "du", "des", "la", "le", "van", "von", "der", "del", "al"}
"""Lower-case words inside one name ("University of Lakeport", "Bank of England")."""
_CALENDAR = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec",
}  # fmt: skip
_MIN_PREFIX = 4
"""Shortest prefix two spellings must share (``Russia`` ~ ``Russian``)."""
_MAX_ACRONYM = 5

_QUESTION_STARTS = {
    "what", "who", "whom", "whose", "which", "when", "where", "why", "how", "did", "does",
    "do", "is", "are", "was", "were", "will", "would", "can", "could", "should", "has",
    "have", "had", "tell", "list", "name", "give", "describe", "explain", "summarize",
    "summarise", "according", "in", "on", "after", "before", "since", "during",
}  # fmt: skip


def _is_name_word(word: str, first: bool, stopwords: frozenset[str]) -> bool:
    lower = word.lower()
    if not word[0].isupper() or lower in stopwords or lower in _CALENDAR:
        return False
    if word.isupper() and len(word) <= _MAX_ACRONYM:
        return False  # acronyms are often written out in full in articles
    # The first word of a question is capitalised anyway; keep it only when it looks like
    # a name rather than a verb or question word ("Hegseth said what?").
    return not first or lower not in _QUESTION_STARTS


def question_names(question: str) -> list[list[str]]:
    """Names in ``question``: runs of capitalised words, possessives stripped.

    Example:
        >>> question_names("What did Pete Hegseth's team tell the EU about Taiwan in March?")
        [['Pete', 'Hegseth'], ['Taiwan']]
    """
    stopwords = stop_words()
    names: list[list[str]] = []
    current: list[str] = []
    previous_end = -1
    for position, match in enumerate(_WORD.finditer(question)):
        word = re.sub(r"['’]s?$", "", match.group())
        adjacent = question[previous_end : match.start()].strip() == ""
        previous_end = match.end()
        if current and adjacent and word.lower() in _CONNECTORS:
            continue  # stays inside the name; a trailing connector is never kept
        if word and _is_name_word(word, position == 0, stopwords):
            if current and not adjacent:
                names.append(current)
                current = []
            current.append(word)
        elif current:
            names.append(current)
            current = []
    if current:
        names.append(current)
    return names


def _covered(word: str, vocabulary: set[str]) -> bool:
    lower = word.lower()
    if lower in vocabulary:
        return True
    prefix = lower[: max(_MIN_PREFIX, len(lower) - 3)]
    return any(token.startswith(prefix) for token in vocabulary)


def missing_names(question: str, texts: Iterable[str]) -> list[str]:
    """The names of ``question`` that none of ``texts`` mentions (in question order).

    Example:
        >>> missing_names("Who is the CEO of Fjordline Bank?", ["Fjordline Bank's economist"])
        []
    """
    names = question_names(question)
    if not names:
        return []
    vocabulary = {word.lower() for text in texts for word in _WORD.findall(text)}
    return [
        " ".join(name) for name in names if not any(_covered(word, vocabulary) for word in name)
    ]
