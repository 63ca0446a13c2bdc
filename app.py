"""The news-rag web app. Run it with ``python app.py`` (or ``news-rag serve``).

Open http://127.0.0.1:7860 (``RAG_UI_HOST`` / ``RAG_UI_PORT`` change it, and
``RAG_UI_AUTH=user:password`` asks for a login). On first run with an empty store the articles
in ``samples/`` are added.

The app is built from the library facade only (``rag.service.NewsRAG``); the layout lives in
:mod:`rag.ui.app` and the server setup in :mod:`rag.ui.server`, so that the installed
``news-rag serve`` command runs the same app.

Example (``launch`` serves the app until stopped):
    >>> from rag.service import NewsRAG
    >>> from app import build_app
    >>> demo = build_app(NewsRAG.from_settings())
    >>> demo.launch(ssr_mode=False)  # doctest: +SKIP
"""

from __future__ import annotations

from rag.ui.app import build_app
from rag.ui.server import main

__all__ = ["build_app", "main"]

if __name__ == "__main__":
    main()
