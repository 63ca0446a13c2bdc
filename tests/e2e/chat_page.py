"""What the browser tests read and do on the Ask tab: answers, the sources box, asking.

In the chat each answer is a group of bot messages: a collapsible box (the sources, or
while the model works the stage with its seconds) and then the answer text.
"""

from __future__ import annotations

import re
import time

ANSWER_TIMEOUT = 600_000  # ms: the first answer also starts the embedded model (slow on a busy CPU)
SUMMARY_TIMEOUT = 900_000
INGEST_TIMEOUT = 180_000
# Long waits poll on a timer: the default polls on animation frames, which a page the
# browser is not painting (a background tab, a stalled compositor) never runs.
POLL_MS = 250
PANEL_TITLE = re.compile(r"(Sources|Passages searched) \(\d+\)")

ANSWERS_JS = """() => [...document.querySelectorAll('#news-rag-chat [data-testid="bot"]')]
  .filter((el) => !el.querySelector('.thought-group')).map((el) => el.innerText.trim())"""
PANELS_JS = """() => [...document.querySelectorAll('#news-rag-chat .thought-group .title')]
  .map((el) => el.innerText.trim())"""
QUESTIONS_JS = """() => [...document.querySelectorAll('#news-rag-chat [data-testid="user"]')]
  .map((el) => el.innerText.trim())"""
# Answer number n (1-based) is finished: text without the cursor, nothing still working.
ANSWER_DONE_JS = """(n) => {
  const answers = [...document.querySelectorAll('#news-rag-chat [data-testid="bot"]')]
    .filter((el) => !el.querySelector('.thought-group'));
  if (answers.length < n) return false;
  const text = answers[n - 1].innerText.trim();
  return text.length > 0 && !text.endsWith('▌')
    && !document.querySelector('#news-rag-chat .thought-group .loading-spinner');
}"""
WORKING_JS = """() => !!document.querySelector('#news-rag-chat .thought-group .loading-spinner')"""
ERROR_BADGE_JS = """() => [...document.querySelectorAll('.error, [data-testid="status-tracker"]')]
  .some((el) => el.offsetParent !== null && /\\bError\\b/.test(el.innerText))"""


def answers(page) -> list[str]:
    """The answer texts in the chat, in order (without their sources boxes)."""
    return page.evaluate(ANSWERS_JS)


def panels(page) -> list[str]:
    """The titles of the chat's boxes (sources, or what the model is doing)."""
    return page.evaluate(PANELS_JS)


def questions(page) -> list[str]:
    """The questions in the chat, in order."""
    return page.evaluate(QUESTIONS_JS)


def submit(page, question: str) -> float:
    """Type and send a question; returns the time it was sent (``time.monotonic()``)."""
    page.fill("#question textarea", question)
    page.click("#ask-button")
    return time.monotonic()


def wait_answer(page, number: int, timeout: float = ANSWER_TIMEOUT) -> str:
    """The text of answer ``number`` once it is finished."""
    page.wait_for_function(ANSWER_DONE_JS, arg=number, timeout=timeout, polling=POLL_MS)
    return answers(page)[number - 1]


def ask(page, question: str, number: int) -> str:
    """Ask in the chat and return the text of answer ``number`` once it is complete."""
    submit(page, question)
    return wait_answer(page, number)


def open_last_panel(page):
    """Expand the sources box of the latest answer and return it."""
    title = page.locator("#news-rag-chat .thought-group .title").filter(has_text=PANEL_TITLE).last
    box = page.locator("#news-rag-chat .thought-group").filter(has_text=PANEL_TITLE).last
    first_source = box.get_by_text(re.compile(r"\[\d+\]")).first
    for _ in range(5):  # the chat may re-render (closing the box) as the event completes
        if first_source.is_visible():
            return box
        title.click()
        page.wait_for_timeout(1_500)
    first_source.wait_for(timeout=5_000)
    return box


def error_badge(page) -> bool:
    """True when a red "Error" status shows anywhere on the page."""
    return page.evaluate(ERROR_BADGE_JS)
