"""The Gradio app: Ask (chat with sources), Summaries, Library and About tabs over ``NewsRAG``.

The app has no logic of its own: every action calls the :class:`rag.service.NewsRAG`
facade, and this module only turns results into safe Markdown (:mod:`rag.ui.format`),
keeps per-browser-session state in ``gr.State`` and maps errors to readable messages.

Gradio is imported inside the functions, so ``main()`` can switch off analytics and hub
access before Gradio is loaded.

Stable API endpoints (for ``gradio_client``): ``/ask``, ``/summarize``, ``/digest``,
``/ingest``, ``/ingest_text``, ``/list_articles``, ``/delete``.

Example:
    >>> from rag.service import NewsRAG
    >>> from rag.ui.app import build_app
    >>> demo = build_app(NewsRAG.from_settings())  # doctest: +SKIP
    >>> demo.launch(server_port=7860, ssr_mode=False)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from rag.errors import RagError
from rag.redaction import install_log_redaction, redact_known, redact_mapping, register_secrets
from rag.ui.format import (
    ARTICLE_COLUMNS,
    answer_to_dict,
    article_label,
    article_rows,
    escape_block,
    escape_md,
    format_answer,
    format_article_header,
    format_counts,
    format_describe,
    format_digest,
    format_partial,
    format_report,
    format_sources,
    format_summary,
    parse_range,
    source_choices,
    to_jsonable,
)

if TYPE_CHECKING:
    import gradio as gr

    from rag.service import NewsRAG
    from rag.settings import Settings

logger = logging.getLogger(__name__)

EXAMPLE_QUESTIONS = [
    "What did Hegseth rule out?",
    "What happened when Vance met Zelenskyy in Munich?",
    "Why did the central bank cut rates?",
    "Who won the mayoral election?",
]
DEFAULT_STYLES = {
    "brief": "2-3 sentences",
    "bullets": "3-6 key points",
    "headline": "one line",
    "quotes": "key direct quotes with speakers",
}
MAX_UPLOAD_FILES = 100  # files per upload (each one is also limited to RAG_MAX_FILE_MB)
MAX_URLS = 50  # URL lines per request
GENERATION = "generation"  # answers, summaries and digests share the model
LIBRARY_WRITE = "library_write"  # ingest and delete: one at a time
QUEUE_MAX_SIZE = 64
CSS = """
#news-rag-chat .message-wrap { font-size: 15px; }
.nr-muted { opacity: 0.75; font-size: 0.9em; }
"""

Messages = list[dict[str, Any]]
History = list[list[str]]


# --- helpers -----------------------------------------------------------------------------
def _warn(message: str) -> None:
    """A toast in the browser (and a log line)."""
    import gradio as gr

    logger.info("warning shown: %s", message)
    gr.Warning(message)


def _user_error(exc: Exception) -> Exception:
    """``gr.Error`` with a readable message for any exception (details go to the log)."""
    import gradio as gr

    if isinstance(exc, RagError | ValueError):
        return gr.Error(redact_known(str(exc)), print_exception=False)
    logger.exception("unexpected error in the app")
    message = redact_known(f"Something went wrong: {type(exc).__name__}: {exc}")
    return gr.Error(message, print_exception=False)


def _error_markdown(exc: Exception) -> str:
    """An error shown inside the chat or an output panel (never a traceback)."""
    if isinstance(exc, RagError):
        text = f"**Error:** {escape_md(redact_known(exc.message))}"
        if exc.hint:
            text += f"\n\n{escape_md(redact_known(exc.hint))}"
        return text
    logger.exception("unexpected error in the app")
    detail = redact_known(f"{type(exc).__name__}: {exc}")
    return f"**Something went wrong:** {escape_md(detail)}"


def _styles() -> dict[str, str]:
    """Summary styles and their descriptions, from the library when it is available."""
    try:
        from rag.summary_styles import STYLE_SPECS
    except ImportError:  # pragma: no cover - the summaries module is part of the package
        return dict(DEFAULT_STYLES)
    return {name: spec.description for name, spec in STYLE_SPECS.items()}


def _filters(sources: Sequence[str] | None, since: str | None, until: str | None) -> Any:
    """``SearchFilters`` for the chat, or None when nothing is set (ValueError on bad dates)."""
    start, end = parse_range(since, until)
    chosen = [s for s in (sources or []) if s]
    if not chosen and start is None and end is None:
        return None
    from rag.retrieval import SearchFilters

    return SearchFilters(sources=chosen or None, since=start, until=end)


def _text_pairs(history: Sequence[Sequence[str]] | None) -> list[tuple[str, str]]:
    return [(str(pair[0]), str(pair[1])) for pair in (history or []) if len(pair) == 2]


def _sources_message(answer: Any) -> dict[str, Any] | None:
    """The collapsible "Sources (n)" chat message under an answer."""
    citations = list(getattr(answer, "citations", None) or [])
    title = "Sources"
    if not citations and not getattr(answer, "abstained", False):
        citations = list(getattr(answer, "sources", None) or [])
        title = "Passages searched"
    if not citations:
        return None
    return {
        "role": "assistant",
        "content": format_sources(citations),
        "metadata": {"title": f"{title} ({len(citations)})", "status": "done"},
    }


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
    from rag.documents import is_url

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


def _with_refused(report: Any, refused: list[tuple[str, str]]) -> Any:
    """The ingest report with the refused inputs listed first among the failures."""
    report.failed[:0] = refused
    return report


class Handlers:
    """Event handlers of the app, one method per action, all calling the service.

    Kept separate from the layout so they can be tested with a fake service.

    Example:
        >>> handlers = Handlers(service)  # doctest: +SKIP
        >>> for messages, history, box in handlers.chat("Who?", [], [], [], "", ""):
        ...     pass
    """

    def __init__(self, service: NewsRAG) -> None:
        self.service = service
        settings = getattr(service, "settings", None)
        if settings is not None:
            register_secrets(settings)  # masked in every error shown and in the About tab

    # --- Ask ---------------------------------------------------------------------------
    def chat(
        self,
        question: str,
        messages: Messages | None,
        history: History | None,
        sources: Sequence[str] | None,
        since: str | None,
        until: str | None,
    ) -> Iterator[tuple[Messages, History, str]]:
        """Stream one answer into the chat; yields (chat messages, history, question box)."""
        messages, history = list(messages or []), list(history or [])
        question = (question or "").strip()
        if not question:
            _warn("Type a question first.")
            yield [*messages], [*history], ""
            return
        try:
            filters = _filters(sources, since, until)
        except ValueError as exc:
            _warn(str(exc))
            yield [*messages], [*history], question
            return
        messages.append({"role": "user", "content": escape_md(question)})
        messages.append({"role": "assistant", "content": "*Searching the articles…*"})
        yield [*messages], [*history], ""
        partial = ""
        try:
            stream = self.service.stream(question, history=_text_pairs(history), filters=filters)
            for piece in stream:
                if isinstance(piece, str):
                    partial += piece
                    messages[-1] = {"role": "assistant", "content": format_partial(partial)}
                    yield [*messages], [*history], ""
                else:
                    messages[-1] = {"role": "assistant", "content": format_answer(piece)}
                    panel = _sources_message(piece)
                    if panel:
                        messages.append(panel)
                    history.append([question, str(piece.answer)])
                    yield [*messages], [*history], ""
        except Exception as exc:
            messages[-1] = {"role": "assistant", "content": _error_markdown(exc)}
            if isinstance(exc, RagError):
                _warn(exc.message)
            yield [*messages], [*history], ""

    @staticmethod
    def new_conversation() -> tuple[Messages, History, str]:
        """Forget this browser session's conversation."""
        return [], [], ""

    # --- Summaries -----------------------------------------------------------------------
    def summarize(self, article_id: str | None, style: str) -> Iterator[str]:
        """Stream a summary of one article as Markdown."""
        if not article_id:
            _warn("Pick an article first.")
            yield ""
            return
        try:
            article = self.service.get_article(article_id)
            header = format_article_header(article)
            yield header + "\n\n*Summarizing…*"
            partial = ""
            for piece in self.service.stream_summary(article_id, style=style or "brief"):
                if isinstance(piece, str):
                    partial += piece
                    yield header + "\n\n" + escape_block(partial) + " ▌"
                else:
                    yield format_summary(piece, article)
        except Exception as exc:
            yield _error_markdown(exc)

    def digest(
        self,
        topic: str | None,
        source: str | None,
        since: str | None,
        until: str | None,
        limit: float | None,
    ) -> Iterator[str]:
        """Stream a digest over several articles, markers linked to the articles."""
        try:
            start, end = parse_range(since, until)
        except ValueError as exc:
            _warn(str(exc))
            yield f"**Error:** {escape_md(exc)}"
            return
        yield "*Finding articles and writing the digest…*"
        partial = ""
        try:
            stream = self.service.stream_digest(
                topic=(topic or "").strip() or None,
                source=source or None,
                since=start,
                until=end,
                limit=int(limit or 5),
            )
            for piece in stream:
                if isinstance(piece, str):
                    partial += piece
                    yield escape_block(partial) + " ▌"
                else:
                    yield format_digest(piece.text, piece.articles, piece.issues)
        except Exception as exc:
            yield _error_markdown(exc)

    # --- Library ---------------------------------------------------------------------------
    def ingest(self, files: Sequence[str] | None, urls: str | None, progress: Any = None) -> str:
        """Add uploaded files and pasted URLs/feeds; returns the report as Markdown."""
        try:
            sources, refused = checked_sources(files, urls)
        except ValueError as exc:
            raise _user_error(exc) from None
        if not sources and not refused:
            _warn("Choose files to upload or paste a URL first.")
            return "Nothing to add yet: choose files or paste URLs."
        callback = _progress_callback(progress)
        try:
            report = _with_refused(self._ingest(sources, callback), refused)
        except Exception as exc:
            raise _user_error(exc) from None
        text, failures = format_report(report)
        if failures:
            _warn(f"{len(failures)} source(s) could not be added: " + "; ".join(failures[:3]))
        return text

    def _ingest(self, sources: list[str], progress: Callable[[Any], None] | None = None) -> Any:
        if not sources:
            from rag.store import IngestReport

            return IngestReport()
        return self.service.ingest(sources, progress=progress)

    def ingest_text(
        self,
        title: str | None,
        text: str | None,
        source: str | None,
        url: str | None,
        published: str | None,
    ) -> str:
        """Add one pasted article; returns the report as Markdown."""
        if not (title or "").strip() or not (text or "").strip():
            _warn("A pasted article needs a title and some text.")
            return "Nothing added: give the article a title and paste its text."
        try:
            report = self.service.ingest_text(
                text.strip(),
                title.strip(),
                source=(source or "").strip() or None,
                url=(url or "").strip() or None,
                published=(published or "").strip() or None,
            )
        except Exception as exc:
            raise _user_error(exc) from None
        return format_report(report)[0]

    def library(self) -> tuple[Any, ...]:
        """Fresh values for every component that lists articles or outlets."""
        import gradio as gr

        try:
            infos = self.service.list_articles()
            counts = format_counts(self.service.stats())
        except Exception as exc:
            raise _user_error(exc) from None
        articles = [(article_label(info), str(info.id)) for info in infos]
        outlets = source_choices(infos)
        ids = {value for _, value in articles}
        return (
            gr.Dropdown(choices=outlets),  # Ask: source filter
            gr.Dropdown(choices=articles),  # Summaries: article picker
            gr.Dropdown(choices=[("All outlets", ""), *[(o, o) for o in outlets]]),  # digest
            gr.Dataframe(value=article_rows(infos)),
            counts,
            gr.Dropdown(choices=articles),  # Library: delete picker
            ids,
        )

    @staticmethod
    def prune_selection(selected: Sequence[str] | None, ids: set[str] | None) -> list[str]:
        """Drop deleted articles from the delete picker."""
        return [s for s in (selected or []) if ids is None or s in ids]

    def select_row(self, selected: Sequence[str] | None, evt: gr.SelectData) -> tuple[Any, str]:
        """Clicking a table row toggles it in the delete selection and shows the article."""
        row = list(getattr(evt, "row_value", None) or [])
        if not row:
            return list(selected or []), ""
        article_id = str(row[-1])
        chosen = list(selected or [])
        chosen = (
            [s for s in chosen if s != article_id]
            if article_id in chosen
            else [
                *chosen,
                article_id,
            ]
        )
        return chosen, self.preview(article_id)

    def preview(self, article_id: str) -> str:
        """The full text of one article as safe Markdown."""
        try:
            article = self.service.get_article(article_id)
        except Exception as exc:
            return _error_markdown(exc)
        paragraphs = [p for p in str(article.text).split("\n") if p.strip()]
        body = "\n\n".join(escape_md(p.strip()) for p in paragraphs)
        return format_article_header(article) + "\n\n" + body

    def delete(self, selected: Sequence[str] | None) -> str:
        """Delete the selected articles; returns a status line."""
        ids = [s for s in (selected or []) if s]
        if not ids:
            _warn("Select articles to delete (click rows in the table or pick them).")
            return "Nothing deleted: no article selected."
        try:
            count = self.service.delete(ids)
        except Exception as exc:
            raise _user_error(exc) from None
        return f"Deleted **{count}** article{'s' if count != 1 else ''}."

    # --- About -----------------------------------------------------------------------------
    def about(self) -> str:
        """Which models and store are in use (no secrets)."""
        try:
            info = redact_mapping(self.service.describe())
            return format_describe(info, self.service.stats())
        except Exception as exc:
            return _error_markdown(exc)

    # --- API endpoints (JSON in, JSON out) -----------------------------------------------
    def api_ask(
        self,
        question: str,
        history: list[list[str]] | None = None,
        sources: list[str] | None = None,
        since: str = "",
        until: str = "",
    ) -> Iterator[dict]:
        """Answer a question from the articles; streams ``{"answer": partial, "done": False}``
        updates, and ends with the full answer, its citations and ``"done": True``."""
        if not (question or "").strip():
            raise _user_error(ValueError("question is empty"))
        try:
            filters = _filters(sources, since, until)
            partial = ""
            for piece in self.service.stream(
                question.strip(), history=_text_pairs(history), filters=filters
            ):
                if isinstance(piece, str):
                    partial += piece
                    yield {"answer": partial, "done": False}
                else:
                    yield {**answer_to_dict(piece), "done": True}
        except Exception as exc:
            raise _user_error(exc) from None

    def api_summarize(self, article_id: str, style: str = "brief") -> Iterator[dict]:
        """Summarize one article (``style``: brief, bullets, headline or quotes); streams
        ``{"text": partial, "done": False}`` and ends with the summary and ``"done": True``."""
        try:
            partial = ""
            for piece in self.service.stream_summary(article_id, style=style or "brief"):
                if isinstance(piece, str):
                    partial += piece
                    yield {"text": partial, "done": False}
                else:
                    yield {**to_jsonable(piece), "done": True}
        except Exception as exc:
            raise _user_error(exc) from None

    def api_digest(
        self, topic: str = "", source: str = "", since: str = "", until: str = "", limit: int = 5
    ) -> Iterator[dict]:
        """A digest across articles chosen by topic, outlet and/or date range, with ``[n]``
        markers; streams ``{"text": partial, "done": False}``, ends with ``"done": True``."""
        try:
            start, end = parse_range(since, until)
            partial = ""
            for piece in self.service.stream_digest(
                topic=topic.strip() or None,
                source=source.strip() or None,
                since=start,
                until=end,
                limit=int(limit),
            ):
                if isinstance(piece, str):
                    partial += piece
                    yield {"text": partial, "done": False}
                else:
                    yield {**to_jsonable(piece), "done": True}
        except Exception as exc:
            raise _user_error(exc) from None

    def api_ingest(self, files: list[str] | None, urls: str | None) -> dict:
        """Add uploaded files and URLs/feeds (one per line); returns the ingest report."""
        try:
            sources, refused = checked_sources(files, urls)
        except ValueError as exc:
            raise _user_error(exc) from None
        if not sources and not refused:
            raise _user_error(ValueError("give files or URLs to ingest"))
        try:
            return to_jsonable(_with_refused(self._ingest(sources), refused))
        except Exception as exc:
            raise _user_error(exc) from None

    def api_ingest_text(
        self, text: str, title: str, source: str = "", url: str = "", published: str = ""
    ) -> dict:
        """Add one article given as raw text; returns the ingest report."""
        try:
            report = self.service.ingest_text(
                text,
                title,
                source=source or None,
                url=url or None,
                published=published or None,
            )
            return to_jsonable(report)
        except Exception as exc:
            raise _user_error(exc) from None

    def api_list_articles(self, source: str = "") -> list[dict]:
        """All stored articles (optionally of one outlet): id, title, source, url, published,
        chunks..."""
        try:
            return to_jsonable(self.service.list_articles(source=source or None))
        except Exception as exc:
            raise _user_error(exc) from None

    def api_delete(self, article_ids: list[str]) -> dict:
        """Delete articles by id; returns ``{"deleted": n}``."""
        try:
            return {"deleted": int(self.service.delete(list(article_ids or [])))}
        except Exception as exc:
            raise _user_error(exc) from None


