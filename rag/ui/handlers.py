"""What the app's buttons do: one method per action, each calling the ``NewsRAG`` facade.

Kept apart from the layout (:mod:`rag.ui.app`) so that every action can be tested with a
fake service. Answers, summaries and digests run as stoppable :class:`rag.ui.runs.Run`\\ s;
methods return plain values (``None`` where the layout should leave a component as it is).
Summaries and digests run through :class:`rag.ui.generation.Generations` and uploads
through :meth:`Handlers.add_sources`, which the JSON API (:mod:`rag.ui.api`) shares: it
only shapes their results differently.

Example (``chat`` needs the LLM):
    >>> handlers = Handlers(service)
    >>> messages, turns, _ = handlers.begin("Who won?", [])
    >>> for messages, final, stored in handlers.chat(turns, [], "", ""):  # doctest: +SKIP
    ...     pass
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import NotFoundError, RagError
from rag.redaction import redact_known, redact_mapping, register_secrets
from rag.summaries.request import DEFAULT_DIGEST_LIMIT, DigestRequest
from rag.ui import chat
from rag.ui.format import (
    article_label,
    article_rows,
    count_articles,
    digest_markdown,
    escape_block,
    escape_md,
    format_article_header,
    format_counts,
    format_describe,
    format_digest,
    format_report,
    format_summary,
    parse_day,
    parse_range,
    source_choices,
    summary_header,
    summary_markdown,
)
from rag.ui.generation import Generations, Timing, Update
from rag.ui.runs import Runs

if TYPE_CHECKING:
    from rag.service import NewsRAG

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000  # as rag.qa.turn accepts; shown next to the question box
MAX_UPLOAD_FILES = 100  # files per upload (each one is also limited to RAG_MAX_FILE_MB)
MAX_URLS = 50  # URL lines per request
STOPPED_NOTE = "*(stopped)*"
ANSWER_HANDOVER_SECONDS = 2.0  # a new answer waits this long for a stopped one to end
NEW_CONVERSATION = "new conversation"  # why an answer was cancelled: the chat is cleared
DEFAULT_STYLES = {
    "brief": "2-3 sentences",
    "bullets": "3-6 key points",
    "headline": "one line",
    "quotes": "key direct quotes with speakers",
}
APP_NOT_FOUND_HINT = "refresh the Library tab to see the articles stored now"
API_NOT_FOUND_HINT = "list the stored article ids with the /list_articles endpoint"

Messages = list[dict[str, Any]]
Turns = list[dict[str, Any]]


# --- messages and errors -------------------------------------------------------------------
def warn(message: str) -> None:
    """A toast in the browser (and a log line)."""
    import gradio as gr

    logger.info("warning shown: %s", message)
    gr.Warning(message)


def user_error(exc: Exception, *, api: bool = False) -> Exception:
    """``gr.Error`` with a readable message for any exception (details go to the log).

    A not-found error tells an API caller which endpoint lists what exists.
    """
    import gradio as gr

    if isinstance(exc, NotFoundError):
        hint = API_NOT_FOUND_HINT if api else APP_NOT_FOUND_HINT
        return gr.Error(redact_known(f"{exc.message}\nHint: {hint}"), print_exception=False)
    if isinstance(exc, RagError | ValueError):
        return gr.Error(redact_known(str(exc)), print_exception=False)
    logger.exception("unexpected error in the app")
    message = redact_known(f"Something went wrong: {type(exc).__name__}: {exc}")
    return gr.Error(message, print_exception=False)


def error_markdown(exc: Exception) -> str:
    """An error shown inside the chat or an output panel (never a traceback)."""
    if isinstance(exc, RagError):
        text = f"**Error:** {escape_md(redact_known(exc.message))}"
        hint = APP_NOT_FOUND_HINT if isinstance(exc, NotFoundError) else exc.hint
        if hint:
            text += f"\n\n{escape_md(redact_known(hint))}"
        return text
    logger.exception("unexpected error in the app")
    detail = redact_known(f"{type(exc).__name__}: {exc}")
    return f"**Something went wrong:** {escape_md(detail)}"


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


def search_filters(sources: Sequence[str] | None, since: str | None, until: str | None) -> Any:
    """``SearchFilters`` for the chat, or None when nothing is set (ValueError on bad dates).

    Example:
        >>> search_filters([], "", "") is None
        True
    """
    start, end = parse_range(since, until)
    chosen = [s for s in (sources or []) if s]
    if not chosen and start is None and end is None:
        return None
    from rag.retrieval.hybrid import SearchFilters

    return SearchFilters(sources=chosen or None, since=start, until=end)


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


def checked_sources(
    files: Sequence[str] | None, urls: str | None
) -> tuple[list[str], list[tuple[str, str]]]:
    """Uploads and URL lines a request may ingest, and the ones refused with a reason.

    Uploads must be files (a folder or a device is refused); URL lines must be
    http(s) URLs, so a path typed in the URL box (``/etc/passwd``, ``../data``) never
    reads a file on the server. Raises ValueError over :data:`MAX_UPLOAD_FILES` files or
    :data:`MAX_URLS` URLs.

    Example:
        >>> sources, refused = checked_sources([], "https://news.example/a\\n/etc/passwd")
        >>> sources, [origin for origin, _ in refused]
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
    sources: list[str] = []
    refused: list[tuple[str, str]] = []
    for name in files:
        if "\x00" in name:
            refused.append((name.replace("\x00", "?"), "invalid file name"))
            continue
        path = Path(name)
        if path.exists() and not path.is_file():  # a missing file is reported by the loader
            refused.append((name, "not an uploaded file (a folder or a device)"))
        else:
            sources.append(name)
    for line in lines:
        if "\x00" in line or not is_url(line) or any(ch.isspace() for ch in line):
            clean = line.replace("\x00", "?")
            refused.append((clean, "not an http(s) URL (only web addresses go in the URL box)"))
        else:
            sources.append(line)
    return sources, refused


