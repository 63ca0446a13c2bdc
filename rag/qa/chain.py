"""Grounded question answering: condense -> retrieve -> answer from numbered sources -> parse.

The chain (LCEL) takes ``{"question", "history", "filters"}`` and returns an :class:`Answer`
with the answer text, its citations (the chunks behind each ``[n]``), the standalone
question, abstention, flags, timings and prompt tokens.

Abstention uses three signals: no retrieved chunk is similar enough to the question
(``settings.abstain_min_similarity``), or the question names someone or something that no
retrieved source mentions (:mod:`rag.qa.coverage`) -- in both cases the LLM is not called --
or the model replies with :data:`ABSTAIN_MESSAGE` as the prompt tells it to. Article text
reaches the model inside ``<source>`` tags, declared as data and never instructions.

Example (needs the models):
    >>> qa = QAService(retriever, llm, settings)  # doctest: +SKIP
    >>> answer = qa.ask("What did Hegseth rule out?")  # doctest: +SKIP
    >>> answer.answer, [c.title for c in answer.citations]  # doctest: +SKIP
    >>> for piece in qa.stream("And what about troops?", history=[(q, a)]):  # doctest: +SKIP
    ...     print(piece if isinstance(piece, str) else "", end="")
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, BaseMessageChunk
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from pydantic import BaseModel, Field

from rag.errors import RagError
from rag.ingest.chunking import chunk_id
from rag.models.llm_errors import translate_llm_errors
from rag.prompts import Prompt, load_prompt
from rag.qa.answer_format import (
    NOT_FOUND,
    AnswerStream,
    PlainAnswerStream,
    first_token_probability,
    no_evidence_probability,
    parse_reply,
    reply_schema,
    says_not_found,
)
from rag.qa.citations import (
    Flag,
    drop_unsourced_links,
    infer_citations,
    is_abstention,
    parse_citations,
    strip_citations,
    strip_instructions,
)
from rag.qa.coverage import missing_names
from rag.qa.evidence import Evidence, EvidenceSentence, select_evidence
from rag.retrieval.hybrid import SearchFilters
from rag.retrieval.lexical import bm25_tokenize
from rag.settings import Settings
from rag.text import sentence_spans

__all__ = [
    "ABSTAIN_MESSAGE",
    "Answer",
    "Citation",
    "Done",
    "Flag",
    "QAEvent",
    "QAService",
    "SourcesFound",
    "Stage",
    "Token",
    "build_qa_chain",
    "format_sources",
]

logger = logging.getLogger(__name__)

ABSTAIN_MESSAGE = "The articles don't say."
"""The one fixed reply when the articles do not contain the answer."""

MAX_QUESTION_CHARS = 2000
HISTORY_TURNS = 3
HISTORY_ANSWER_CHARS = 300
REATTRIBUTE_BELOW = 0.5  # answer support of the named sentences under which others are tried
MAX_REATTRIBUTED = 3

History = Sequence[tuple[str, str]] | Sequence[Mapping[str, Any]]


class Citation(BaseModel):
    """One numbered source: the chunk the model saw as ``[number]`` and its article.

    Example:
        >>> Citation(number=1, article_id="a1", title="T", text="chunk").number
        1
    """

    number: int
    article_id: str
    title: str = ""
    source: str = Field("", description="Outlet name ('' if unknown).")
    url: str = ""
    published: str = Field("", description="YYYY-MM-DD ('' if unknown).")
    text: str = Field(description="The chunk text given to the model.")
    start: int | None = Field(None, description="Offset of the chunk in the article text.")
    end: int | None = None
    chunk_index: int | None = None
    score: float | None = Field(None, description="Fused retrieval score (RRF).")
    similarity: float | None = Field(None, description="Cosine similarity to the question.")
    quote: str = Field(
        "", description="The sentence(s) of ``text`` the answer is taken from ('' if uncited)."
    )


class Answer(BaseModel):
    """A grounded answer with its citations.

    ``answer`` contains inline ``[n]`` markers; each matches one entry of ``citations``
    (same ``number``). ``sources`` lists every chunk shown to the model.

    Example:
        >>> Answer(question="q", answer=ABSTAIN_MESSAGE, standalone_question="q",
        ...        abstained=True).citations
        []
    """

    question: str
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    sources: list[Citation] = Field(default_factory=list)
    standalone_question: str
    abstained: bool = False
    abstain_reason: str | None = Field(
        None,
        description="'no_sources', 'low_similarity', 'missing_name', 'model' (the model named "
        "no evidence) or 'unsure' (it named some, but its own chance of none was high).",
    )
    flags: list[Flag] = Field(default_factory=list)
    timings: dict[str, float] = Field(
        default_factory=dict,
        description="Seconds: condense, retrieve, generate, first_token, total.",
    )
    prompt_tokens: int | None = Field(None, description="Prompt tokens of all LLM calls.")
    completion_tokens: int | None = None
    cached: bool = Field(False, description="Served from the answer cache (no LLM call).")
    abstain_note: str | None = Field(
        None, description="When abstained: what the closest article covers, for the reader."
    )
    signals: dict[str, float] = Field(
        default_factory=dict,
        description="Diagnostics of the evidence step (best sentence scores, answer support).",
    )


@dataclass(frozen=True)
class Stage:
    """A step of answering has begun (``condensing``, ``retrieving``, ``reading``).

    Example:
        >>> Stage("reading", "Reading 5 sentences from 2 articles").name
        'reading'
    """

    name: str
    detail: str = ""


@dataclass(frozen=True)
class SourcesFound:
    """The passages the model is about to read, known before it writes a word.

    Example:
        >>> SourcesFound(sources=[]).sources
        []
    """

    sources: list[Citation]


@dataclass(frozen=True)
class Token:
    """A piece of answer text as the model writes it.

    Example:
        >>> Token("Ana").text
        'Ana'
    """

    text: str


@dataclass(frozen=True)
class Done:
    """The final, structured answer (always the last event).

    Example:
        >>> Done(Answer(question="q", answer="a", standalone_question="q")).answer.answer
        'a'
    """

    answer: Answer


QAEvent = Stage | SourcesFound | Token | Done
"""What :meth:`QAService.stream_events` yields."""


class _ShownSource(NamedTuple):
    """One source as the model sees it: header line, cleaned text, pieces removed."""

    line: str
    text: str
    removed: int


@dataclass
class _Turn:
    """State of one question while it moves through the steps."""

    question: str
    history: list[tuple[str, str]]
    filters: SearchFilters | None
    started: float = field(default_factory=time.perf_counter)
    standalone: str = ""
    documents: list[Document] = field(default_factory=list)
    sources: list[Citation] = field(default_factory=list)
    shown: list[_ShownSource] = field(default_factory=list)
    abstain_reason: str | None = None
    notices: list[Flag] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    evidence: Evidence | None = None
    numbered: bool = False  # the evidence is numbered and the reply is JSON naming numbers
    signals: dict[str, float] = field(default_factory=dict)

    def add_logprobs(self, message: BaseMessage | None) -> None:
        """Keep the model's own chance of finding nothing that answers (when the endpoint
        reports logprobs): an empty evidence list, or a plain reply of the not-found word."""
        metadata = getattr(message, "response_metadata", None) or {}
        logprobs = metadata.get("logprobs")
        if self.numbered:
            p = no_evidence_probability(logprobs)
        else:
            p = first_token_probability(logprobs, NOT_FOUND.rstrip("."))
        if p is not None:
            self.signals["p_no_evidence"] = round(p, 6)

    def add_usage(self, message: BaseMessage | None) -> None:
        usage = getattr(message, "usage_metadata", None) if message is not None else None
        if not usage:
            return
        self.prompt_tokens = (self.prompt_tokens or 0) + int(usage.get("input_tokens", 0))
        self.completion_tokens = (self.completion_tokens or 0) + int(usage.get("output_tokens", 0))


def format_sources(documents: Sequence[Document]) -> str:
    """The numbered source blocks given to the model (article text delimited as data).

    Instruction-like sentences inside articles are replaced by ``[removed]``
    (:func:`rag.qa.citations.strip_instructions`).

    Example:
        >>> doc = Document(page_content="Text.", metadata={"title": "T", "source": "Wire",
        ...                "published": "2025-02-12"})
        >>> print(format_sources([doc]))
        <source id="1">
        [1] T — Wire, 2025-02-12
        Text.
        </source>
    """
    return _source_blocks([_source_parts(n, doc) for n, doc in enumerate(documents, start=1)])


def _source_blocks(shown: Sequence[_ShownSource]) -> str:
    return "\n".join(
        f'<source id="{number}">\n{source.line}\n{source.text}\n</source>'
        for number, source in enumerate(shown, start=1)
    )


def _source_text(text: str) -> tuple[str, int]:
    """Chunk text as shown to the model: one line, no source tags, no instruction-like text."""
    text = re.sub(r"</?\s*source\b[^>]*>", " ", " ".join(text.split()), flags=re.IGNORECASE)
    return strip_instructions(text)


def _source_parts(number: int, doc: Document) -> _ShownSource:
    """The header line and text of one source block, and how many pieces were removed.

    Titles and outlets come from the article too: they get the same treatment as its text.
    """
    meta = doc.metadata
    header = ", ".join(
        part for part in (meta.get("source") or "", meta.get("published") or "") if part
    )
    title, removed_title = _source_text(str(meta.get("title") or "Untitled"))
    header, removed_header = _source_text(header)
    line = f"[{number}] {title}" + (f" — {header}" if header else "")
    text, removed = _source_text(doc.page_content)
    return _ShownSource(line, text, removed + removed_title + removed_header)


def _citation(number: int, doc: Document) -> Citation:
    meta = doc.metadata

    def _int(name: str) -> int | None:
        value = meta.get(name)
        return int(value) if value is not None else None

    return Citation(
        number=number,
        article_id=str(meta.get("article_id", "")),
        title=str(meta.get("title") or ""),
        source=str(meta.get("source") or ""),
        url=str(meta.get("url") or ""),
        published=str(meta.get("published") or ""),
        text=doc.page_content,
        start=_int("start"),
        end=_int("end"),
        chunk_index=_int("chunk_index"),
        score=meta.get("rrf_score"),
        similarity=meta.get("dense_similarity"),
    )


def _normalize_history(history: History | None) -> list[tuple[str, str]]:
    """Accept ``(user, assistant)`` pairs or ``{"role", "content"}`` messages."""
    if not history:
        return []
    pairs: list[tuple[str, str]] = []
    pending_user: str | None = None
    for item in history:
        if isinstance(item, Mapping):
            role, content = item.get("role"), str(item.get("content") or "")
            if role == "user":
                pending_user = content
            elif role == "assistant" and pending_user is not None:
                pairs.append((pending_user, content))
                pending_user = None
        else:
            user, assistant = item
            pairs.append((str(user), str(assistant or "")))
    return [(u, a) for u, a in pairs if u.strip()]


def _history_text(history: list[tuple[str, str]]) -> str:
    lines = []
    for user, assistant in history[-HISTORY_TURNS:]:
        reply = " ".join(re.sub(r"\s*\[\d+\]", "", assistant).split())
        if len(reply) > HISTORY_ANSWER_CHARS:
            reply = reply[:HISTORY_ANSWER_CHARS].rsplit(" ", 1)[0] + " ..."
        lines.append(f"User: {' '.join(user.split())}\nAssistant: {reply}")
    return "\n".join(lines)


def _clean_condensed(text: str, fallback: str) -> str:
    """First line of the model's rewrite, without labels or quotes; fallback if unusable."""
    for line in text.strip().splitlines():
        line = re.sub(r"^\s*(standalone\s+)?(question|follow-?up)\s*:\s*", "", line, flags=re.I)
        line = line.strip().strip("\"'“”`").strip()
        if line:
            if len(line) > 3 * len(fallback) + 200:
                break
            return line
    return fallback


