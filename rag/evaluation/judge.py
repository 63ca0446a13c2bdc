"""LLM-as-judge (``news-rag eval --judge``, off by default): an answer's faithfulness to its
sources and correctness against the gold answers.

The judge asks the configured LLM with ``prompts/eval_judge.yaml``; its scores are
labelled with the judge model wherever they appear.

Example:
    >>> parse_judge_reply('{"faithfulness": 1, "correctness": 0}')
    {'faithfulness': 1.0, 'correctness': 0.0}
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["JUDGE_SCALE", "Judge", "parse_judge_reply"]

logger = logging.getLogger(__name__)


JUDGE_PROMPT = "eval_judge"
JUDGE_CONTEXT_CHARS = 6000
JUDGE_SCALE = (0.0, 1.0)  # the scale prompts/eval_judge.yaml asks for


_JSON_OBJECT = re.compile(r"\{.*?\}", re.DOTALL)


_SCALE_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(\d+(?:\.\d+)?)\s*$")


def _judge_scale(data: Mapping[str, Any], default: tuple[float, float]) -> tuple[float, float]:
    """The reply's declared ``"scale"`` ("0-1", "1-5", "1 to 10"), else ``default``."""
    match = _SCALE_TEXT.match(str(data.get("scale", "")))
    if match:
        low, high = float(match.group(1)), float(match.group(2))
        if high > low:
            return low, high
    return default


def parse_judge_reply(
    text: str, scale: tuple[float, float] = JUDGE_SCALE
) -> dict[str, float | None]:
    """Read ``{"faithfulness": x, "correctness": y}`` from a reply, as 0-1 scores.

    Every score is read on one known scale, so the mapping is monotone: the scale the
    reply declares in a ``"scale"`` field ("1-5" maps 1 to 0.0 and 5 to 1.0), otherwise
    ``scale``, the one the judge prompt asks for (0-1: values stay as they are). A value
    outside its scale is unreadable (``None``): it is never guessed onto another scale.

    Example:
        >>> parse_judge_reply('Sure. {"faithfulness": 1, "correctness": 0.5}')
        {'faithfulness': 1.0, 'correctness': 0.5}
        >>> parse_judge_reply('{"scale": "1-5", "faithfulness": 1, "correctness": 4}')
        {'faithfulness': 0.0, 'correctness': 0.75}
        >>> parse_judge_reply('{"faithfulness": 4}')
        {'faithfulness': None, 'correctness': None}
    """
    result: dict[str, float | None] = {"faithfulness": None, "correctness": None}
    for match in _JSON_OBJECT.finditer(text or ""):
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError:
            continue
        if not isinstance(data, dict):
            continue
        low, high = _judge_scale(data, scale)
        for name in result:
            value = data.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                if low <= value <= high:
                    result[name] = (float(value) - low) / (high - low)
                else:
                    logger.warning("judge %s %s is outside its scale %g-%g", name, value, low, high)
        if any(v is not None for v in result.values()):
            break
    return result


class Judge:
    """LLM-as-judge: faithfulness to the sources and correctness against the gold answer.

    Uses the configured LLM (``prompts/eval_judge.yaml``); its scores are labelled with
    the judge model name everywhere they appear.

    Example (a canned reply stands in for the judge model):
        >>> from langchain_core.language_models import FakeListChatModel
        >>> llm = FakeListChatModel(responses=['{"faithfulness": 1, "correctness": 1}'])
        >>> judge = Judge(llm, model="gpt-4o-mini")
        >>> judge.score("Who won?", "Ruiz [1].", ["Ana Ruiz won."], ["Ana Ruiz"])
        {'faithfulness': 1.0, 'correctness': 1.0}
    """

    def __init__(self, llm: Any, model: str) -> None:
        from rag.prompts import load_prompt

        self.llm = llm
        self.model = model
        self.prompt = load_prompt(JUDGE_PROMPT)

    def score(
        self, question: str, answer: str, contexts: Sequence[str], gold: Sequence[str]
    ) -> dict[str, float | None]:
        """Judge one answer; ``None`` scores when the reply cannot be parsed."""
        sources = "\n\n".join(f"[{i}] {c}" for i, c in enumerate(contexts, start=1))
        messages = self.prompt.messages(
            question=question,
            answer=answer,
            contexts=sources[:JUDGE_CONTEXT_CHARS],
            gold_answers="; ".join(gold) or "(the question is not answerable from the articles)",
        )
        reply = self.llm.invoke(messages)
        return parse_judge_reply(str(getattr(reply, "content", reply)))
