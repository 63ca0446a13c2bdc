"""The Gradio app: Ask (chat with sources), Summaries, Library and About tabs over ``NewsRAG``.

The app has no logic of its own: :mod:`rag.ui.handlers` calls the :class:`rag.service.NewsRAG`
facade for every action and :mod:`rag.ui.format` turns results into safe Markdown; this
module lays out the components and wires the events. Answers, summaries and digests can be
stopped (the model stops generating); a closed browser tab stops its work too.

Gradio is imported inside the functions, so ``main()`` can switch off analytics and hub
access before Gradio is loaded.

Stable API endpoints (for ``gradio_client``): ``/ask``, ``/summarize``, ``/digest``,
``/stop``, ``/ingest``, ``/ingest_text``, ``/list_articles``, ``/delete``.

Example (``launch`` serves the app until stopped):
    >>> from rag.service import NewsRAG
    >>> from rag.ui.app import build_app
    >>> demo = build_app(NewsRAG.from_settings())
    >>> demo.launch(server_port=7860, ssr_mode=False)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from rag.redaction import install_log_redaction
from rag.ui.api import Api
from rag.ui.format import ARTICLE_COLUMNS
from rag.ui.handlers import (
    MAX_QUESTION_CHARS,
    Handlers,
    checked_sources,
    styles,
)

if TYPE_CHECKING:
    import gradio as gr

    from rag.service import NewsRAG
    from rag.settings import Settings

__all__ = ["Handlers", "build_app", "checked_sources", "launch_options", "main"]

logger = logging.getLogger(__name__)

EXAMPLE_QUESTIONS = [
    "What did Hegseth rule out?",
    "What happened when Vance met Zelenskyy in Munich?",
    "Why did the central bank cut rates?",
    "Who won the mayoral election?",
]
GENERATION = "generation"  # answers, summaries and digests share the model
LIBRARY_WRITE = "library_write"  # ingest and delete: one at a time
QUEUE_MAX_SIZE = 64
CONVERSATION_KEY = "news-rag-conversation"  # where the browser keeps the conversation
CSS = """
#news-rag-chat .message-wrap { font-size: 15px; }
.nr-muted { opacity: 0.75; font-size: 0.9em; }
#summary-status { min-height: 1.5em; }
/* copy and retry belong under an answer, not under its sources box */
#news-rag-chat .message:has(.thought-group) + .message-buttons { display: none; }
@media (max-width: 640px) {
  /* phone width: stacked columns; the Library table keeps title, outlet and date */
  .nr-stack { flex-wrap: wrap; }
  .nr-stack > * { min-width: 100% !important; }
  #library-table th:nth-child(3), #library-table .body-cell:nth-child(3),
  #library-table th:nth-child(5), #library-table .body-cell:nth-child(5),
  #library-table th:nth-child(6), #library-table .body-cell:nth-child(6) {
    display: none !important;
  }
  #library-table table.header-table { table-layout: fixed !important; }
  #library-table th:nth-child(1), #library-table .body-cell:nth-child(1) {
    width: 56% !important; min-width: 56% !important; max-width: none !important;
    flex: 0 0 56% !important;
  }
  #library-table th:nth-child(2), #library-table .body-cell:nth-child(2),
  #library-table th:nth-child(4), #library-table .body-cell:nth-child(4) {
    width: 22% !important; min-width: 22% !important; max-width: none !important;
    flex: 0 0 22% !important;
  }
}
"""


# --- small adapters between Gradio and the handlers ---------------------------------------
def _session(request: Any) -> str | None:
    """The browser tab (or API client) an event comes from."""
    return getattr(request, "session_hash", None)


def _with(gr: Any, fn: Callable[..., Any], **special: str) -> Callable[..., Any]:
    """Let Gradio fill ``fn``'s special arguments, e.g. ``request="Request"`` (gr.Request).

    Gradio finds them through type hints, which must be the real classes here.
    """
    fn.__annotations__.update({name: getattr(gr, kind) for name, kind in special.items()})
    return fn


def _keep(gr: Any, value: Any) -> Any:
    """``value``, or "leave the component as it is" for None."""
    return gr.skip() if value is None else value


def _or_unchanged(gr: Any, updates: Iterable[Any], size: int = 3) -> Iterator[tuple[Any, ...]]:
    """``updates`` as tuples; a single "no change" when there are none (a generator that
    yields nothing would otherwise empty its outputs)."""
    empty = True
    for update in updates:
        empty = False
        yield tuple(update)
    if empty:
        yield (gr.skip(),) * size


def _export_file(text: str, name: str) -> str:
    """Write Markdown to a temporary file for the download button; returns its path."""
    folder = Path(tempfile.mkdtemp(prefix="news-rag-export-"))
    safe = re.sub(r"[^\w.-]+", "-", name).strip("-")[:60] or "export"
    path = folder / f"{safe}.md"
    path.write_text(text, encoding="utf-8")
    return str(path)


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


# --- Ask ---------------------------------------------------------------------------------
def _ask_tab(gr: Any, handlers: Handlers, limits: _Limits) -> SimpleNamespace:
    """Chat with sources shown first, streamed answers, Stop, regenerate and edit."""
    ui = SimpleNamespace()
    ui.turns = gr.State([])
    ui.stored = gr.BrowserState([], storage_key=CONVERSATION_KEY)
    with gr.Row(elem_classes=["nr-stack"]):
        with gr.Column(scale=3):
            ui.chatbot = gr.Chatbot(
                show_label=False,
                elem_id="news-rag-chat",
                height=520,
                layout="panel",
                placeholder="Ask about the articles in your library. The sources appear first; "
                "answers cite them as [1], [2]…, each linked to its article.",
                sanitize_html=True,
                allow_tags=False,
                latex_delimiters=[],
                feedback_options=None,
                editable="user",
                buttons=["copy"],
            )
            with gr.Row():
                ui.question = gr.Textbox(
                    label="Question",  # a refused question says why here
                    placeholder=f"e.g. What did Hegseth rule out? (up to {MAX_QUESTION_CHARS} "
                    "characters)",
                    scale=5,
                    max_lines=4,
                    elem_id="question",
                )
                ui.ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask-button")
                ui.stop = gr.Button(
                    "Stop", variant="stop", scale=1, visible=False, elem_id="stop-button"
                )
            ui.new = gr.Button("New conversation", size="sm", elem_id="new-conversation")
            gr.Examples(
                examples=[[q] for q in EXAMPLE_QUESTIONS],
                inputs=[ui.question],
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
            ui.since = gr.Textbox(label="Since", placeholder="YYYY-MM-DD", elem_id="ask-since")
            ui.until = gr.Textbox(label="Until", placeholder="YYYY-MM-DD", elem_id="ask-until")
            gr.Markdown(
                "Follow-up questions use the conversation so far. This browser keeps the "
                "conversation across a reload; **New conversation** forgets it. Press the "
                "pencil on a question to edit and ask it again, or the retry arrow to "
                "regenerate the last answer.",
                elem_classes=["nr-muted"],
            )
    _wire_ask(gr, handlers, limits, ui)
    return ui


def _wire_ask(gr: Any, handlers: Handlers, limits: _Limits, ui: SimpleNamespace) -> None:
    """Ask -> show the question -> answer (stoppable); stop, new, retry, edit, reload."""
    buttons = [ui.ask, ui.stop]  # while an answer is written, Stop takes the place of Ask
    busy = (gr.update(visible=False), gr.update(visible=True))
    idle = (gr.update(visible=True), gr.update(visible=False))

    def validate(question, turns, sources, since, until):  # type: ignore[no-untyped-def]
        problems = handlers.question_problems(question, turns, since, until)
        names = ("question", "turns", "sources", "since", "until")
        return tuple(gr.validate(name not in problems, problems.get(name, "")) for name in names)

    def begin(question, turns, sources, since, until):  # type: ignore[no-untyped-def]
        return (*handlers.begin(question, turns), *busy)

    def answer(turns, sources, since, until, request=None):  # type: ignore[no-untyped-def]
        session = _session(request)
        updates = handlers.chat(turns, sources, since, until, session)
        kept = (tuple(_keep(gr, value) for value in update) for update in updates)
        yield from _or_unchanged(gr, kept)

    def stop(turns, request=None):  # type: ignore[no-untyped-def]
        shown, turns, stored = handlers.stop_answer(turns, _session(request))
        return _keep(gr, shown), _keep(gr, turns), _keep(gr, stored), *idle

    def forget(request=None):  # type: ignore[no-untyped-def]
        shown, turns, stored = handlers.new_conversation(_session(request))
        return _keep(gr, shown), _keep(gr, turns), _keep(gr, stored), *idle

    def regenerate(turns):  # type: ignore[no-untyped-def]
        return (*handlers.regenerate(turns), *busy)

    def edit(turns, evt):  # type: ignore[no-untyped-def]
        index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        return (*handlers.edit(turns, int(index), evt.value), *busy)

    answer_options = (
        {
            "fn": _with(gr, answer, request="Request"),
            "inputs": [ui.turns, ui.sources, ui.since, ui.until],
            "outputs": [ui.chatbot, ui.turns, ui.stored],
            # the chat shows the queue position while waiting, and Gradio disables its
            # retry and edit buttons while the answer is written
            "show_progress": "full",
            "show_progress_on": [ui.chatbot],
        }
        | limits.generation
        | limits.private
    )
    to_idle = {"fn": lambda: idle, "inputs": None, "outputs": buttons, "queue": False}
    to_idle |= limits.private
    quick = {"queue": False, "show_progress": "hidden"} | limits.private

    asked = gr.on(
        triggers=[ui.ask.click, ui.question.submit],
        fn=begin,
        inputs=[ui.question, ui.turns, ui.sources, ui.since, ui.until],
        outputs=[ui.chatbot, ui.turns, ui.question, *buttons],
        validator=validate,  # Gradio runs validators for queued events only
        show_progress="hidden",
        **limits.free,
        **limits.private,
    )
    again = ui.chatbot.retry(regenerate, [ui.turns], [ui.chatbot, ui.turns, *buttons], **quick)
    edited = ui.chatbot.edit(
        _with(gr, edit, evt="EditData"), [ui.turns], [ui.chatbot, ui.turns, *buttons], **quick
    )
    for changed in (asked, again, edited):
        changed.success(**answer_options).then(**to_idle)
    # No Gradio-level cancels: a running answer draws its own end (stopped, or cleared),
    # so no late update of it can overwrite what these buttons show.
    ui.stop.click(
        _with(gr, stop, request="Request"),
        [ui.turns],
        [ui.chatbot, ui.turns, ui.stored, *buttons],
        **quick,
    )
    gr.on(
        triggers=[ui.new.click, ui.chatbot.clear],
        fn=_with(gr, forget, request="Request"),
        inputs=None,
        outputs=[ui.chatbot, ui.turns, ui.stored, *buttons],
        **quick,
    )
    ui.restore = {
        "fn": handlers.restore,
        "inputs": [ui.stored],
        "outputs": [ui.chatbot, ui.turns],
        **quick,
    }


# --- Summaries -----------------------------------------------------------------------------
def _summaries_tab(gr: Any, handlers: Handlers, limits: _Limits) -> SimpleNamespace:
    """One-article summaries in a style, and digests by topic/outlet/dates (stoppable,
    exportable as Markdown)."""
    ui = SimpleNamespace()
    with gr.Row(elem_classes=["nr-stack"]):
        with gr.Column():
            gr.Markdown("### One article")
            ui.article = gr.Dropdown(
                label="Article (type to search)",
                choices=[],
                filterable=True,
                elem_id="summary-article",
            )
            ui.style = gr.Radio(
                label="Style",
                choices=[(f"{name} ({desc})", name) for name, desc in styles().items()],
                value="brief",
                elem_id="summary-style",
            )
            ui.summarize = gr.Button("Summarize", variant="primary", elem_id="summarize-button")
        with gr.Column():
            gr.Markdown("### Digest of several articles")
            ui.topic = gr.Textbox(
                label="Topic", placeholder="e.g. war in Ukraine", elem_id="digest-topic"
            )
            ui.digest_source = gr.Dropdown(label="Outlet", choices=[("All outlets", "")], value="")
            with gr.Row():
                ui.since = gr.Textbox(label="Since", placeholder="YYYY-MM-DD")
                ui.until = gr.Textbox(label="Until", placeholder="YYYY-MM-DD")
            ui.limit = gr.Slider(
                2, 10, value=5, step=1, label="Articles at most", elem_id="digest-limit"
            )
            ui.digest = gr.Button("Build digest", elem_id="digest-button")
    ui.stop = gr.Button("Stop", variant="stop", visible=False, elem_id="summary-stop")
    ui.asked = gr.State(None)  # when the running request was made (a Stop refuses it)
    ui.status = gr.Markdown(elem_id="summary-status")
    ui.output = gr.Markdown(
        "Pick an article and a style, or describe a digest.",
        elem_id="summary-output",
        latex_delimiters=[],
        sanitize_html=True,
        container=True,
    )
    with gr.Accordion(
        "Copy or download as Markdown", open=False, visible=False, elem_id="summary-export"
    ) as ui.export_box:
        ui.export_text = gr.Textbox(
            show_label=False, lines=8, interactive=False, buttons=["copy"], elem_id="export-text"
        )
        ui.download = gr.DownloadButton("Download .md", elem_id="export-download")
    _wire_summaries(gr, handlers, limits, ui)
    return ui


def _wire_summaries(gr: Any, handlers: Handlers, limits: _Limits, ui: SimpleNamespace) -> None:
    """Summarize / Build digest -> (buttons swap to Stop) -> stream -> export."""
    controls = [ui.summarize, ui.digest, ui.stop, ui.export_box]
    busy = (gr.update(visible=False), gr.update(visible=False), gr.update(visible=True))
    idle = (gr.update(visible=True), gr.update(visible=True), gr.update(visible=False))
    outputs = [ui.output, ui.export_text, ui.download, ui.export_box]

    def updates(stream: Iterator[tuple[str, str | None]], name: str) -> Iterator[tuple[Any, ...]]:
        for markdown, export in stream:
            if export is None:
                yield markdown, gr.skip(), gr.skip(), gr.skip()
            else:
                yield markdown, export, _export_file(export, name), gr.update(visible=True)

    def shown(stream: Iterator[tuple[str, str | None]], name: str) -> Iterator[tuple[Any, ...]]:
        yield from _or_unchanged(gr, updates(stream, name), size=len(outputs))

    def summarize(article_id, style, asked, request=None):  # type: ignore[no-untyped-def]
        stream = handlers.summarize(article_id, style, _session(request), asked)
        yield from shown(stream, "summary")

    def digest(topic, source, since, until, limit, asked, request=None):  # type: ignore[no-untyped-def]
        stream = handlers.digest(topic, source, since, until, limit, _session(request), asked)
        yield from shown(stream, f"digest-{topic or 'articles'}")

    def stop(request=None):  # type: ignore[no-untyped-def]
        return (_keep(gr, handlers.stop_summaries(_session(request))), *idle)

    def start():  # type: ignore[no-untyped-def]
        return (*busy, gr.update(visible=False), time.time())

    common = {"outputs": outputs, "show_progress": "full", "show_progress_on": [ui.status]}
    common |= limits.generation | limits.private
    quick = {"queue": False, "show_progress": "hidden"} | limits.private
    begin = {"fn": start, "outputs": [*controls, ui.asked], **quick}
    summary_inputs = [ui.article, ui.style, ui.asked]
    digest_inputs = [ui.topic, ui.digest_source, ui.since, ui.until, ui.limit, ui.asked]
    for button, fn, inputs in (
        (ui.summarize, summarize, summary_inputs),
        (ui.digest, digest, digest_inputs),
    ):
        button.click(**begin).then(_with(gr, fn, request="Request"), inputs, **common).then(
            lambda: idle, None, [ui.summarize, ui.digest, ui.stop], **quick
        )
    ui.stop.click(
        _with(gr, stop, request="Request"),
        None,
        [ui.output, ui.summarize, ui.digest, ui.stop],
        **quick,
    )


# --- Library -------------------------------------------------------------------------------
def _library_tab(gr: Any, handlers: Handlers, limits: _Limits) -> SimpleNamespace:
    """Upload files, add URLs/feeds or pasted text; the article table; read; delete."""
    ui = SimpleNamespace()
    ui.recent = gr.State([])  # ids added in this tab: listed first
    ui.reading = gr.State(None)  # id of the article shown in the preview
    with gr.Row(elem_classes=["nr-stack"]):
        with gr.Column(min_width=280):
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
        paste = gr.Accordion("Paste an article", open=False, elem_id="paste")
        with gr.Column(min_width=280), paste:
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
        datatype=["str", "str", "str", "str", "number", "str"],
        value=[],
        interactive=False,
        wrap=True,
        label="Articles (click a row to read it; newly added ones come first)",
        elem_id="library-table",
        max_height=420,
        column_widths=["36%", "16%", "14%", "10%", "8%", "16%"],
    )
    ui.preview = gr.Markdown(
        elem_id="article-preview", max_height=420, latex_delimiters=[], sanitize_html=True
    )
    ui.pick = gr.Button(
        "Select this article for deletion", size="sm", visible=False, elem_id="pick-button"
    )
    with gr.Row(elem_classes=["nr-stack"]):
        ui.delete_picker = gr.Dropdown(
            label="Selected for deletion",
            choices=[],
            multiselect=True,
            filterable=True,
            scale=4,
            min_width=200,
            elem_id="delete-picker",
        )
        ui.delete = gr.Button(
            "Delete selected…", variant="stop", scale=1, min_width=120, elem_id="delete-button"
        )
        ui.refresh = gr.Button("Refresh", scale=1, min_width=100, elem_id="refresh-button")
    with gr.Group(visible=False, elem_id="delete-confirm") as ui.confirm:
        ui.confirm_text = gr.Markdown(elem_id="delete-confirm-text")
        with gr.Row():
            ui.confirm_yes = gr.Button("Delete", variant="stop", elem_id="delete-yes")
            ui.confirm_no = gr.Button("Cancel", elem_id="delete-no")
    _wire_reading(gr, handlers, limits, ui)
    return ui


def _wire_reading(gr: Any, handlers: Handlers, limits: _Limits, ui: SimpleNamespace) -> None:
    """Click a row to read it; a separate button selects it for deletion."""
    quick = {"queue": False} | limits.private

    def read(evt):  # type: ignore[no-untyped-def]
        preview, article_id = handlers.read_row(getattr(evt, "row_value", None))
        return preview, article_id, gr.update(visible=article_id is not None)

    ui.table.select(
        _with(gr, read, evt="SelectData"),
        None,
        [ui.preview, ui.reading, ui.pick],
        **limits.free,
        **limits.private,
    )
    ui.pick.click(
        handlers.select_for_deletion, [ui.reading, ui.delete_picker], ui.delete_picker, **quick
    )

    def ask(selected):  # type: ignore[no-untyped-def]
        question = handlers.confirm_delete(selected)
        return gr.update(visible=question is not None), question or ""

    ui.delete.click(ask, ui.delete_picker, [ui.confirm, ui.confirm_text], **quick)
    ui.confirm_no.click(lambda: gr.update(visible=False), None, ui.confirm, **quick)


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
    outputs = [
        ask.sources,
        summaries.article,
        summaries.digest_source,
        library.table,
        library.counts,
        library.delete_picker,
    ]

    def fresh(recent):  # type: ignore[no-untyped-def]
        lists = handlers.library(recent)
        outlets = lists["outlets"]
        return (
            gr.Dropdown(choices=outlets),  # Ask: source filter
            gr.Dropdown(choices=lists["articles"]),  # Summaries: article picker
            gr.Dropdown(choices=[("All outlets", ""), *[(o, o) for o in outlets]]),  # digest
            gr.Dataframe(value=lists["rows"]),
            lists["counts"],
            gr.Dropdown(choices=lists["articles"]),  # Library: delete picker
        )

    refresh = {"fn": fresh, "inputs": [library.recent], "outputs": outputs}
    refresh |= limits.free | limits.private
    show_about = {"fn": handlers.about, "inputs": None, "outputs": about}
    show_about |= limits.free | limits.private
    demo.load(**refresh).then(**show_about)
    demo.load(**ask.restore)
    tabs["summaries"].select(**refresh)
    tabs["library"].select(**refresh)
    tabs["about"].select(**show_about)
    library.refresh.click(**refresh)
    quick = {"queue": False} | limits.private

    def ingest(files, urls, recent, progress=None):  # type: ignore[no-untyped-def]
        text, kept, added = handlers.ingest(files, urls, progress)
        return text, kept, None, [*added, *[r for r in recent or [] if r not in added]]

    ingest.__defaults__ = (gr.Progress(),)
    library.add.click(
        ingest,
        [library.upload, library.urls, library.recent],
        [library.status, library.urls, library.upload, library.recent],
        **limits.write,
        **limits.private,
    ).then(**refresh)

    def ingest_text(title, text, source, url, published, recent):  # type: ignore[no-untyped-def]
        status, added = handlers.ingest_text(title, text, source, url, published)
        return status, [*added, *[r for r in recent or [] if r not in added]]

    library.paste.click(
        ingest_text,
        [
            library.paste_title,
            library.paste_text,
            library.paste_source,
            library.paste_url,
            library.paste_date,
            library.recent,
        ],
        [library.status, library.recent],
        **limits.write,
        **limits.private,
    ).success(lambda: ("", ""), None, [library.paste_title, library.paste_text], **quick).then(
        **refresh
    )

    def delete(selected, reading):  # type: ignore[no-untyped-def]
        status, preview, reading = handlers.delete(selected, reading)
        # The selection is emptied before the lists change, so it never names a deleted one.
        hidden = gr.update(visible=False)
        return status, _keep(gr, preview), reading, [], hidden, gr.update(visible=bool(reading))

    library.confirm_yes.click(
        delete,
        [library.delete_picker, library.reading],
        [
            library.status,
            library.preview,
            library.reading,
            library.delete_picker,
            library.confirm,
            library.pick,
        ],
        **limits.write,
        **limits.private,
    ).then(**refresh)


# --- API and the whole app -------------------------------------------------------------------
def _api_endpoints(gr: Any, api: Api, limits: _Limits) -> None:
    """The JSON API for ``gradio_client``: stable names, same queue limits as the page."""

    def ask(
        question: str,
        history: list[list[str]] | None = None,
        sources: list[str] | None = None,
        since: str = "",
        until: str = "",
        request=None,  # type: ignore[no-untyped-def]
    ) -> Iterator[dict]:
        """Answer a question from the articles; streams ``{"answer": partial, "done": False}``
        (the first update lists the ``sources`` being read), ends with the answer, its
        citations and ``"done": True`` (``"stopped": True`` after ``/stop``)."""
        yield from api.ask(question, history, sources, since, until, _session(request))

    def summarize(article_id: str, style: str = "brief", request=None) -> Iterator[dict]:  # type: ignore[no-untyped-def]
        """Summarize one article (``style``: brief, bullets, headline or quotes); streams
        ``{"text": partial, "done": False}`` and ends with the summary and ``"done": True``."""
        yield from api.summarize(article_id, style, _session(request))

    def digest(
        topic: str = "",
        source: str = "",
        since: str = "",
        until: str = "",
        limit: int = 5,
        request=None,  # type: ignore[no-untyped-def]
    ) -> Iterator[dict]:
        """A digest across articles chosen by topic, outlet and/or date range, with ``[n]``
        markers; streams ``{"text": partial, "done": False}``, ends with ``"done": True``."""
        yield from api.digest(topic, source, since, until, limit, _session(request))

    def stop(request=None) -> dict:  # type: ignore[no-untyped-def]
        """Stop this client's running /ask, /summarize and /digest; ``{"stopped": n}``."""
        return api.stop(_session(request))

    for name, fn in (("ask", ask), ("summarize", summarize), ("digest", digest)):
        gr.api(_with(gr, fn, request="Request"), api_name=name, **limits.generation)
    gr.api(_with(gr, stop, request="Request"), api_name="stop", queue=False)
    gr.api(api.ingest_text, api_name="ingest_text", **limits.write)
    gr.api(api.list_articles, api_name="list_articles", **limits.free)
    gr.api(api.delete, api_name="delete", **limits.write)
    # /ingest takes uploaded files, so it uses real (hidden) file components: Gradio then
    # accepts only files uploaded through it, never arbitrary server paths.
    files = gr.File(file_count="multiple", visible=False, label="files")
    urls = gr.Textbox(visible=False, label="urls")
    report = gr.JSON(visible=False, label="report")
    trigger = gr.Button(visible=False)
    trigger.click(api.ingest, [files, urls], report, api_name="ingest", **limits.write)


