"""``news-rag ingest``, ``list``, ``show`` and ``delete``: manage the article library.

Example (shell):
    $ news-rag ingest samples/ https://news.example/feed.xml
    $ news-rag list --outlet "Civic Wire"
    $ news-rag show 8782db08
    $ news-rag delete 8782db0870783fc4 --yes
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from rag.cli import common
from rag.cli.common import handle_errors, old_option
from rag.errors import NotFoundError

if TYPE_CHECKING:
    from rich.console import Console

    from rag.service import NewsRAG
    from rag.store.reports import ArticleInfo, IngestProgress, IngestReport


def _service() -> NewsRAG:
    """The library service (models load lazily; listing loads none)."""
    return common.open_service()


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


# --------------------------------------------------------------------------- ingest
@click.command(
    epilog="""\b
Examples:
  news-rag ingest samples/
  news-rag ingest story.html notes.txt briefs.jsonl
  news-rag ingest https://news.example/world/2025/02/14/story
  news-rag ingest https://news.example/rss.xml      # every entry of a feed
  news-rag ingest --json samples/ > report.json

\b
Formats: .txt (optional "Title:/Source:/Date:/URL:/Author:" header lines),
.md (YAML front matter), .html/.htm, .jsonl (one article per line: title, text,
source, url, author, published), RSS/Atom feeds (.xml/.rss/.atom or URL).
Folders are read recursively. Re-ingesting an unchanged article does nothing;
a changed article at the same URL replaces the old version."""
)
@click.argument("locations", nargs=-1, required=True, metavar="PATH|URL...")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (no progress bar).")
@handle_errors
def ingest(locations: tuple[str, ...], as_json: bool) -> None:
    """Add articles from files, folders, web pages and RSS/Atom feeds."""
    rag = _service()
    report = rag.ingest(list(locations)) if as_json else _ingest_with_progress(rag, list(locations))
    if as_json:
        click.echo(json.dumps(_report_dict(report), indent=2, ensure_ascii=False))
    else:
        _print_report(report)
    if report.total_ok == 0:
        if not report.failed and not as_json:
            click.echo("No supported files found (.txt, .md, .html, .jsonl, feeds).", err=True)
        raise SystemExit(1)


def _ingest_with_progress(rag: NewsRAG, locations: list[str]) -> IngestReport:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = _console(stderr=True)
    columns = [
        SpinnerColumn(),
        TextColumn("[bold]Ingesting[/bold]"),
        BarColumn(),
        TextColumn("{task.fields[locations]}"),
        TextColumn("{task.fields[articles]} articles ({task.fields[aps]:.1f}/s)"),
        TextColumn("{task.fields[chunks]} chunks ({task.fields[cps]:.1f}/s)"),
        TextColumn("[red]{task.fields[failed]}[/red]"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(
            "ingest",
            total=len(locations),
            locations="",
            articles=0,
            chunks=0,
            aps=0.0,
            cps=0.0,
            failed="",
        )

        def update(p: IngestProgress) -> None:
            elapsed = max(p.elapsed, 1e-6)
            bar.update(
                task,
                completed=p.locations_done,
                locations=f"{p.locations_done}/{p.locations_total or len(locations)} sources",
                articles=p.articles,
                chunks=p.chunks,
                aps=p.articles / elapsed,
                cps=p.chunks / elapsed,
                failed=f"{p.failed} failed" if p.failed else "",
            )

        return rag.ingest(locations, progress=update)


def _report_dict(report: IngestReport) -> dict[str, Any]:
    data = report.model_dump()
    data["failed"] = [{"source": origin, "reason": reason} for origin, reason in report.failed]
    return data


def _print_report(report: IngestReport) -> None:
    from rich.table import Table

    console = _console()
    summary = Table(title="Ingest summary", show_header=False, title_justify="left")
    summary.add_column("what")
    summary.add_column("count", justify="right")
    summary.add_row("Added", str(report.added))
    summary.add_row("Replaced", str(report.replaced))
    summary.add_row("Unchanged", str(report.unchanged))
    summary.add_row("Failed", str(len(report.failed)))
    summary.add_row("Chunks added", str(report.chunks_added))
    seconds = max(report.seconds, 1e-6)
    rate = f"{report.seconds:.1f} s ({report.total_ok / seconds:.1f} articles/s, "
    summary.add_row("Time", rate + f"{report.chunks_added / seconds:.1f} chunks/s)")
    console.print(summary)
    if report.failed:
        failures = Table(title="Failed", title_justify="left")
        failures.add_column("Source", overflow="fold")
        failures.add_column("Reason", overflow="fold")
        for origin, reason in report.failed:
            failures.add_row(origin, reason)
        console.print(failures)


# --------------------------------------------------------------------------- list
@click.command(
    "list",
    epilog="""\b