def _progress_callback(progress: Any) -> Callable[[Any], None] | None:
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


# --- layout ------------------------------------------------------------------------------
class _Limits:
    """Queue settings per kind of event (see :func:`build_app`)."""

    def __init__(self, settings: Settings) -> None:
        self.generation = {
            "concurrency_limit": settings.ui_concurrency,
            "concurrency_id": GENERATION,
        }
        self.write = {"concurrency_limit": 1, "concurrency_id": LIBRARY_WRITE}
        self.free: dict[str, Any] = {"concurrency_limit": None}
        self.private = {"api_visibility": "private"}


def _ask_tab(gr: Any, handlers: Handlers, limits: _Limits) -> SimpleNamespace:
    """Chat with streamed answers, sources under each answer, filters and examples."""
    ui = SimpleNamespace()
    messages, history = gr.State([]), gr.State([])
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                label="Conversation",
                elem_id="news-rag-chat",
                height=520,
                layout="panel",
                placeholder="Ask about the articles in your library. Answers cite their "
                "sources as [1], [2]…; open **Sources** under an answer to read the passages.",
                sanitize_html=True,
                allow_tags=False,
                latex_delimiters=[],
                feedback_options=None,
                buttons=["copy"],
            )
            with gr.Row():
                question = gr.Textbox(
                    placeholder="e.g. What did Hegseth rule out?",
                    show_label=False,
                    scale=5,
                    max_lines=4,
                    elem_id="question",
                )
                ask_button = gr.Button("Ask", variant="primary", scale=1, elem_id="ask-button")
            new_button = gr.Button("New conversation", size="sm", elem_id="new-conversation")
            gr.Examples(
                examples=[[q] for q in EXAMPLE_QUESTIONS],
                inputs=[question],
                label="Example questions",
            )
        with gr.Column(scale=1, min_width=240):
            gr.Markdown("### Filters")
            ui.sources = gr.Dropdown(
                label="Outlets",
                choices=[],
                multiselect=True,
                info="Empty: all outlets.",
                elem_id="ask-sources",
            )
            since = gr.Textbox(label="Since", placeholder="YYYY-MM-DD", elem_id="ask-since")
            until = gr.Textbox(label="Until", placeholder="YYYY-MM-DD", elem_id="ask-until")
            gr.Markdown(
                "Follow-up questions use the conversation so far. Each browser tab has its "
                "own conversation.",
                elem_classes=["nr-muted"],
            )

    def chat(question, messages, history, sources, since, until):  # type: ignore[no-untyped-def]
        for shown, pairs, box in handlers.chat(question, messages, history, sources, since, until):
            yield shown, shown, pairs, box

    outputs = [chatbot, messages, history, question]
    submit = gr.on(
        triggers=[ask_button.click, question.submit],
        fn=chat,
        inputs=[question, messages, history, ui.sources, since, until],
        outputs=outputs,
        show_progress="minimal",
        **limits.generation,
        **limits.private,
    )
    new_button.click(
        lambda: ([], *handlers.new_conversation()),
        None,
        outputs,
        cancels=[submit],
        queue=False,
        **limits.private,
    )
    return ui


