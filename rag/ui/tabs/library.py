"""The Library tab: upload files, add URLs/feeds or a pasted article, the table of articles
(click a row to read it), and deletion after a confirmation. :func:`wire_library` also keeps
every tab's article and outlet lists fresh.

Example (inside ``gr.Blocks``, with Gradio loaded):
    >>> ui = library_tab(gr, handlers, limits)  # doctest: +SKIP
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from rag.ui.format import ARTICLE_COLUMNS
from rag.ui.wiring import Limits, keep_or_skip, with_gradio_args

if TYPE_CHECKING:
    from rag.ui.handlers import Handlers

__all__ = ["library_tab", "wire_library"]


def library_tab(gr: Any, handlers: Handlers, limits: Limits) -> SimpleNamespace:
    """Upload files, add URLs/feeds or pasted text; the article table; read; delete.

    Example (inside ``gr.Blocks``, with Gradio loaded):
        >>> library = library_tab(gr, handlers, limits)  # doctest: +SKIP
    """
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
                ui.paste_outlet = gr.Textbox(label="Outlet", elem_id="paste-source")
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


def _wire_reading(gr: Any, handlers: Handlers, limits: Limits, ui: SimpleNamespace) -> None:
    """Click a row to read it; a separate button selects it for deletion."""
    quick = {"queue": False} | limits.private

    def read(evt):  # type: ignore[no-untyped-def]
        preview, article_id = handlers.read_row(getattr(evt, "row_value", None))
        return preview, article_id, gr.update(visible=article_id is not None)

    ui.table.select(
        with_gradio_args(gr, read, evt="SelectData"),
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


def wire_library(
    gr: Any,
    demo: Any,
    handlers: Handlers,
    limits: Limits,
    tabs: dict[str, Any],
    ask: SimpleNamespace,
    summaries: SimpleNamespace,
    library: SimpleNamespace,
    about: Any,
) -> None:
    """Keep every article/outlet list fresh: on load, on tab select and after changes; add
    and delete articles (one write at a time), then refresh.

    Example (inside ``gr.Blocks``, after the tabs were laid out):
        >>> lists = (tabs, ask, summaries, library, about)  # doctest: +SKIP
        >>> wire_library(gr, demo, handlers, limits, *lists)  # doctest: +SKIP
    """
    outputs = [
        ask.outlets,
        summaries.article,
        summaries.digest_outlet,
        library.table,
        library.counts,
        library.delete_picker,
    ]

    def fresh(recent):  # type: ignore[no-untyped-def]
        lists = handlers.library(recent)
        outlets = lists["outlets"]
        return (
            gr.Dropdown(choices=outlets),  # Ask: outlet filter
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

    def ingest_text(title, text, outlet, url, published, recent):  # type: ignore[no-untyped-def]
        status, added = handlers.ingest_text(title, text, outlet, url, published)
        return status, [*added, *[r for r in recent or [] if r not in added]]

    library.paste.click(
        ingest_text,
        [
            library.paste_title,
            library.paste_text,
            library.paste_outlet,
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
        return (
            status,
            keep_or_skip(gr, preview),
            reading,
            [],
            hidden,
            gr.update(visible=bool(reading)),
        )

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