_REFERRING = re.compile(
    r"\b(he|she|they|it|him|her|them|his|hers|its|their|there|that|this|those|these)\b", re.I
)


def _usable_rewrite(rewrite: str, question: str, history: list[tuple[str, str]]) -> str:
    """The rewrite if it is a question that stands alone; otherwise the previous question
    and the follow-up together (a small model sometimes answers instead of rewriting, or
    leaves "she" and "there" unresolved).

    Example:
        >>> _usable_rewrite("Ana Ruiz beat Lee.", "Who did she defeat?", [("Who won?", "Ruiz")])
        'Who won? Who did she defeat?'
        >>> _usable_rewrite("Who did Ruiz defeat?", "Who did she defeat?", [("Who won?", "R")])
        'Who did Ruiz defeat?'
    """
    if not history:
        return rewrite
    unchanged = " ".join(rewrite.lower().split()) == " ".join(question.lower().split())
    if rewrite.rstrip().endswith("?") and not (unchanged and _REFERRING.search(question)):
        return rewrite
    return f"{' '.join(history[-1][0].split())} {question}"


def _message_text(message: BaseMessage | BaseMessageChunk) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(
        part if isinstance(part, str) else str(part.get("text", ""))
        for part in content
        if isinstance(part, str) or part.get("type") == "text"
    )