def _summaries_tab(gr: Any, handlers: Handlers, limits: _Limits) -> SimpleNamespace:
    """One-article summaries in a style, and digests by topic/outlet/dates."""
    ui = SimpleNamespace()
    with gr.Row():
        with gr.Column():
            gr.Markdown("### One article")
            ui.article = gr.Dropdown(
                label="Article (type to search)",
                choices=[],
                filterable=True,
                elem_id="summary-article",
            )
            style = gr.Radio(
                label="Style",
                choices=[(f"{name} ({desc})", name) for name, desc in _styles().items()],
                value="brief",
                elem_id="summary-style",
            )
            summarize = gr.Button("Summarize", variant="primary", elem_id="summarize-button")
        with gr.Column():
            gr.Markdown("### Digest of several articles")
            topic = gr.Textbox(label="Topic", placeholder="e.g. war in Ukraine")
            ui.digest_source = gr.Dropdown(label="Outlet", choices=[("All outlets", "")], value="")
            with gr.Row():
                since = gr.Textbox(label="Since", placeholder="YYYY-MM-DD")
                until = gr.Textbox(label="Until", placeholder="YYYY-MM-DD")
            limit = gr.Slider(2, 10, value=5, step=1, label="Articles at most")
            digest = gr.Button("Build digest", elem_id="digest-button")
    output = gr.Markdown(
        "Pick an article and a style, or describe a digest.",
        elem_id="summary-output",
        latex_delimiters=[],
        sanitize_html=True,
        container=True,
    )
    summarize.click(
        handlers.summarize,
        [ui.article, style],
        output,
        show_progress="minimal",
        **limits.generation,
        **limits.private,
    )
    digest.click(
        handlers.digest,
        [topic, ui.digest_source, since, until, limit],
        output,
        show_progress="minimal",
        **limits.generation,
        **limits.private,
    )
    return ui


