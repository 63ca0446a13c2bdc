"""The Ask tab's actions: check a question, show it, answer it (stoppable), stop, start a
new conversation, regenerate, edit, and restore the conversation a browser kept.

The answer itself runs through :func:`rag.ui.answering.follow_answer`, which the ``/ask``
endpoint shares; these methods turn its updates into the chat's messages and turns.

Example:
    >>> AskHandlers.question_problems("", [], "", "")
    {'question': 'Type a question first.'}
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from rag.errors import RagError
from rag.ui import chat
from rag.ui.answering import SEARCHING, AnswerUpdate, follow_answer
from rag.ui.format import parse_day, parse_range
from rag.ui.handlers import feedback

if TYPE_CHECKING:
    from rag.service import NewsRAG
    from rag.ui.runs import Runs

__all__ = ["ANSWER_HANDOVER_SECONDS", "MAX_QUESTION_CHARS", "NEW_CONVERSATION", "AskHandlers"]

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000  # as rag.qa.turn accepts; shown next to the question box
ANSWER_HANDOVER_SECONDS = 2.0  # a new answer waits this long for a stopped one to end
NEW_CONVERSATION = "new conversation"  # why an answer was cancelled: the chat is cleared

Messages = list[dict[str, Any]]
Turns = list[dict[str, Any]]


class AskHandlers:
    """The chat's actions (part of :class:`rag.ui.handlers.Handlers`, which sets
    ``service`` and ``runs``). ``session`` identifies the browser tab: a Stop or a new
    conversation cancels that tab's answer only.

    Example:
        >>> messages, turns, box = AskHandlers.begin("Who won?", [])
        >>> turns[-1]["question"], box
        ('Who won?', '')
    """

    service: NewsRAG
    runs: Runs

    @staticmethod
    def question_problems(
        question: str | None, turns: Turns | None, since: str | None, until: str | None
    ) -> dict[str, str]:
        """What is wrong with a question before it is asked, by input name (empty if fine)."""
        problems: dict[str, str] = {}
        text = " ".join((question or "").split())
        if not text:
            problems["question"] = "Type a question first."
        elif len(text) > MAX_QUESTION_CHARS:
            problems["question"] = (
                f"The question is too long ({len(text)} characters): "
                f"keep it under {MAX_QUESTION_CHARS}."
            )
        elif turns and turns[-1].get("status") == chat.PENDING:
            problems["question"] = "An answer is still being written: wait for it or press Stop."
        for name, value in (("since", since), ("until", until)):
            try:
                parse_day(value, name.capitalize())
            except ValueError as exc:
                problems[name] = str(exc)
        if not problems.keys() & {"since", "until"}:
            try:
                parse_range(since, until)
            except ValueError as exc:
                problems["until"] = str(exc)
        return problems

    @staticmethod
    def begin(question: str, turns: Turns | None) -> tuple[Messages, Turns, str]:
        """Show the question at once (waiting for the model); clears the question box."""
        turns = [*(turns or []), chat.new_turn(" ".join((question or "").split()))]
        return chat.render(turns), turns, ""

    def chat(
        self,
        turns: Turns | None,
        outlets: Sequence[str] | None,
        since: str | None,
        until: str | None,
        session: str | None = None,
    ) -> Iterator[tuple[Messages, Turns | None, Turns | None]]:
        """Answer the pending question: yields (chat messages, turns, turns to keep in the
        browser); turns are None until the last update."""
        turns = list(turns or [])
        if not turns or turns[-1].get("status") != chat.PENDING:
            return
        # one answer at a time per tab (a stopped one may still be drawing its end)
        if not self.runs.wait_idle(session, ["answer"], timeout=ANSWER_HANDOVER_SECONDS):
            return
        turn, earlier = turns[-1], turns[:-1]
        ahead = self.runs.busy()  # e.g. a stopped answer the model is still reading
        run = self.runs.start("answer", session, asked_at=turn.get("asked"))
        if run is None:  # stopped while it waited in the queue: already shown as stopped
            return
        live = chat.Live(stage=SEARCHING, ahead=ahead)
        history = chat.history_pairs(earlier)
        answer: Any = None
        question = turn["question"]
        updates = follow_answer(self.service, run, question, history, outlets, since, until)
        try:
            with contextlib.closing(updates):
                for update in updates:
                    if update.event == "done":
                        answer = update.result
                    elif update.event == "stopped":
                        live.partial, live.passages = update.text, update.passages
                    else:
                        yield chat.render(turns, _follow(live, update, self.runs)), None, None
            if answer is not None:
                final = chat.finished(turn, answer)
            else:
                final = chat.stopped(turn, live.partial, live.passages)
        except Exception as exc:
            final = chat.failed(turn, feedback.error_markdown(exc))
            if isinstance(exc, RagError):
                feedback.warn(exc.message)
        if run.reason == NEW_CONVERSATION:
            yield [], [], []
            return
        result = [*earlier, final]
        yield chat.render(result), result, chat.stored_turns(result)

    def stop_answer(
        self, turns: Turns | None, session: str | None = None
    ) -> tuple[Messages | None, Turns | None, Turns | None]:
        """Stop this tab's answer. A running answer shows itself stopped, keeping what was
        streamed (None: nothing to change here); a question still waiting is shown stopped now.
        """
        if self.runs.stop(session, ["answer"], reason="stopped"):
            return None, None, None
        turns = list(turns or [])
        if turns and turns[-1].get("status") == chat.PENDING:
            turns[-1] = chat.stopped(turns[-1])
        return chat.render(turns), turns, chat.stored_turns(turns)

    def new_conversation(
        self, session: str | None = None
    ) -> tuple[Messages | None, Turns | None, Turns | None]:
        """Forget this tab's conversation; a running answer is stopped and clears it itself
        (None: nothing to change here)."""
        if self.runs.stop(session, ["answer"], reason=NEW_CONVERSATION):
            return None, None, None
        return [], [], []

    @staticmethod
    def regenerate(turns: Turns | None) -> tuple[Messages, Turns]:
        """Ask the last question again (its answer is replaced)."""
        turns = list(turns or [])
        if not turns:
            return [], []
        turns[-1] = chat.new_turn(turns[-1]["question"])
        return chat.render(turns), turns

    def edit(
        self, turns: Turns | None, message_index: int, text: str | None
    ) -> tuple[Messages, Turns]:
        """Ask an edited question in place of the one at ``message_index``; the turns after
        it are dropped (as in any chat that branches on an edit)."""
        turns = list(turns or [])
        number = chat.turn_of_message(turns, message_index)
        problem = self.question_problems(text, [], "", "").get("question")
        if number is None or problem:
            if problem:
                feedback.warn(problem)
            return chat.render(turns), turns
        turns = [*turns[:number], chat.new_turn(" ".join((text or "").split()))]
        return chat.render(turns), turns

    @staticmethod
    def restore(stored: Turns | None) -> tuple[Messages, Turns]:
        """The conversation this browser kept (after a reload)."""
        turns = chat.stored_turns(stored if isinstance(stored, list) else [])
        return chat.render(turns), turns


def _follow(live: chat.Live, update: AnswerUpdate, runs: Runs) -> chat.Live:
    """The live view after ``update`` (its seconds and who is ahead change after the start)."""
    live.stage, live.passages, live.partial = update.stage, update.passages, update.text
    if update.event != "start":
        live.elapsed = update.elapsed
        live.ahead = max(runs.busy() - 1, 0)  # this run's worker counts too
    return live
