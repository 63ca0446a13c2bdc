"""The app's controls in a real browser: sources before words, Stop (while the model reads
and while it writes), a new conversation mid-answer, the chat's trash, regenerate, a reload
that keeps the conversation, refusals, the Library's delete with confirmation, input that is
kept when refused, summaries and digests (stop, style, progress) and a tab closed mid-digest.

Timings seen here (question -> sources shown, -> first words) are written to
``test-artifacts/timings.json``. The tests share one app and one tab, in file order.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from chat_page import (
    ANSWER_TIMEOUT,
    INGEST_TIMEOUT,
    POLL_MS,
    SUMMARY_TIMEOUT,
    WORKING_JS,
    answers,
    error_badge,
    panels,
    questions,
    submit,
    wait_answer,
)

pytestmark = pytest.mark.e2e

RUN = uuid.uuid4().hex[:6]
TIMINGS = Path(__file__).resolve().parents[2] / "test-artifacts" / "timings.json"
QUESTION = "What did Hegseth rule out?"
# Asked nowhere else in this module: the model server has no cached prompt for it, so the
# model is still reading its excerpts (seconds) when Stop is clicked. A repeated question
# reaches its first word within a second, and the test would race it.
UNREAD_QUESTION = "What did the privacy regulator say about the Halo glasses?"
SOURCES_SHOWN_JS = """() => [...document.querySelectorAll('#news-rag-chat .thought-group')]
  .some((box) => /Reading|Read /.test(box.innerText) && box.querySelector('li'))"""
WORDS_SHOWN_JS = """() => [...document.querySelectorAll('#news-rag-chat [data-testid="bot"]')]
  .some((el) => !el.querySelector('.thought-group') && el.innerText.trim().endsWith('▌'))"""


def _record(name: str, seconds: float) -> None:
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    data.setdefault(name, []).append(round(seconds, 2))
    TIMINGS.write_text(json.dumps(data, indent=2))


@pytest.fixture(scope="module")
def app_url(start_app, app_data_dir: Path) -> Iterator[str]:
    """This module's app, with the answer cache off: these tests stop and time live answers,
    which a question answered earlier in the module (served from the cache) would not give."""
    running = os.environ.get("NEWS_RAG_E2E_URL")
    if running:
        yield running
        return
    with start_app(app_data_dir, RAG_ANSWER_CACHE_SIZE="0") as url:
        yield url


def _wait(page, script: str, timeout: float = ANSWER_TIMEOUT) -> float:
    page.wait_for_function(script, timeout=timeout, polling=100)  # timed: poll finely
    return time.monotonic()


def _fresh(page) -> None:
    page.get_by_role("tab", name="Ask").click()
    page.click("#new-conversation")
    page.wait_for_function("() => !document.querySelector('#news-rag-chat [data-testid=\"user\"]')")


def ask(page, question: str) -> str:
    """Ask after the current answers and wait for the new answer."""
    count = len(answers(page))
    submit(page, question)
    return wait_answer(page, count + 1)


def _stopped(page) -> str:
    page.wait_for_function(
        """() => [...document.querySelectorAll('#news-rag-chat [data-testid="bot"]')]
          .some((el) => el.innerText.includes('(stopped)'))""",
        timeout=10_000,
    )
    page.locator("#ask-button").wait_for(state="visible", timeout=10_000)
    return answers(page)[-1]


def test_sources_show_before_the_first_word(page) -> None:
    _fresh(page)
    ask(page, "Warm-up: who met in Munich?")  # the first question also starts the model
    _fresh(page)
    asked = submit(page, QUESTION)
    sources_at = _wait(page, SOURCES_SHOWN_JS)
    assert not page.evaluate(WORDS_SHOWN_JS)  # the articles are listed before any word
    box = page.locator("#news-rag-chat .thought-group").last.inner_text()
    assert re.search(r"Reading .+ s", box)  # the stage with its seconds
    assert "The Meridian Post" in box or "Civic Wire" in box  # outlets of the articles read
    words_at = _wait(page, WORDS_SHOWN_JS)
    wait_answer(page, 1)
    _record("ask_to_sources_s", sources_at - asked)
    _record("ask_to_first_words_s", words_at - asked)
    assert sources_at - asked < 5  # retrieval takes milliseconds; the page shows it at once


def test_stop_while_reading_then_a_new_question_answers(page, app_log) -> None:
    _fresh(page)
    submit(page, UNREAD_QUESTION)
    _wait(page, SOURCES_SHOWN_JS)
    assert page.is_visible("#stop-button") and not page.is_visible("#ask-button")
    stopped_at = time.monotonic()
    page.click("#stop-button")
    assert _stopped(page) == "(stopped)"
    _record("stop_to_shown_s", time.monotonic() - stopped_at)
    assert "Read " in " ".join(panels(page))  # the sources found stay listed
    assert ask(page, "Who won the mayoral election?")  # the chat goes on normally
    assert not error_badge(page)
    assert questions(page) == [UNREAD_QUESTION, "Who won the mayoral election?"]
    assert re.search(r"question stopped \(stopped\): sources [\d.]+ s", app_log())


def test_stop_while_writing_keeps_the_words(page, app_log) -> None:
    _fresh(page)
    submit(page, QUESTION)
    _wait(page, WORDS_SHOWN_JS)
    page.wait_for_timeout(1_000)
    page.click("#stop-button")
    text = _stopped(page)
    assert text.endswith("(stopped)") and len(text) > len("(stopped)")
    assert "▌" not in text
    deadline = time.monotonic() + 30
    while "answer stream closed" not in app_log() and time.monotonic() < deadline:
        time.sleep(0.5)
    closed = re.findall(r"answer stream closed ([\d.]+) s after the stop", app_log())
    assert closed and float(closed[-1]) < 5  # the model was told to stop at once
    _record("stop_to_stream_closed_while_writing_s", float(closed[-1]))


def test_new_conversation_while_searching_then_ask_again(page) -> None:
    # bug: the new question never appeared and a red "Error" badge covered the chat
    _fresh(page)
    submit(page, QUESTION)
    page.wait_for_function(WORKING_JS, timeout=10_000)
    page.click("#new-conversation")
    page.wait_for_function(
        "() => !document.querySelector('#news-rag-chat [data-testid=\"user\"]')", timeout=10_000
    )
    answer = ask(page, "Who won the mayoral election?")
    assert answer and "Error" not in answer
    assert questions(page) == ["Who won the mayoral election?"]
    assert not error_badge(page)


def test_trash_clears_the_conversation_for_good(page) -> None:
    # bug: the trash icon cleared only the display; the next question brought it back
    assert questions(page) == ["Who won the mayoral election?"]
    page.locator("#news-rag-chat button[aria-label='Clear']").click()
    ask(page, "Why did the central bank cut rates?")
    assert questions(page) == ["Why did the central bank cut rates?"]


def test_regenerate_then_reload_keeps_the_conversation(page) -> None:
    first = answers(page)[-1]
    page.locator("#news-rag-chat button[aria-label='Retry']").last.click()
    page.wait_for_function(WORKING_JS, timeout=10_000)
    again = wait_answer(page, 1)
    assert again and questions(page) == ["Why did the central bank cut rates?"]
    assert first  # both answers came from the same question
    page.reload()
    page.wait_for_selector("#question textarea")
    page.wait_for_function(
        "() => document.querySelectorAll('#news-rag-chat [data-testid=\"user\"]').length === 1",
        timeout=10_000,
    )
    assert answers(page) == [again]


def test_edit_the_last_question_and_ask_again(page) -> None:
    page.locator("#news-rag-chat button[aria-label='Edit']").last.click()
    page.locator("#news-rag-chat textarea").first.fill("Who won the mayoral election?")
    page.get_by_role("button", name="Submit").click()
    # the old answer stays on screen until the edit is drawn: wait for the new question first
    page.wait_for_function(WORKING_JS, timeout=10_000)
    answer = wait_answer(page, 1)
    assert questions(page) == ["Who won the mayoral election?"] and answer


def test_a_refusal_is_said_once(page) -> None:
    # bug: every refusal printed "The articles don't say." twice
    _fresh(page)
    answer = ask(page, "What is the boiling point of mercury on Jupiter's moons?")
    assert answer.count("articles don't say") == 1


def test_too_long_question_and_refused_urls_are_kept(page) -> None:
    # bug: failed input was wiped (question box, URL box) and /etc/passwd shown as "passwd"
    long_question = "Why? " * 450
    page.fill("#question textarea", long_question)
    page.click("#ask-button")
    page.get_by_text(re.compile(r"too long \(\d+ characters\)")).first.wait_for(timeout=10_000)
    assert page.input_value("#question textarea") == long_question
    assert "2000 characters" in page.get_attribute("#question textarea", "placeholder")
    page.fill("#question textarea", "")

    page.get_by_role("tab", name="Library").click()
    page.fill("#urls textarea", "/etc/passwd")
    page.click("#add-button")
    status = page.locator("#ingest-status")
    status.get_by_text("/etc/passwd: not an http(s) URL").wait_for(timeout=INGEST_TIMEOUT)
    assert page.input_value("#urls textarea") == "/etc/passwd"
    page.fill("#urls textarea", "")


def test_delete_asks_first_and_clears_the_preview(page) -> None:
    # bug: deleting ended in an "Error" badge, the text stayed in the preview, and reading
    # a row also selected it for deletion
    title = f"Lowmoor approves cycling lane {RUN}"
    page.get_by_role("tab", name="Library").click()
    page.get_by_text("Paste an article").click()
    page.fill("#paste-title textarea, #paste-title input", title)
    page.fill("#paste-text textarea", "The Lowmoor council approved a cycling lane on Tuesday.")
    page.fill("#paste-source textarea, #paste-source input", "Lowmoor Gazette")
    page.click("#paste-button")
    page.locator("#ingest-status").get_by_text(f"Stored: {title}").wait_for(timeout=INGEST_TIMEOUT)
    page.locator("#library-table").get_by_text(title).click()
    page.locator("#article-preview").get_by_text("cycling lane on Tuesday").wait_for()
    assert title not in page.inner_text("#delete-picker")  # reading selected nothing
    page.click("#pick-button")
    page.locator("#delete-picker").get_by_text(title).wait_for()
    page.click("#delete-button")
    confirm = page.locator("#delete-confirm-text")
    confirm.get_by_text("This cannot be undone").wait_for()
    assert title in confirm.inner_text()
    page.click("#delete-no")  # cancel: nothing deleted
    page.locator("#delete-yes").wait_for(state="hidden")
    assert title in page.inner_text("#library-table")
    page.click("#delete-button")
    page.click("#delete-yes")
    page.locator("#ingest-status").get_by_text("Deleted 1 article").wait_for(timeout=INGEST_TIMEOUT)
    page.wait_for_function(
        "(t) => !document.querySelector('#library-table').innerText.includes(t)", arg=title
    )
    assert "cycling lane" not in page.inner_text("#article-preview")
    assert not error_badge(page)


def test_library_fits_a_phone(page, screenshot) -> None:
    page.get_by_role("tab", name="Library").click()
    page.locator("#library-table .virtual-row").first.wait_for()
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        page.wait_for_timeout(500)
        widths = page.evaluate(
            """() => Array.from(document.querySelector('#library-table .virtual-row')
              .querySelectorAll('.body-cell')).map((c) => c.offsetWidth).filter((w) => w > 0)"""
        )
        assert len(widths) == 3 and widths[0] >= 150  # title, outlet, date; a wide title
        screenshot(page, "library-phone")
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def _summaries(page) -> None:
    page.get_by_role("tab", name="Summaries").click()
    page.click("#summary-article input")
    page.keyboard.type("Vance and Zelenskyy")
    page.get_by_role("option", name=re.compile("Vance and Zelenskyy meet in Munich")).click()


def test_summary_can_be_stopped_and_names_its_style(page) -> None:
    # bug: the panel could show another style than the one selected (buttons stayed live)
    _summaries(page)
    page.locator("#summary-style").get_by_text(re.compile(r"^bullets")).click()
    page.click("#summarize-button")
    page.locator("#summary-stop").wait_for(state="visible")
    assert not page.is_visible("#summarize-button") and not page.is_visible("#digest-button")
    page.locator("#summary-output").get_by_text(re.compile(r"Summarizing… \d+ s")).wait_for()
    page.click("#summary-stop")
    page.locator("#summary-output").get_by_text("(stopped)").wait_for(timeout=10_000)
    page.locator("#summarize-button").wait_for(state="visible", timeout=10_000)
    page.locator("#summary-style").get_by_text(re.compile(r"^headline")).click()
    page.click("#summarize-button")
    page.wait_for_function(
        """() => document.querySelector('#summary-output').innerText.includes('headline')
          && !!document.querySelector('#summarize-button')""",
        timeout=SUMMARY_TIMEOUT,
        polling=POLL_MS,
    )
    text = page.inner_text("#summary-output")
    assert "Summary style: headline" in text and "bullets" not in text


def test_digest_shows_progress_and_lists_only_topical_articles(page, screenshot) -> None:
    # bug: a digest by topic included an unrelated article; its list was one run-on line
    page.get_by_role("tab", name="Summaries").click()
    page.fill("#digest-topic textarea", "Ukraine and NATO")
    page.fill("#digest-limit input[type=number]", "2")
    page.keyboard.press("Enter")
    page.click("#digest-button")
    page.locator("#summary-output").get_by_text(re.compile(r"article 1 of 2")).wait_for(
        timeout=SUMMARY_TIMEOUT
    )
    page.wait_for_function(
        "() => document.querySelector('#summary-output').innerText.includes('Articles')"
        " && !!document.querySelector('#digest-button')",
        timeout=SUMMARY_TIMEOUT,
        polling=POLL_MS,
    )
    listed = page.locator("#summary-output li").all_inner_texts()
    articles = [item for item in listed if re.match(r"\[\d\]", item)]
    assert len(articles) == 2  # one list item per article
    assert not any("Reserve Bank" in item for item in articles)
    screenshot(page, "digest")


def test_closing_the_tab_stops_its_digest(open_tab, app_log) -> None:
    # bug: a digest kept the model busy for minutes after its tab was gone
    other = open_tab()
    other.get_by_role("tab", name="Summaries").click()
    other.fill("#digest-topic textarea", "elections and voters")
    other.click("#digest-button")
    other.locator("#summary-output").get_by_text(re.compile(r"Summarizing article")).wait_for(
        timeout=SUMMARY_TIMEOUT
    )
    closed_at = time.monotonic()
    other.close()
    deadline = closed_at + 60
    while "stopped a digest of a closed browser tab" not in app_log():
        assert time.monotonic() < deadline, "the closed tab's digest was not stopped"
        time.sleep(0.5)
    _record("tab_closed_to_digest_stopped_s", time.monotonic() - closed_at)
