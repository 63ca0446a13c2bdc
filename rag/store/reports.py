"""What the store reports: ingest counts and progress, stored articles, store statistics.

Example:
    >>> IngestReport(added=2, unchanged=1).total_ok
    3
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from rag.renamed import KeepsOldNames, OldName, old_keywords, renamed_field

__all__ = ["ArticleInfo", "IngestProgress", "IngestReport", "ProgressCallback", "StoreStats"]


class IngestReport(BaseModel):
    """What an ingest did: counts, failures with reasons, time, and the article ids.

    ``article_ids`` lists every article now stored from this ingest (added, replaced
    or unchanged), in input order.

    Example:
        >>> r = IngestReport(added=2, failed=[("x.pdf", "unsupported file type")])
        >>> r.total_ok, r.all_failed
        (2, False)
    """

    added: int = 0
    unchanged: int = 0
    replaced: int = 0
    failed: list[tuple[str, str]] = Field(default_factory=list)
    chunks_added: int = 0
    seconds: float = 0.0
    article_ids: list[str] = Field(default_factory=list)

    @property
    def total_ok(self) -> int:
        """Articles stored or already up to date."""
        return self.added + self.unchanged + self.replaced

    @property
    def all_failed(self) -> bool:
        """True when nothing was stored and something failed."""
        return self.total_ok == 0 and bool(self.failed)

    def merge(self, other: IngestReport) -> IngestReport:
        """Add ``other``'s counts, failures and ids to this report (returns self).

        Example:
            >>> IngestReport(added=1).merge(IngestReport(added=2)).added
            3
        """
        self.added += other.added
        self.unchanged += other.unchanged
        self.replaced += other.replaced
        self.failed.extend(other.failed)
        self.chunks_added += other.chunks_added
        self.seconds += other.seconds
        self.article_ids.extend(other.article_ids)
        return self


@old_keywords(sources_done="locations_done", sources_total="locations_total")
@dataclass
class IngestProgress:
    """A progress update, sent after each stored batch and each failure.

    Example:
        >>> IngestProgress(articles=10, chunks=55).articles
        10
    """

    articles: int = 0  # articles processed (added + replaced + unchanged)
    chunks: int = 0  # chunks embedded and stored
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    failed: int = 0
    current: str = ""  # origin of the last article or input location
    locations_done: int = 0
    locations_total: int | None = None
    elapsed: float = 0.0


ProgressCallback = Callable[[IngestProgress], None]


class ArticleInfo(KeepsOldNames):
    """One stored article, without its text (what ``news-rag list`` shows).

    Example:
        >>> ArticleInfo(id="a1", title="T", chunks=3, content_hash="h").outlet is None
        True
    """

    id: str
    title: str
    outlet: str | None = renamed_field("outlet", "source", default=None)
    url: str | None = None
    published: str | None = None
    author: str | None = None
    chunks: int = 0
    content_hash: str

    source = OldName("outlet")  # the field's old name, for older callers


class StoreStats(BaseModel):
    """Counts and location of the store.

    Example:
        >>> StoreStats(articles=1, chunks=4, mode="embedded", location="data/chroma",
        ...            collection="news").chunks
        4
    """

    articles: int
    chunks: int
    mode: Literal["embedded", "server"]
    location: str
    collection: str
