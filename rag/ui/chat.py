"""The Ask tab's conversation: turns kept as plain data, rendered into chat messages.

A turn is a JSON-able dict, so the browser can keep the conversation across a page reload::

    {"question": "...", "status": "pending" | "done" | "stopped" | "error",
     "answer": {...} | None,   # the finished answer (see :func:`stored_answer`)
     "partial": "...",         # what was streamed before a Stop
     "sources": [...],         # the passages found before a Stop
     "error": "..."}           # Markdown shown for a failed turn

The chat shows each turn as the question, then a collapsible **Sources** panel, then the
answer. While an answer is being worked on, :class:`Live` describes the stage (with the
seconds elapsed), the articles being read and the words written so far.

Example:
    >>> turns = [new_turn("Who won?")]
    >>> [m["role"] for m in render(turns)]
    ['user', 'assistant']
    >>> history_pairs([finished(turns[0], {"answer": "Ortiz won [1].", "citations": []})])
    [('Who won?', 'Ortiz won [1].')]
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.ui.format import (
    answer_to_dict,
    cited_passages,
    count_articles,
    escape_block,
    escape_md,
    format_answer,
    format_found,
    format_partial,
    format_passages,
)

PENDING, DONE, STOPPED, ERROR = "pending", "done", "stopped", "error"
MAX_STORED_TURNS = 20  # kept in the browser across reloads
STOPPED_MARK = "*(stopped)*"
WAITING = "Waiting for the model"

Turn = dict[str, Any]
Message = dict[str, Any]

__all__ = [
    "DONE",
    "ERROR",
    "PENDING",
    "STOPPED",
    "Live",
    "failed",
    "finished",
    "history_pairs",
    "new_turn",
    "render",
    "stopped",
    "stored_answer",
    "stored_turns",
    "turn_of_message",
]


@dataclass
class Live:
    """What is known of the answer being worked on.

    Example:
        >>> Live(stage="Searching the articles", elapsed=2).title()
        'Searching the articles… 2 s'
    """

    stage: str = WAITING
    elapsed: int = 0
    passages: list[Any] = field(default_factory=list)
    partial: str = ""
    ahead: int = 0  # earlier requests the model was still working on when this one started

    def title(self) -> str:
        """The stage with its elapsed seconds (and who is ahead, while waiting)."""
        text = f"{self.stage}… {self.elapsed} s"
        if self.ahead and not self.partial:
            text += f" (the model is finishing {self.ahead} earlier request"
            text += "s first)" if self.ahead > 1 else " first)"
        return text


def new_turn(question: str) -> Turn:
    """A question waiting for its answer.

    Example:
        >>> new_turn("Who?")["status"]
        'pending'
    """
    return {"question": question, "status": PENDING, "asked": time.time()}


def stored_answer(answer: object) -> dict[str, Any]:
    """The parts of an ``Answer`` the chat shows again after a reload (as JSON).

    Example:
        >>> stored_answer({"answer": "No.", "abstained": True})["abstained"]
        True
    """
    data = answer_to_dict(answer)
    if data["citations"] or data["abstained"]:
        data["sources"] = []  # only shown ("Passages searched") when nothing is cited
    return data


def finished(turn: Turn, answer: object) -> Turn:
    """``turn`` answered.

    Example:
        >>> finished(new_turn("Q"), {"answer": "A"})["status"]
        'done'
    """
    return {"question": turn["question"], "status": DONE, "answer": stored_answer(answer)}


def stopped(turn: Turn, partial: str = "", passages: Sequence[Any] = ()) -> Turn:
    """``turn`` stopped by the reader, keeping what was streamed and the passages found
    (under ``sources``, the key turns kept in the browser have always used).

    Example:
        >>> stopped(new_turn("Q"), "Half an ans")["partial"]
        'Half an ans'
    """
    found = answer_to_dict({"passages": list(passages)})["sources"]
    return {"question": turn["question"], "status": STOPPED, "partial": partial, "sources": found}


def failed(turn: Turn, error_markdown: str) -> Turn:
    """``turn`` ended by an error (shown as Markdown in place of the answer).

    Example:
        >>> failed(new_turn("Q"), "**Error:** down")["status"]
        'error'
    """
    return {"question": turn["question"], "status": ERROR, "error": error_markdown}


def history_pairs(turns: Sequence[Turn]) -> list[tuple[str, str]]:
    """The conversation the model sees for a follow-up: answered turns only.

    Example:
        >>> history_pairs([new_turn("Q"), stopped(new_turn("R"), "half")])
        []
    """
    pairs = []
    for turn in turns or []:
        answer = turn.get("answer") or {}
        if turn.get("status") == DONE and answer.get("answer"):
            pairs.append((str(turn["question"]), str(answer["answer"])))
    return pairs


def stored_turns(turns: Sequence[Turn]) -> list[Turn]:
    """The finished turns to keep in the browser (the last :data:`MAX_STORED_TURNS`).

    Example:
        >>> stored_turns([new_turn("Q")])
        []
    """
    return [_upgraded(t) for t in (turns or []) if t.get("status") != PENDING][-MAX_STORED_TURNS:]


def _upgraded(turn: Turn) -> Turn:
    """A kept turn whose passages name their outlet under ``outlet``, as turns kept before
    the key was renamed from ``source`` do not.

    Example:
        >>> old = {"question": "Q", "status": DONE,
        ...        "answer": {"answer": "A", "citations": [{"source": "AP"}]}}
        >>> _upgraded(old)["answer"]["citations"]
        [{'source': 'AP', 'outlet': 'AP'}]
    """
    turn = dict(turn)
    if isinstance(turn.get("answer"), dict):
        answer = turn["answer"] = dict(turn["answer"])
        for key in ("citations", "sources"):
            if key in answer:
                answer[key] = _with_outlets(answer[key])
    if "sources" in turn:
        turn["sources"] = _with_outlets(turn["sources"])
    return turn


def _with_outlets(passages: Any) -> Any:
    if not isinstance(passages, list):
        return passages
    return [
        {**p, "outlet": p["source"]}
        if isinstance(p, dict) and "outlet" not in p and "source" in p
        else p
        for p in passages
    ]


def turn_of_message(turns: Sequence[Turn], message_index: int) -> int | None:
    """Which turn a chat message (by its index in :func:`render`'s output) belongs to.

    Example:
        >>> turns = [finished(new_turn("A"), {"answer": "x"}), new_turn("B")]
        >>> [turn_of_message(turns, i) for i in range(len(render(turns)))]
        [0, 0, 1, 1]
    """
    index = 0
    for number, turn in enumerate(turns or []):
        index += len(_turn_messages(turn))
        if message_index < index:
            return number
    return None


def render(turns: Sequence[Turn], live: Live | None = None) -> list[Message]:
    """The chat messages for ``turns``; the last (pending) turn is drawn from ``live``.

    Example:
        >>> render([new_turn("Q")], Live(stage="Reading", elapsed=3))[1]["metadata"]["title"]
        'Reading… 3 s'
    """
    messages: list[Message] = []
    for turn in turns or []:
        messages.extend(_turn_messages(turn, live))
    return messages


def _turn_messages(turn: Turn, live: Live | None = None) -> list[Message]:
    messages: list[Message] = [{"role": "user", "content": escape_md(turn.get("question", ""))}]
    status = turn.get("status")
    if status == DONE:
        messages.extend(_answer_messages(turn.get("answer") or {}))
    elif status == STOPPED:
        messages.extend(_stopped_messages(turn))
    elif status == ERROR:
        messages.append({"role": "assistant", "content": str(turn.get("error") or "")})
    elif live is None:  # not started yet: the chat shows the queue position meanwhile
        messages.append(_panel(f"{WAITING}…", "", status="pending"))
    else:
        messages.extend(_live_messages(live))
    return messages


def _panel(title: str, content: str, status: str = "done") -> Message:
    """A collapsible box in the chat (open while ``pending``)."""
    return {"role": "assistant", "content": content, "metadata": {"title": title, "status": status}}


def _answer_messages(answer: Mapping[str, Any]) -> list[Message]:
    messages = []
    _, cited = cited_passages(answer)
    if cited:
        messages.append(_panel(f"Sources ({len(cited)})", format_passages(cited)))
    elif not answer.get("abstained") and answer.get("sources"):
        searched = answer["sources"]
        messages.append(_panel(f"Passages searched ({len(searched)})", format_passages(searched)))
    messages.append({"role": "assistant", "content": format_answer(answer)})
    return messages


def _stopped_messages(turn: Turn) -> list[Message]:
    messages = []
    found = turn.get("sources") or []
    if found:
        messages.append(_panel(_reading_title(found, done=True), format_found(found)))
    partial = str(turn.get("partial") or "").strip()
    text = f"{escape_block(partial)} {STOPPED_MARK}" if partial else STOPPED_MARK
    messages.append({"role": "assistant", "content": text})
    return messages


def _live_messages(live: Live) -> list[Message]:
    if not live.partial:
        return [_panel(live.title(), format_found(live.passages), status="pending")]
    messages = []
    if live.passages:
        messages.append(
            _panel(_reading_title(live.passages), format_found(live.passages), "pending")
        )
    messages.append({"role": "assistant", "content": format_partial(live.partial)})
    return messages


def _reading_title(passages: Sequence[Any], done: bool = False) -> str:
    articles = count_articles(passages)
    return f"{'Read' if done else 'Reading'} {articles} article{'s' if articles != 1 else ''}"
