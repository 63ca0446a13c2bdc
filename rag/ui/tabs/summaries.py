"""The Summaries tab: one article summarized in a style, or a digest of several articles
by topic, outlet and dates; both stream, can be stopped, and can be copied or downloaded
as Markdown.

Example (inside ``gr.Blocks``, with Gradio loaded):
    >>> ui = summaries_tab(gr, handlers, limits)  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from rag.ui.handlers.summaries import styles
from rag.ui.wiring import (
    Limits,
    export_file,
    keep_or_skip,
    or_unchanged,
    session_of,
    with_gradio_args,
)

if TYPE_CHECKING:
    from rag.ui.handlers import Handlers

__all__ = ["summaries_tab"]


def summaries_tab(gr: Any, handlers: Handlers, limits: Limits) -> SimpleNamespace:
    """One-article summaries in a style, and digests by topic/outlet/dates (stoppable,
    exportable as Markdown).

    Example (inside ``gr.Blocks``, with Gradio loaded):
        >>> summaries = summaries_tab(gr, handlers, limits)  # doctest: +SKIP
    """
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
            ui.digest_outlet = gr.Dropdown(label="Outlet", choices=[("All outlets", "")], value="")
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


def _wire_summaries(gr: Any, handlers: Handlers, limits: Limits, ui: SimpleNamespace) -> None:
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
                yield markdown, export, export_file(export, name), gr.update(visible=True)

    def shown(stream: Iterator[tuple[str, str | None]], name: str) -> Iterator[tuple[Any, ...]]:
        yield from or_unchanged(gr, updates(stream, name), size=len(outputs))

    def summarize(article_id, style, asked, request=None):  # type: ignore[no-untyped-def]
        stream = handlers.summarize(article_id, style, session_of(request), asked)
        yield from shown(stream, "summary")

    def digest(topic, outlet, since, until, limit, asked, request=None):  # type: ignore[no-untyped-def]
        stream = handlers.digest(topic, outlet, since, until, limit, session_of(request), asked)
        yield from shown(stream, f"digest-{topic or 'articles'}")

    def stop(request=None):  # type: ignore[no-untyped-def]
        return (keep_or_skip(gr, handlers.stop_summaries(session_of(request))), *idle)

    def start():  # type: ignore[no-untyped-def]
        return (*busy, gr.update(visible=False), time.time())

    common = {"outputs": outputs, "show_progress": "full", "show_progress_on": [ui.status]}
    common |= limits.generation | limits.private
    quick = {"queue": False, "show_progress": "hidden"} | limits.private
    begin = {"fn": start, "outputs": [*controls, ui.asked], **quick}
    summary_inputs = [ui.article, ui.style, ui.asked]
    digest_inputs = [ui.topic, ui.digest_outlet, ui.since, ui.until, ui.limit, ui.asked]
    for button, fn, inputs in (
        (ui.summarize, summarize, summary_inputs),
        (ui.digest, digest, digest_inputs),
    ):
        button.click(**begin).then(
            with_gradio_args(gr, fn, request="Request"), inputs, **common
        ).then(lambda: idle, None, [ui.summarize, ui.digest, ui.stop], **quick)
    ui.stop.click(
        with_gradio_args(gr, stop, request="Request"),
        None,
        [ui.output, ui.summarize, ui.digest, ui.stop],
        **quick,
    )
