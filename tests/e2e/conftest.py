"""Browser fixtures: Debian's chromium driven by the playwright package (never downloaded).

One app process and one browser serve a whole test module; screenshots go to
``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
APP_LOG_LINES = 60  # of a failed test's app log, shown in its report


@pytest.fixture(scope="module")
def app_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data folder of this module's app (its log is ``app.log`` there)."""
    return tmp_path_factory.mktemp("app-e2e") / "data"


@pytest.fixture(scope="module")
def app_url(start_app, app_data_dir: Path) -> Iterator[str]:
    """The real app (embedded models, samples ingested) for this module.

    NEWS_RAG_E2E_URL points the tests at an app that is already running instead (the tests
    add articles to it).
    """
    running = os.environ.get("NEWS_RAG_E2E_URL")
    if running:
        yield running
        return
    with start_app(app_data_dir) as url:
        yield url


@pytest.fixture(scope="module")
def app_log(app_url: str, app_data_dir: Path):
    """``app_log()``: the app's log so far (skips the test for an app started elsewhere)."""
    path = app_data_dir / "app.log"
    if os.environ.get("NEWS_RAG_E2E_URL") or not path.exists():
        pytest.skip("the app's log is only readable for an app these tests started")
    return lambda: path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory):
    """A headless chromium with a fresh profile."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def dialogs() -> list[str]:
    """Messages of every alert/confirm the page tried to open (must stay empty)."""
    return []


@pytest.fixture(scope="module")
def open_tab(browser_context, app_url: str, dialogs: list[str]):
    """``open_tab()``: a new tab on the app (every alert/confirm it opens is recorded)."""

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def open_one():
        tab = browser_context.new_page()
        tab.on("dialog", on_dialog)
        tab.goto(app_url, wait_until="load")
        tab.bring_to_front()  # the tab under test is the one the browser shows and paints
        tab.wait_for_selector("#question textarea")
        return tab

    return open_one


@pytest.fixture(scope="module")
def page(open_tab):
    """One tab on the app, shared by the module's tests (in file order)."""
    tab = open_tab()
    yield tab
    tab.close()


@pytest.fixture(scope="session")
def screenshot():
    """``screenshot(page, "ask")`` saves test-artifacts/screenshots/ask.png; returns the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(tab, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the test item (for the failure screenshot below); a
    failed test's report also shows the end of its app's log, with the app's busy threads."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)
    if report.when == "call" and report.failed:
        log = _app_log_tail(item)
        if log:
            report.sections.append(("app log (last lines, with its busy threads)", log))


def _app_log_tail(item, lines: int = APP_LOG_LINES) -> str:
    """The app's log after it was asked (SIGUSR1) to log what its threads are doing."""
    data_dir, url = item.funcargs.get("app_data_dir"), item.funcargs.get("app_url")
    start_app = item.funcargs.get("start_app")
    if data_dir is None or not (data_dir / "app.log").exists():
        return ""
    pid = getattr(start_app, "pids", {}).get(url)
    if pid is not None and hasattr(signal, "SIGUSR1"):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGUSR1)
            time.sleep(1.0)  # the app logs its stacks on its main thread's next turn
    text = (data_dir / "app.log").read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request: pytest.FixtureRequest):
    """Save test-artifacts/screenshots/FAILED-<test>.png when a browser test fails."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed or "page" not in request.fixturenames:
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab = request.getfixturevalue("page")
    tab.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}.png"), full_page=True)