def _library_tab(gr: Any, handlers: Handlers, limits: _Limits) -> SimpleNamespace:
    """Upload files, add URLs/feeds or pasted text; the article table with delete."""
    ui = SimpleNamespace()
    with gr.Row():
        with gr.Column():
            ui.upload = gr.File(
                label="Upload files (txt, md, html, jsonl)",
                file_count="multiple",
                file_types=[".txt", ".md", ".markdown", ".html", ".htm", ".jsonl"],
                elem_id="upload",
            )
            ui.urls = gr.Textbox(
                label="Article or feed URLs (one per line)",
                lines=2,
                placeholder="https://example.org/news/story.html",
                elem_id="urls",
            )
            ui.add = gr.Button("Add to library", variant="primary", elem_id="add-button")
        with gr.Column(), gr.Accordion("Paste an article", open=False, elem_id="paste"):
            ui.paste_title = gr.Textbox(label="Title", elem_id="paste-title")
            ui.paste_text = gr.Textbox(label="Text", lines=6, elem_id="paste-text")
            with gr.Row():
                ui.paste_source = gr.Textbox(label="Outlet", elem_id="paste-source")
                ui.paste_date = gr.Textbox(
                    label="Date", placeholder="YYYY-MM-DD", elem_id="paste-date"
                )
            ui.paste_url = gr.Textbox(label="URL (optional)", elem_id="paste-url")
            ui.paste = gr.Button("Add text", elem_id="paste-button")
    ui.status = gr.Markdown(elem_id="ingest-status")
    ui.counts = gr.Markdown(elem_id="library-counts")
    ui.table = gr.Dataframe(
        headers=ARTICLE_COLUMNS,
        datatype=["str", "str", "str", "number", "str"],
        value=[],
        interactive=False,
        wrap=True,
        label="Articles (click a row to select it and read it)",
        elem_id="library-table",
        max_height=420,
        column_widths=["44%", "18%", "12%", "8%", "18%"],
    )
    with gr.Row():
        ui.delete_picker = gr.Dropdown(
            label="Selected for deletion",
            choices=[],
            multiselect=True,
            filterable=True,
            scale=4,
            elem_id="delete-picker",
        )
        ui.delete = gr.Button("Delete selected", variant="stop", scale=1, elem_id="delete-button")
        ui.refresh = gr.Button("Refresh", scale=1, elem_id="refresh-button")
    ui.preview = gr.Markdown(
        elem_id="article-preview", max_height=420, latex_delimiters=[], sanitize_html=True
    )

    def on_select(selected: list[str] | None, evt: gr.SelectData) -> tuple[Any, str]:
        return handlers.select_row(selected, evt)

    # Gradio finds event data through the type hint, which must be the real class here.
    on_select.__annotations__["evt"] = gr.SelectData
    ui.table.select(
        on_select,
        ui.delete_picker,
        [ui.delete_picker, ui.preview],
        **limits.free,
        **limits.private,
    )
    return ui


