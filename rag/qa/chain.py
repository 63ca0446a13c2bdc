"""Grounded question answering: condense -> retrieve -> answer from numbered sources -> parse.

The chain (LCEL) takes ``{"question", "history", "filters"}`` and returns an :class:`Answer`
with the answer text, its citations (the chunks behind each ``[n]``), the standalone
question, abstention, flags, timings and prompt tokens.

Abstention uses three signals: no retrieved chunk is similar enough to the question
(``settings.abstain_min_similarity``), or the question names someone or something that no
retrieved source mentions (:mod:`rag.qa.coverage`) -- in both cases the LLM is not called --
or the model replies with :data:`ABSTAIN_MESSAGE` as the prompt tells it to. Article text
reaches the model inside ``<source>`` tags, declared as data and never instructions.

Each step is written once, for sync and async use alike (:mod:`rag.qa.calls`): the turn
(:mod:`rag.qa.turn`), the prompts (:mod:`rag.qa.prompting`), the sources
(:mod:`rag.qa.passages`), the reply's reading (:mod:`rag.qa.reading`) and the refusal
(:mod:`rag.qa.abstention`) live in their own modules.

Example (needs the models):
    >>> qa = QAService(retriever, llm, settings)  # doctest: +SKIP
    >>> answer = qa.ask("What did Hegseth rule out?")  # doctest: +SKIP
    >>> answer.answer, [c.title for c in answer.citations]  # doctest: +SKIP
    >>> for piece in qa.stream("And what about troops?", history=[(q, a)]):  # doctest: +SKIP
    ...     print(piece if isinstance(piece, str) else "", end="")
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import aclosing
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from rag.qa.abstention import should_abstain
from rag.qa.answer import (
    ABSTAIN_MESSAGE,
    Answer,
    Citation,
    Done,
    PassagesFound,
    QAEvent,
    Stage,
    StreamPieces,
    Token,
)
from rag.qa.calls import Call, Result, Step, adrive, drive, step_runnable
from rag.qa.citations import Flag
from rag.qa.evidence import select_evidence
from rag.qa.history import History, clean_condensed, usable_rewrite
from rag.qa.parts import answer_in_parts, parts_to_answer
from rag.qa.passages import (
    article_citations,
    citation,
    format_passages,
    passage_text,
    removal_flags,
    shown_passage,
    with_context,
)
from rag.qa.prompting import QAPrompts, reader_model
from rag.qa.reading import finish_answer
from rag.qa.turn import StreamCollector, Turn, begin_turn, message_text, turn_from_inputs
from rag.retrieval.hybrid import SearchFilters
from rag.settings import Settings

__all__ = [
    "ABSTAIN_MESSAGE",
    "Answer",
    "Citation",
    "Done",
    "Flag",
    "PassagesFound",
    "QAEvent",
    "QAService",
    "Stage",
    "Token",
    "build_qa_chain",
    "format_passages",
]

logger = logging.getLogger(__name__)


class QAService:
    """Answer questions from the article store with citations (sync, streaming, async).

    Example (a canned reply stands in for the chat model; the answer needs real vectors):
        >>> from langchain_core.language_models import FakeListChatModel
        >>> qa = QAService(retriever, FakeListChatModel(responses=["Yes [1]."]), settings)
        >>> qa.ask("Did Hegseth rule out NATO membership?").answer  # doctest: +SKIP
    """

    def __init__(
        self,
        retriever: BaseRetriever,
        llm: BaseChatModel,
        settings: Settings,
        embeddings: Embeddings | None = None,
    ) -> None:
        self.retriever = retriever
        self.llm = llm
        self.settings = settings
        self.embeddings = embeddings  # scores evidence sentences; None: term overlap only
        self.prompts = QAPrompts(settings)
        self._chain: Runnable | None = None

    @property
    def evidence_mode(self) -> bool:
        """True when the model reads selected sentences rather than whole chunks
        (``RAG_QA_MODE`` ``excerpts`` or ``evidence``)."""
        return self.settings.qa_mode in ("evidence", "excerpts")

    # --- public API ------------------------------------------------------------------
    @property
    def prompt_versions(self) -> str:
        """The names and versions of the prompts behind an answer (part of cache keys).

        Example:
            >>> qa.prompt_versions
            'qa_excerpts:v1,qa_condense:v2'
        """
        return self.prompts.versions

    @property
    def chain(self) -> Runnable:
        """The LCEL chain: ``{"question", "history", "filters"}`` -> :class:`Answer`.

        Example (needs the models):
            >>> qa.chain.invoke({"question": "Who won?"}).answer  # doctest: +SKIP
        """
        if self._chain is None:
            self._chain = (
                RunnableLambda(turn_from_inputs, name="prepare")
                | step_runnable(self._condense, name="condense")
                | step_runnable(self._retrieve, name="retrieve")
                | step_runnable(self._generate, name="answer")
            ).with_config(run_name="news_rag_qa")
        return self._chain

    def ask(
        self, question: str, *, history: History | None = None, filters: SearchFilters | None = None
    ) -> Answer:
        """Answer ``question`` (a follow-up when ``history`` is given) with citations.

        Example (needs the models):
            >>> qa.ask("What did Hegseth rule out?").citations[0].title  # doctest: +SKIP
            'Vance and Zelenskyy meet in Munich as Washington redraws its Ukraine policy'
        """
        return self.chain.invoke({"question": question, "history": history, "filters": filters})

    async def aask(
        self, question: str, *, history: History | None = None, filters: SearchFilters | None = None
    ) -> Answer:
        """Async :meth:`ask`."""
        payload = {"question": question, "history": history, "filters": filters}
        return await self.chain.ainvoke(payload)

    def stream(
        self, question: str, *, history: History | None = None, filters: SearchFilters | None = None
    ) -> Iterator[str | Answer]:
        """Yield answer text pieces as the model generates them, then the final :class:`Answer`.

        Example (needs the models):
            >>> for piece in qa.stream("Who met in Munich?"):  # doctest: +SKIP
            ...     print(piece if isinstance(piece, str) else piece.citations)
        """
        pieces = StreamPieces()
        for event in self.stream_events(question, history=history, filters=filters):
            yield from pieces.of(event)

    async def astream(
        self, question: str, *, history: History | None = None, filters: SearchFilters | None = None
    ) -> AsyncIterator[str | Answer]:
        """Async :meth:`stream`: text pieces as generated, then the final :class:`Answer`.

        Example (needs the models):
            >>> async for piece in qa.astream("Who met in Munich?"):  # doctest: +SKIP
            ...     pass
        """
        pieces = StreamPieces()
        async for event in self.astream_events(question, history=history, filters=filters):
            for piece in pieces.of(event):
                yield piece

    def stream_events(
        self, question: str, *, history: History | None = None, filters: SearchFilters | None = None
    ) -> Iterator[QAEvent]:
        """Yield :class:`Stage`, :class:`PassagesFound` (before any token), :class:`Token`s, then
        :class:`Done`. Closing the iterator early closes the model's stream (the server stops).

        Example (needs the models):
            >>> for event in qa.stream_events("Who met in Munich?"):  # doctest: +SKIP
            ...     if isinstance(event, PassagesFound):
            ...         print([s.title for s in event.passages])
        """
        turn = begin_turn(question, history, filters)
        for item in drive(self._answer(turn, stream=True)):
            yield Done(item.value) if isinstance(item, Result) else item

    async def astream_events(
        self, question: str, *, history: History | None = None, filters: SearchFilters | None = None
    ) -> AsyncIterator[QAEvent]:
        """Async :meth:`stream_events`.

        Example (needs the models):
            >>> async for event in qa.astream_events("Who met in Munich?"):  # doctest: +SKIP
            ...     pass
        """
        turn = begin_turn(question, history, filters)
        async with aclosing(adrive(self._answer(turn, stream=True))) as items:
            async for item in items:
                yield Done(item.value) if isinstance(item, Result) else item

    def prompt_messages(self, question: str, documents: Sequence[Document]) -> list[BaseMessage]:
        """The exact answer prompt for ``question`` over ``documents`` (for inspection/tests).

        Example:
            >>> docs = [Document(page_content="Ana Ruiz won.", metadata={"title": "Vote"})]
            >>> print(qa.prompt_messages("Who won?", docs)[-1].content)
            <source id="1">
            [1] Vote
            Ana Ruiz won.
            </source>
            <BLANKLINE>
            Question: Who won?
        """
        return self.prompts.passages_messages(question, format_passages(documents))

    def warm_prompt_messages(self) -> list[BaseMessage]:
        """The fixed head of the answer prompt (system text and worked examples), the same
        for every question: sending it once at start puts it in the server's prompt cache.

        Example:
            >>> [m.type for m in qa.warm_prompt_messages()]
            ['system']
        """
        return self.prompts.warm_messages()

    # --- steps: each yields the calls it needs (rag.qa.calls) ----------------------------
    def _answer(self, turn: Turn, stream: bool) -> Step[Answer]:
        """The whole question: condense, retrieve, generate."""
        yield from self._condense(turn)
        yield from self._retrieve(turn)
        return (yield from self._generate(turn, stream))

    def _condense(self, turn: Turn) -> Step[Turn]:
        """A follow-up rewritten by the model to stand alone (a first question as it is)."""
        if not turn.history:
            turn.standalone = turn.question
            return turn
        yield Stage("condensing", "Reading the conversation")
        start = time.perf_counter()
        message = yield Call(self.llm, self.prompts.condense_messages(turn))
        rewrite = clean_condensed(message_text(message), turn.question)
        turn.standalone = usable_rewrite(rewrite, turn.question, turn.history)
        turn.timings["condense"] = time.perf_counter() - start
        turn.add_usage(message)
        logger.debug("condensed %r -> %r", turn.question, turn.standalone)
        return turn

    def _retrieve(self, turn: Turn) -> Step[Turn]:
        """The chunks for the standalone question, as sources (and evidence when configured)."""
        yield Stage("retrieving", "Searching the articles")
        start = time.perf_counter()
        kwargs = self._retrieval_kwargs(turn)
        docs = yield Call(self.retriever, turn.standalone, kwargs, model=False)
        turn.documents = list(docs)
        turn.passages = [citation(n, d) for n, d in enumerate(turn.documents, start=1)]
        turn.timings["retrieve"] = time.perf_counter() - start
        turn.shown = [shown_passage(n, d) for n, d in enumerate(turn.documents, start=1)]
        if self.evidence_mode:
            self._select_evidence(turn)
        turn.notices.extend(removal_flags(turn.shown))
        yield PassagesFound(list(turn.passages))
        return turn

    def _retrieval_kwargs(self, turn: Turn) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if turn.filters and not turn.filters.is_empty:
            kwargs["filters"] = turn.filters
        if self.evidence_mode and hasattr(self.retriever, "search"):
            # more, and more per article, than whole passages: only sentences reach the model
            kwargs["k"] = self.settings.qa_candidates
            kwargs["per_article"] = self.settings.qa_candidates_per_article
        return kwargs

    def _select_evidence(self, turn: Turn) -> None:
        """Number the best sentences of the (cleaned) chunks; sources become their articles."""
        start = time.perf_counter()
        embed = self.embeddings.embed_documents if self.embeddings is not None else None
        turn.evidence = select_evidence(
            turn.standalone,
            with_context(turn.documents, getattr(self.retriever, "store", None)),
            embed=embed,
            budget_tokens=self.settings.qa_evidence_tokens,
            clean=lambda sentence: passage_text(sentence)[0],
        )
        turn.numbered = self.settings.qa_mode == "evidence"
        turn.passages = article_citations(turn.evidence, [])
        turn.timings["select"] = time.perf_counter() - start

    def _generate(self, turn: Turn, stream: bool = False) -> Step[Answer]:
        """The answer: the refusal when retrieval found nothing fit, else the model's reply
        read into text, citations and flags; a compound question part by part."""
        parts = parts_to_answer(turn, self.settings)
        if len(parts) > 1:
            return (
                yield from answer_in_parts(
                    turn, parts, answer=self._generate_one, condense=self._condense, stream=stream
                )
            )
        return (yield from self._generate_one(turn, stream))

    def _generate_one(self, turn: Turn, stream: bool) -> Step[Answer]:
        """One reply to the turn's question, read; the refusal without one when retrieval
        found nothing fit."""
        if should_abstain(turn, self.settings):
            return finish_answer(turn, ABSTAIN_MESSAGE, self.settings)
        yield Stage("reading", turn.reading_detail())
        text = yield from self._reply(turn, stream)
        return finish_answer(turn, text, self.settings)

    def _reply(self, turn: Turn, stream: bool) -> Step[str]:
        """The model's reply to the turn's prompt (streamed into tokens when ``stream``)."""
        collector = StreamCollector(turn) if stream else None  # its clock starts now
        start = time.perf_counter()
        model = reader_model(self.llm, turn, self.settings)
        message = yield Call(model, self.prompts.reader_messages(turn), collector=collector)
        if collector is not None:
            return message  # the collector has kept the timing, usage and logprobs
        turn.timings["generate"] = time.perf_counter() - start
        turn.add_usage(message)
        turn.add_logprobs(message)
        return message_text(message)


def build_qa_chain(retriever: BaseRetriever, llm: BaseChatModel, settings: Settings) -> Runnable:
    """The LCEL answer chain: ``{"question", "history", "filters"}`` -> :class:`Answer`.

    Compose it in your own pipelines like any runnable.

    Example:
        >>> chain = build_qa_chain(retriever, llm, settings)  # doctest: +SKIP
        >>> chain.invoke({"question": "What did Hegseth rule out?"}).answer  # doctest: +SKIP
    """
    return QAService(retriever, llm, settings).chain
