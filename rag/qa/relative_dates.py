"""Weekdays and "today"/"yesterday"/"tomorrow" in article sentences, dated by the article.

News reports say "began on Tuesday" and mean the Tuesday before the article's date. A
reader model that sees only "on Tuesday" answers "When did it begin?" with "on Tuesday",
which tells the user nothing. The sentences shown to the model carry the calendar date
next to such words, worked out from the article's publication date: "on Tuesday (April
15, 2025)". Each day word takes the tense of the nearest verb marker around it: "will",
"is due to" and the like for the future, a past-tense verb ("said", "began", "resigned")
for the past. So in "Talks will resume, officials said on Thursday" Thursday is past, the
day they spoke. Without a marker the day is past, as most reports are.

The annotation is for the model's eyes only: quotes and citations keep the article's words.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from rag.text import published_day, spelled_day

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_WORDS = re.compile(
    r"\b(?:(?P<which>last|next|this)\s+)?(?P<day>"
    + "|".join(_WEEKDAYS)
    + r"|today|yesterday|tomorrow)\b(?!\s*(?:,\s*)?(?:\(|\d|january|february|march|april|may"
    r"|june|july|august|september|october|november|december))",
    re.IGNORECASE,
)
_FUTURE = re.compile(
    r"\b(?:will|would|shall|won't|going to|is due|are due|due to|is set to|are set to|scheduled"
    r"|expected to|plans? to|planned|is to|are to)\b|'ll\b",
    re.IGNORECASE,
)
_PAST = re.compile(
    r"\b(?:said|told|was|were|had|did|began|met|won|lost|took|gave|came|went|made|held|left"
    r"|saw|found|fell|rose|spoke|wrote|sent|paid|led|ran|sold|brought|kept|broke|chose|drove"
    r"|flew|struck|agreed|[a-z]{2,}[^e\W]ed)\b",
    re.IGNORECASE,
)  # common irregular past forms, and regular ones ("resigned"), "-eed" words left out
_SHIFT = {"today": 0, "yesterday": -1, "tomorrow": 1}


def date_relative_days(sentence: str, published: str) -> str:
    """``sentence`` with a calendar date after each weekday or today/yesterday/tomorrow.

    Unchanged when the publication date is unknown or the word already has a date.

    Example (2025-04-15 was a Tuesday):
        >>> date_relative_days("Work began on Tuesday.", "2025-04-15")
        'Work began on Tuesday (April 15, 2025).'
        >>> date_relative_days("Talks ended on Friday, officials said.", "2025-04-15")
        'Talks ended on Friday (April 11, 2025), officials said.'
        >>> date_relative_days("The board will meet on Friday.", "2025-04-15")
        'The board will meet on Friday (April 18, 2025).'
        >>> date_relative_days("It opened on Tuesday, February 18.", "2025-04-15")
        'It opened on Tuesday, February 18.'
        >>> date_relative_days("It opened on Tuesday.", "")
        'It opened on Tuesday.'
    """
    published_on = published_day(published)
    if published_on is None:
        return sentence
    markers = _tense_markers(sentence)

    def dated(match: re.Match[str]) -> str:
        future = _nearest_is_future(markers, match.start(), match.end())
        day = _resolve(match["day"].lower(), (match["which"] or "").lower(), published_on, future)
        return f"{match[0]} ({spelled_day(day)})"

    return _DAY_WORDS.sub(dated, sentence)


def _tense_markers(sentence: str) -> list[tuple[int, int, bool]]:
    """(start, end, is_future) of each tense marker; a word that is both ("scheduled",
    "planned", "expected to") counts as future."""
    future = [(m.start(), m.end(), True) for m in _FUTURE.finditer(sentence)]
    past = [
        (m.start(), m.end(), False)
        for m in _PAST.finditer(sentence)
        if not any(start < m.end() and m.start() < end for start, end, _ in future)
    ]
    return future + past


def _nearest_is_future(markers: list[tuple[int, int, bool]], start: int, end: int) -> bool:
    """True when the marker closest to the day word at ``start:end`` speaks of the future."""

    def gap(marker: tuple[int, int, bool]) -> int:
        return start - marker[1] if marker[1] <= start else marker[0] - end

    return bool(markers) and min(markers, key=gap)[2]


def _resolve(word: str, which: str, published: date, future: bool) -> date:
    if word in _SHIFT:
        return published + timedelta(days=_SHIFT[word])
    target = _WEEKDAYS.index(word)
    ahead = (target - published.weekday()) % 7  # 0..6 days after publication
    behind = (published.weekday() - target) % 7  # 0..6 days before
    if which == "next" or (future and which != "last"):
        return published + timedelta(days=ahead or 7)
    if which == "last":
        return published - timedelta(days=behind or 7)
    return published - timedelta(days=behind)
