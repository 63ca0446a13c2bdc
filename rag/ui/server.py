"""Serving the app: the launch options (host, port, login, upload size, page style), a
Gradio without analytics or hub access, the samples added to an empty store on first run,
and :func:`main`, which ``python app.py`` and ``news-rag serve`` run.

Example (shell):
    $ python app.py
    $ RAG_UI_PORT=8080 RAG_UI_AUTH=ann:secret python app.py
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.redaction import install_log_redaction
from rag.stacks import log_stacks_on_signal

if TYPE_CHECKING:
    from rag.service import NewsRAG
    from rag.settings import Settings

__all__ = ["CSS", "find_samples_dir", "ingest_samples_if_empty", "launch_options", "main"]

logger = logging.getLogger(__name__)

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


def _offline_environment() -> None:
    """No analytics, telemetry or hub downloads: must run before Gradio is imported."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def find_samples_dir() -> Path | None:
    """The ``samples/`` folder: in the working directory, else next to the ``rag`` package.

    Example:
        >>> find_samples_dir().name
        'samples'
    """
    import rag

    package_root = Path(rag.__file__).resolve().parent.parent
    for candidate in (Path.cwd() / "samples", package_root / "samples"):
        if candidate.is_dir() and any(candidate.iterdir()):
            return candidate
    return None


def ingest_samples_if_empty(service: NewsRAG, settings: Settings) -> None:
    """First run: fill an empty store with ``samples/`` (when ``RAG_INGEST_SAMPLES`` is on).

    Example (a store that holds articles is left as it is):
        >>> ingest_samples_if_empty(service, settings)
    """
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
    from rag.ui.app import build_app

    configure_logging()
    log_stacks_on_signal()  # `kill -USR1 <pid>`: what each busy thread is doing, in the log
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
