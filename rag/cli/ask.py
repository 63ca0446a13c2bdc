"""``news-rag ask`` (one question, streamed, with numbered sources) and ``news-rag chat``.

Example (shell):
    $ news-rag ask "What did Hegseth rule out?"
    $ news-rag ask --json --outlet "Civic Wire" --since 2025-02-01 "Who met in Munich?"
    $ news-rag chat
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import click

from rag.cli.common import handle_errors, old_option, open_service
from rag.errors import RagError

if TYPE_CHECKING:
    from rag.qa.answer import Answer
    from rag.retrieval.hybrid import SearchFilters

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The retrieval options shared by ``ask`` and ``chat`` (``--source`` is the old name of
    ``--outlet``)."""
    options = [
        old_option("source", "outlet", "outlets", multiple=True),
        click.option(
            "--outlet",
            "outlets",
            multiple=True,
            metavar="OUTLET",
            help="Only articles from this outlet (repeatable, case-insensitive).",
        ),
        click.option("--since", type=_DATE, help="Only articles published on or after YYYY-MM-DD."),
        click.option("--until", type=_DATE, help="Only articles published up to YYYY-MM-DD."),
        click.option(
            "-k",
            "top_k",
            type=click.IntRange(1, 50),
            default=None,
            help="Number of article chunks given to the model (default: RAG_RETRIEVAL_K).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_filters(
    outlets: tuple[str, ...], since: datetime | date | None, until: datetime | date | None
) -> SearchFilters | None:
    """Filters from CLI options, or ``None`` when nothing is filtered.

    Example:
        >>> build_filters(("Civic Wire",), None, None).outlets
        ['Civic Wire']
    """
    from rag.retrieval.hybrid import SearchFilters

    def _day(value: datetime | date | None) -> date | None:
        return value.date() if isinstance(value, datetime) else value

    if since and until and _day(since) > _day(until):
        raise click.BadParameter("--since must be on or before --until", param_hint="--since")
    filters = SearchFilters(outlets=list(outlets) or None, since=_day(since), until=_day(until))
    return None if filters.is_empty else filters


def format_passages(answer: Answer) -> str:
    """The numbered sources cited by ``answer``, one block each (title, outlet, date, url).

    Example:
        >>> from rag.qa.answer import Answer, Citation
        >>> cited = Citation(number=1, article_id="a1", title="Hegseth tells allies",
        ...                  outlet="Civic Wire", published="2025-02-12",
        ...                  url="https://civicwire.example/hegseth", text="...")
        >>> answer = Answer(question="q", answer="No NATO seat [1].", standalone_question="q",
        ...                 citations=[cited])
        >>> print(format_passages(answer))
        Sources:
          [1] Hegseth tells allies — Civic Wire, 2025-02-12
              https://civicwire.example/hegseth
    """
    if not answer.citations:
        return ""
    lines = ["Sources:"]
    for citation in answer.citations:
        details = ", ".join(p for p in (citation.outlet, citation.published) if p)
        lines.append(f"  [{citation.number}] {citation.title or 'Untitled'}")
        if details:
            lines[-1] += f" — {details}"
        if citation.url:
            lines.append(f"      {citation.url}")
    return "\n".join(lines)


def _stream_answer(
    service: Any,
    question: str,
    history: list[tuple[str, str]] | None,
    filters: SearchFilters | None,
) -> Answer:
    """Print tokens as they come, then the notes and sources; return the final Answer."""
    answer = None
    for piece in service.stream(question, history=history, filters=filters):
        if isinstance(piece, str):
            click.echo(piece, nl=False)
        else:
            answer = piece
    click.echo()
    if answer is None:  # pragma: no cover - the service always ends with an Answer
        raise RagError("The answer stream ended without a result.")
    for flag in answer.flags:
        if flag.kind != "no_citation":
            click.secho(f"Note: {flag.message}", fg="yellow", err=True)
    if answer.abstain_note:
        click.echo(answer.abstain_note)
    sources = format_passages(answer)
    if sources:
        click.echo()
        click.echo(sources)
    return answer


@click.command(
    epilog="""\b
Examples:
  news-rag ask "What did Hegseth rule out?"
  news-rag ask --outlet "Civic Wire" --since 2025-02-01 "What happened in Brussels?"
  news-rag ask -k 8 --json "Who won the Westfield mayoral election?"
"""
)
@click.argument("question", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the structured result as JSON.")
@_filter_options
@handle_errors
def ask(
    question: tuple[str, ...],
    as_json: bool,
    outlets: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    top_k: int | None,
) -> None:
    """Answer QUESTION from your articles, with numbered sources.

    The answer streams as it is generated; the sources cited follow it. When the
    articles do not contain the answer, it says so instead of guessing.
    """
    text = " ".join(question)
    filters = build_filters(outlets, since, until)
    service = open_service(retrieval_k=top_k)
    try:
        if as_json:
            answer = service.ask(text, history=None, filters=filters)
            click.echo(answer.model_dump_json(indent=2))
        else:
            _stream_answer(service, text, None, filters)
    finally:
        _close(service)


@click.command(
    epilog="""\b
Examples:
  news-rag chat
  news-rag chat --outlet "The Meridian Post"

\b
In the chat:
  /new    start a new conversation (forget the history)
  /quit   leave (or Ctrl-D)
"""
)
@_filter_options
@handle_errors
def chat(
    outlets: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    top_k: int | None,
) -> None:
    """Ask questions in a conversation: follow-ups understand what came before."""
    filters = build_filters(outlets, since, until)
    service = open_service(retrieval_k=top_k)
    _warm_up(service)  # the models load while the user types the first question
    history: list[tuple[str, str]] = []
    click.echo("Ask about your articles. /new starts over, /quit leaves.")
    try:
        while True:
            try:
                line = click.prompt("\nYou", prompt_suffix="> ", default="", show_default=False)
            except (EOFError, click.Abort):
                click.echo()
                break
            line = line.strip()
            if not line:
                continue
            if line.lower() in ("/quit", "/exit", "/q"):
                break
            if line.lower() == "/new":
                history.clear()
                click.echo("(new conversation)")
                continue
            try:
                answer = _stream_answer(service, line, list(history), filters)
            except RagError as exc:
                click.secho(f"Error: {exc}", fg="red", err=True)
                continue
            history.append((line, answer.answer))
    finally:
        _close(service)


def _warm_up(service: Any) -> None:
    """Start the service's background warm-up when ``RAG_LLM_WARMUP`` is on."""
    settings = getattr(service, "settings", None)
    warm_up = getattr(service, "warm_up", None)
    if callable(warm_up) and getattr(settings, "llm_warmup", False):
        warm_up()


def _close(service: Any) -> None:
    close = getattr(service, "close", None)
    if callable(close):
        close()
