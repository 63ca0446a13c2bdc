"""RSS and Atom feeds, and downloaded resources that may be a feed or a single page.

Each feed entry becomes an article. An entry with its full text (``content:encoded`` or
Atom ``content``) is used as is; an entry holding only a summary or a link gets its
linked page fetched (through the ``fetch`` callable it is given, so the URL safety
checks of :mod:`rag.ingest.fetch` apply to every link).

Example:
    >>> looks_like_feed(b'<rss version="2.0"><channel></channel></rss>')
    True
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rag.errors import IngestError
from rag.ingest.article import Article, LoadFailure, LoadItem, one_line
from rag.ingest.dates import parse_date
from rag.ingest.formats import html_fragment_to_text, http_url, parse_page

if TYPE_CHECKING:
    from rag.ingest.fetch import Fetched, Fetcher
    from rag.settings import Settings

__all__ = ["is_feed", "iter_feed", "looks_like_feed", "parse_fetched"]

# A feed entry whose own content has at least this many words is used without fetching.
FULL_ENTRY_WORDS = 80
_FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml"}


def looks_like_feed(data: bytes) -> bool:
    """True when bytes start like an RSS, RDF or Atom document.

    Example:
        >>> looks_like_feed(b'<?xml version="1.0"?><rss version="2.0">'), looks_like_feed(b"<html>")
        (True, False)
    """
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return bool(re.search(rb"<(rss|feed|rdf:rdf)[\s>]", head))


def iter_feed(
    data: bytes | str,
    *,
    origin: str = "",
    fetch: Fetcher | None = None,
    settings: Settings | None = None,
) -> Iterator[LoadItem]:
    """Articles from an RSS/Atom feed: one per entry.

    An entry with its full text (``content:encoded`` or Atom ``content``) is used as is;
    an entry with only a summary or a link gets its linked page fetched with ``fetch``.

    Example:
        >>> xml = ('<rss version="2.0"><channel><title>Wire</title><item><title>A</title>'
        ...        '<description>' + "word " * 90 + '</description></item></channel></rss>')
        >>> [a.outlet for a in iter_feed(xml)]
        ['Wire']
    """
    import feedparser

    parsed = feedparser.parse(data)
    if not parsed.entries:
        problem = parsed.get("bozo_exception")
        detail = f": {problem}" if parsed.get("bozo") and problem else ""
        yield LoadFailure(origin, f"not an RSS/Atom feed, or a feed without entries{detail}")
        return
    feed_title = one_line(parsed.feed.get("title")) or None
    feed_lang = one_line(parsed.feed.get("language")) or None
    for number, entry in enumerate(parsed.entries, 1):
        label = one_line(entry.get("title")) or f"entry {number}"
        try:
            yield _feed_entry(entry, feed_title, feed_lang, origin, fetch, settings)
        except IngestError as exc:
            where = entry.get("link") or origin
            yield LoadFailure(where, f"feed entry {label!r}: {exc.message}")


def _feed_entry(
    entry: Any,
    feed_title: str | None,
    feed_lang: str | None,
    origin: str,
    fetch: Fetcher | None,
    settings: Settings | None,
) -> Article:
    title = one_line(entry.get("title"))
    link = http_url(entry.get("link"))
    published = parse_date(entry.get("published_parsed") or entry.get("updated_parsed"))
    author = one_line(entry.get("author")) or None
    contents = [c.get("value", "") for c in entry.get("content", []) or []]
    full = html_fragment_to_text("\n".join(contents)) if contents else ""
    summary = html_fragment_to_text(entry.get("summary", "") or "")
    body = full if len(full.split()) >= len(summary.split()) else summary
    if len(body.split()) < FULL_ENTRY_WORDS and link and fetch is not None:
        page = _article_from_fetched(fetch(link), settings)
        return Article.create(
            title=title or page.title,
            text=page.text,
            outlet=page.outlet or feed_title,
            url=page.url or link,
            author=author or page.author,
            published=published or page.published,
            language=page.language or feed_lang,
            origin=link,
        )
    if not body:
        raise IngestError("no text and no link to fetch")
    return Article.create(
        title=title,
        text=body,
        outlet=feed_title,
        url=link,
        author=author,
        published=published,
        language=feed_lang,
        origin=link or origin,
    )


def _article_from_fetched(fetched: Fetched, settings: Settings | None) -> Article:
    items = list(parse_fetched(fetched, settings, fetch=None))
    if len(items) == 1 and isinstance(items[0], Article):
        return items[0]
    if items and isinstance(items[0], LoadFailure):
        raise IngestError(items[0].reason)
    raise IngestError("the linked page is a feed, not an article")


# --------------------------------------------------------------------------- downloads
def is_feed(fetched: Fetched) -> bool:
    """True when a download is a feed, by its content type or its first bytes.

    Example:
        >>> from rag.ingest.fetch import Fetched
        >>> is_feed(Fetched("https://news.example/rss", "text/xml", None, b"<rss version='2.0'>"))
        True
    """
    return fetched.content_type in _FEED_TYPES or looks_like_feed(fetched.data)


def parse_fetched(
    fetched: Fetched, settings: Settings | None = None, fetch: Fetcher | None = None
) -> Iterator[LoadItem]:
    """Articles from a download: one per entry for a feed, else one for the page.

    Problems become a :class:`LoadFailure` for the download's URL. ``fetch`` is used
    for the links of feed entries that hold only a summary.

    Example:
        >>> from rag.ingest.fetch import Fetched
        >>> [x.reason for x in parse_fetched(Fetched("https://a.example/", "", None, b" "))]
        ['empty response']
    """
    try:
        if not fetched.data.strip():
            raise IngestError("empty response")
        if is_feed(fetched):
            yield from iter_feed(fetched.data, origin=fetched.url, fetch=fetch, settings=settings)
            return
        yield parse_page(fetched)
    except IngestError as exc:
        yield LoadFailure(fetched.url, exc.message)
