"""The web app: a Gradio front end over :class:`rag.service.NewsRAG`.

``rag.ui.format`` turns answers, summaries and reports into safe Markdown (article text is
always shown as text, never as markup); ``rag.ui.app`` builds the Gradio Blocks app and
launches it. Nothing here imports Gradio at import time.

Example:
    >>> from rag.ui.app import build_app
    >>> from rag.service import NewsRAG
    >>> demo = build_app(NewsRAG.from_settings())  # doctest: +SKIP
    >>> demo.launch()  # doctest: +SKIP
"""
