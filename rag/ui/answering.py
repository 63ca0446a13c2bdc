"""An answer while it runs, as plain updates the page and the JSON API each render.

:func:`follow_answer` asks the question in a stoppable :class:`rag.ui.runs.Run`, logs how it
went, and yields :class:`AnswerUpdate`\\ s: what the chain is doing, the passages being read,
the answer as it streams, then the ``Answer`` or the reason it stopped. The page shows each
update in the chat (:mod:`rag.ui.handlers.ask`); the API sends the ones that found sources
or added words as JSON (:mod:`rag.ui.api`).

Example:
    >>> from rag.ui.runs import Runs
    >>> class Service:
    ...     def stream_events(self, question, history, filters):
    ...         from rag.qa.answer import Token
    ...         yield Token("Rates fell.")
    >>> run = Runs().start("answer", session=None)
    >>> updates = list(follow_answer(Service(), run, "Why?", [], [], "", ""))
    >>> [(u.event, u.text) for u in updates if u.event != "tick"]
    [('start', ''), ('token', 'Rates fell.'), ('stopped', 'Rates fell.')]
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from rag.ui.format.answers import count_articles
from rag.ui.generation import Timing
from rag.ui.runs import Run

if TYPE_CHECKING:
    from rag.service import NewsRAG

__all__ = ["SEARCHING", "AnswerUpdate", "follow_answer", "reading_stage", "search_filters"]

logger = logging.getLogger(__name__)

SEARCHING = "Searching the articles"  # the first stage, before the chain says more
Event = Literal["start", "stage", "passages", "token", "tick", "done", "stopped"]


@dataclass(frozen=True)
class AnswerUpdate:
    """One view of a running answer.

    ``event`` says what this update brought: the ``start``, a new ``stage``, the ``passages``
    found, a ``token`` of the answer, a heartbeat (``tick``), or the end: ``done`` (with the
    ``result``, an ``Answer``) or ``stopped`` (``reason`` says why).

    Example:
        >>> AnswerUpdate("start", stage=SEARCHING).finished
        False
    """

    event: Event
    text: str = ""
    stage: str = ""
    passages: list[Any] = field(default_factory=list)
    elapsed: int = 0
    result: Any = None
    reason: str | None = None

    @property
    def finished(self) -> bool:
        """True on the last update (an answer, or a stop)."""
        return self.event in ("done", "stopped")


def search_filters(outlets: Sequence[str] | None, since: str | None, until: str | None) -> Any:
    """``SearchFilters`` for a question, or None when nothing is set (ValueError on bad dates).

    Example:
        >>> search_filters([], "", "") is None
        True
    """
    from rag.ui.format import parse_range

    start, end = parse_range(since, until)
    chosen = [s for s in (outlets or []) if s]
    if not chosen and start is None and end is None:
        return None
    from rag.retrieval.hybrid import SearchFilters

    return SearchFilters(outlets=chosen or None, since=start, until=end)


def reading_stage(passages: Sequence[Any]) -> str:
    """``Reading 5 passages from 3 articles`` (until the answer step says more exactly).

    Example:
        >>> reading_stage([{"article_id": "a"}])
        'Reading 1 passage from 1 article'
    """
    count, articles = len(passages), count_articles(passages)
    return (
        f"Reading {count} passage{'s' if count != 1 else ''} from {articles} "
        f"article{'s' if articles != 1 else ''}"
    )


def follow_answer(
    service: NewsRAG,
    run: Run,
    question: str,
    history: Sequence[tuple[str, str]],
    outlets: Sequence[str] | None,
    since: str | None,
    until: str | None,
    *,
    label: str = "question",
) -> Iterator[AnswerUpdate]:
    """Answer ``question`` in ``run`` (outlets and dates filter the search): an update for
    each thing that arrives, first the ``start``, last the answer or the stop. Raises the
    service's errors (and ValueError on bad dates); logs one line, named ``label``, at the end.
    """
    from rag.qa.answer import Done, PassagesFound, Stage, Token

    timing = Timing(label)
    outcome = "closed"  # unless the end below is reached: the caller closed this stream
    text, stage, found, answer = "", SEARCHING, [], None
    try:
        yield AnswerUpdate("start", stage=stage)

        def events() -> Iterator[Any]:
            # in the run's worker, so that bad dates end the run like any other error
            filters = search_filters(outlets, since, until)
            return service.stream_events(question, history=list(history), filters=filters)

        with contextlib.closing(run.items(events)) as items:
            for event in items:
                kind: Event = "tick"
                if isinstance(event, Stage):
                    kind, stage = "stage", event.detail or event.name.capitalize()
                elif isinstance(event, PassagesFound):
                    timing.mark("sources")  # the log line's documented label
                    kind, found = "passages", list(event.passages)
                    stage = reading_stage(found)
                elif isinstance(event, Token):
                    timing.mark("first token")
                    kind, text = "token", text + event.text
                elif isinstance(event, Done):
                    answer = event.answer
                if answer is None:
                    yield AnswerUpdate(kind, text, stage, found, int(run.elapsed))
        elapsed = int(run.elapsed)
        if answer is None:
            outcome = "stopped"
            yield AnswerUpdate("stopped", text, stage, found, elapsed, reason=run.reason)
            return
        outcome = "done"
        timing.tokens = (answer.prompt_tokens, answer.completion_tokens)
        timing.extra = f"{len(answer.citations)} cited, abstained {answer.abstained}"
        yield AnswerUpdate("done", text, stage, found, elapsed, result=answer)
    except Exception:
        outcome = "failed"
        raise
    finally:
        if outcome in ("closed", "stopped") and run.reason:
            outcome = f"stopped ({run.reason})"
        logger.info(timing.line(outcome))
