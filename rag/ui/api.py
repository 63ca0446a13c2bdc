"""The JSON API for ``gradio_client``: the same actions as the page, JSON in and JSON out.

Endpoints (stable names): ``/ask``, ``/summarize``, ``/digest`` (streamed), ``/stop``,
``/ingest``, ``/ingest_text``, ``/list_articles`` and ``/delete``. Streams are stoppable
runs of the caller's session: ``/stop`` ends them, and they end with what was written so
far and ``"stopped": True``. Every endpoint runs the page's own core of its action (answers:
:func:`rag.ui.answering.follow_answer`; summaries and digests:
:class:`rag.ui.generation.Generations`; the Library: :class:`rag.ui.handlers.Handlers`'
``add_locations``, ``add_text``, ``stored_articles`` and ``delete_articles``); this module
only shapes their results as JSON and their errors as API errors. :func:`register` adds the
endpoints to the app.

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

from rag.ui.answering import AnswerUpdate, follow_answer
from rag.ui.format import answer_to_dict, to_jsonable
from rag.ui.generation import Update
from rag.ui.handlers import Handlers
from rag.ui.handlers.feedback import user_error
from rag.ui.handlers.summaries import digest_request
from rag.ui.runs import Runs
from rag.ui.wiring import Limits, session_of, with_gradio_args

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
        outlets: list[str] | None = None,
        since: str = "",
        until: str = "",
        session: str | None = None,
    ) -> Iterator[dict]:
        """Answer a question from the articles. Streams ``{"answer": partial, "done": False}``
        updates (the first one with the ``"sources"`` being read, before any word), and ends
        with the full answer, its citations and ``"done": True``."""
        if not (question or "").strip():
            raise user_error(ValueError("question is empty"), api=True)
        try:
            pairs = [(str(p[0]), str(p[1])) for p in (history or []) if len(p) == 2]
            run = self.runs.start("answer", session)
            if run is None:  # only a request with a time is refused by an earlier Stop
                return
            label = "question (API)"
            updates = follow_answer(
                self.service, run, question.strip(), pairs, outlets, since, until, label=label
            )
            with contextlib.closing(updates):
                yield from _answer_json(updates)
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
        outlet: str = "",
        since: str = "",
        until: str = "",
        limit: int = 5,
        session: str | None = None,
    ) -> Iterator[dict]:
        """A digest across articles chosen by topic, outlet and/or date range, with ``[n]``
        markers; streams ``{"text": partial, "done": False}``, ends with ``"done": True``."""
        try:
            request = digest_request(topic, outlet, since, until, limit)
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
            added = self.handlers.add_locations(files, urls)
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
            return to_jsonable(self.handlers.add_text(text, title, source, url, published))
        except Exception as exc:
            raise user_error(exc, api=True) from None

    def list_articles(self, source: str = "") -> list[dict]:
        """All stored articles (optionally of one outlet, ``source``): id, title, outlet (also
        as ``source``), url, published, author, chunks..."""
        try:
            return to_jsonable(self.handlers.stored_articles(source))
        except Exception as exc:
            raise user_error(exc, api=True) from None

    def delete(self, article_ids: list[str]) -> dict:
        """Delete articles by id; returns ``{"deleted": n}``."""
        try:
            return {"deleted": self.handlers.delete_articles(article_ids or [])}
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


def register(gr: Any, api: Api, limits: Limits) -> None:
    """Add the JSON API for ``gradio_client`` to the app being built: stable names, the same
    queue limits as the page.

    Example (inside ``gr.Blocks``, with Gradio loaded):
        >>> register(gr, Api(service, Runs()), limits)  # doctest: +SKIP
    """

    def ask(
        question: str,
        history: list[list[str]] | None = None,
        sources: list[str] | None = None,
        since: str = "",
        until: str = "",
        request=None,  # type: ignore[no-untyped-def]
    ) -> Iterator[dict]:
        """Answer a question from the articles (``sources``: the outlets to search, under the
        endpoint's documented name); streams ``{"answer": partial, "done": False}``
        (the first update lists the ``sources`` being read), ends with the answer, its
        citations and ``"done": True`` (``"stopped": True`` after ``/stop``)."""
        yield from api.ask(question, history, sources, since, until, session_of(request))

    def summarize(article_id: str, style: str = "brief", request=None) -> Iterator[dict]:  # type: ignore[no-untyped-def]
        """Summarize one article (``style``: brief, bullets, headline or quotes); streams
        ``{"text": partial, "done": False}`` and ends with the summary and ``"done": True``."""
        yield from api.summarize(article_id, style, session_of(request))

    def digest(
        topic: str = "",
        source: str = "",
        since: str = "",
        until: str = "",
        limit: int = 5,
        request=None,  # type: ignore[no-untyped-def]
    ) -> Iterator[dict]:
        """A digest across articles chosen by topic, outlet and/or date range, with ``[n]``
        markers; streams ``{"text": partial, "done": False}``, ends with ``"done": True``."""
        yield from api.digest(topic, source, since, until, limit, session_of(request))

    def stop(request=None) -> dict:  # type: ignore[no-untyped-def]
        """Stop this client's running /ask, /summarize and /digest; ``{"stopped": n}``."""
        return api.stop(session_of(request))

    for name, fn in (("ask", ask), ("summarize", summarize), ("digest", digest)):
        gr.api(with_gradio_args(gr, fn, request="Request"), api_name=name, **limits.generation)
    gr.api(with_gradio_args(gr, stop, request="Request"), api_name="stop", queue=False)
    gr.api(api.ingest_text, api_name="ingest_text", **limits.write)
    gr.api(api.list_articles, api_name="list_articles", **limits.free)
    gr.api(api.delete, api_name="delete", **limits.write)
    # /ingest takes uploaded files, so it uses real (hidden) file components: Gradio then
    # accepts only files uploaded through it, never arbitrary server paths.
    files = gr.File(file_count="multiple", visible=False, label="files")
    urls = gr.Textbox(visible=False, label="urls")
    report = gr.JSON(visible=False, label="report")
    trigger = gr.Button(visible=False)
    trigger.click(api.ingest, [files, urls], report, api_name="ingest", **limits.write)


def _answer_json(updates: Iterator[AnswerUpdate]) -> Iterator[dict]:
    """An answer's updates as ``/ask`` streams them: the passages once found (as ``sources``),
    the answer each time it grows, then the answer with its citations (or what was written
    before a stop) with ``"done": True``."""
    found: list[dict] = []
    for update in updates:
        if update.event == "passages":
            found = answer_to_dict({"passages": update.passages})["sources"]
            yield {"answer": update.text, "sources": found, "done": False}
        elif update.event == "token":
            yield {"answer": update.text, "done": False}
        elif update.event == "stopped":
            yield {"answer": update.text, "sources": found, "done": True, "stopped": True}
        elif update.event == "done":
            yield {**answer_to_dict(update.result), "done": True}
