"""One question on its way through the steps: its :class:`Turn` (what each step found so
far) and the collector of a streamed reply.

Example:
    >>> turn = begin_turn("  Who   won? ", history=None, filters=None)
    >>> turn.question, turn.history
    ('Who won?', [])
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.documents import Document
from langchain_core.messages import BaseMessage, BaseMessageChunk

from rag.errors import RagError
from rag.qa.answer import Citation
from rag.qa.answer_format import (
    NOT_FOUND,
    AnswerStream,
    PlainAnswerStream,
    first_token_probability,
    no_evidence_probability,
)
from rag.qa.citations import Flag
from rag.qa.evidence import Evidence
from rag.qa.history import History, normalize_history
from rag.qa.passages import ShownPassage
from rag.retrieval.hybrid import SearchFilters

__all__ = [
    "MAX_QUESTION_CHARS",
    "StreamCollector",
    "Turn",
    "begin_turn",
    "message_text",
    "turn_from_inputs",
]

MAX_QUESTION_CHARS = 2000


@dataclass
class Turn:
    """State of one question while it moves through the steps.

    Example:
        >>> Turn(question="Who won?", history=[], filters=None).abstain_reason is None
        True
    """

    question: str
    history: list[tuple[str, str]]
    filters: SearchFilters | None
    started: float = field(default_factory=time.perf_counter)
    standalone: str = ""
    documents: list[Document] = field(default_factory=list)
    passages: list[Citation] = field(default_factory=list)
    shown: list[ShownPassage] = field(default_factory=list)
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
        """Add the tokens of one model call (when the endpoint reports them)."""
        usage = getattr(message, "usage_metadata", None) if message is not None else None
        if not usage:
            return
        self.prompt_tokens = (self.prompt_tokens or 0) + int(usage.get("input_tokens", 0))
        self.completion_tokens = (self.completion_tokens or 0) + int(usage.get("output_tokens", 0))

    def reading_detail(self) -> str:
        """What the model is about to read, for the ``reading`` stage.

        Example:
            >>> Turn(question="q", history=[], filters=None).reading_detail()
            'Reading 0 passages from 0 articles'
        """
        articles = len({s.article_id for s in self.passages})
        if self.evidence is not None:
            count, unit = len(self.evidence.sentences), "sentences"
        else:
            count, unit = len(self.passages), "passages"
        plural = "article" if articles == 1 else "articles"
        return f"Reading {count} {unit} from {articles} {plural}"


def begin_turn(
    question: str, history: History | None, filters: SearchFilters | dict | None
) -> Turn:
    """A checked question (not empty, not too long) with its history and filters.

    Example:
        >>> begin_turn("", None, None)
        Traceback (most recent call last):
        ...
        rag.errors.RagError: The question is empty. ...
    """
    question = " ".join((question or "").split())
    if not question:
        raise RagError("The question is empty.", hint='ask something, e.g. "Who met in Munich?"')
    if len(question) > MAX_QUESTION_CHARS:
        raise RagError(
            f"The question is too long ({len(question)} characters).",
            hint=f"keep it under {MAX_QUESTION_CHARS} characters",
        )
    if isinstance(filters, dict):
        filters = SearchFilters(**filters)
    return Turn(question=question, history=normalize_history(history), filters=filters)


def turn_from_inputs(inputs: Mapping[str, Any] | str) -> Turn:
    """The chain's input (``{"question", "history", "filters"}`` or a bare question) as a turn.

    Example:
        >>> turn_from_inputs("Who won?").question
        'Who won?'
    """
    if isinstance(inputs, str):
        inputs = {"question": inputs}
    return begin_turn(inputs.get("question", ""), inputs.get("history"), inputs.get("filters"))


def message_text(message: BaseMessage | BaseMessageChunk) -> str:
    """The text of a model message (text parts only).

    Example:
        >>> from langchain_core.messages import AIMessage
        >>> message_text(AIMessage(content=[{"type": "text", "text": "Ana"}, "won."]))
        'Anawon.'
    """
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(
        part if isinstance(part, str) else str(part.get("text", ""))
        for part in content
        if isinstance(part, str) or part.get("type") == "text"
    )


class StreamCollector:
    """Gathers streamed chunks of one answer: text, first-token time and token usage.

    Example:
        >>> from langchain_core.messages import AIMessageChunk
        >>> collector = StreamCollector(Turn(question="q", history=[], filters=None))
        >>> collector.take(AIMessageChunk(content="Ana won.")), collector.close()
        ('Ana won.', 'Ana won.')
    """

    def __init__(self, turn: Turn) -> None:
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
        raw = message_text(chunk)
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