def _wire_library(
    gr: Any,
    demo: Any,
    handlers: Handlers,
    limits: _Limits,
    tabs: dict[str, Any],
    ask: SimpleNamespace,
    summaries: SimpleNamespace,
    library: SimpleNamespace,
    about: Any,
) -> None:
    """Keep every article/outlet list fresh: on load, on tab select and after changes."""
    article_ids = gr.State(set())
    outputs = [
        ask.sources,
        summaries.article,
        summaries.digest_source,
        library.table,
        library.counts,
        library.delete_picker,
        article_ids,
    ]
    refresh = {"fn": handlers.library, "inputs": None, "outputs": outputs}
    refresh |= limits.free | limits.private
    show_about = {"fn": handlers.about, "inputs": None, "outputs": about}
    show_about |= limits.free | limits.private
    demo.load(**refresh).then(**show_about)
    tabs["summaries"].select(**refresh)
    tabs["library"].select(**refresh)
    tabs["about"].select(**show_about)
    library.refresh.click(**refresh)

    def ingest(files: list[str] | None, urls: str | None, progress=gr.Progress()) -> str:  # noqa: B008
        return handlers.ingest(files, urls, progress)

    library.add.click(
        ingest,
        [library.upload, library.urls],
        library.status,
        **limits.write,
        **limits.private,
    ).success(
        lambda: (None, ""), None, [library.upload, library.urls], queue=False, **limits.private
    ).then(**refresh)
    library.paste.click(
        handlers.ingest_text,
        [
            library.paste_title,
            library.paste_text,
            library.paste_source,
            library.paste_url,
            library.paste_date,
        ],
        library.status,
        **limits.write,
        **limits.private,
    ).success(
        lambda: ("", ""),
        None,
        [library.paste_title, library.paste_text],
        queue=False,
        **limits.private,
    ).then(**refresh)
    library.delete.click(
        handlers.delete,
        library.delete_picker,
        library.status,
        **limits.write,
        **limits.private,
    ).then(**refresh).then(
        Handlers.prune_selection,
        [library.delete_picker, article_ids],
        library.delete_picker,
        queue=False,
        **limits.private,
    )


