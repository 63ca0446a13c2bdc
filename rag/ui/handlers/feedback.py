"""What a person sees when something goes wrong: a toast, a ``gr.Error`` or an error in an
output panel, always readable, never a traceback, with known secrets masked.

Every handler module calls these through this module (``feedback.warn(...)``), so a test can
replace :func:`warn` in one place.

Example:
    >>> print(error_markdown(RagError("store is read-only", hint="check the <data> folder")))
    **Error:** store is read\\-only
    <BLANKLINE>
    check the &lt;data&gt; folder
"""

from __future__ import annotations

import logging

from rag.errors import NotFoundError, RagError
from rag.redaction import redact_known
from rag.ui.format.markdown import escape_md

__all__ = ["API_NOT_FOUND_HINT", "APP_NOT_FOUND_HINT", "error_markdown", "user_error", "warn"]

logger = logging.getLogger(__name__)

APP_NOT_FOUND_HINT = "refresh the Library tab to see the articles stored now"
API_NOT_FOUND_HINT = "list the stored article ids with the /list_articles endpoint"


def warn(message: str) -> None:
    """A toast in the browser (and a log line)."""
    import gradio as gr

    logger.info("warning shown: %s", message)
    gr.Warning(message)


def user_error(exc: Exception, *, api: bool = False) -> Exception:
    """``gr.Error`` with a readable message for any exception (details go to the log).

    A not-found error tells an API caller which endpoint lists what exists.
    """
    import gradio as gr

    if isinstance(exc, NotFoundError):
        hint = API_NOT_FOUND_HINT if api else APP_NOT_FOUND_HINT
        return gr.Error(redact_known(f"{exc.message}\nHint: {hint}"), print_exception=False)
    if isinstance(exc, RagError | ValueError):
        return gr.Error(redact_known(str(exc)), print_exception=False)
    logger.exception("unexpected error in the app")
    message = redact_known(f"Something went wrong: {type(exc).__name__}: {exc}")
    return gr.Error(message, print_exception=False)


def error_markdown(exc: Exception) -> str:
    """An error shown inside the chat or an output panel (never a traceback)."""
    if isinstance(exc, RagError):
        text = f"**Error:** {escape_md(redact_known(exc.message))}"
        hint = APP_NOT_FOUND_HINT if isinstance(exc, NotFoundError) else exc.hint
        if hint:
            text += f"\n\n{escape_md(redact_known(hint))}"
        return text
    logger.exception("unexpected error in the app")
    detail = redact_known(f"{type(exc).__name__}: {exc}")
    return f"**Something went wrong:** {escape_md(detail)}"