def with_refused(report: Any, refused: list[tuple[str, str]]) -> Any:
    """The ingest report with the refused inputs listed first among the failures."""
    report.failed[:0] = refused
    return report


class Handlers:
    """Event handlers of the app, one method per action, all calling the service.

    ``session`` arguments identify the browser tab (Gradio's session hash): a Stop, a new
    conversation or a closed tab cancels that tab's runs only.

    Example:
        >>> handlers = Handlers(service)
        >>> handlers.question_problems("", [], "", "")
        {'question': 'Type a question first.'}
    """

    def __init__(self, service: NewsRAG, runs: Runs | None = None) -> None:
        self.service = service
        self.runs = runs or Runs()
        self.generations = Generations(service, self.runs)
        settings = getattr(service, "settings", None)
        if settings is not None:
            register_secrets(settings)  # masked in every error shown and in the About tab

    # --- Ask ---------------------------------------------------------------------------
    @staticmethod
    def question_problems(
        question: str | None, turns: Turns | None, since: str | None, until: str | None
    ) -> dict[str, str]:
        """What is wrong with a question before it is asked, by input name (empty if fine)."""
        problems: dict[str, str] = {}
        text = " ".join((question or "").split())
        if not text:
            problems["question"] = "Type a question first."
        elif len(text) > MAX_QUESTION_CHARS:
            problems["question"] = (
                f"The question is too long ({len(text)} characters): "
                f"keep it under {MAX_QUESTION_CHARS}."
            )
        elif turns and turns[-1].get("status") == chat.PENDING:
            problems["question"] = "An answer is still being written: wait for it or press Stop."
        for name, value in (("since", since), ("until", until)):
            try:
                parse_day(value, name.capitalize())
            except ValueError as exc:
                problems[name] = str(exc)
        if not problems.keys() & {"since", "until"}:
            try:
                parse_range(since, until)
            except ValueError as exc:
                problems["until"] = str(exc)
        return problems

    @staticmethod
    def begin(question: str, turns: Turns | None) -> tuple[Messages, Turns, str]:
        """Show the question at once (waiting for the model); clears the question box."""
        turns = [*(turns or []), chat.new_turn(" ".join((question or "").split()))]
        return chat.render(turns), turns, ""

    def chat(
        self,
        turns: Turns | None,
        sources: Sequence[str] | None,
        since: str | None,
        until: str | None,
        session: str | None = None,
    ) -> Iterator[tuple[Messages, Turns | None, Turns | None]]:
        """Answer the pending question: yields (chat messages, turns, turns to keep in the
        browser); turns are None until the last update."""
        turns = list(turns or [])
        if not turns or turns[-1].get("status") != chat.PENDING:
            return
        # one answer at a time per tab (a stopped one may still be drawing its end)
        if not self.runs.wait_idle(session, ["answer"], timeout=ANSWER_HANDOVER_SECONDS):
            return
        turn, earlier = turns[-1], turns[:-1]
        ahead = self.runs.busy()  # e.g. a stopped answer the model is still reading
        run = self.runs.start("answer", session, asked_at=turn.get("asked"))
        if run is None:  # stopped while it waited in the queue: already shown as stopped
            return
        live = chat.Live(stage="Searching the articles", ahead=ahead)
        timing = Timing("question")
        answer: Any = None
        outcome = "closed"  # unless the end below is reached: Gradio closed this handler
        try:
            filters = search_filters(sources, since, until)
            history = chat.history_pairs(earlier)
            yield chat.render(turns, live), None, None

            def events() -> Iterator[Any]:
                question = turn["question"]
                return self.service.stream_events(question, history=history, filters=filters)

            with contextlib.closing(run.items(events)) as items:
                for event in items:
                    live.elapsed = int(run.elapsed)
                    live.ahead = max(self.runs.busy() - 1, 0)  # this run's worker counts too
                    done = _follow(event, live, timing)
                    if done is not None:
                        answer = done
                    elif answer is None:
                        yield chat.render(turns, live), None, None
            if answer is not None:
                outcome, final = "done", chat.finished(turn, answer)
                timing.tokens = (answer.prompt_tokens, answer.completion_tokens)
                timing.extra = f"{len(answer.citations)} cited, abstained {answer.abstained}"
            else:
                outcome, final = "stopped", chat.stopped(turn, live.partial, live.sources)
        except Exception as exc:
            outcome, final = "failed", chat.failed(turn, error_markdown(exc))
            if isinstance(exc, RagError):
                warn(exc.message)
        finally:
            if outcome in ("closed", "stopped") and run.reason:
                outcome = f"stopped ({run.reason})"
            logger.info(timing.line(outcome))
        if run.reason == NEW_CONVERSATION:
            yield [], [], []
            return
        result = [*earlier, final]
        yield chat.render(result), result, chat.stored_turns(result)

    def stop_answer(
        self, turns: Turns | None, session: str | None = None
    ) -> tuple[Messages | None, Turns | None, Turns | None]:
        """Stop this tab's answer. A running answer shows itself stopped, keeping what was
        streamed (None: nothing to change here); a question still waiting is shown stopped now.
        """
        if self.runs.stop(session, ["answer"], reason="stopped"):
            return None, None, None
        turns = list(turns or [])
        if turns and turns[-1].get("status") == chat.PENDING:
            turns[-1] = chat.stopped(turns[-1])
        return chat.render(turns), turns, chat.stored_turns(turns)

    def new_conversation(
        self, session: str | None = None
    ) -> tuple[Messages | None, Turns | None, Turns | None]:
        """Forget this tab's conversation; a running answer is stopped and clears it itself
        (None: nothing to change here)."""
        if self.runs.stop(session, ["answer"], reason=NEW_CONVERSATION):
            return None, None, None
        return [], [], []

    @staticmethod
    def regenerate(turns: Turns | None) -> tuple[Messages, Turns]:
        """Ask the last question again (its answer is replaced)."""
        turns = list(turns or [])
        if not turns:
            return [], []
        turns[-1] = chat.new_turn(turns[-1]["question"])
        return chat.render(turns), turns

    def edit(
        self, turns: Turns | None, message_index: int, text: str | None
    ) -> tuple[Messages, Turns]:
        """Ask an edited question in place of the one at ``message_index``; the turns after
        it are dropped (as in any chat that branches on an edit)."""
        turns = list(turns or [])
        number = chat.turn_of_message(turns, message_index)
        problem = self.question_problems(text, [], "", "").get("question")
        if number is None or problem:
            if problem:
                warn(problem)
            return chat.render(turns), turns
        turns = [*turns[:number], chat.new_turn(" ".join((text or "").split()))]
        return chat.render(turns), turns

    @staticmethod
    def restore(stored: Turns | None) -> tuple[Messages, Turns]:
        """The conversation this browser kept (after a reload)."""
        turns = chat.stored_turns(stored if isinstance(stored, list) else [])
        return chat.render(turns), turns

    # --- Summaries -----------------------------------------------------------------------
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
            warn("Pick an article first.")
            yield "Pick an article and a style first.", None
            return
        try:
            article = self.service.get_article(article_id)
        except Exception as exc:
            yield error_markdown(exc), None
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
        source: str | None,
        since: str | None,
        until: str | None,
        limit: float | None,
        session: str | None = None,
        asked_at: float | None = None,
    ) -> Iterator[tuple[str, str | None]]:
        """Stream a digest over several articles (progress per article, then the text);
        yields (Markdown shown, Markdown to export; None until finished)."""
        try:
            request = digest_request(topic, source, since, until, limit)
        except ValueError as exc:
            warn(str(exc))
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

    def end_session(self, session: str | None) -> None:
        """The browser tab is gone: stop its work so others need not wait for it."""
        for run in self.runs.end_session(session):
            logger.info("stopped a %s of a closed browser tab", run.kind)

    # --- Library ---------------------------------------------------------------------------
    def ingest(
        self, files: Sequence[str] | None, urls: str | None, progress: Any = None
    ) -> tuple[str, str, list[str]]:
        """Add uploaded files and pasted URLs/feeds: (report as Markdown, the URL lines that
        were refused, to correct, the ids of the articles added)."""
        try:
            added = self.add_sources(files, urls, progress_callback(progress))
        except Exception as exc:
            raise user_error(exc) from None
        if added is None:
            warn("Choose files to upload or paste a URL first.")
            return "Nothing to add yet: choose files or paste URLs.", urls or "", []
        report, refused = added
        typed = {line.strip() for line in (urls or "").splitlines()}
        text, failures = format_report(report, self._titles(report.article_ids), typed)
        if failures:
            warn(f"{len(failures)} source(s) could not be added: " + "; ".join(failures[:3]))
        kept = "\n".join(origin for origin, _ in refused if origin in typed)
        return text, kept, list(report.article_ids)

    def add_sources(
        self,
        files: Sequence[str] | None,
        urls: str | None,
        progress: Callable[[Any], None] | None = None,
    ) -> tuple[Any, list[tuple[str, str]]] | None:
        """Ingest the uploads and URL lines a request may ingest (the page's and the API's
        core): (the report, listing the refused inputs first among its failures, and those
        refused inputs), or None when nothing was given. ValueError over the input limits.

        Example:
            >>> handlers = Handlers(service)
            >>> report, refused = handlers.add_sources([], "/etc/passwd")
            >>> report.added, refused
            (0, [('/etc/passwd', 'not an http(s) URL (only web addresses go in the URL box)')])
        """
        sources, refused = checked_sources(files, urls)
        if not sources and not refused:
            return None
        if sources:
            report = self.service.ingest(sources, progress=progress)
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
        source: str | None,
        url: str | None,
        published: str | None,
    ) -> tuple[str, list[str]]:
        """Add one pasted article: (report as Markdown, the ids added)."""
        if not (title or "").strip() or not (text or "").strip():
            warn("A pasted article needs a title and some text.")
            return "Nothing added: give the article a title and paste its text.", []
        try:
            report = self.service.ingest_text(
                text.strip(),
                title.strip(),
                source=(source or "").strip() or None,
                url=(url or "").strip() or None,
                published=(published or "").strip() or None,
            )
        except Exception as exc:
            raise user_error(exc) from None
        return format_report(report, [title.strip()])[0], list(report.article_ids)

    def library(self, recent: Sequence[str] | None = None) -> dict[str, Any]:
        """Fresh values for every list of articles or outlets (recently added ones first in
        the table): keys ``outlets``, ``articles``, ``rows``, ``counts`` and ``ids``."""
        try:
            infos = self.service.list_articles()
            counts = format_counts(self.service.stats())
        except Exception as exc:
            raise user_error(exc) from None
        return {
            "outlets": source_choices(infos),
            "articles": [(article_label(info), str(info.id)) for info in infos],
            "rows": article_rows(infos, recent or ()),
            "counts": counts,
            "ids": {str(info.id) for info in infos},
        }

    def preview(self, article_id: str) -> str:
        """The full text of one article as safe Markdown."""
        try:
            article = self.service.get_article(article_id)
        except Exception as exc:
            return error_markdown(exc)
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
            warn("Click a row of the table to read an article first.")
        elif article_id not in chosen:
            chosen.append(article_id)
        return chosen

    def confirm_delete(self, selected: Sequence[str] | None) -> str | None:
        """The question to confirm before deleting (None when nothing is selected)."""
        ids = [s for s in (selected or []) if s]
        if not ids:
            warn("Select articles to delete first (read one and press Select, or pick them).")
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
            count = self.service.delete(ids)
        except Exception as exc:
            raise user_error(exc) from None
        status = f"Deleted **{count}** article{'s' if count != 1 else ''}."
        if reading in ids:
            return status, "", None
        return status, None, reading

    # --- About -----------------------------------------------------------------------------
    def about(self) -> str:
        """Which models and store are in use (no secrets)."""
        try:
            info = redact_mapping(self.service.describe())
            return format_describe(info, self.service.stats())
        except Exception as exc:
            return error_markdown(exc)