class _StreamCollector:
    """Gathers streamed chunks of one answer: text, first-token time and token usage."""

    def __init__(self, turn: _Turn) -> None:
        self.turn = turn
        self.pieces: list[str] = []
        self.final: BaseMessageChunk | None = None
        self.start = time.perf_counter()
        # evidence replies are JSON: only the answer string is shown as it streams;
        # plain replies are shown unless they are the not-found word
        self.answer: AnswerStream | PlainAnswerStream | None = None
        if turn.numbered:
            self.answer = AnswerStream()
        elif turn.evidence is not None:
            self.answer = PlainAnswerStream()

    def take(self, chunk: BaseMessageChunk) -> str:
        """Record one chunk; return the answer text it adds ('' when it adds none)."""
        self.final = chunk if self.final is None else self.final + chunk
        raw = _message_text(chunk)
        if not raw:
            return ""
        self.pieces.append(raw)
        text = self.answer.feed(raw) if self.answer is not None else raw
        if text:
            self.turn.timings.setdefault("first_token", time.perf_counter() - self.turn.started)
        return text

    def close(self) -> str:
        """Stop the clock, record usage, and return the whole answer text."""
        self.turn.timings["generate"] = time.perf_counter() - self.start
        self.turn.add_usage(self.final)
        self.turn.add_logprobs(self.final)
        return "".join(self.pieces)


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
        self._answer_prompt = load_prompt("qa_answer")
        self._evidence_prompt = load_prompt("qa_evidence")
        self._excerpts_prompt = load_prompt("qa_excerpts")
        self._condense_prompt = load_prompt("qa_condense")
        self._chain: Runnable | None = None

    @property
    def evidence_mode(self) -> bool:
        """True when the model reads selected sentences rather than whole chunks
        (``RAG_QA_MODE`` ``excerpts`` or ``evidence``)."""
        return self.settings.qa_mode in ("evidence", "excerpts")

    @property
    def _reader_prompt(self) -> Prompt:
        return {"evidence": self._evidence_prompt, "excerpts": self._excerpts_prompt}.get(
            self.settings.qa_mode, self._answer_prompt
        )

    # --- public API ------------------------------------------------------------------
    @property
    def prompt_versions(self) -> str:
        """The names and versions of the prompts behind an answer (part of cache keys).

        Example:
            >>> qa.prompt_versions
            'qa_excerpts:v1,qa_condense:v2'
        """
        prompts = (self._reader_prompt, self._condense_prompt)
        return ",".join(f"{p.name}:v{p.version}" for p in prompts)

    @property
    def chain(self) -> Runnable:
        """The LCEL chain: ``{"question", "history", "filters"}`` -> :class:`Answer`.

        Example (needs the models):
            >>> qa.chain.invoke({"question": "Who won?"}).answer  # doctest: +SKIP
        """
        if self._chain is None:
            self._chain = (
                RunnableLambda(self._begin_step, name="prepare")
                | RunnableLambda(self._condense_step, afunc=self._acondense_step, name="condense")
                | RunnableLambda(self._retrieve_step, afunc=self._aretrieve_step, name="retrieve")
                | RunnableLambda(self._generate_step, afunc=self._agenerate_step, name="answer")
            ).with_config(run_name="news_rag_qa")
        return self._chain

    def ask(
        self,
        question: str,
        history: History | None = None,
        filters: SearchFilters | None = None,
    ) -> Answer:
        """Answer ``question`` (a follow-up when ``history`` is given) with citations.

        Example (needs the models):
            >>> qa.ask("What did Hegseth rule out?").citations[0].title  # doctest: +SKIP
            'Vance and Zelenskyy meet in Munich as Washington redraws its Ukraine policy'
        """
        return self.chain.invoke({"question": question, "history": history, "filters": filters})

    async def aask(
        self,
        question: str,
        history: History | None = None,
        filters: SearchFilters | None = None,
    ) -> Answer:
        """Async :meth:`ask`."""
        payload = {"question": question, "history": history, "filters": filters}
        return await self.chain.ainvoke(payload)

    def stream(
        self,
        question: str,
        history: History | None = None,
        filters: SearchFilters | None = None,
    ) -> Iterator[str | Answer]:
        """Yield answer text pieces as the model generates them, then the final :class:`Answer`.

        Example (needs the models):
            >>> for piece in qa.stream("Who met in Munich?"):  # doctest: +SKIP
            ...     print(piece if isinstance(piece, str) else piece.citations)
        """
        pieces = _Pieces()
        for event in self.stream_events(question, history, filters):
            yield from pieces.of(event)

    async def astream(
        self,
        question: str,
        history: History | None = None,
        filters: SearchFilters | None = None,
    ) -> AsyncIterator[str | Answer]:
        """Async :meth:`stream`: text pieces as generated, then the final :class:`Answer`.

        Example (needs the models):
            >>> async for piece in qa.astream("Who met in Munich?"):  # doctest: +SKIP
            ...     pass
        """
        pieces = _Pieces()
        async for event in self.astream_events(question, history, filters):
            for piece in pieces.of(event):
                yield piece

    def stream_events(
        self,
        question: str,
        history: History | None = None,
        filters: SearchFilters | None = None,
    ) -> Iterator[QAEvent]:
        """Yield :class:`Stage`, :class:`SourcesFound` (before any token), :class:`Token`s, then
        :class:`Done`. Closing the iterator early closes the model's stream (the server stops).

        Example (needs the models):
            >>> for event in qa.stream_events("Who met in Munich?"):  # doctest: +SKIP
            ...     if isinstance(event, SourcesFound):
            ...         print([s.title for s in event.sources])
        """
        turn = self._begin(question, history, filters)
        if turn.history:
            yield Stage("condensing", "Reading the conversation")
        self._condense(turn)
        yield Stage("retrieving", "Searching the articles")
        self._retrieve(turn)
        yield SourcesFound(list(turn.sources))
        if self._should_abstain(turn):
            yield Done(self._finish(turn, ABSTAIN_MESSAGE))
            return
        yield Stage("reading", self._reading_detail(turn))
        collector = _StreamCollector(turn)
        with translate_llm_errors():
            for chunk in self._answer_llm(turn).stream(self._messages(turn)):
                if text := collector.take(chunk):
                    yield Token(text)
        yield Done(self._finish(turn, collector.close()))

    async def astream_events(
        self,
        question: str,
        history: History | None = None,
        filters: SearchFilters | None = None,
    ) -> AsyncIterator[QAEvent]:
        """Async :meth:`stream_events`.

        Example (needs the models):
            >>> async for event in qa.astream_events("Who met in Munich?"):  # doctest: +SKIP
            ...     pass
        """
        turn = self._begin(question, history, filters)
        if turn.history:
            yield Stage("condensing", "Reading the conversation")
        await self._acondense(turn)
        yield Stage("retrieving", "Searching the articles")
        await self._aretrieve(turn)
        yield SourcesFound(list(turn.sources))
        if self._should_abstain(turn):
            yield Done(self._finish(turn, ABSTAIN_MESSAGE))
            return
        yield Stage("reading", self._reading_detail(turn))
        collector = _StreamCollector(turn)
        with translate_llm_errors():
            async for chunk in self._answer_llm(turn).astream(self._messages(turn)):
                if text := collector.take(chunk):
                    yield Token(text)
        yield Done(self._finish(turn, collector.close()))

    @staticmethod
    def _reading_detail(turn: _Turn) -> str:
        articles = len({s.article_id for s in turn.sources})
        if turn.evidence is not None:
            count, unit = len(turn.evidence.sentences), "sentences"
        else:
            count, unit = len(turn.sources), "passages"
        plural = "article" if articles == 1 else "articles"
        return f"Reading {count} {unit} from {articles} {plural}"

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
        return self._answer_messages(question, format_sources(documents))

    def _answer_messages(self, question: str, sources: str) -> list[BaseMessage]:
        return self._answer_prompt.messages(
            question=question, sources=sources, abstain=ABSTAIN_MESSAGE
        )

    # --- steps -----------------------------------------------------------------------
    def _begin(
        self, question: str, history: History | None, filters: SearchFilters | dict | None
    ) -> _Turn:
        question = " ".join((question or "").split())
        if not question:
            raise RagError(
                "The question is empty.", hint='ask something, e.g. "Who met in Munich?"'
            )
        if len(question) > MAX_QUESTION_CHARS:
            raise RagError(
                f"The question is too long ({len(question)} characters).",
                hint=f"keep it under {MAX_QUESTION_CHARS} characters",
            )
        if isinstance(filters, dict):
            filters = SearchFilters(**filters)
        return _Turn(question=question, history=_normalize_history(history), filters=filters)

    def _condense_messages(self, turn: _Turn) -> list[BaseMessage]:
        return self._condense_prompt.messages(
            history=_history_text(turn.history), question=turn.question
        )

    def _condense(self, turn: _Turn, config: RunnableConfig | None = None) -> None:
        if not turn.history:
            turn.standalone = turn.question
            return
        start = time.perf_counter()
        with translate_llm_errors():
            message = self.llm.invoke(self._condense_messages(turn), config=config)
        self._after_condense(turn, message, start)

    async def _acondense(self, turn: _Turn, config: RunnableConfig | None = None) -> None:
        if not turn.history:
            turn.standalone = turn.question
            return
        start = time.perf_counter()
        with translate_llm_errors():
            message = await self.llm.ainvoke(self._condense_messages(turn), config=config)
        self._after_condense(turn, message, start)

    def _after_condense(self, turn: _Turn, message: BaseMessage, start: float) -> None:
        rewrite = _clean_condensed(_message_text(message), turn.question)
        turn.standalone = _usable_rewrite(rewrite, turn.question, turn.history)
        turn.timings["condense"] = time.perf_counter() - start
        turn.add_usage(message)
        logger.debug("condensed %r -> %r", turn.question, turn.standalone)

    def _retrieval_kwargs(self, turn: _Turn) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if turn.filters and not turn.filters.is_empty:
            kwargs["filters"] = turn.filters
        if self.evidence_mode and hasattr(self.retriever, "search"):
            # more, and more per article, than whole passages: only sentences reach the model
            kwargs["k"] = self.settings.qa_candidates
            kwargs["per_article"] = self.settings.qa_candidates_per_article
        return kwargs

    def _retrieve(self, turn: _Turn, config: RunnableConfig | None = None) -> None:
        start = time.perf_counter()
        docs = self.retriever.invoke(turn.standalone, config, **self._retrieval_kwargs(turn))
        self._after_retrieve(turn, docs, start)

    async def _aretrieve(self, turn: _Turn, config: RunnableConfig | None = None) -> None:
        start = time.perf_counter()
        docs = await self.retriever.ainvoke(turn.standalone, config, **self._retrieval_kwargs(turn))
        self._after_retrieve(turn, docs, start)

    def _after_retrieve(self, turn: _Turn, docs: list[Document], start: float) -> None:
        turn.documents = list(docs)
        turn.sources = [_citation(n, d) for n, d in enumerate(turn.documents, start=1)]
        turn.timings["retrieve"] = time.perf_counter() - start
        turn.shown = [_source_parts(n, d) for n, d in enumerate(turn.documents, start=1)]
        if self.evidence_mode:
            self._select_evidence(turn)
        for number, source in enumerate(turn.shown, start=1):
            if source.removed:
                turn.notices.append(
                    Flag(
                        kind="suspicious_source",
                        message=f"source [{number}] contains instruction-like text; "
                        "it was not shown to the model",
                        number=number,
                    )
                )

    def _select_evidence(self, turn: _Turn) -> None:
        """Number the best sentences of the (cleaned) chunks; sources become their articles."""
        start = time.perf_counter()
        embed = self.embeddings.embed_documents if self.embeddings is not None else None
        turn.evidence = select_evidence(
            turn.standalone,
            self._with_lead_ins(turn.documents),
            embed=embed,
            budget_tokens=self.settings.qa_evidence_tokens,
            clean=lambda sentence: _source_text(sentence)[0],
        )
        turn.numbered = self.settings.qa_mode == "evidence"
        turn.sources = _passage_citations(turn.evidence, [])
        turn.timings["select"] = time.perf_counter() - start

    def _with_lead_ins(self, documents: list[Document]) -> list[Document]:
        """Also the chunk before each chunk that starts mid-sentence, so that its first
        sentence is whole (and says who or what it is about). Used for evidence only."""
        store = getattr(self.retriever, "store", None)
        if store is None or not hasattr(store, "get_chunks"):
            return documents
        have = {(d.metadata.get("article_id"), d.metadata.get("chunk_index")) for d in documents}
        wanted = []
        for doc in documents:
            meta = doc.metadata
            index, version = meta.get("chunk_index"), meta.get("version")
            if not index or version is None or not doc.page_content.lstrip()[:1].islower():
                continue
            if (meta.get("article_id"), index - 1) not in have:
                wanted.append(chunk_id(str(meta.get("article_id")), int(version), int(index) - 1))
        if not wanted:
            return documents
        try:
            return documents + store.get_chunks(wanted)
        except RagError as exc:  # context is a nicety: answer without it
            logger.warning("could not read neighbouring chunks: %s", exc)
            return documents

    def _should_abstain(self, turn: _Turn) -> bool:
        """Retrieval-score signal: no sources, or none similar enough (LLM not called)."""
        if not turn.documents:
            turn.abstain_reason = "no_sources"
            return True
        similarities = [
            float(s)
            for d in turn.documents
            if (s := d.metadata.get("dense_similarity")) is not None
        ]
        if similarities and max(similarities) < self.settings.abstain_min_similarity:
            logger.debug(
                "abstaining: best similarity %.3f < %.3f",
                max(similarities),
                self.settings.abstain_min_similarity,
            )
            turn.abstain_reason = "low_similarity"
            return True
        return self.settings.abstain_on_missing_names and self._names_missing(turn)

    @staticmethod
    def _names_missing(turn: _Turn) -> bool:
        """Name signal: the question names someone or something no source mentions."""
        texts = [d.page_content for d in turn.documents]
        texts += [str(d.metadata.get("title") or "") for d in turn.documents]
        missing = missing_names(turn.standalone, texts)
        if not missing:
            return False
        logger.debug("abstaining: no source mentions %s", missing)
        turn.abstain_reason = "missing_name"
        turn.notices.append(
            Flag(kind="missing_name", message=f"no source mentions {', '.join(missing)}")
        )
        return True

    def _messages(self, turn: _Turn) -> list[BaseMessage]:
        if turn.evidence is not None and turn.numbered:
            return self._evidence_prompt.messages(
                evidence=turn.evidence.render(), question=turn.standalone
            )
        if turn.evidence is not None:
            return self._excerpts_prompt.messages(
                excerpts=turn.evidence.render_excerpts(),
                question=turn.standalone,
                not_found=NOT_FOUND,
            )
        return self._answer_messages(turn.standalone, _source_blocks(turn.shown))

    def warm_prompt_messages(self) -> list[BaseMessage]:
        """The fixed head of the answer prompt (system text and worked examples), the same
        for every question: sending it once at start puts it in the server's prompt cache.

        Example:
            >>> [m.type for m in qa.warm_prompt_messages()]
            ['system']
        """
        if self.settings.qa_mode == "evidence":
            messages = self._evidence_prompt.messages(evidence="", question="")
        elif self.settings.qa_mode == "excerpts":
            empty = {"excerpts": "", "question": "", "not_found": NOT_FOUND}
            messages = self._excerpts_prompt.messages(**empty)
        else:
            messages = self._answer_messages("", "")
        return messages[:-1]

    def _answer_llm(self, turn: _Turn) -> Runnable:
        """The chat model, constrained to the evidence reply schema when configured."""
        if turn.evidence is not None and not turn.numbered:
            if self.settings.qa_abstain_probability >= 1:
                return self.llm
            # the first token's alternatives tell how likely the model was to say "Unknown"
            return self.llm.bind(logprobs=True, top_logprobs=5)
        if not turn.numbered or not self.settings.qa_constrained_output:
            return self.llm
        schema = reply_schema(turn.evidence.numbers)
        response_format = {
            "type": "json_schema",
            "json_schema": {"name": "grounded_answer", "schema": schema},
        }
        # the top alternatives of each token tell how sure the model is that evidence exists
        return self.llm.bind(response_format=response_format, logprobs=True, top_logprobs=5)

    def _finish(self, turn: _Turn, text: str) -> Answer:
        abstained = turn.abstain_reason is not None
        citations: list[Citation] = []
        flags: list[Flag] = []
        if not abstained:
            if turn.evidence is not None and turn.numbered:
                text, citations, flags = self._evidence_answer(turn, text)
            elif turn.evidence is not None:
                text, citations, flags = self._excerpt_answer(turn, text)
            else:
                text, citations, flags = self._passage_answer(turn, text)
            abstained = turn.abstain_reason is not None
        if abstained:
            text, citations, flags = ABSTAIN_MESSAGE, [], []
        flags.extend(turn.notices)
        turn.timings["total"] = time.perf_counter() - turn.started
        for flag in flags:
            logger.debug("answer flag: %s", flag.message)
        return Answer(
            question=turn.question,
            answer=text,
            citations=citations,
            sources=turn.sources,
            standalone_question=turn.standalone,
            abstained=abstained,
            abstain_reason=turn.abstain_reason,
            abstain_note=_closest_article_note(turn.sources) if abstained else None,
            flags=flags,
            timings={k: round(v, 4) for k, v in turn.timings.items()},
            prompt_tokens=turn.prompt_tokens,
            completion_tokens=turn.completion_tokens,
            signals=turn.signals,
        )

    def _evidence_answer(self, turn: _Turn, raw: str) -> tuple[str, list[Citation], list[Flag]]:
        """Citations from the sentences the model named, numbered 1, 2, ... by first use."""
        evidence = turn.evidence
        assert evidence is not None
        logger.debug("model reply: %s", raw)
        reply = parse_reply(raw, evidence.numbers)
        chosen = [s for n in reply.evidence if (s := evidence.by_number(n)) is not None]
        chosen = _supporting_sentences(evidence, chosen, reply.answer, turn.standalone)
        turn.signals.update(_evidence_signals(evidence, chosen, reply.answer, turn.standalone))
        if reply.empty or is_abstention(reply.answer, ABSTAIN_MESSAGE):
            turn.abstain_reason = "model"
            return ABSTAIN_MESSAGE, [], []
        text, cited, flags = self._cite(turn, evidence, chosen, reply.answer)
        if reply.invalid_numbers and turn.abstain_reason is None:
            flags.append(
                Flag(kind="invalid_citation", message="the reply named sentences it was not shown")
            )
        return text, cited, flags

    def _excerpt_answer(self, turn: _Turn, text: str) -> tuple[str, list[Citation], list[Flag]]:
        """Citations for a free-text answer: the shown sentences that hold its words."""
        evidence = turn.evidence
        assert evidence is not None
        answer = strip_citations(text).strip()
        if not answer or says_not_found(answer) or is_abstention(answer, ABSTAIN_MESSAGE):
            turn.abstain_reason = "model"
            return ABSTAIN_MESSAGE, [], []
        chosen = _covering_sentences(evidence.sentences, answer, turn.standalone)
        turn.signals.update(_evidence_signals(evidence, chosen, answer, turn.standalone))
        return self._cite(turn, evidence, chosen, answer)

    def _cite(
        self, turn: _Turn, evidence: Evidence, chosen: Sequence[EvidenceSentence], answer: str
    ) -> tuple[str, list[Citation], list[Flag]]:
        """The answer with ``[n]`` markers for the articles of ``chosen``, numbered by first
        use; the refusal instead when the calibrated signals doubt it."""
        if self._unsure(turn.signals):
            turn.abstain_reason = "unsure"
            return ABSTAIN_MESSAGE, [], []
        turn.sources = _passage_citations(evidence, chosen)
        cited = [c for c in turn.sources if c.quote]
        answer, flags = drop_unsourced_links(
            answer, {c.number: c.quote for c in cited}, [c.url for c in turn.sources]
        )
        flags += _unverified_quotes(answer, [s.text for s in chosen])
        return _with_markers(answer, chosen, evidence), cited, flags

    def _unsure(self, signals: Mapping[str, float]) -> bool:
        """The calibrated refusal: the model nearly named no evidence, or its answer's words
        are mostly not in the sentences it named (both thresholds fitted on held-out data)."""
        p_none = signals.get("p_no_evidence")
        if p_none is not None and p_none >= self.settings.qa_abstain_probability:
            logger.debug("abstaining: P(no evidence) %.3f", p_none)
            return True
        support = signals.get("answer_support", 1.0)
        if support < self.settings.qa_min_answer_support:
            logger.debug("abstaining: answer support %.2f", support)
            return True
        return False

    def _passage_answer(self, turn: _Turn, text: str) -> tuple[str, list[Citation], list[Flag]]:
        """Citations from the ``[n]`` markers the model wrote over whole passages."""
        if is_abstention(text, ABSTAIN_MESSAGE):
            turn.abstain_reason = "model"
            return ABSTAIN_MESSAGE, [], []
        texts = {c.number: c.text for c in turn.sources}
        parsed = parse_citations(text, texts)
        if not parsed.numbers:
            inferred = parse_citations(infer_citations(parsed.text, texts), texts)
            if inferred.numbers:
                parsed = inferred
                parsed.flags.append(
                    Flag(
                        kind="inferred_citation",
                        message="the model cited no source; citations were added by "
                        "matching each sentence to the source it repeats",
                    )
                )
        text, flags = parsed.text, parsed.flags
        # links: only those the model was shown (instruction-like text removed)
        shown = {n: source.text for n, source in enumerate(turn.shown, start=1)}
        text, link_flags = drop_unsourced_links(text, shown, [c.url for c in turn.sources])
        flags.extend(link_flags)
        by_number = {c.number: c for c in turn.sources}
        citations = [by_number[n] for n in parsed.numbers]
        if not citations:
            flags.append(Flag(kind="no_citation", message="the answer cites no source"))
        return text, citations, flags

    # --- LCEL step adapters --------------------------------------------------------------
    def _begin_step(self, inputs: Mapping[str, Any] | str) -> _Turn:
        if isinstance(inputs, str):
            inputs = {"question": inputs}
        return self._begin(inputs.get("question", ""), inputs.get("history"), inputs.get("filters"))

    def _condense_step(self, turn: _Turn, config: RunnableConfig) -> _Turn:
        self._condense(turn, config)
        return turn

    async def _acondense_step(self, turn: _Turn, config: RunnableConfig) -> _Turn:
        await self._acondense(turn, config)
        return turn

    def _retrieve_step(self, turn: _Turn, config: RunnableConfig) -> _Turn:
        self._retrieve(turn, config)
        return turn

    async def _aretrieve_step(self, turn: _Turn, config: RunnableConfig) -> _Turn:
        await self._aretrieve(turn, config)
        return turn

    def _generate_step(self, turn: _Turn, config: RunnableConfig) -> Answer:
        if self._should_abstain(turn):
            return self._finish(turn, ABSTAIN_MESSAGE)
        start = time.perf_counter()
        with translate_llm_errors():
            message = self._answer_llm(turn).invoke(self._messages(turn), config=config)
        return self._after_generate(turn, message, start)

    async def _agenerate_step(self, turn: _Turn, config: RunnableConfig) -> Answer:
        if self._should_abstain(turn):
            return self._finish(turn, ABSTAIN_MESSAGE)
        start = time.perf_counter()
        with translate_llm_errors():
            message = await self._answer_llm(turn).ainvoke(self._messages(turn), config=config)
        return self._after_generate(turn, message, start)

    def _after_generate(self, turn: _Turn, message: BaseMessage, start: float) -> Answer:
        turn.timings["generate"] = time.perf_counter() - start
        turn.add_usage(message)
        turn.add_logprobs(message)
        return self._finish(turn, _message_text(message))


