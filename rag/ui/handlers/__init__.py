"""What the app's buttons do: one method per action, each calling the ``NewsRAG`` facade.

Kept apart from the layout (:mod:`rag.ui.tabs`) so that every action can be tested with a
fake service. :class:`Handlers` gathers the actions of each tab: the chat's
(:mod:`rag.ui.handlers.ask`), the summaries' (:mod:`rag.ui.handlers.summaries`) and the
Library's (:mod:`rag.ui.handlers.library`); :mod:`rag.ui.handlers.feedback` words what goes
wrong. Answers, summaries and digests run as stoppable :class:`rag.ui.runs.Run`\\ s; methods
return plain values (``None`` where the layout should leave a component as it is). The JSON
API (:mod:`rag.ui.api`) runs the same cores and only shapes their results differently.

Example (``chat`` needs the LLM):
    >>> handlers = Handlers(service)
    >>> messages, turns, _ = handlers.begin("Who won?", [])
    >>> for messages, final, stored in handlers.chat(turns, [], "", ""):  # doctest: +SKIP
    ...     pass
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from rag.redaction import redact_mapping, register_secrets
from rag.ui.format import format_describe
from rag.ui.generation import Generations
from rag.ui.handlers import feedback
from rag.ui.handlers.ask import AskHandlers
from rag.ui.handlers.library import LibraryHandlers
from rag.ui.handlers.summaries import SummaryHandlers
from rag.ui.runs import Runs

if TYPE_CHECKING:
    from rag.service import NewsRAG

__all__ = ["Handlers"]

logger = logging.getLogger(__name__)


class Handlers(AskHandlers, SummaryHandlers, LibraryHandlers):
    """Event handlers of the app, one method per action, all calling the service.

    ``session`` arguments identify the browser tab (Gradio's session hash): a Stop, a new
    conversation or a closed tab cancels that tab's runs only.

    Example:
        >>> handlers = Handlers(service)
        >>> handlers.question_problems("", [], "", "")
        {'question': 'Type a question first.'}
    """

    def __init__(self, service: NewsRAG, runs: Runs | None = None) -> None:
        self.service = service
        self.runs = runs or Runs()
        self.generations = Generations(service, self.runs)
        settings = getattr(service, "settings", None)
        if settings is not None:
            register_secrets(settings)  # masked in every error shown and in the About tab

    def end_session(self, session: str | None) -> None:
        """The browser tab is gone: stop its work so others need not wait for it."""
        for run in self.runs.end_session(session):
            logger.info("stopped a %s of a closed browser tab", run.kind)

    def about(self) -> str:
        """Which models and store are in use (no secrets), for the About tab."""
        try:
            info = redact_mapping(self.service.describe())
            return format_describe(info, self.service.stats())
        except Exception as exc:
            return feedback.error_markdown(exc)
