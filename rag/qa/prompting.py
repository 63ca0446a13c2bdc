"""What the model is sent: the prompts of the reader modes and of the condense step, the
messages for one turn, and the chat model bound to the reply format it must follow.

Example:
    >>> prompts = QAPrompts(settings)
    >>> prompts.versions
    'qa_excerpts:v1,qa_condense:v2'
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable

from rag.prompts import Prompt, load_prompt
from rag.qa.answer import ABSTAIN_MESSAGE
from rag.qa.answer_format import NOT_FOUND, reply_schema
from rag.qa.history import history_text
from rag.qa.passages import passage_blocks
from rag.qa.turn import Turn
from rag.settings import Settings

__all__ = ["QAPrompts", "reader_model"]


class QAPrompts:
    """The answer prompts of every reader mode (``RAG_QA_MODE``) and the condense prompt.

    Example:
        >>> [m.type for m in QAPrompts(settings).warm_messages()]
        ['system']
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.answer = load_prompt("qa_answer")
        self.evidence = load_prompt("qa_evidence")
        self.excerpts = load_prompt("qa_excerpts")
        self.condense = load_prompt("qa_condense")

    @property
    def mode(self) -> str:
        """``RAG_QA_MODE``: ``excerpts``, ``evidence`` or ``passages``."""
        return self.settings.qa_mode

    @property
    def reader(self) -> Prompt:
        """The answer prompt of the configured mode."""
        return {"evidence": self.evidence, "excerpts": self.excerpts}.get(self.mode, self.answer)

    @property
    def versions(self) -> str:
        """The names and versions of the prompts behind an answer (part of cache keys)."""
        return ",".join(f"{p.name}:v{p.version}" for p in (self.reader, self.condense))

    def passages_messages(self, question: str, sources: str) -> list[BaseMessage]:
        """The whole-passage prompt over numbered ``<source>`` blocks.

        Example:
            >>> QAPrompts(settings).passages_messages("Who won?", "")[-1].content
            'Question: Who won?'
        """
        return self.answer.messages(question=question, sources=sources, abstain=ABSTAIN_MESSAGE)

    def condense_messages(self, turn: Turn) -> list[BaseMessage]:
        """The prompt that rewrites a follow-up to stand alone."""
        return self.condense.messages(history=history_text(turn.history), question=turn.question)

    def reader_messages(self, turn: Turn) -> list[BaseMessage]:
        """The answer prompt for ``turn``: numbered sentences, excerpts or whole passages."""
        if turn.evidence is not None and turn.numbered:
            return self.evidence.messages(evidence=turn.evidence.render(), question=turn.standalone)
        if turn.evidence is not None:
            return self.excerpts.messages(
                excerpts=turn.evidence.render_excerpts(),
                question=turn.standalone,
                not_found=NOT_FOUND,
            )
        return self.passages_messages(turn.standalone, passage_blocks(turn.shown))

    def warm_messages(self) -> list[BaseMessage]:
        """The fixed head of the answer prompt (system text and worked examples), the same
        for every question."""
        if self.mode == "evidence":
            messages = self.evidence.messages(evidence="", question="")
        elif self.mode == "excerpts":
            messages = self.excerpts.messages(excerpts="", question="", not_found=NOT_FOUND)
        else:
            messages = self.passages_messages("", "")
        return messages[:-1]


def reader_model(llm: BaseChatModel, turn: Turn, settings: Settings) -> Runnable:
    """The chat model, constrained to the evidence reply schema when configured, and asked
    for the logprobs the calibrated refusal reads.

    Example:
        >>> from langchain_core.language_models import FakeListChatModel
        >>> llm = FakeListChatModel(responses=["Ana won."])
        >>> reader_model(llm, Turn(question="q", history=[], filters=None), settings) is llm
        True
    """
    if turn.evidence is not None and not turn.numbered:
        if settings.qa_abstain_probability >= 1:
            return llm
        # the first token's alternatives tell how likely the model was to say "Unknown"
        return llm.bind(logprobs=True, top_logprobs=5)
    if not turn.numbered or not settings.qa_constrained_output:
        return llm
    schema = reply_schema(turn.evidence.numbers)
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "grounded_answer", "schema": schema},
    }
    # the top alternatives of each token tell how sure the model is that evidence exists
    return llm.bind(response_format=response_format, logprobs=True, top_logprobs=5)