class _Pieces:
    """Turns answer events into what ``stream`` yields: text pieces, then the Answer."""

    def __init__(self) -> None:
        self.streamed: list[str] = []

    def of(self, event: QAEvent) -> list[str | Answer]:
        if isinstance(event, Token):
            self.streamed.append(event.text)
            return [event.text]
        if isinstance(event, Done):
            rest = _unstreamed_rest("".join(self.streamed), event.answer.answer)
            return [rest, event.answer] if rest else [event.answer]
        return []


def _unstreamed_rest(streamed: str, final: str) -> str:
    """What a stream consumer has not seen of the final text (markers, or an abstention)."""
    if not streamed.strip():
        return final
    if final.startswith(streamed):
        return final[len(streamed) :]
    return ""


def _passage_citations(evidence: Evidence, chosen: Sequence[EvidenceSentence]) -> list[Citation]:
    """One source per article shown, cited ones first (numbered by first use), whole sentences."""
    order: list[int] = []
    for sentence in chosen:
        if sentence.passage not in order:
            order.append(sentence.passage)
    order += [i for i in range(len(evidence.passages)) if i not in order]
    citations = []
    for number, index in enumerate(order, start=1):
        passage = evidence.passages[index]
        quote = " ".join(s.text for s in chosen if s.passage == index)
        best = max(passage.documents, key=lambda d: d.metadata.get("rrf_score") or 0.0)
        citation = _citation(number, best)
        update = {"text": passage.text, "quote": quote}
        citations.append(citation.model_copy(update=update))
    return citations


