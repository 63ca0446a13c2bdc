"""The Summaries tab's actions: a summary of one article in a style, a digest over several
articles, and Stop; both stream into an output panel and end with Markdown to export.

They run through :class:`rag.ui.generation.Generations`, which the ``/summarize`` and
``/digest`` endpoints share; these methods turn its updates into the panel's Markdown.

Example:
    >>> digest_request(" Ukraine ", "", "2025-02-01", "", 3.0).describe()
    'topic=Ukraine, since=2025-02-01'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from rag.summaries.request import DEFAULT_DIGEST_LIMIT, DigestRequest
from rag.ui.format import (
    digest_markdown,
    escape_block,
    escape_md,
    format_digest,
    format_summary,
    summary_header,
    summary_markdown,
)
from rag.ui.handlers import feedback

if TYPE_CHECKING:
    from rag.service import NewsRAG
    from rag.ui.generation import Generations, Update
    from rag.ui.runs import Runs

__all__ = [
    "DEFAULT_STYLES",
    "STOPPED_NOTE",
    "SummaryHandlers",
    "digest_request",
    "style_label",
    "styles",
]

STOPPED_NOTE = "*(stopped)*"
DEFAULT_STYLES = {
    "brief": "2-3 sentences",
    "bullets": "3-6 key points",
    "headline": "one line",
    "quotes": "key direct quotes with speakers",
}


def styles() -> dict[str, str]:
    """Summary styles and their descriptions, from the library when it is available."""
    try:
        from rag.summaries.styles import STYLE_SPECS
    except ImportError:  # pragma: no cover - the summaries module is part of the package
        return dict(DEFAULT_STYLES)
    return {name: spec.description for name, spec in STYLE_SPECS.items()}


def style_label(style: str) -> str:
    """``brief (2-3 sentences)``: a style with its description.

    Example:
        >>> style_label("no-such-style")
        'no-such-style'
    """
    description = styles().get(style)
    return f"{style} ({description})" if description else style


def digest_request(
    topic: str | None,
    outlet: str | None,
    since: str | None,
    until: str | None,
    limit: float | None,
) -> DigestRequest:
    """The :class:`DigestRequest` of the digest form (or of the ``/digest`` endpoint): blank
    text means none, no limit the default. Raises ValueError for a bad value.

    Example:
        >>> digest_request(" Ukraine ", "", "2025-02-01", "", 3.0).describe()
        'topic=Ukraine, since=2025-02-01'
    """
    limit = DEFAULT_DIGEST_LIMIT if limit is None else limit
    return DigestRequest(topic=topic, outlet=outlet, since=since, until=until, limit=limit)


class SummaryHandlers:
    """The Summaries tab's actions (part of :class:`rag.ui.handlers.Handlers`, which sets
    ``service``, ``runs`` and ``generations``). ``session`` identifies the browser tab.

    Example:
        >>> from rag.ui.handlers import Handlers
        >>> Handlers(service).stop_summaries("tab-1")
        '*(stopped)* Nothing was written yet.'
    """

    service: NewsRAG
    runs: Runs
    generations: Generations

    def summarize(
        self,
        article_id: str | None,
        style: str | None,
        session: str | None = None,
        asked_at: float | None = None,
    ) -> Iterator[tuple[str, str | None]]:
        """Stream a summary of one article: yields (Markdown shown, Markdown to export; None
        until the summary is finished)."""
        style = style or "brief"
        if not article_id:
            feedback.warn("Pick an article first.")
            yield "Pick an article and a style first.", None
            return
        try:
            article = self.service.get_article(article_id)
        except Exception as exc:
            yield feedback.error_markdown(exc), None
            return
        label = style_label(style)

        def finished(summary: Any) -> tuple[str, str]:
            shown = format_summary(summary, article, label)
            return shown, summary_markdown(summary, article, style)

        updates = self.generations.summary(article_id, style, session, asked_at)
        yield from _panel(updates, summary_header(article, label), finished)

    def digest(
        self,
        topic: str | None,
        outlet: str | None,
        since: str | None,
        until: str | None,
        limit: float | None,
        session: str | None = None,
        asked_at: float | None = None,
    ) -> Iterator[tuple[str, str | None]]:
        """Stream a digest over several articles (progress per article, then the text);
        yields (Markdown shown, Markdown to export; None until finished)."""
        try:
            request = digest_request(topic, outlet, since, until, limit)
        except ValueError as exc:
            feedback.warn(str(exc))
            yield f"**Error:** {escape_md(exc)}", None
            return
        header = f"### {escape_md(request.heading)}"

        def finished(digest: Any) -> tuple[str, str]:
            body = format_digest(digest.text, digest.articles, digest.issues)
            export = digest_markdown(digest.text, digest.articles, request.heading)
            return f"{header}\n\n{body}", export

        updates = self.generations.digest(request, session, asked_at)
        yield from _panel(updates, header, finished)

    def stop_summaries(self, session: str | None = None) -> str | None:
        """Stop this tab's summary or digest. A running one shows itself stopped with what
        it wrote (None: nothing to change here); one still waiting is reported now."""
        if self.runs.stop(session, ["summary", "digest"], reason="stopped"):
            return None
        return f"{STOPPED_NOTE} Nothing was written yet."


def _panel(
    updates: Iterator[Update], header: str, finished: Callable[[Any], tuple[str, str]]
) -> Iterator[tuple[str, str | None]]:
    """A summary's or digest's output panel as it runs: (Markdown shown, None) while working
    or once stopped, ``finished(result)`` at the end; an error is shown in the panel."""
    try:
        for update in updates:
            if update.result is not None:
                yield finished(update.result)
            elif update.stopped:
                yield _stopped(header, update.text), None
            else:
                yield _working(header, update.text, update.status), None
    except Exception as exc:
        yield feedback.error_markdown(exc), None


def _working(header: str, partial: str, status: str) -> str:
    """An output panel while the model works: the text so far, or the status line."""
    if partial:
        return f"{header}\n\n{escape_block(partial)} ▌"
    return f"{header}\n\n*{escape_md(status)}*"


def _stopped(header: str, partial: str) -> str:
    body = f"{escape_block(partial)} " if partial else ""
    return f"{header}\n\n{body}{STOPPED_NOTE}"
