"""The web app: a Gradio front end over :class:`rag.service.NewsRAG`.

``rag.ui.app`` builds the app from the tabs (``rag.ui.tabs``: each tab's components and
events) and the JSON endpoints (``rag.ui.api``); ``rag.ui.server`` serves it. What each
button does is in ``rag.ui.handlers`` (one module per tab); answers, summaries and digests
run through cores the page and the API share (``rag.ui.answering``, ``rag.ui.generation``)
as stoppable runs (``rag.ui.runs``); ``rag.ui.chat`` keeps the conversation as plain turns;
``rag.ui.format`` turns answers, summaries and reports into safe Markdown (article text is
always shown as text, never as markup). Nothing here imports Gradio at import time.

Example (``launch`` serves the app until stopped):
    >>> from rag.ui.app import build_app
    >>> from rag.service import NewsRAG
    >>> demo = build_app(NewsRAG.from_settings())
    >>> demo.launch()  # doctest: +SKIP
"""