def _with_markers(answer: str, chosen: Sequence[EvidenceSentence], evidence: Evidence) -> str:
    """``[n]`` after the answer sentence that repeats each cited article's sentences most."""
    citations = _passage_citations(evidence, chosen)
    spans = sentence_spans(answer) or [(0, len(answer))]
    parts = [answer[start:end] for start, end in spans]
    marks: list[list[int]] = [[] for _ in parts]
    words = [set(bm25_tokenize(part)) for part in parts]
    for citation in citations:
        if not citation.quote:
            continue
        quote = set(bm25_tokenize(citation.quote))
        overlaps = [len(w & quote) for w in words]
        best = max(range(len(parts)), key=lambda i: (overlaps[i], i == len(parts) - 1))
        marks[best].append(citation.number)
    out = []
    for part, numbers in zip(parts, marks, strict=True):
        # after the sentence, so a streamed answer only gains the markers at its end
        markers = "".join(f"[{n}]" for n in numbers)
        out.append(f"{part} {markers}" if markers else part)
    return " ".join(out)


_QUOTED = re.compile(r"[\"“]([^\"“”]{12,})[\"”]")


def _unverified_quotes(answer: str, sentences: Sequence[str]) -> list[Flag]:
    """A quotation the chosen sentences do not contain word for word."""
    haystack = _plain(" ".join(sentences))
    return [
        Flag(kind="unsupported_quote", message=f"the quote “{quote}” is not in the cited sentences")
        for quote in _QUOTED.findall(answer)
        if _plain(quote) not in haystack
    ]


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _answer_support(sentences: Sequence[EvidenceSentence], answer: str, question: str) -> float:
    """Share of the answer's words found in ``sentences`` or the question."""
    support_words = set(bm25_tokenize(" ".join(s.text for s in sentences) + " " + question))
    answer_words = bm25_tokenize(answer)
    if not answer_words:
        return 0.0
    return sum(1 for w in answer_words if w in support_words) / len(answer_words)