def _api_endpoints(gr: Any, handlers: Handlers, limits: _Limits) -> None:
    """The JSON API for ``gradio_client``: stable names, same queue limits as the page."""
    gr.api(handlers.api_ask, api_name="ask", **limits.generation)
    gr.api(handlers.api_summarize, api_name="summarize", **limits.generation)
    gr.api(handlers.api_digest, api_name="digest", **limits.generation)
    gr.api(handlers.api_ingest_text, api_name="ingest_text", **limits.write)
    gr.api(handlers.api_list_articles, api_name="list_articles", **limits.free)
    gr.api(handlers.api_delete, api_name="delete", **limits.write)
    # /ingest takes uploaded files, so it uses real (hidden) file components: Gradio then
    # accepts only files uploaded through it, never arbitrary server paths.
    files = gr.File(file_count="multiple", visible=False, label="files")
    urls = gr.Textbox(visible=False, label="urls")
    report = gr.JSON(visible=False, label="report")
    trigger = gr.Button(visible=False)
    trigger.click(handlers.api_ingest, [files, urls], report, api_name="ingest", **limits.write)


def build_app(service: NewsRAG, settings: Settings | None = None) -> gr.Blocks:
    """The whole app as a ``gr.Blocks`` with its queue configured (not launched).

    Generation events (answers, summaries, digests, also through the API) share one
    concurrency group limited to ``settings.ui_concurrency``; ingest/delete run one at a time;
    listing and viewing run freely. Extra requests wait in the queue (up to 64).

    Example:
        >>> demo = build_app(NewsRAG.from_settings())  # doctest: +SKIP
        >>> demo.launch(ssr_mode=False)  # doctest: +SKIP
    """
    import gradio as gr

    handlers = Handlers(service)
    limits = _Limits(settings or service.settings)
    with gr.Blocks(title="news-rag", analytics_enabled=False) as demo:
        # First, so that the API endpoints get their plain names (/ask, /summarize...).
        _api_endpoints(gr, handlers, limits)
        gr.Markdown(
            "# news-rag\nAsk questions about your news articles and get answers with "
            "numbered sources, summaries and digests."
        )
        tabs: dict[str, Any] = {}
        with gr.Tabs():
            with gr.Tab("Ask", id="ask", elem_id="tab-ask") as tabs["ask"]:
                ask = _ask_tab(gr, handlers, limits)
            with gr.Tab("Summaries", id="summaries", elem_id="tab-summaries") as tabs["summaries"]:
                summaries = _summaries_tab(gr, handlers, limits)
            with gr.Tab("Library", id="library", elem_id="tab-library") as tabs["library"]:
                library = _library_tab(gr, handlers, limits)
            with gr.Tab("About", id="about", elem_id="tab-about") as tabs["about"]:
                about = gr.Markdown(elem_id="about")
                gr.Markdown(
                    "The app also serves a JSON API (`/ask`, `/summarize`, `/digest`, "
                    "`/ingest`, `/ingest_text`, `/list_articles`, `/delete`): see **Use via "
                    "API** at the bottom of the page.",
                    elem_classes=["nr-muted"],
                )
        _wire_library(gr, demo, handlers, limits, tabs, ask, summaries, library, about)
    demo.queue(default_concurrency_limit=4, max_size=QUEUE_MAX_SIZE)
    return demo


