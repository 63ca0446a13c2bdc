"""The JSON API for ``gradio_client``: the same actions as the page, JSON in and JSON out.

Endpoints (stable names): ``/ask``, ``/summarize``, ``/digest`` (streamed), ``/stop``,
``/ingest``, ``/ingest_text``, ``/list_articles`` and ``/delete``. Streams are stoppable
runs of the caller's session: ``/stop`` ends them, and they end with what was written so
far and ``"stopped": True``. Summaries, digests and ingests run through the page's own
cores (:class:`rag.ui.generation.Generations`, :meth:`rag.ui.handlers.Handlers.add_sources`);
this module only shapes their results as JSON and their errors as API errors.

Example (a client)::

    from gradio_client import Client
    client = Client("http://127.0.0.1:7860/")
    job = client.submit("What did Hegseth rule out?", api_name="/ask")
    client.predict(api_name="/stop")          # stop it: the job ends with "stopped": True
    job.result()["answer"]
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rag.ui.format import answer_to_dict, to_jsonable
from rag.ui.generation import Timing, Update
from rag.ui.handlers import Handlers, digest_request, search_filters, user_error
from rag.ui.runs import Runs

if TYPE_CHECKING:
    from rag.service import NewsRAG

logger = logging.getLogger(__name__)

GENERATIONS = ("answer", "summary", "digest")


class Api:
    """Handlers of the API endpoints, sharing the page's runs (so ``/stop`` and a closed
    session stop API work too).

    Example (``ask`` needs the LLM):
        >>> api = Api(service, Runs())
        >>> list(api.ask("Who won?"))[-1]["done"]  # doctest: +SKIP
        True
    """

    def __init__(self, service: NewsRAG, runs: Runs) -> None:
        self.service = service
        self.runs = runs
        self.handlers = Handlers(service, runs)

    def ask(
        self,
        question: str,
        history: list[list[str]] | None = None,
        sources: list[str] | None = None,
        since: str = "",
        until: str = "",
        session: str | None = None,
    ) -> Iterator[dict]:
        """Answer a question from the articles. Streams ``{"answer": partial, "done": False}``
        updates (the first one with the ``"sources"`` being read, before any word), and ends
        with the full answer, its citations and ``"done": True``."""
        if not (question or "").strip():
            raise user_error(ValueError("question is empty"), api=True)
        from rag.qa.answer import Done, SourcesFound, Token

        try:
            filters = search_filters(sources, since, until)
            pairs = [(str(p[0]), str(p[1])) for p in (history or []) if len(p) == 2]
            run = self.runs.start("answer", session)
            timing = Timing("question (API)")
            partial, found, answer = "", [], None

            def events() -> Iterator[Any]:
                return self.service.stream_events(question.strip(), history=pairs, filters=filters)

            with contextlib.closing(run.items(events)) as items:
                for event in items:
                    if isinstance(event, SourcesFound):
                        timing.mark("sources")
                        found = answer_to_dict({"sources": event.sources})["sources"]
                        yield {"answer": partial, "sources": found, "done": False}
                    elif isinstance(event, Token):
                        timing.mark("first token")
                        partial += event.text
                        yield {"answer": partial, "done": False}
                    elif isinstance(event, Done):
                        answer = event.answer
            if answer is None:
                logger.info(timing.line(f"stopped ({run.reason})"))
                yield {"answer": partial, "sources": found, "done": True, "stopped": True}
                return
            timing.tokens = (answer.prompt_tokens, answer.completion_tokens)
            logger.info(timing.line("done"))
            yield {**answer_to_dict(answer), "done": True}
        except Exception as exc:
            raise user_error(exc, api=True) from None

    def summarize(
        self, article_id: str, style: str = "brief", session: str | None = None
    ) -> Iterator[dict]:
        """Summarize one article (``style``: brief, bullets, headline or quotes); streams
        ``{"text": partial, "done": False}`` and ends with the summary and ``"done": True``."""
        style = style or "brief"
        updates = self.handlers.generations.summary(
            article_id, style, session, label="summary (API)"
        )
        yield from _as_json(updates)

    def digest(
        self,
        topic: str = "",
        source: str = "",
        since: str = "",
        until: str = "",
        limit: int = 5,
        session: str | None = None,
    ) -> Iterator[dict]:
        """A digest across articles chosen by topic, outlet and/or date range, with ``[n]``
        markers; streams ``{"text": partial, "done": False}``, ends with ``"done": True``."""
        try:
            request = digest_request(topic, source, since, until, limit)
        except ValueError as exc:
            raise user_error(exc, api=True) from None
        updates = self.handlers.generations.digest(request, session, label="digest (API)")
        yield from _as_json(updates)

    def stop(self, session: str | None = None) -> dict:
        """Stop the caller's answers, summaries and digests; returns ``{"stopped": n}``."""
        return {"stopped": len(self.runs.cancel(session, GENERATIONS, reason="stopped"))}

    def ingest(self, files: list[str] | None, urls: str | None) -> dict:
        """Add uploaded files and URLs/feeds (one per line); returns the ingest report."""
        try:
            added = self.handlers.add_sources(files, urls)
        except Exception as exc:
            raise user_error(exc, api=True) from None
        if added is None:
            raise user_error(ValueError("give files or URLs to ingest"), api=True)
        return to_jsonable(added[0])

    def ingest_text(
        self, text: str, title: str, source: str = "", url: str = "", published: str = ""
    ) -> dict:
        """Add one article given as raw text; returns the ingest report."""
        try:
            report = self.service.ingest_text(
                text,
                title,
                source=source or None,
                url=url or None,
                published=published or None,
            )
            return to_jsonable(report)
        except Exception as exc:
            raise user_error(exc, api=True) from None

    def list_articles(self, source: str = "") -> list[dict]:
        """All stored articles (optionally of one outlet): id, title, source, url, published,
        author, chunks..."""
        try:
            return to_jsonable(self.service.list_articles(source=source or None))
        except Exception as exc:
            raise user_error(exc, api=True) from None

    def delete(self, article_ids: list[str]) -> dict:
        """Delete articles by id; returns ``{"deleted": n}``."""
        try:
            return {"deleted": int(self.service.delete(list(article_ids or [])))}
        except Exception as exc:
            raise user_error(exc, api=True) from None


def _as_json(updates: Iterator[Update]) -> Iterator[dict]:
    """A summary's or digest's updates as the API streams them: the text each time it grows,
    then the result (or what was written before a stop) with ``"done": True``."""
    try:
        for update in updates:
            if update.result is not None:
                yield {**to_jsonable(update.result), "done": True}
            elif update.stopped:
                yield {"text": update.text, "done": True, "stopped": True}
            elif update.grew:
                yield {"text": update.text, "done": False}
    except Exception as exc:
        raise user_error(exc, api=True) from None