def _supporting_sentences(
    evidence: Evidence, chosen: Sequence[EvidenceSentence], answer: str, question: str
) -> list[EvidenceSentence]:
    """The sentences the answer rests on: the model's choice, unless other shown sentences
    support its words better (a small model often names a neighbouring number).

    Example:
        >>> ev = select_evidence("Who won?", [Document(page_content="Ana won. Rain fell.",
        ...     metadata={"article_id": "a", "title": "Vote"})], embed=None)
        >>> [s.text for s in _supporting_sentences(ev, ev.sentences[1:], "Ana won.", "Who won?")]
        ['Ana won.']
    """
    named = _answer_support(chosen, answer, question)
    if not answer.strip() or named >= REATTRIBUTE_BELOW:
        return list(chosen)
    covering = _covering_sentences(evidence.sentences, answer, question)
    if _answer_support(covering, answer, question) <= named:
        return list(chosen)
    logger.debug(
        "citations re-attributed from %s to %s",
        [s.number for s in chosen],
        [s.number for s in covering],
    )
    return covering


def _covering_sentences(
    sentences: Sequence[EvidenceSentence], answer: str, question: str
) -> list[EvidenceSentence]:
    """The few sentences (at most ``MAX_REATTRIBUTED``) that together hold most of the
    answer's words, added greedily while each adds support; in shown order.

    Example:
        >>> ev = select_evidence("Who won?", [Document(page_content="Ana won. Rain fell.",
        ...     metadata={"article_id": "a", "title": "Vote"})], embed=None)
        >>> [s.text for s in _covering_sentences(ev.sentences, "Ana won.", "Who won?")]
        ['Ana won.']
    """
    answer_words = bm25_tokenize(answer)
    if not answer_words:
        return []
    bags = [set(bm25_tokenize(sentence.text)) for sentence in sentences]

    def support(words: set[str]) -> float:
        return sum(1 for w in answer_words if w in words) / len(answer_words)

    covered = set(bm25_tokenize(question))
    best = support(covered)
    picked: list[int] = []
    while len(picked) < MAX_REATTRIBUTED:
        gains = [(support(covered | bag), i) for i, bag in enumerate(bags) if i not in picked]
        if not gains:
            break
        gain, index = max(gains, key=lambda pair: pair[0])
        if gain <= best:
            break
        picked.append(index)
        covered |= bags[index]
        best = gain
    return sorted((sentences[i] for i in picked), key=lambda s: s.number)


