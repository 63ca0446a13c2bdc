"""The app in a real browser: chat with sources and a follow-up, Library upload, a brief
summary, the About tab, and article markup that must never reach the page as markup.

The tests share one app process and one browser tab and run in file order. The embedded
model is slow on small machines, hence the generous waits.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ANSWER_TIMEOUT = 900_000  # ms: the first answer also starts the embedded model (slow on a busy CPU)
SUMMARY_TIMEOUT = 900_000
INGEST_TIMEOUT = 180_000
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-ask.png"
RUN = uuid.uuid4().hex[:6]  # unique titles, so the tests also work against a reused app
PANEL_TITLE = re.compile(r"(Sources|Passages searched) \(\d+\)")
INJECTED_TITLE = f'Zorblax festival <img src=x onerror="window.__pwned=1"> draws crowds {RUN}'
INJECTED_TEXT = (
    "QUENTOWN — The Zorblax festival drew 5,000 visitors to Quentown on Saturday, "
    'organisers said. <script>window.__pwned = 2</script><div id="injected">INJECTED</div> '
    '[click me](javascript:window.__pwned=3) <b id="injected-b">bold claim</b>'
)

# Answer number n (1-based) is finished: no streaming cursor, no "Searching" placeholder.
ANSWER_DONE_JS = """(n) => {
  const answers = [...document.querySelectorAll('#news-rag-chat [data-testid="bot"]')]
    .filter((el) => !el.closest('.thought'));
  if (answers.length < n) return false;
  const text = answers[n - 1].innerText.trim();
  return text.length > 0 && !text.endsWith('▌') && !text.includes('Searching the articles');
}"""
ANSWERS_JS = """() => [...document.querySelectorAll('#news-rag-chat [data-testid="bot"]')]
  .filter((el) => !el.closest('.thought')).map((el) => el.innerText.trim())"""
NOTHING_INJECTED_JS = """() => ({
  pwned: window.__pwned === undefined ? null : window.__pwned,
  injected: document.querySelectorAll('#injected, #injected-b, img[src="x"]').length,
  jsLinks: [...document.querySelectorAll('a[href]')]
    .filter((a) => a.getAttribute('href').trim().toLowerCase().startsWith('javascript')).length,
})"""


def _open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def _ask(page, question: str, number: int) -> str:
    """Ask in the chat and return the text of answer ``number`` once it is complete."""
    page.fill("#question textarea", question)
    page.click("#ask-button")
    page.wait_for_function(ANSWER_DONE_JS, arg=number, timeout=ANSWER_TIMEOUT)
    return page.evaluate(ANSWERS_JS)[number - 1]


def _open_last_panel(page):
    """Expand the sources panel under the latest answer and return it."""
    title = page.locator("#news-rag-chat .thought .title").filter(has_text=PANEL_TITLE).last
    panel = page.locator("#news-rag-chat .thought").last
    first_source = panel.get_by_text(re.compile(r"\[\d+\]")).first
    for _ in range(5):  # the chat may re-render (closing the panel) as the event completes
        if first_source.is_visible():
            return panel
        title.click()
        page.wait_for_timeout(1_500)
    first_source.wait_for(timeout=5_000)
    return panel


def _assert_nothing_injected(page, dialogs: list[str]) -> None:
    assert page.evaluate(NOTHING_INJECTED_JS) == {"pwned": None, "injected": 0, "jsLinks": 0}
    assert dialogs == []


def test_chat_answers_with_sources_then_follows_up(page, screenshot, dialogs) -> None:
    answer = _ask(page, "What did Hegseth rule out?", 1)
    assert "NATO" in answer
    assert "Error" not in answer
    panel = _open_last_panel(page)
    assert "Munich" in panel.inner_text()
    links = panel.locator("a[href^='http']")
    assert links.count() >= 1
    page.wait_for_timeout(1_000)
    _open_last_panel(page)
    path = screenshot(page, "ask")
    DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS_SCREENSHOT)

    follow_up = _ask(page, "Did he also rule out sending US troops?", 2)
    assert "troop" in follow_up.lower()
    assert page.locator("#news-rag-chat .thought .title").count() == 2
    screenshot(page, "ask-follow-up")
    _assert_nothing_injected(page, dialogs)


def test_new_conversation_clears_the_chat(page) -> None:
    page.click("#new-conversation")
    page.wait_for_function(
        "() => document.querySelectorAll('#news-rag-chat [data-testid=\"bot\"]').length === 0"
    )


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
    page.locator("#ingest-status").get_by_text(re.compile(r"Added 1\b|replaced 1\b")).wait_for(
        timeout=INGEST_TIMEOUT
    )
    table = page.locator("#library-table")
    table.get_by_text(title).wait_for()
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
    )
    text = page.inner_text("#summary-output")
    body = text.split("The Meridian Post", 1)[-1]
    assert "Error" not in text
    assert len(body.strip()) > 40
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
    _ask(page, "How many visitors did the Zorblax festival draw?", 1)
    if page.locator("#news-rag-chat .thought .title").count():
        panel = _open_last_panel(page)
        assert "Zorblax" in panel.inner_text()
    _assert_nothing_injected(page, dialogs)
    screenshot(page, "injection-ask")
