"""Input locations: the one place that turns an input (a file, a folder or a URL) into
articles.

:func:`load_location` decides what an input is, always in the same order:

1. an ``http://`` or ``https://`` URL is downloaded (:mod:`rag.ingest.fetch` refuses
   private hosts before any request) and read as a page or a feed;
2. any other ``scheme://`` is refused as an unsupported URL, never read as a path;
3. a folder is read recursively, a file by its extension (see :data:`EXTENSIONS`);
4. anything else is a failure: not a regular file or folder, or no such file or folder.

Loaders stream: a folder or a feed yields one article at a time, and a bad item becomes a
:class:`~rag.ingest.article.LoadFailure` with a reason while the rest keeps going. Files
are refused when empty, binary, over ``RAG_MAX_FILE_MB``, or in an undecodable encoding.

Example:
    >>> from rag.ingest.article import Article
    >>> [x.reason for x in load_location("ftp://news.example/a.txt")]
    ['unsupported URL scheme (only http:// and https://)']
    >>> articles = [x for x in load_location("samples/") if isinstance(x, Article)]
    >>> len(articles), articles[0].title
    (10, 'Flash floods hit the Ardent Valley after record rainfall; thousands evacuated')
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import IngestError
from rag.ingest.article import LoadFailure, LoadItem, title_from_filename
from rag.ingest.decoding import decode_bytes, read_file_bytes
from rag.ingest.feeds import iter_feed, parse_fetched
from rag.ingest.fetch import fetch_url, http_client, is_url
from rag.ingest.formats import iter_jsonl, parse_html, parse_markdown, parse_text

if TYPE_CHECKING:
    import httpx

    from rag.ingest.fetch import Fetcher
    from rag.settings import Settings

__all__ = [
    "EXTENSIONS",
    "SKIPPED_IN_FOLDERS",
    "FileLoader",
    "UrlLoader",
    "iter_folder",
    "load_file",
    "load_location",
    "load_source",
    "load_url",
]

logger = logging.getLogger(__name__)

EXTENSIONS: dict[str, str] = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
}
SKIPPED_IN_FOLDERS = ("readme", "license", "licence", "changelog", "contributing")

# A URL scheme (RFC 3986) at the start of the input: "ftp://", "file://", "s3://"...
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")

FileLoader = Callable[[Path], Iterator[LoadItem]]
UrlLoader = Callable[[str], Iterator[LoadItem]]


# --------------------------------------------------------------------------- the dispatcher
def load_location(
    location: str | Path,
    settings: Settings | None = None,
    *,
    file_loader: FileLoader | None = None,
    url_loader: UrlLoader | None = None,
) -> Iterator[LoadItem]:
    """Articles (and failures) from a file, a folder, or an http(s) URL.

    ``file_loader`` and ``url_loader`` replace :func:`load_file` and :func:`load_url` for
    the files and the URL the location stands for (a batch uses them to skip duplicates);
    what the location is, and the reasons for refusing it, are decided here only.

    Example:
        >>> [x.reason for x in load_location("no/such/folder")]
        ['no such file or folder']
        >>> [x.reason for x in load_location("file:///etc/passwd")]
        ['unsupported URL scheme (only http:// and https://)']
    """
    read_file = file_loader or (lambda path: load_file(path, settings))
    read_url = url_loader or (lambda url: load_url(url, settings))
    if is_url(location):
        yield from read_url(str(location))
        return
    text = str(location)
    if _SCHEME.match(text):
        yield LoadFailure(text, "unsupported URL scheme (only http:// and https://)")
        return
    path = Path(location).expanduser()
    if path.is_dir():
        for file in iter_folder(path):
            yield from read_file(file)
    elif path.is_file():
        yield from read_file(path)
    elif path.exists():
        yield LoadFailure(text, "not a regular file or folder")
    else:
        yield LoadFailure(text, "no such file or folder")


load_source = load_location  # the old name, for older callers


# --------------------------------------------------------------------------- URLs
def load_url(
    url: str, settings: Settings | None = None, client: httpx.Client | None = None
) -> Iterator[LoadItem]:
    """Articles from an http(s) URL: one for an HTML page, one per entry for a feed.

    Example:
        >>> items = list(load_url("https://news.example/feed.xml"))  # doctest: +SKIP
        >>> [x.reason for x in load_url("http://192.168.1.10/feed.xml")]  # refused, not fetched
        ['refused: 192.168.1.10 is a private address, not a public one']
    """
    own = client is None
    client = client or http_client(settings)
    try:
        try:
            fetched = fetch_url(url, settings, client)
        except IngestError as exc:
            yield LoadFailure(url, exc.message)
            return
        yield from _guarded(
            url,
            parse_fetched(fetched, settings, fetch=lambda link: fetch_url(link, settings, client)),
        )
    finally:
        if own:
            client.close()


# --------------------------------------------------------------------------- files and folders
def load_file(
    path: str | Path, settings: Settings | None = None, fetch: Fetcher | None = None
) -> Iterator[LoadItem]:
    """Articles from one file, chosen by extension (see :data:`EXTENSIONS` and
    :mod:`rag.ingest.formats`).

    Example:
        >>> [type(x).__name__ for x in load_file("samples/briefs.jsonl")]
        ['Article', 'Article', 'Article']
    """
    path = Path(path)
    origin = str(path)
    kind = EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        supported = ", ".join(sorted(EXTENSIONS))
        yield LoadFailure(
            origin, f"unsupported file type {path.suffix or '(none)'!r} (supported: {supported})"
        )
        return
    yield from _guarded(origin, _load_file_kind(path, kind, settings, fetch))


def _load_file_kind(
    path: Path, kind: str, settings: Settings | None, fetch: Fetcher | None
) -> Iterator[LoadItem]:
    origin = str(path)
    try:
        data = read_file_bytes(path, settings)
        if kind == "feed":
            yield from iter_feed(
                data, origin=origin, fetch=fetch or _default_fetcher(settings), settings=settings
            )
        elif kind == "html":
            _reject_binary(data)
            yield parse_html(data, origin=origin, default_title=title_from_filename(path))
        elif kind == "jsonl":
            yield from iter_jsonl(decode_bytes(data), origin=origin)
        elif kind == "markdown":
            yield parse_markdown(
                decode_bytes(data), origin=origin, default_title=title_from_filename(path)
            )
        else:
            yield parse_text(
                decode_bytes(data), origin=origin, default_title=title_from_filename(path)
            )
    except IngestError as exc:
        yield LoadFailure(origin, exc.message)


def _guarded(origin: str, items: Iterator[LoadItem]) -> Iterator[LoadItem]:
    """``items``, with any unexpected error turned into a :class:`LoadFailure` for ``origin``.

    Loaders report bad input as :class:`IngestError`; this is the net under them, so one
    hostile file (deep nesting, a parser bug) fails alone instead of stopping the batch.
    """
    try:
        yield from items
    except Exception as exc:  # one input must never stop the others
        logger.warning("unexpected error reading %s", origin, exc_info=True)
        yield LoadFailure(origin, f"could not be read ({type(exc).__name__})")


def _reject_binary(data: bytes) -> None:
    decode_bytes(data[:65536])  # raises for binary data; trafilatura decodes the page itself


def _default_fetcher(settings: Settings | None) -> Fetcher:
    return lambda link: fetch_url(link, settings)


def iter_folder(folder: str | Path) -> Iterator[Path]:
    """Supported files under ``folder``, recursively, in sorted order.

    Hidden files and folders and README/LICENSE/CHANGELOG files are skipped.

    Example:
        >>> [p.suffix for p in iter_folder("samples")][:1]
        ['.txt']
    """
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        for name in sorted(files):
            path = Path(root) / name
            if name.startswith(".") or path.suffix.lower() not in EXTENSIONS:
                continue
            if path.stem.lower().startswith(SKIPPED_IN_FOLDERS):
                continue
            yield path