def _evidence_signals(
    evidence: Evidence, chosen: Sequence[EvidenceSentence], answer: str, question: str
) -> dict[str, float]:
    """Numbers that tell how well the evidence and the reply fit the question."""
    best = evidence.best
    return {
        "best_score": best.score if best else 0.0,
        "best_lexical": max((s.lexical for s in evidence.sentences), default=0.0),
        "best_dense": max((s.dense for s in evidence.sentences), default=0.0),
        "chosen": float(len(chosen)),
        "chosen_best_score": max((s.score for s in chosen), default=0.0),
        "answer_support": _answer_support(chosen, answer, question),
    }


def _closest_article_note(sources: Sequence[Citation]) -> str | None:
    """What the nearest article is about, so a refusal still points somewhere useful."""
    if not sources:
        return None
    top = sources[0]
    extra = ", ".join(p for p in (top.source, top.published) if p)
    return f"The closest article is “{top.title}”" + (f" ({extra})." if extra else ".")


def build_qa_chain(retriever: BaseRetriever, llm: BaseChatModel, settings: Settings) -> Runnable:
    """The LCEL answer chain: ``{"question", "history", "filters"}`` -> :class:`Answer`.

    Compose it in your own pipelines like any runnable.

    Example:
        >>> chain = build_qa_chain(retriever, llm, settings)  # doctest: +SKIP
        >>> chain.invoke({"question": "What did Hegseth rule out?"}).answer  # doctest: +SKIP
    """
    return QAService(retriever, llm, settings).chain
