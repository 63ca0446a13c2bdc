"""An HTML page's publication date from the tags that declare it, as the publisher wrote it.

The generic extractor also reads dates from the page's URL, and some outlets put the
next day's print edition in it (``/2016/07/30/`` for a story published on July 29). The
publisher's own declaration comes first: a ``<meta>`` tag (``article:published_time``,
``datePublished``, ...), then a JSON-LD ``datePublished``. The calendar date is taken
as written, before any time of day, so a story of 22:00 local time keeps its own day.

Example:
    >>> from lxml import html
    >>> page = html.fromstring('<html><head><meta property="article:published_time" '
    ...                        'content="2016-07-29T22:42:34-04:00"></head></html>')
    >>> page_published(page)
    '2016-07-29'
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["page_published"]

_META_NAMES = frozenset(
    {"article:published_time", "article:published", "datepublished", "og:published_time"}
)
_ISO_DAY = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:$|[T\s])")
_JSON_LD_DATE = re.compile(r'"datePublished"\s*:\s*"(\d{4}-\d{2}-\d{2})')


def page_published(tree: Any) -> str | None:
    """The ``YYYY-MM-DD`` the page declares it was published, or ``None``.

    Example:
        >>> from lxml import html
        >>> page_published(html.fromstring(
        ...     '<html><head><script type="application/ld+json">'
        ...     '{"@type": "NewsArticle", "datePublished": "2020-04-10T08:00:00Z"}'
        ...     '</script></head><body></body></html>'))
        '2020-04-10'
        >>> page_published(html.fromstring("<html><body><p>No date.</p></body></html>"))
    """
    if not hasattr(tree, "iter"):
        return None
    for meta in tree.iter("meta"):
        names = {(meta.get(a) or "").lower() for a in ("property", "name", "itemprop")}
        match = _ISO_DAY.match(meta.get("content") or "") if names & _META_NAMES else None
        if match:
            return match.group(1)
    for script in tree.iter("script"):
        if "ld+json" in (script.get("type") or "") and (
            found := _JSON_LD_DATE.search(script.text or "")
        ):
            return found.group(1)
    return None