# --- entry point -------------------------------------------------------------------------
def _offline_environment() -> None:
    """No analytics, telemetry or hub downloads: must run before Gradio is imported."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def find_samples_dir() -> Path | None:
    """The ``samples/`` folder: in the working directory, else next to the ``rag`` package."""
    import rag

    package_root = Path(rag.__file__).resolve().parent.parent
    for candidate in (Path.cwd() / "samples", package_root / "samples"):
        if candidate.is_dir() and any(candidate.iterdir()):
            return candidate
    return None


def ingest_samples_if_empty(service: NewsRAG, settings: Settings) -> None:
    """First run: fill an empty store with ``samples/`` (when ``RAG_INGEST_SAMPLES`` is on)."""
    if not settings.ingest_samples or service.stats().articles > 0:
        return
    samples = find_samples_dir()
    if samples is None:
        logger.info("store is empty and no samples/ folder was found")
        return
    logger.info("store is empty: ingesting %s", samples)
    report = service.ingest([samples])
    logger.info(
        "samples: %d articles added, %d failed, %d chunks",
        report.added,
        len(report.failed),
        report.chunks_added,
    )


def launch_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch`` from settings (host, port, auth, limits).

    Example:
        >>> launch_options(load_settings(ui_auth="ann:pw"))["auth"]  # doctest: +SKIP
        ('ann', 'pw')
    """
    auth = None
    if settings.ui_auth is not None:
        user, _, password = settings.ui_auth.get_secret_value().partition(":")
        auth = (user, password)
    return {
        "server_name": settings.ui_host,
        "server_port": settings.ui_port,
        "auth": auth,
        "auth_message": "news-rag: sign in" if auth else None,
        "share": False,
        "ssr_mode": False,
        "show_error": False,
        "max_file_size": int(settings.max_file_mb * 1024 * 1024),
        "css": CSS,
        "quiet": False,
    }


def main(**overrides: Any) -> None:
    """Start the app: settings from ``RAG_*``/``.env`` (plus ``overrides``), samples on first
    run, then serve until interrupted.

    Example (shell):
        $ python app.py
        $ RAG_UI_PORT=8080 RAG_UI_AUTH=ann:secret python app.py
    """
    _offline_environment()
    from rag.cli.common import configure_logging
    from rag.service import NewsRAG
    from rag.settings import load_settings

    configure_logging()
    settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    install_log_redaction(settings)
    service = NewsRAG.from_settings(settings)
    try:
        ingest_samples_if_empty(service, settings)
        if settings.llm_warmup:
            service.warm_up()  # the page serves at once; the first question finds the model warm
        demo = build_app(service, settings)
        options = launch_options(settings)
        logger.info(
            "news-rag app on http://%s:%s (auth %s, %d generation(s) at once)",
            settings.ui_host,
            settings.ui_port,
            "on" if options["auth"] else "off",
            settings.ui_concurrency,
        )
        demo.launch(**options)
    finally:
        service.close()
