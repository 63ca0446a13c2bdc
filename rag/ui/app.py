"""The Gradio app: Ask (chat with sources), Summaries, Library and About tabs over ``NewsRAG``.

The app has no logic of its own: :mod:`rag.ui.handlers` calls the :class:`rag.service.NewsRAG`
facade for every action and :mod:`rag.ui.format` turns results into safe Markdown; each tab's
components and events are laid out in :mod:`rag.ui.tabs`, the JSON API's in :mod:`rag.ui.api`,
and this module puts them together. Answers, summaries and digests can be stopped (the model
stops generating); a closed browser tab stops its work too. :mod:`rag.ui.server` serves it.

Gradio is imported inside :func:`build_app`, so ``rag.ui.server.main()`` can switch off
analytics and hub access before Gradio is loaded.

Stable API endpoints (for ``gradio_client``): ``/ask``, ``/summarize``, ``/digest``,
``/stop``, ``/ingest``, ``/ingest_text``, ``/list_articles``, ``/delete``.

Example (``launch`` serves the app until stopped):
    >>> from rag.service import NewsRAG
    >>> from rag.ui.app import build_app
    >>> demo = build_app(NewsRAG.from_settings())
    >>> demo.launch(server_port=7860, ssr_mode=False)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rag.ui.api import Api, register
from rag.ui.handlers import Handlers
from rag.ui.tabs.ask import ask_tab
from rag.ui.tabs.library import library_tab, wire_library
from rag.ui.tabs.summaries import summaries_tab
from rag.ui.wiring import Limits, session_of, with_gradio_args

if TYPE_CHECKING:
    import gradio as gr

    from rag.service import NewsRAG
    from rag.settings import Settings

__all__ = ["QUEUE_MAX_SIZE", "build_app"]

QUEUE_MAX_SIZE = 64


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
    limits = Limits(settings or service.settings)
    with gr.Blocks(title="news-rag", analytics_enabled=False) as demo:
        # First, so that the API endpoints get their plain names (/ask, /summarize...).
        register(gr, api, limits)
        gr.Markdown(
            "# news-rag\nAsk questions about your news articles and get answers with "
            "numbered sources, summaries and digests."
        )
        tabs: dict[str, Any] = {}
        with gr.Tabs():
            with gr.Tab("Ask", id="ask", elem_id="tab-ask") as tabs["ask"]:
                ask = ask_tab(gr, handlers, limits)
            with gr.Tab("Summaries", id="summaries", elem_id="tab-summaries") as tabs["summaries"]:
                summaries = summaries_tab(gr, handlers, limits)
            with gr.Tab("Library", id="library", elem_id="tab-library") as tabs["library"]:
                library = library_tab(gr, handlers, limits)
            with gr.Tab("About", id="about", elem_id="tab-about") as tabs["about"]:
                about = gr.Markdown(elem_id="about")
                gr.Markdown(
                    "The app also serves a JSON API (`/ask`, `/summarize`, `/digest`, `/stop`, "
                    "`/ingest`, `/ingest_text`, `/list_articles`, `/delete`): see **Use via "
                    "API** at the bottom of the page.",
                    elem_classes=["nr-muted"],
                )
        wire_library(gr, demo, handlers, limits, tabs, ask, summaries, library, about)

        def closed(request=None) -> None:  # type: ignore[no-untyped-def]
            handlers.end_session(session_of(request))

        demo.unload(with_gradio_args(gr, closed, request="Request"))
    demo.queue(default_concurrency_limit=4, max_size=QUEUE_MAX_SIZE)
    return demo
