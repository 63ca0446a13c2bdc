"""The Ask tab: a chat with its sources shown first, streamed answers, Stop, regenerate and
edit, outlet and date filters; the conversation is kept in the browser across a reload.

Example (inside ``gr.Blocks``, with Gradio loaded):
    >>> ui = ask_tab(gr, handlers, limits)  # doctest: +SKIP
    >>> demo.load(**ui.restore)  # doctest: +SKIP
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from rag.ui.handlers.ask import MAX_QUESTION_CHARS
from rag.ui.wiring import Limits, keep_or_skip, or_unchanged, session_of, with_gradio_args

if TYPE_CHECKING:
    from rag.ui.handlers import Handlers

__all__ = ["CONVERSATION_KEY", "EXAMPLE_QUESTIONS", "ask_tab"]

EXAMPLE_QUESTIONS = [
    "What did Hegseth rule out?",
    "What happened when Vance met Zelenskyy in Munich?",
    "Why did the central bank cut rates?",
    "Who won the mayoral election?",
]
CONVERSATION_KEY = "news-rag-conversation"  # where the browser keeps the conversation


def ask_tab(gr: Any, handlers: Handlers, limits: Limits) -> SimpleNamespace:
    """Chat with sources shown first, streamed answers, Stop, regenerate and edit; returns
    its components (``restore`` loads the conversation the browser kept).

    Example (inside ``gr.Blocks``, with Gradio loaded):
        >>> demo.load(**ask_tab(gr, handlers, limits).restore)  # doctest: +SKIP
    """
    ui = SimpleNamespace()
    ui.turns = gr.State([])
    ui.stored = gr.BrowserState([], storage_key=CONVERSATION_KEY)
    with gr.Row(elem_classes=["nr-stack"]):
        with gr.Column(scale=3):
            ui.chatbot = gr.Chatbot(
                show_label=False,
                elem_id="news-rag-chat",
                height=520,
                layout="panel",
                placeholder="Ask about the articles in your library. The sources appear first; "
                "answers cite them as [1], [2]…, each linked to its article.",
                sanitize_html=True,
                allow_tags=False,
                latex_delimiters=[],
                feedback_options=None,
                editable="user",
                buttons=["copy"],
            )
            with gr.Row():
                ui.question = gr.Textbox(
                    label="Question",  # a refused question says why here
                    placeholder=f"e.g. What did Hegseth rule out? (up to {MAX_QUESTION_CHARS} "
                    "characters)",
                    scale=5,
                    max_lines=4,
                    elem_id="question",
                )
                ui.ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask-button")
                ui.stop = gr.Button(
                    "Stop", variant="stop", scale=1, visible=False, elem_id="stop-button"
                )
            ui.new = gr.Button("New conversation", size="sm", elem_id="new-conversation")
            gr.Examples(
                examples=[[q] for q in EXAMPLE_QUESTIONS],
                inputs=[ui.question],
                label="Example questions",
            )
        with gr.Column(scale=1, min_width=240):
            gr.Markdown("### Filters")
            ui.outlets = gr.Dropdown(
                label="Outlets",
                choices=[],
                multiselect=True,
                info="Empty: all outlets.",
                elem_id="ask-sources",
            )
            ui.since = gr.Textbox(label="Since", placeholder="YYYY-MM-DD", elem_id="ask-since")
            ui.until = gr.Textbox(label="Until", placeholder="YYYY-MM-DD", elem_id="ask-until")
            gr.Markdown(
                "Follow-up questions use the conversation so far. This browser keeps the "
                "conversation across a reload; **New conversation** forgets it. Press the "
                "pencil on a question to edit and ask it again, or the retry arrow to "
                "regenerate the last answer.",
                elem_classes=["nr-muted"],
            )
    _wire_ask(gr, handlers, limits, ui)
    return ui


def _wire_ask(gr: Any, handlers: Handlers, limits: Limits, ui: SimpleNamespace) -> None:
    """Ask -> show the question -> answer (stoppable); stop, new, retry, edit, reload."""
    buttons = [ui.ask, ui.stop]  # while an answer is written, Stop takes the place of Ask
    busy = (gr.update(visible=False), gr.update(visible=True))
    idle = (gr.update(visible=True), gr.update(visible=False))

    def validate(question, turns, outlets, since, until):  # type: ignore[no-untyped-def]
        problems = handlers.question_problems(question, turns, since, until)
        names = ("question", "turns", "outlets", "since", "until")
        return tuple(gr.validate(name not in problems, problems.get(name, "")) for name in names)

    def begin(question, turns, outlets, since, until):  # type: ignore[no-untyped-def]
        return (*handlers.begin(question, turns), *busy)

    def answer(turns, outlets, since, until, request=None):  # type: ignore[no-untyped-def]
        session = session_of(request)
        updates = handlers.chat(turns, outlets, since, until, session)
        kept = (tuple(keep_or_skip(gr, value) for value in update) for update in updates)
        yield from or_unchanged(gr, kept)

    def stop(turns, request=None):  # type: ignore[no-untyped-def]
        shown, turns, stored = handlers.stop_answer(turns, session_of(request))
        return keep_or_skip(gr, shown), keep_or_skip(gr, turns), keep_or_skip(gr, stored), *idle

    def forget(request=None):  # type: ignore[no-untyped-def]
        shown, turns, stored = handlers.new_conversation(session_of(request))
        return keep_or_skip(gr, shown), keep_or_skip(gr, turns), keep_or_skip(gr, stored), *idle

    def regenerate(turns):  # type: ignore[no-untyped-def]
        return (*handlers.regenerate(turns), *busy)

    def edit(turns, evt):  # type: ignore[no-untyped-def]
        index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        return (*handlers.edit(turns, int(index), evt.value), *busy)

    answer_options = (
        {
            "fn": with_gradio_args(gr, answer, request="Request"),
            "inputs": [ui.turns, ui.outlets, ui.since, ui.until],
            "outputs": [ui.chatbot, ui.turns, ui.stored],
            # the chat shows the queue position while waiting, and Gradio disables its
            # retry and edit buttons while the answer is written
            "show_progress": "full",
            "show_progress_on": [ui.chatbot],
        }
        | limits.generation
        | limits.private
    )
    to_idle = {"fn": lambda: idle, "inputs": None, "outputs": buttons, "queue": False}
    to_idle |= limits.private
    quick = {"queue": False, "show_progress": "hidden"} | limits.private

    asked = gr.on(
        triggers=[ui.ask.click, ui.question.submit],
        fn=begin,
        inputs=[ui.question, ui.turns, ui.outlets, ui.since, ui.until],
        outputs=[ui.chatbot, ui.turns, ui.question, *buttons],
        validator=validate,  # Gradio runs validators for queued events only
        show_progress="hidden",
        **limits.free,
        **limits.private,
    )
    again = ui.chatbot.retry(regenerate, [ui.turns], [ui.chatbot, ui.turns, *buttons], **quick)
    edited = ui.chatbot.edit(
        with_gradio_args(gr, edit, evt="EditData"),
        [ui.turns],
        [ui.chatbot, ui.turns, *buttons],
        **quick,
    )
    for changed in (asked, again, edited):
        changed.success(**answer_options).then(**to_idle)
    # No Gradio-level cancels: a running answer draws its own end (stopped, or cleared),
    # so no late update of it can overwrite what these buttons show.
    ui.stop.click(
        with_gradio_args(gr, stop, request="Request"),
        [ui.turns],
        [ui.chatbot, ui.turns, ui.stored, *buttons],
        **quick,
    )
    gr.on(
        triggers=[ui.new.click, ui.chatbot.clear],
        fn=with_gradio_args(gr, forget, request="Request"),
        inputs=None,
        outputs=[ui.chatbot, ui.turns, ui.stored, *buttons],
        **quick,
    )
    ui.restore = {
        "fn": handlers.restore,
        "inputs": [ui.stored],
        "outputs": [ui.chatbot, ui.turns],
        **quick,
    }
