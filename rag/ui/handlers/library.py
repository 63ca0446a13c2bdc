"""The Library tab's actions: add uploads, URLs/feeds or a pasted article, list what is
stored, read an article, and delete the ones selected (after a confirmation).

Each action's core (:meth:`LibraryHandlers.add_locations`, :meth:`LibraryHandlers.add_text`,
:meth:`LibraryHandlers.stored_articles`, :meth:`LibraryHandlers.delete_articles`) is shared
with the JSON API (:mod:`rag.ui.api`), which only shapes its results and errors differently.

Example:
    >>> from rag.ui.handlers import Handlers
    >>> Handlers(service).delete([], None)
    ('Nothing deleted: no article selected.', None, None)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.ui.format import (
    article_label,
    article_rows,
    escape_md,
    format_article_header,
    format_counts,
    format_report,
    outlet_choices,
)
from rag.ui.handlers import feedback

if TYPE_CHECKING:
    from rag.service import NewsRAG
    from rag.store.reports import ArticleInfo, IngestReport

__all__ = [
    "MAX_UPLOAD_FILES",
    "MAX_URLS",
    "LibraryHandlers",
    "checked_locations",
    "progress_callback",
    "with_refused",
]

logger = logging.getLogger(__name__)

MAX_UPLOAD_FILES = 100  # files per upload (each one is also limited to RAG_MAX_FILE_MB)
MAX_URLS = 50  # URL lines per request


def checked_locations(
    files: Sequence[str] | None, urls: str | None
) -> tuple[list[str], list[tuple[str, str]]]:
    """Uploads and URL lines a request may ingest, and the ones refused with a reason.

    Uploads must be files (a folder or a device is refused); URL lines must be
    http(s) URLs, so a path typed in the URL box (``/etc/passwd``, ``../data``) never
    reads a file on the server. Raises ValueError over :data:`MAX_UPLOAD_FILES` files or
    :data:`MAX_URLS` URLs.

    Example:
        >>> locations, refused = checked_locations([], "https://news.example/a\\n/etc/passwd")
        >>> locations, [origin for origin, _ in refused]
        (['https://news.example/a'], ['/etc/passwd'])
    """
    from rag.ingest.fetch import is_url

    files = [str(f) for f in (files or []) if str(f).strip()]
    lines = [line.strip() for line in (urls or "").splitlines() if line.strip()]
    if len(files) > MAX_UPLOAD_FILES:
        raise ValueError(
            f"too many files ({len(files)}): upload at most {MAX_UPLOAD_FILES} at once"
        )
    if len(lines) > MAX_URLS:
        raise ValueError(f"too many URLs ({len(lines)}): give at most {MAX_URLS} at once")
    locations: list[str] = []
    refused: list[tuple[str, str]] = []
    for name in files:
        if "\x00" in name:
            refused.append((name.replace("\x00", "?"), "invalid file name"))
            continue
        path = Path(name)
        if path.exists() and not path.is_file():  # a missing file is reported by the loader
            refused.append((name, "not an uploaded file (a folder or a device)"))
        else:
            locations.append(name)
    for line in lines:
        if "\x00" in line or not is_url(line) or any(ch.isspace() for ch in line):
            clean = line.replace("\x00", "?")
            refused.append((clean, "not an http(s) URL (only web addresses go in the URL box)"))
        else:
            locations.append(line)
    return locations, refused


def with_refused(report: Any, refused: list[tuple[str, str]]) -> Any:
    """The ingest report with the refused inputs listed first among the failures."""
    report.failed[:0] = refused
    return report


def progress_callback(progress: Any) -> Callable[[Any], None] | None:
    """Adapt ``gr.Progress`` to the library's ``progress(IngestProgress)`` callback."""
    if progress is None:
        return None

    def report(update: Any) -> None:
        done = getattr(update, "locations_done", 0) or 0
        total = getattr(update, "locations_total", None)
        desc = f"{getattr(update, 'articles', 0)} articles, {getattr(update, 'chunks', 0)} chunks"
        current = getattr(update, "current", "")
        if current:
            desc += f": {Path(str(current)).name if '://' not in str(current) else current}"
        try:
            progress((done, total) if total else None, desc=desc)
        except Exception:  # a progress display must never break an ingest
            logger.debug("progress update failed", exc_info=True)

    return report


