"""The app in a real browser: chat with sources and a follow-up, Library upload, a brief
summary, the About tab, and article markup that must never reach the page as markup.
Screenshots go to ``test-artifacts/screenshots/`` (the README's come from a separate run).

The tests share one app process and one browser tab and run in file order. The embedded
model is slow on small machines, hence the generous waits.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from chat_page import (
    INGEST_TIMEOUT,
    PANEL_TITLE,
    POLL_MS,
    SUMMARY_TIMEOUT,
    answers,
    ask,
    open_last_panel,
    panels,
)

pytestmark = pytest.mark.e2e

RUN = uuid.uuid4().hex[:6]  # unique titles, so the tests also work against a reused app
INJECTED_TITLE = f'Zorblax festival <img src=x onerror="window.__pwned=1"> draws crowds {RUN}'
INJECTED_TEXT = (
    "QUENTOWN — The Zorblax festival drew 5,000 visitors to Quentown on Saturday, "
    'organisers said. <script>window.__pwned = 2</script><div id="injected">INJECTED</div> '
    '[click me](javascript:window.__pwned=3) <b id="injected-b">bold claim</b>'
)
NOTHING_INJECTED_JS = """() => ({
  pwned: window.__pwned === undefined ? null : window.__pwned,
  injected: document.querySelectorAll('#injected, #injected-b, img[src="x"]').length,
  jsLinks: [...document.querySelectorAll('a[href]')]
    .filter((a) => a.getAttribute('href').trim().toLowerCase().startsWith('javascript')).length,
})"""
MARKER_LINKS_JS = """() => [...document.querySelectorAll('#news-rag-chat [data-testid="bot"] a')]
  .filter((a) => /^\\[\\d+\\]$/.test(a.innerText.trim())).map((a) => a.href)"""


def _open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def _assert_nothing_injected(page, dialogs: list[str]) -> None:
    assert page.evaluate(NOTHING_INJECTED_JS) == {"pwned": None, "injected": 0, "jsLinks": 0}
    assert dialogs == []


def test_chat_answers_with_sources_then_follows_up(page, screenshot, dialogs) -> None:
    answer = ask(page, "What did Hegseth rule out?", 1)
    assert "NATO" in answer
    assert "Error" not in answer
    assert "cited no source" not in answer and "were added by matching" not in answer
    box = open_last_panel(page)
    assert "Munich" in box.inner_text()
    assert box.locator("a[href^='http']").count() >= 1
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", answer)]
    assert numbers and sorted(set(numbers)) == list(range(1, max(numbers) + 1))  # 1, 2, 3...
    title = next(t for t in panels(page) if t.startswith("Sources"))
    assert title == f"Sources ({max(numbers)})"
    assert page.evaluate(MARKER_LINKS_JS)  # [n] are links to their sources
    screenshot(page, "ask")

    follow_up = ask(page, "Did he also rule out sending US troops?", 2)
    assert "troop" in follow_up.lower()
    assert len(answers(page)) == 2
    assert len([t for t in panels(page) if PANEL_TITLE.match(t)]) == 2
    screenshot(page, "ask-follow-up")
    _assert_nothing_injected(page, dialogs)


def test_new_conversation_clears_the_chat(page) -> None:
    page.click("#new-conversation")
    page.wait_for_function(
        "() => document.querySelectorAll('#news-rag-chat [data-testid=\"bot\"]').length === 0"
    )
    page.reload()  # the browser forgot it too
    page.wait_for_selector("#question textarea")
    page.wait_for_timeout(2_000)
    assert answers(page) == []


def test_upload_a_file_in_the_library(page, screenshot, tmp_path: Path) -> None:
    story = tmp_path / "harbour-bridge.md"
    title = f"Quaymouth harbour bridge reopens after repair {RUN}"
    story.write_text(
        f"---\ntitle: {title}\nsource: Quaymouth Courier\n"
        "date: 2025-03-03\n---\n\nThe Quaymouth harbour bridge reopened on Monday after a "
        "two-year repair that cost 48 million euros, the city council said.\n",
        encoding="utf-8",
    )
    _open_tab(page, "Library")
    page.locator("#library-table").get_by_text("Vance and Zelenskyy meet in Munich").wait_for()
    page.set_input_files("#upload input[type=file]", str(story))
    page.wait_for_function(  # uploaded: the file is listed in the upload box
        "() => document.querySelector('#upload').innerText.includes('harbour-bridge.md')",
        timeout=INGEST_TIMEOUT,
    )
    page.click("#add-button")
    # "replaced 1" when NEWS_RAG_E2E_URL reuses an app that already has this file.
    status = page.locator("#ingest-status")
    status.get_by_text(re.compile(r"Added 1\b|replaced 1\b")).wait_for(timeout=INGEST_TIMEOUT)
    assert f"Stored: {title}" in status.inner_text()  # the status names what was added
    table = page.locator("#library-table")
    table.get_by_text(title).wait_for()
    first_row = table.locator(".virtual-row").first
    assert title in first_row.inner_text()  # and the table shows it first
    assert "Quaymouth Courier" in table.inner_text()
    assert re.search(r"\d+ articles · \d+ chunks", page.inner_text("#library-counts"))
    screenshot(page, "library")


def test_brief_summary(page, screenshot) -> None:
    _open_tab(page, "Summaries")
    page.click("#summary-article input")
    page.keyboard.type("Vance and Zelenskyy")
    page.get_by_role("option", name=re.compile("Vance and Zelenskyy meet in Munich")).click()
    page.locator("#summary-style").get_by_text(re.compile(r"^brief")).click()
    page.click("#summarize-button")
    page.wait_for_function(
        """() => {
          const text = document.querySelector('#summary-output').innerText;
          return text.includes('Vance and Zelenskyy meet in Munich') && !text.includes('▌')
            && !text.includes('Summarizing');
        }""",
        timeout=SUMMARY_TIMEOUT,
        polling=POLL_MS,
    )
    text = page.inner_text("#summary-output")
    body = text.split("Summary style: brief", 1)[-1]
    assert "Error" not in text
    assert len(body.strip()) > 40
    page.locator("#summary-export").get_by_text("Copy or download as Markdown").click()
    exported = page.input_value("#export-text textarea")
    assert exported.startswith("# Vance and Zelenskyy meet in Munich")
    screenshot(page, "summaries")


def test_about_shows_models_and_version(page, screenshot) -> None:
    _open_tab(page, "About")
    about = page.locator("#about")
    about.get_by_text("version").wait_for()
    text = about.inner_text()
    assert "0.1.0" in text and "embedder" in text and "llm" in text
    assert "api_key" not in text.lower()
    screenshot(page, "about")


def test_article_markup_is_shown_as_text_never_injected(page, screenshot, dialogs) -> None:
    _open_tab(page, "Library")
    page.get_by_text("Paste an article").click()
    page.fill("#paste-title textarea, #paste-title input", INJECTED_TITLE)
    page.fill("#paste-text textarea", INJECTED_TEXT)
    page.fill("#paste-source textarea, #paste-source input", "Quentown <i>Herald</i>")
    page.click("#paste-button")
    page.locator("#ingest-status").get_by_text(re.compile(r"Added 1")).wait_for(
        timeout=INGEST_TIMEOUT
    )
    # The table shows the title as typed, markup included, as plain text.
    cell = page.locator("#library-table").get_by_text(INJECTED_TITLE)
    cell.wait_for()
    cell.click()
    preview = page.locator("#article-preview")
    preview.get_by_text("INJECTED", exact=False).first.wait_for()
    assert "<script>window.__pwned = 2</script>" in preview.inner_text()
    assert '<div id="injected">INJECTED</div>' in preview.inner_text()
    _assert_nothing_injected(page, dialogs)
    screenshot(page, "injection-library")

    _open_tab(page, "Ask")
    page.click("#new-conversation")
    ask(page, "How many visitors did the Zorblax festival draw?", 1)
    if any(t.startswith("Sources") for t in panels(page)):
        box = open_last_panel(page)
        assert "Zorblax" in box.inner_text()
    _assert_nothing_injected(page, dialogs)
    screenshot(page, "injection-ask")