Examples:
  news-rag list
  news-rag list --outlet "Civic Wire"
  news-rag list --json | jq '.[].title'""",
)
@old_option("source", "outlet")
@click.option("--outlet", metavar="OUTLET", help="Only articles from this outlet (any case).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@handle_errors
def list_articles(outlet: str | None, as_json: bool) -> None:
    """List stored articles, newest first."""
    articles = _service().list_articles(outlet)
    if as_json:
        click.echo(json.dumps([a.model_dump() for a in articles], indent=2, ensure_ascii=False))
        return
    if not articles:
        click.echo(
            "No articles" + (f" from {outlet!r}" if outlet else "") + ". Add some with: "
            "news-rag ingest PATH|URL"
        )
        return
    _print_list(articles)


def _print_list(articles: list[ArticleInfo]) -> None:
    from rich.table import Table

    table = Table(title=f"{len(articles)} article(s)", title_justify="left")
    table.add_column("ID", no_wrap=True)
    table.add_column("Published", no_wrap=True)
    table.add_column("Outlet")
    table.add_column("Title", overflow="fold")
    table.add_column("Chunks", justify="right")
    for a in articles:
        table.add_row(a.id, a.published or "-", a.outlet or "-", a.title, str(a.chunks))
    _console().print(table)


# --------------------------------------------------------------------------- show
@click.command(
    epilog="""\b
Examples:
  news-rag show 8782db0870783fc4
  news-rag show 8782db08            # a unique prefix of the id is enough
  news-rag show 8782db08 --json"""
)
@click.argument("article_id")
@click.option("--json", "as_json", is_flag=True, help="Print the article as JSON.")
@handle_errors
def show(article_id: str, as_json: bool) -> None:
    """Show one article: its metadata and full text."""
    rag = _service()
    article = rag.get_article(_resolve_id(rag, article_id))
    if as_json:
        click.echo(json.dumps(article.model_dump(), indent=2, ensure_ascii=False))
        return
    lines = [article.title, "=" * min(len(article.title), 80)]
    for label, value in (
        ("ID", article.id),
        ("Outlet", article.outlet),
        ("Published", article.published),
        ("Author", article.author),
        ("URL", article.url),
        ("Language", article.language),
        ("Origin", article.origin),
    ):
        if value:
            lines.append(f"{label + ':':<11}{value}")
    click.echo("\n".join(lines) + "\n\n" + article.text)


def _resolve_id(rag: NewsRAG, prefix: str) -> str:
    """The full id for an id or a unique id prefix (NotFoundError otherwise)."""
    prefix = prefix.strip().lower()
    if rag.store.get_article(prefix) is not None:
        return prefix
    matches = [a.id for a in rag.list_articles() if a.id.startswith(prefix)] if prefix else []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise NotFoundError(
            f"the id prefix {prefix!r} matches {len(matches)} articles",
            hint="give more characters of the id (see: news-rag list)",
        )
    raise NotFoundError(f"no article with id {prefix!r}", hint="list ids with: news-rag list")


# --------------------------------------------------------------------------- delete
@click.command(
    epilog="""\b
Examples:
  news-rag delete 8782db0870783fc4
  news-rag delete 8782db08 f64af5a9 --yes"""
)
@click.argument("article_ids", nargs=-1, required=True, metavar="ID...")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def delete(article_ids: tuple[str, ...], yes: bool) -> None:
    """Delete articles (and all their chunks) by id or unique id prefix."""
    rag = _service()
    resolved, missing = [], []
    for given in article_ids:
        try:
            resolved.append(_resolve_id(rag, given))
        except NotFoundError as exc:
            missing.append(exc.message)
    for message in missing:
        click.echo(f"Skipped: {message}", err=True)
    resolved = list(dict.fromkeys(resolved))
    if not resolved:
        raise SystemExit(1)
    if not yes:
        titles = {a.id: a.title for a in rag.list_articles()}
        for article_id in resolved:
            click.echo(f"  {article_id}  {titles.get(article_id, '')}")
        click.confirm(f"Delete {len(resolved)} article(s)?", abort=True)
    deleted = rag.delete(resolved)
    click.echo(f"Deleted {deleted} article(s).")
