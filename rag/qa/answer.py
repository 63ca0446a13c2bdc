"""What question answering returns: :class:`Answer` with its :class:`Citation` records, and
the events a streamed answer is made of (:class:`Stage`, :class:`PassagesFound`,
:class:`Token`, then :class:`Done`).

Example:
    >>> answer = Answer(question="Who won?", answer="Ana Ruiz won [1].",
    ...                 standalone_question="Who won?")
    >>> Done(answer).answer.abstained
    False
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from rag.qa.citations import Flag
from rag.renamed import KeepsOldNames, OldName, old_keywords, renamed_field

ABSTAIN_MESSAGE = "The articles don't say."
"""The one fixed reply when the articles do not contain the answer."""


class Citation(KeepsOldNames):
    """One numbered passage: the chunk the model saw as ``[number]`` and its article.

    Example:
        >>> Citation(number=1, article_id="a1", title="T", text="chunk").number
        1
    """

    number: int
    article_id: str
    title: str = ""
    outlet: str = renamed_field(
        "outlet", "source", default="", description="Outlet name ('' if unknown)."
    )
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

    source = OldName("outlet")  # the field's old name, for older callers


class Answer(KeepsOldNames):
    """A grounded answer with its citations.

    ``answer`` contains inline ``[n]`` markers; each matches one entry of ``citations``
    (same ``number``). ``passages`` lists every chunk shown to the model (``sources``, its
    old name, still reads and builds it).

    Example:
        >>> Answer(question="q", answer=ABSTAIN_MESSAGE, standalone_question="q",
        ...        abstained=True).citations
        []
    """

    question: str
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Citation] = renamed_field("passages", "sources", default_factory=list)
    standalone_question: str
    abstained: bool = False
    abstain_reason: str | None = Field(
        None,
        description="'no_sources', 'low_similarity', 'missing_name', 'model' (the model named "
        "no evidence), 'unsure' (it named some, but its own chance of none was high) or "
        "'unsupported' (no excerpt holds what the answer says).",
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

    sources = OldName("passages")  # the field's old name, for older callers


@dataclass(frozen=True)
class Stage:
    """A step of answering has begun (``condensing``, ``retrieving``, ``reading``).

    Example:
        >>> Stage("reading", "Reading 5 sentences from 2 articles").name
        'reading'
    """

    name: str
    detail: str = ""


@old_keywords(sources="passages")
@dataclass(frozen=True)
class PassagesFound:
    """The passages the model is about to read, known before it writes a word.

    Example:
        >>> PassagesFound(passages=[]).passages
        []
    """

    passages: list[Citation]


SourcesFound = PassagesFound  # the event's old name, for older callers


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


QAEvent = Stage | PassagesFound | Token | Done
"""What :meth:`rag.qa.chain.QAService.stream_events` yields."""


class StreamPieces:
    """Turns answer events into what ``QAService.stream`` yields: text pieces, then the Answer.

    Example:
        >>> pieces = StreamPieces()
        >>> pieces.of(Token("Ana won."))
        ['Ana won.']
        >>> done = Done(Answer(question="q", answer="Ana won. [1]", standalone_question="q"))
        >>> pieces.of(done)[0]  # the markers the stream has not shown yet
        ' [1]'
    """

    def __init__(self) -> None:
        self.streamed: list[str] = []

    def of(self, event: QAEvent) -> list[str | Answer]:
        """What ``event`` adds to the stream: its text, or the unseen rest and the Answer."""
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
