"""Time expressions in questions: dates become date filters, "latest" prefers new articles.

Handled (case-insensitive; relative words are resolved against an injectable ``today``):

* years and months: "in 2024", "during February 2025", "in Feb 2025", "in 2025-02";
* bounds: "since March 3", "after 2025-02-14", "from January 2025", "before 2025-02-14",
  "until March 2025", "prior to 2024", "between Jan 2025 and March 2025", "on 14 February 2025";
* relative periods: "today", "yesterday", "this week", "last week", "past/last N days",
  "this month", "last month", "this year", "last year";
* recency: "latest", "most recent", "newest", "recently", "lately" (no filter, a boost).

Expressions without a date ("before the summit") are left to retrieval itself. A period
an event happened in ("in 2025", "on March 3") is searched a little wider than itself
(:meth:`TimeHints.search_range`): news previews events before and reports them after.

Example:
    >>> from datetime import date
    >>> hints = parse_time_expressions("What happened in February 2025?", today=date(2025, 6, 1))
    >>> hints.since, hints.until
    (datetime.date(2025, 2, 1), datetime.date(2025, 2, 28))
    >>> parse_time_expressions("the latest on Ukraine", today=date(2025, 6, 1)).prefer_recent
    True
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

__all__ = ["PREVIEW_DAYS", "REPORT_DAYS", "TimeHints", "parse_time_expressions"]

PREVIEW_DAYS = 31  # "fares in 2025": the budget that set them was reported in December
REPORT_DAYS = 14  # "on February 12": reports, reactions and reviews follow within days

_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"

# One date expression; each alternative is a precision: day, month or year.
_DATE = (
    rf"(?:(?P<iso>{_YEAR}-[01]\d-[0-3]\d)"
    rf"|(?P<isomonth>{_YEAR}-[01]\d)(?![\d-])"
    rf"|(?P<md>{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?)(?![\d:])"
    rf"|(?P<dm>{_DAY}\s+{_MONTH}(?:,?\s+{_YEAR})?)"
    rf"|(?P<my>{_MONTH}(?:,?\s+{_YEAR})?)"
    rf"|(?P<year>{_YEAR}))\b"
)
_RANGE_WORDS = {
    "in": "in", "during": "in", "on": "on", "since": "since", "after": "after", "from": "since",
    "before": "before", "until": "until", "till": "until", "prior to": "before",
}  # fmt: skip
_BOUND = re.compile(
    r"\b(?P<word>in|during|on|since|after|from|before|until|till|prior\s+to)\s+" + _DATE,
    re.IGNORECASE,
)
_BETWEEN = re.compile(r"\bbetween\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)(?=[?.!,;]|$)", re.IGNORECASE)
_RECENT = re.compile(
    r"\b(latest|most\s+recent(ly)?|newest|recently|lately|up[- ]to[- ]date)\b", re.IGNORECASE
)
_PAST_DAYS = re.compile(r"\b(?:past|last)\s+(\d{1,3})\s+days?\b", re.IGNORECASE)
_RELATIVE = re.compile(
    r"\b(today|yesterday|this\s+week|last\s+week|past\s+week|this\s+month|last\s+month|"
    r"past\s+month|this\s+year|last\s+year|past\s+year)\b",
    re.IGNORECASE,
)


@dataclass
class TimeHints:
    """What a question says about time: an optional date range and a recency preference.

    Example:
        >>> TimeHints().is_empty
        True
    """

    since: date | None = None
    until: date | None = None
    prefer_recent: bool = False
    matched: list[str] = field(default_factory=list)
    guessed_year: bool = False
    """A date without a year ("in November") was placed in its most recent past occurrence;
    callers may drop the range when it matches nothing."""
    bounded: bool = False
    """The range has an explicit bound ("since", "before", ...) or a relative period ("last
    week"): it is about publication and is searched as given."""

    @property
    def is_empty(self) -> bool:
        """True when the question says nothing about time."""
        return self.since is None and self.until is None and not self.prefer_recent

    def search_range(self) -> tuple[date | None, date | None]:
        """The published dates to search. A period an event happened in ("in 2025", "on
        March 3", "between May and June") is widened: news previews an event before it
        happens (``PREVIEW_DAYS``) and reports and reviews it after (``REPORT_DAYS``).
        Explicit bounds and relative periods are searched as given.

        Example:
            >>> from datetime import date
            >>> parse_time_expressions("fares in 2025", today=date(2025, 6, 1)).search_range()
            (datetime.date(2024, 12, 1), datetime.date(2026, 1, 14))
            >>> parse_time_expressions("since 2025", today=date(2025, 6, 1)).search_range()
            (datetime.date(2025, 1, 1), None)
        """
        if self.bounded or self.since is None or self.until is None:
            return self.since, self.until
        return (
            self.since - timedelta(days=PREVIEW_DAYS),
            self.until + timedelta(days=REPORT_DAYS),
        )

    def narrow(self, since: date | None, until: date | None) -> None:
        """Intersect the current range with ``[since, until]``."""
        if since is not None:
            self.since = since if self.since is None else max(self.since, since)
        if until is not None:
            self.until = until if self.until is None else min(self.until, until)


def parse_time_expressions(text: str, today: date | None = None) -> TimeHints:
    """Find time expressions in ``text`` and turn them into a date range and a recency flag.

    Example:
        >>> from datetime import date
        >>> h = parse_time_expressions("Any news since March 3?", today=date(2025, 6, 1))
        >>> h.since, h.until
        (datetime.date(2025, 3, 3), None)
        >>> parse_time_expressions("before 2025-02-14", today=date(2025, 6, 1)).until
        datetime.date(2025, 2, 13)
    """
    today = today or date.today()
    hints = TimeHints(prefer_recent=bool(_RECENT.search(text)))
    if hints.prefer_recent:
        hints.matched.append(_RECENT.search(text).group(0))  # type: ignore[union-attr]
    consumed: list[tuple[int, int]] = []
    for match in _BETWEEN.finditer(text):
        start = _parse_date(match.group("a"), today)
        end = _parse_date(match.group("b"), today)
        if start and end:
            hints.guessed_year |= re.search(_YEAR, match.group(0)) is None
            hints.narrow(start[0], end[1])
            hints.matched.append(match.group(0))
            consumed.append(match.span())
    periods: list[tuple[date, date]] = []
    for match in _BOUND.finditer(text):
        if any(a <= match.start() < b for a, b in consumed):
            continue
        if period := _apply_bound(hints, match, today):
            periods.append(period)
    if periods:  # "in December 2024 and in February 2025": the span covering them all
        hints.narrow(min(first for first, _ in periods), max(last for _, last in periods))
    for match in _PAST_DAYS.finditer(text):
        hints.bounded = True
        hints.narrow(today - timedelta(days=int(match.group(1)) - 1), today)
        hints.matched.append(match.group(0))
    for match in _RELATIVE.finditer(text):
        start, end = _relative_range(" ".join(match.group(1).lower().split()), today)
        hints.bounded = True
        hints.narrow(start, end)
        hints.matched.append(match.group(0))
    return hints


def _apply_bound(hints: TimeHints, match: re.Match[str], today: date) -> tuple[date, date] | None:
    """Apply a "since/after/before/until" bound; return an "in/on" period for the caller."""
    word = _RANGE_WORDS[" ".join(match.group("word").lower().split())]
    expression = match.group(0)[len(match.group("word")) :].strip()
    if word == "in" and match.group("my") and not _looks_like_month(match.group("my")):
        return None  # "in may" (the verb), "in march" (the noun) without a year or capital
    if word == "on" and not (match.group("iso") or match.group("md") or match.group("dm")):
        return None  # "on 2024 budgets": only a full date after "on" is a filter
    parsed = _parse_date(expression, today)
    if parsed is None:
        return None
    first, last = parsed
    if not (match.group("iso") or match.group("isomonth") or match.group("year")):
        hints.guessed_year |= re.search(_YEAR, expression) is None
    hints.matched.append(match.group(0))
    if word in ("in", "on"):
        return first, last
    hints.bounded = True
    if word == "since":
        hints.narrow(first, None)
    elif word == "after":
        hints.narrow(last + timedelta(days=1), None)
    elif word == "before":
        hints.narrow(None, first - timedelta(days=1))
    else:  # until
        hints.narrow(None, last)
    return None


def _looks_like_month(text: str) -> bool:
    """A bare month name counts only when capitalised or followed by a year."""
    return bool(re.search(_YEAR, text)) or text[:1].isupper()


def _parse_date(text: str, today: date) -> tuple[date, date] | None:
    """Parse one date expression into its (first day, last day) at its precision."""
    match = re.fullmatch(r"\s*(?:the\s+)?" + _DATE + r"\s*", text, re.IGNORECASE)
    if match is None:
        return None
    try:
        if match.group("iso"):
            day = date.fromisoformat(match.group("iso"))
            return day, day
        if match.group("isomonth"):
            year, month = (int(p) for p in match.group("isomonth").split("-"))
            return _month_range(year, month)
        if match.group("md") or match.group("dm"):
            return _day_month(match.group("md") or match.group("dm"), today)
        if match.group("my"):
            return _month_year(match.group("my"), today)
        year = int(match.group("year"))
        return date(year, 1, 1), date(year, 12, 31)
    except ValueError:  # 31 February and friends
        return None


def _day_month(text: str, today: date) -> tuple[date, date]:
    words = re.findall(r"[a-z]+|\d+", text.lower())
    month = next(_MONTHS[w] for w in words if w in _MONTHS)
    numbers = [int(w) for w in words if w.isdigit()]
    day = numbers[0] if numbers[0] <= 31 else numbers[1]
    years = [n for n in numbers if n > 31]
    year = years[0] if years else _latest_year(today, month, day)
    value = date(year, month, day)
    return value, value


def _month_year(text: str, today: date) -> tuple[date, date]:
    words = re.findall(r"[a-z]+|\d+", text.lower())
    month = _MONTHS[words[0]]
    years = [int(w) for w in words if w.isdigit()]
    year = years[0] if years else _latest_year(today, month, 1)
    return _month_range(year, month)


def _latest_year(today: date, month: int, day: int) -> int:
    """The year of the most recent ``month/day`` on or before today."""
    return today.year if (month, day) <= (today.month, today.day) else today.year - 1


def _month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _relative_range(phrase: str, today: date) -> tuple[date, date]:
    week_start = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    previous_month_end = month_start - timedelta(days=1)
    ranges = {
        "today": (today, today),
        "yesterday": (today - timedelta(days=1), today - timedelta(days=1)),
        "this week": (week_start, today),
        "past week": (today - timedelta(days=6), today),
        "last week": (week_start - timedelta(days=7), week_start - timedelta(days=1)),
        "this month": (month_start, today),
        "past month": (today - timedelta(days=30), today),
        "last month": (previous_month_end.replace(day=1), previous_month_end),
        "this year": (date(today.year, 1, 1), today),
        "past year": (today - timedelta(days=365), today),
        "last year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
    }
    return ranges[phrase]
