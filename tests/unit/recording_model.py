"""A fake chat model shared by the tests that only need replies in turn and the prompts sent.

Import it into a test module: ``from recording_model import RecordingChatModel``.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field


class RecordingChatModel(BaseChatModel):
    """Replies from a list (cycling), records every prompt, reports token usage."""

    replies: list[str]
    calls: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "recording"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        self.calls.append(list(messages))
        text = self.replies[(len(self.calls) - 1) % len(self.replies)]
        usage = {"input_tokens": 321, "output_tokens": 7, "total_tokens": 328}
        message = AIMessage(content=text, usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])
