"""Follow-up questions: the conversation so far, and the model's rewrite of the question to
stand alone (checked, with a fallback when a small model answers instead of rewriting).

Example:
    >>> history = normalize_history([{"role": "user", "content": "Who won?"},
    ...                              {"role": "assistant", "content": "Ana Ruiz [1]."}])
    >>> print(history_text(history))
    User: Who won?
    Assistant: Ana Ruiz.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["History", "clean_condensed", "history_text", "normalize_history", "usable_rewrite"]

HISTORY_TURNS = 3
HISTORY_ANSWER_CHARS = 300

History = Sequence[tuple[str, str]] | Sequence[Mapping[str, Any]]
"""Earlier turns: ``(user, assistant)`` pairs or ``{"role", "content"}`` messages."""

_REFERRING = re.compile(
    r"\b(he|she|they|it|him|her|them|his|hers|its|their|there|that|this|those|these)\b", re.I
)


def normalize_history(history: History | None) -> list[tuple[str, str]]:
    """Accept ``(user, assistant)`` pairs or ``{"role", "content"}`` messages.

    Example:
        >>> normalize_history([("Who won?", "Ana"), ("  ", "skipped")])
        [('Who won?', 'Ana')]
    """
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


def history_text(history: list[tuple[str, str]]) -> str:
    """The last few turns as the condense prompt shows them: markers gone, replies cut short.

    Example:
        >>> history_text([("Who won?", "Ana Ruiz won [1].")])
        'User: Who won?\\nAssistant: Ana Ruiz won.'
    """
    lines = []
    for user, assistant in history[-HISTORY_TURNS:]:
        reply = " ".join(re.sub(r"\s*\[\d+\]", "", assistant).split())
        if len(reply) > HISTORY_ANSWER_CHARS:
            reply = reply[:HISTORY_ANSWER_CHARS].rsplit(" ", 1)[0] + " ..."
        lines.append(f"User: {' '.join(user.split())}\nAssistant: {reply}")
    return "\n".join(lines)


def clean_condensed(text: str, fallback: str) -> str:
    """First line of the model's rewrite, without labels or quotes; fallback if unusable.

    Example:
        >>> clean_condensed('Standalone question: "Who did Ruiz defeat?"', "Who did she beat?")
        'Who did Ruiz defeat?'
    """
    for line in text.strip().splitlines():
        line = re.sub(r"^\s*(standalone\s+)?(question|follow-?up)\s*:\s*", "", line, flags=re.I)
        line = line.strip().strip("\"'“”`").strip()
        if line:
            if len(line) > 3 * len(fallback) + 200:
                break
            return line
    return fallback


def usable_rewrite(rewrite: str, question: str, history: list[tuple[str, str]]) -> str:
    """The rewrite if it is a question that stands alone; otherwise the previous question
    and the follow-up together (a small model sometimes answers instead of rewriting, or
    leaves "she" and "there" unresolved).

    Example:
        >>> usable_rewrite("Ana Ruiz beat Lee.", "Who did she defeat?", [("Who won?", "Ruiz")])
        'Who won? Who did she defeat?'
        >>> usable_rewrite("Who did Ruiz defeat?", "Who did she defeat?", [("Who won?", "R")])
        'Who did Ruiz defeat?'
    """
    if not history:
        return rewrite
    unchanged = " ".join(rewrite.lower().split()) == " ".join(question.lower().split())
    if rewrite.rstrip().endswith("?") and not (unchanged and _REFERRING.search(question)):
        return rewrite
    return f"{' '.join(history[-1][0].split())} {question}"
