"""``news-rag serve``: start the web app (the same app as ``python app.py``)."""

from __future__ import annotations

import click

from rag.cli.common import handle_errors


@click.command(
    epilog="""\b
Examples:
  news-rag serve                          # http://127.0.0.1:7860
  news-rag serve --port 8080
  news-rag serve --host 0.0.0.0 --port 80 # with RAG_UI_AUTH=user:password set!

\b
Settings come from RAG_* variables (RAG_UI_HOST, RAG_UI_PORT, RAG_UI_AUTH,
RAG_UI_CONCURRENCY, RAG_INGEST_SAMPLES...). On first run with an empty store,
samples/ is ingested.""",
)
@click.option("--host", default=None, help="Address to listen on (default: RAG_UI_HOST).")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Port (default: RAG_UI_PORT)."
)
@handle_errors
def serve(host: str | None, port: int | None) -> None:
    """Serve the web app: chat with sources, summaries, and the article library."""
    from rag.ui.server import main

    main(ui_host=host, ui_port=port)