class LibraryHandlers:
    """The Library tab's actions (part of :class:`rag.ui.handlers.Handlers`, which sets
    ``service``).

    Example:
        >>> from rag.ui.handlers import Handlers
        >>> Handlers(service).read_row([])
        ('', None)
    """

    service: NewsRAG

    def ingest(
        self, files: Sequence[str] | None, urls: str | None, progress: Any = None
    ) -> tuple[str, str, list[str]]:
        """Add uploaded files and pasted URLs/feeds: (report as Markdown, the URL lines that
        were refused, to correct, the ids of the articles added)."""
        try:
            added = self.add_locations(files, urls, progress_callback(progress))
        except Exception as exc:
            raise feedback.user_error(exc) from None
        if added is None:
            feedback.warn("Choose files to upload or paste a URL first.")
            return "Nothing to add yet: choose files or paste URLs.", urls or "", []
        report, refused = added
        typed = {line.strip() for line in (urls or "").splitlines()}
        text, failures = format_report(report, self._titles(report.article_ids), typed)
        if failures:
            shown = "; ".join(failures[:3])
            feedback.warn(f"{len(failures)} source(s) could not be added: {shown}")
        kept = "\n".join(origin for origin, _ in refused if origin in typed)
        return text, kept, list(report.article_ids)

    def add_locations(
        self,
        files: Sequence[str] | None,
        urls: str | None,
        progress: Callable[[Any], None] | None = None,
    ) -> tuple[Any, list[tuple[str, str]]] | None:
        """Ingest the uploads and URL lines a request may ingest (the page's and the API's
        core): (the report, listing the refused inputs first among its failures, and those
        refused inputs), or None when nothing was given. ValueError over the input limits.

        Example:
            >>> from rag.ui.handlers import Handlers
            >>> handlers = Handlers(service)
            >>> report, refused = handlers.add_locations([], "/etc/passwd")
            >>> report.added, refused
            (0, [('/etc/passwd', 'not an http(s) URL (only web addresses go in the URL box)')])
        """
        locations, refused = checked_locations(files, urls)
        if not locations and not refused:
            return None
        if locations:
            report = self.service.ingest(locations, progress=progress)
        else:
            from rag.store.reports import IngestReport

            report = IngestReport()
        return with_refused(report, refused), refused

    def _titles(self, article_ids: Sequence[str]) -> list[str]:
        """Titles of the given articles, in order (for the ingest report)."""
        wanted = set(article_ids)
        if not wanted:
            return []
        try:
            titles = {str(a.id): str(a.title) for a in self.service.list_articles()}
        except Exception:  # the report is still useful without titles
            logger.debug("could not list the added articles", exc_info=True)
            return []
        return [titles[i] for i in article_ids if i in titles]

    def ingest_text(
        self,
        title: str | None,
        text: str | None,
        outlet: str | None,
        url: str | None,
        published: str | None,
    ) -> tuple[str, list[str]]:
        """Add one pasted article: (report as Markdown, the ids added)."""
        if not (title or "").strip() or not (text or "").strip():
            feedback.warn("A pasted article needs a title and some text.")
            return "Nothing added: give the article a title and paste its text.", []
        fields = [(value or "").strip() for value in (outlet, url, published)]
        try:
            report = self.add_text(text.strip(), title.strip(), *fields)
        except Exception as exc:
            raise feedback.user_error(exc) from None
        return format_report(report, [title.strip()])[0], list(report.article_ids)

    def add_text(
        self, text: str, title: str, outlet: str = "", url: str = "", published: str = ""
    ) -> IngestReport:
        """Store one article given as text (the page's and the API's core; blank fields mean
        none); raises the service's errors.

        Example:
            >>> from rag.ui.handlers import Handlers
            >>> report = Handlers(service).add_text("Rates fell on Monday.", "Rates fell")
            >>> report.added
            1
        """
        return self.service.ingest_text(
            text, title, outlet=outlet or None, url=url or None, published=published or None
        )

    def library(self, recent: Sequence[str] | None = None) -> dict[str, Any]:
        """Fresh values for every list of articles or outlets (recently added ones first in
        the table): keys ``outlets``, ``articles``, ``rows``, ``counts`` and ``ids``."""
        try:
            infos = self.stored_articles()
            counts = format_counts(self.service.stats())
        except Exception as exc:
            raise feedback.user_error(exc) from None
        return {
            "outlets": outlet_choices(infos),
            "articles": [(article_label(info), str(info.id)) for info in infos],
            "rows": article_rows(infos, recent or ()),
            "counts": counts,
            "ids": {str(info.id) for info in infos},
        }

    def stored_articles(self, outlet: str | None = None) -> list[ArticleInfo]:
        """The stored articles, newest first (only one outlet's, given ``outlet``): the
        page's lists and the API's listing; raises the service's errors.

        Example:
            >>> from rag.ui.handlers import Handlers
            >>> len(Handlers(service).stored_articles()) > 0
            True
        """
        return self.service.list_articles(outlet or None)

    def preview(self, article_id: str) -> str:
        """The full text of one article as safe Markdown."""
        try:
            article = self.service.get_article(article_id)
        except Exception as exc:
            return feedback.error_markdown(exc)
        paragraphs = [p for p in str(article.text).split("\n") if p.strip()]
        body = "\n\n".join(escape_md(p.strip()) for p in paragraphs)
        author = getattr(article, "author", None)
        byline = f"\n\nBy {escape_md(author)}" if author else ""
        return format_article_header(article) + byline + "\n\n" + body

    def read_row(self, row: Sequence[Any] | None) -> tuple[str, str | None]:
        """A clicked table row: (the article as Markdown, its id). Reading selects nothing."""
        values = list(row or [])
        if not values:
            return "", None
        article_id = str(values[-1])
        return self.preview(article_id), article_id

    @staticmethod
    def select_for_deletion(article_id: str | None, selected: Sequence[str] | None) -> list[str]:
        """Add the article being read to the selection for deletion."""
        chosen = list(selected or [])
        if not article_id:
            feedback.warn("Click a row of the table to read an article first.")
        elif article_id not in chosen:
            chosen.append(article_id)
        return chosen

    def confirm_delete(self, selected: Sequence[str] | None) -> str | None:
        """The question to confirm before deleting (None when nothing is selected)."""
        ids = [s for s in (selected or []) if s]
        if not ids:
            feedback.warn(
                "Select articles to delete first (read one and press Select, or pick them)."
            )
            return None
        titles = self._titles(ids) or ids
        shown = "\n".join(f"- {escape_md(t)}" for t in titles[:10])
        more = f"\n- … and {len(titles) - 10} more" if len(titles) > 10 else ""
        count = f"{len(ids)} article{'s' if len(ids) != 1 else ''}"
        return f"**Delete {count}?** This cannot be undone.\n\n{shown}{more}"

    def delete(
        self, selected: Sequence[str] | None, reading: str | None
    ) -> tuple[str, str | None, str | None]:
        """Delete the selected articles: (status line, preview — cleared when the article
        being read was deleted, None to keep it —, the id still being read)."""
        ids = [s for s in (selected or []) if s]
        if not ids:
            return "Nothing deleted: no article selected.", None, reading
        try:
            count = self.delete_articles(ids)
        except Exception as exc:
            raise feedback.user_error(exc) from None
        status = f"Deleted **{count}** article{'s' if count != 1 else ''}."
        if reading in ids:
            return status, "", None
        return status, None, reading

    def delete_articles(self, article_ids: Sequence[str]) -> int:
        """Delete articles by id (the page's and the API's core): how many existed; raises
        the service's errors.

        Example:
            >>> from rag.ui.handlers import Handlers
            >>> Handlers(service).delete_articles(["no-such-id"])
            0
        """
        return int(self.service.delete(list(article_ids)))