def _follow(event: Any, live: chat.Live, timing: Timing) -> Any:
    """Apply one answer event to the live view; returns the ``Answer`` when it is done."""
    from rag.qa.answer import Done, SourcesFound, Stage, Token

    if isinstance(event, Stage):
        live.stage = event.detail or event.name.capitalize()
    elif isinstance(event, SourcesFound):
        timing.mark("sources")
        live.sources = list(event.sources)
        live.stage = reading_stage(live.sources)
    elif isinstance(event, Token):
        timing.mark("first token")
        live.partial += event.text
    elif isinstance(event, Done):
        return event.answer
    return None


def reading_stage(sources: Sequence[Any]) -> str:
    """``Reading 5 passages from 3 articles`` (until the answer step says more exactly).

    Example:
        >>> reading_stage([{"article_id": "a"}])
        'Reading 1 passage from 1 article'
    """
    passages, articles = len(sources), count_articles(sources)
    return (
        f"Reading {passages} passage{'s' if passages != 1 else ''} from {articles} "
        f"article{'s' if articles != 1 else ''}"
    )


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
        yield error_markdown(exc), None


def _working(header: str, partial: str, status: str) -> str:
    """An output panel while the model works: the text so far, or the status line."""
    if partial:
        return f"{header}\n\n{escape_block(partial)} ▌"
    return f"{header}\n\n*{escape_md(status)}*"


def _stopped(header: str, partial: str) -> str:
    body = f"{escape_block(partial)} " if partial else ""
    return f"{header}\n\n{body}{STOPPED_NOTE}"


def progress_callback(progress: Any) -> Callable[[Any], None] | None:
    """Adapt ``gr.Progress`` to the library's ``progress(IngestProgress)`` callback."""
    if progress is None:
        return None

    def report(update: Any) -> None:
        done = getattr(update, "sources_done", 0) or 0
        total = getattr(update, "sources_total", None)
        desc = f"{getattr(update, 'articles', 0)} articles, {getattr(update, 'chunks', 0)} chunks"
        current = getattr(update, "current", "")
        if current:
            desc += f": {Path(str(current)).name if '://' not in str(current) else current}"
        try:
            progress((done, total) if total else None, desc=desc)
        except Exception:  # a progress display must never break an ingest
            logger.debug("progress update failed", exc_info=True)

    return report
