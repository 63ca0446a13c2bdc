"""Ingest input locations into the store: files, folders, URLs and feeds, with failures
reported per location.

:func:`ingest_locations` reads every location through the one dispatcher,
:func:`rag.ingest.locations.load_location`, and streams the articles into
:meth:`rag.store.articles.ArticleStore.add_articles` (batched embedding, memory stays flat).
A location that fails (missing, empty, binary, too large, unreachable, no article
body, bad JSONL lines, duplicate of another file in the batch...) is reported with a
reason in ``IngestReport.failed``; the rest of the batch proceeds.

Example (a private address is refused before any request):
    >>> from rag.ingest.pipeline import ingest_locations
    >>> from rag.store.articles import ArticleStore
    >>> store = ArticleStore.from_settings(settings, embeddings)
    >>> report = ingest_locations(["samples/", "http://127.0.0.1/feed.xml"], store, settings)
    >>> report.added, report.unchanged, report.replaced, report.failed
    (10, 0, 0,
     [('http://127.0.0.1/feed.xml', 'refused: 127.0.0.1 is a loopback address, not a public one')])
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

from rag.errors import IngestError
from rag.files import sha256_file
from rag.ingest.article import Article, ArticleMeta, LoadFailure, LoadItem
from rag.ingest.dates import parse_date
from rag.ingest.fetch import is_url
from rag.ingest.locations import load_file, load_location, load_url
from rag.store.articles import ArticleStore
from rag.store.reports import IngestProgress, IngestReport, ProgressCallback

if TYPE_CHECKING:
    from rag.settings import Settings

__all__ = ["IngestProgress", "IngestReport", "ingest_locations", "ingest_sources", "ingest_text"]

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class _Batch:
    """Loads locations one by one through :func:`rag.ingest.locations.load_location`, dropping
    duplicates (a URL or file named twice, files with the same bytes, the same article
    twice) and collecting failures."""

    locations: Sequence[str | Path]
    settings: Settings
    progress: ProgressCallback | None
    started: float
    failed: list[tuple[str, str]] = field(default_factory=list, init=False)
    last: IngestProgress = field(init=False)
    # resolved file -> how it was named
    _paths: dict[Path, str] = field(default_factory=dict, init=False)
    # sha256 of a file's bytes -> its first origin
    _digests: dict[str, str] = field(default_factory=dict, init=False)
    _urls: set[str] = field(default_factory=set, init=False)
    _articles: dict[str, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.last = IngestProgress(locations_total=len(self.locations))

    def articles(self) -> Iterator[Article]:
        for number, location in enumerate(self.locations, 1):
            for item in load_location(
                location, self.settings, file_loader=self._load_file, url_loader=self._load_url
            ):
                if isinstance(item, LoadFailure):
                    self._fail(item.origin, item.reason)
                elif self._first_time(item):
                    yield item
            self.last.locations_done = number
            self.last.current = str(location)
            self._notify()

    def _load_url(self, url: str) -> Iterator[LoadItem]:
        if url in self._urls:
            yield LoadFailure(url, f"duplicate of {url} (skipped)")
            return
        self._urls.add(url)
        yield from load_url(url, self.settings)

    def _load_file(self, path: Path) -> Iterator[LoadItem]:
        origin = str(path)
        resolved = path.resolve()
        if resolved in self._paths:
            return  # the same file named twice (e.g. a folder and a file in it): once is enough
        self._paths[resolved] = origin
        digest = _file_digest(path)
        if digest is not None:
            if digest in self._digests:
                yield LoadFailure(origin, f"duplicate of {self._digests[digest]} (same content)")
                return
            self._digests[digest] = origin
        yield from load_file(path, self.settings)

    def _first_time(self, article: Article) -> bool:
        first = self._articles.get(article.id)
        if first is None:
            self._articles[article.id] = article.origin
            return True
        self._fail(article.origin, f"same article as {first} (skipped)")
        return False

    def _fail(self, origin: str, reason: str) -> None:
        logger.debug("Not ingested: %s: %s", origin, reason)
        self.failed.append((origin, reason))
        self.last.failed = len(self.failed)
        self.last.current = origin
        self._notify()

    def on_store_progress(self, update: IngestProgress) -> None:
        for name in ("articles", "chunks", "added", "replaced", "unchanged"):
            setattr(self.last, name, getattr(update, name))
        self.last.current = update.current
        self._notify()

    def _notify(self) -> None:
        if self.progress is not None:
            self.last.elapsed = time.perf_counter() - self.started
            self.progress(self.last)


def _file_digest(path: Path) -> str | None:
    try:
        return sha256_file(path, chunk_bytes=1 << 20)
    except OSError:
        return None  # the loader reports the read error


def ingest_locations(
    locations: Sequence[str | Path],
    store: ArticleStore,
    settings: Settings,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Load, chunk, embed and store every location; failures are reported, not raised.

    ``locations``: files, folders (recursive), http(s) URLs of pages or feeds.
    ``progress`` receives :class:`IngestProgress` updates (after each stored batch,
    each failure and each finished location). Store or embedder failures (Chroma down,
    model missing) raise :class:`rag.errors.RagError`: nothing can proceed then.

    Example:
        >>> report = ingest_locations(["samples/"], store, settings)  # already stored
        >>> print(report.added, report.unchanged, report.failed)
        0 10 []
    """
    started = time.perf_counter()
    batch = _Batch(list(locations), settings, progress, started)
    report = store.add_articles(batch.articles(), progress=batch.on_store_progress)
    report.failed.extend(batch.failed)
    report.seconds = time.perf_counter() - started
    logger.debug(
        "Ingested %d added, %d replaced, %d unchanged, %d failed in %.1f s",
        report.added,
        report.replaced,
        report.unchanged,
        len(report.failed),
        report.seconds,
    )
    return report


ingest_sources = ingest_locations  # the old name, for older callers


def ingest_text(
    store: ArticleStore,
    settings: Settings,
    *,
    text: str,
    title: str,
    **meta: Unpack[ArticleMeta],
) -> IngestReport:
    """Store one article given as raw text (e.g. pasted in the app).

    Bad input (empty text, a date that is not a full date, a non-http URL) is reported
    in ``failed``, like any other input.

    Example:
        >>> report = ingest_text(store, settings, text="Body.", title="Flood",
        ...                      published="2025-02-14")
        >>> report.added, report.failed
        (1, [])
        >>> ingest_text(store, settings, text="Body.", title="Flood", published="someday").failed
        [('pasted text', "unrecognized date 'someday' (use YYYY-MM-DD)")]
    """
    started = time.perf_counter()
    origin = "pasted text"
    try:
        if not title or not title.strip():
            raise IngestError("the title is empty")
        published, url = meta.get("published"), meta.get("url")
        if published and parse_date(published) is None:
            raise IngestError(f"unrecognized date {published!r} (use YYYY-MM-DD)")
        if url and not is_url(url.strip()):
            raise IngestError(f"not an http(s) URL: {url!r}")
        meta["url"] = url.strip() if url else None
        article = Article.create(title=title, text=text, origin=origin, **meta)
    except IngestError as exc:
        return IngestReport(failed=[(origin, exc.message)], seconds=time.perf_counter() - started)
    report = store.add_articles([article])
    report.seconds = time.perf_counter() - started
    return report