def build_app(service: NewsRAG, settings: Settings | None = None) -> gr.Blocks:
    """The whole app as a ``gr.Blocks`` with its queue configured (not launched).

    Generation events (answers, summaries, digests, also through the API) share one
    concurrency group limited to ``settings.ui_concurrency``; ingest/delete run one at a time;
    listing and viewing run freely. Extra requests wait in the queue (up to 64). A browser
    tab that closes stops its running answers, summaries and digests.

    Example (``launch`` serves the app until stopped):
        >>> from rag.service import NewsRAG
        >>> demo = build_app(NewsRAG.from_settings())
        >>> demo.launch(ssr_mode=False)  # doctest: +SKIP
    """
    import gradio as gr

    handlers = Handlers(service)
    api = Api(service, handlers.runs)
    limits = _Limits(settings or service.settings)
    with gr.Blocks(title="news-rag", analytics_enabled=False) as demo:
        # First, so that the API endpoints get their plain names (/ask, /summarize...).
        _api_endpoints(gr, api, limits)
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
                    "The app also serves a JSON API (`/ask`, `/summarize`, `/digest`, `/stop`, "
                    "`/ingest`, `/ingest_text`, `/list_articles`, `/delete`): see **Use via "
                    "API** at the bottom of the page.",
                    elem_classes=["nr-muted"],
                )
        _wire_library(gr, demo, handlers, limits, tabs, ask, summaries, library, about)

        def closed(request=None) -> None:  # type: ignore[no-untyped-def]
            handlers.end_session(_session(request))

        demo.unload(_with(gr, closed, request="Request"))
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
        >>> from rag.settings import load_settings
        >>> launch_options(load_settings(ui_auth="ann:pw"))["auth"]
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
