"""The web app: a Gradio front end over :class:`rag.service.NewsRAG`.

``rag.ui.app`` lays out the tabs and wires the events; ``rag.ui.handlers`` holds what each
button does and ``rag.ui.api`` the JSON endpoints; ``rag.ui.runs`` runs answers, summaries
and digests so they can be stopped; ``rag.ui.chat`` keeps the conversation as plain turns;
``rag.ui.format`` turns answers, summaries and reports into safe Markdown (article text is
always shown as text, never as markup). Nothing here imports Gradio at import time.

Example (``launch`` serves the app until stopped):
    >>> from rag.ui.app import build_app
    >>> from rag.service import NewsRAG
    >>> demo = build_app(NewsRAG.from_settings())
    >>> demo.launch()  # doctest: +SKIP
"""
