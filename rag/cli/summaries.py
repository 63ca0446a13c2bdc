"""``news-rag summarize`` and ``news-rag digest``: streamed summaries and multi-article digests.

Example (shell):
    $ news-rag summarize 3f2a9c --style bullets
    $ news-rag digest --topic "war in Ukraine" --since 2025-02-01 --limit 3
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import click

from rag.cli import common
from rag.cli.common import handle_errors
from rag.summaries.request import DEFAULT_DIGEST_LIMIT, MAX_DIGEST_ARTICLES, DigestRequest
from rag.summaries.styles import STYLES

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _same(a: str, b: str) -> bool:
    return re.sub(r"\s+", " ", a).strip() == re.sub(r"\s+", " ", b).strip()


def _stream(pieces: Iterable[Any]) -> tuple[str, Any]:
    """Echo streamed text as it arrives; return it and the final (non-text) item."""
    streamed, final = [], None
    for piece in pieces:
        if isinstance(piece, str):
            click.echo(piece, nl=False)
            streamed.append(piece)
        else:
            final = piece
    click.echo()
    return "".join(streamed), final


def _footer(parts: list[str]) -> None:
    click.echo(click.style(" · ".join(p for p in parts if p), dim=True))


def _report(notes: list[str], issues: list[str], faithful: bool) -> None:
    for note in notes:
        click.echo(click.style(f"note: {note}", dim=True))
    if not faithful:
        click.echo(click.style("warning: some details could not be verified:", fg="yellow"))
    for issue in issues:
        click.echo(click.style(f"  - {issue}", fg="yellow" if not faithful else None))


@click.command(
    epilog="""\b
Examples:
  news-rag summarize 3f2a9c                     # 3-4 sentences, streamed
  news-rag summarize 3f2a9c --style bullets     # 3-6 key points
  news-rag summarize 3f2a9c --style headline
  news-rag summarize 3f2a9c --style quotes      # who said what, verbatim
  news-rag summarize 3f2a9c --refresh --json    # regenerate, print JSON

\b
Article ids are listed by `news-rag list`. Summaries are cached per article,
style, model and prompt version; --refresh regenerates.""",
)
@click.argument("article_id")
@click.option(
    "--style",
    type=click.Choice(STYLES),
    default="brief",
    show_default=True,
    help="brief: 3-4 sentences; bullets: 3-6 points; headline: one line; quotes: key quotes.",
)
@click.option("--refresh", is_flag=True, help="Regenerate even if a cached summary exists.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (no streaming).")
@handle_errors
def summarize(article_id: str, style: str, refresh: bool, as_json: bool) -> None:
    """Summarize one article, checking that its numbers, names and quotes are in the text."""
    rag = common.open_service()
    if as_json:
        click.echo(
            rag.summarize(article_id, style=style, refresh=refresh).model_dump_json(indent=2)
        )
        return
    streamed, summary = _stream(rag.stream_summary(article_id, style=style, refresh=refresh))
    if not _same(streamed, summary.text):
        click.echo(click.style("\nAfter checks:", bold=True))
        click.echo(summary.text)
    _footer(
        [
            "cached" if summary.cached else summary.method.replace("_", "-"),
            f"{summary.prompt_tokens} prompt tokens",
            f"{summary.seconds:.2f} s",
            summary.model,
        ]
    )
    _report(summary.notes, summary.issues, summary.faithful)


@click.command(
    epilog="""\b
Examples:
  news-rag digest                                    # the 5 newest articles
  news-rag digest --topic "war in Ukraine this week"
  news-rag digest --outlet "Civic Wire" --since 2025-02-01 --until 2025-02-28
  news-rag digest --id 3f2a9c --id 7b1e04 --json

\b
Each article is summarized (cached briefs are reused), then combined; every
point ends with [n] markers listed under the digest.""",
)
@click.option("--topic", help="Pick the articles most relevant to this query.")
@click.option("--since", type=_DATE, help="Only articles published on or after (YYYY-MM-DD).")
@click.option("--until", type=_DATE, help="Only articles published on or before (YYYY-MM-DD).")
@common.old_option("source", "outlet")
@click.option("--outlet", help="Only articles from this outlet.")
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_DIGEST_ARTICLES),
    default=DEFAULT_DIGEST_LIMIT,
    show_default=True,
    help="How many articles to cover.",
)
@click.option("--id", "article_ids", multiple=True, help="Exactly these articles (repeatable).")
@click.option("--refresh", is_flag=True, help="Regenerate the articles' cached summaries.")
@click.option("--json", "as_json", is_flag=True, help="Print the digest as JSON (no streaming).")
@handle_errors
def digest(
    topic: str | None,
    since: datetime | None,
    until: datetime | None,
    outlet: str | None,
    limit: int,
    article_ids: tuple[str, ...],
    refresh: bool,
    as_json: bool,
) -> None:
    """Combine several articles into one digest whose points cite them as [n]."""
    request = DigestRequest(
        topic=topic,
        outlet=outlet,
        since=since.date() if since else None,
        until=until.date() if until else None,
        article_ids=article_ids,
        limit=limit,
    )
    rag = common.open_service()
    if as_json:
        click.echo(rag.digest(request, refresh=refresh).model_dump_json(indent=2))
        return
    click.echo(
        click.style("Summarizing the articles, then writing the digest...", dim=True), err=True
    )
    streamed, result = _stream(rag.stream_digest(request, refresh=refresh))
    if not _same(streamed, result.text):
        click.echo(click.style("\nAfter checks:", bold=True))
        click.echo(result.text)
    click.echo(click.style("\nArticles:", bold=True))
    for article in result.articles:
        meta = ", ".join(p for p in (article.outlet, article.published) if p)
        click.echo(f"[{article.n}] {article.title}{f' — {meta}' if meta else ''}")
        if article.url:
            click.echo(f"    {article.url}")
    _footer(
        [
            f"{len(result.articles)} articles",
            f"{sum(s.cached for s in result.summaries)} cached summaries",
            f"{result.prompt_tokens} prompt tokens",
            f"{result.seconds:.2f} s",
            result.model,
        ]
    )
    _report([], result.issues, result.faithful)
