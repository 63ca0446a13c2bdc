"""Publication dates normalized to ISO ``YYYY-MM-DD``; an incomplete date is never guessed.

Example:
    >>> parse_date("7 Nov 2024"), parse_date("November 2024")
    ('2024-11-07', None)
"""

from __future__ import annotations

import re
import time
import warnings
from datetime import date, datetime
from typing import Any

__all__ = ["parse_date"]

_SENTINELS = (datetime(1901, 1, 1), datetime(1902, 2, 2))


def parse_date(value: Any) -> str | None:
    """Normalize a date to ``YYYY-MM-DD``; ``None`` when missing, invalid or incomplete.

    Accepts dates, datetimes, ``time.struct_time`` and strings in most formats. A date
    missing its day, month or year is refused rather than completed.

    Example:
        >>> parse_date("Feb 14, 2025 09:30 CET"), parse_date("February 2025"), parse_date("")
        ('2025-02-14', None, None)
    """
    if value is None or value == "":
        return None
    if isinstance(value, time.struct_time):
        value = date(value.tm_year, value.tm_mon, value.tm_mday)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat() if 1800 <= value.year <= 2200 else None
    return _parse_date_string(str(value).strip())


def _parse_date_string(text: str) -> str | None:
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:$|[T ])", text)
    if match:
        try:
            return parse_date(date(*map(int, match.groups())))
        except ValueError:
            return None
    from dateutil import parser

    try:
        with warnings.catch_warnings():  # unknown zone names (CET...) do not change the day
            warnings.simplefilter("ignore")
            first, second = (parser.parse(text, default=d, fuzzy=False) for d in _SENTINELS)
    except (ValueError, OverflowError, TypeError):
        return None
    if (first.year, first.month, first.day) != (second.year, second.month, second.day):
        return None  # a component came from the default: the date is incomplete
    return parse_date(first)
