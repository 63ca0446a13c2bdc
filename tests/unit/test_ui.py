"""The web app's handlers, runs and formatting, against a scripted fake service (no models)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from rag.errors import IngestError, LLMUnavailableError, NotFoundError
from rag.ingest.article import Article
from rag.qa.answer import ABSTAIN_MESSAGE, Answer, Citation, Done, PassagesFound, Stage, Token
from rag.qa.citations import Flag
from rag.settings import load_settings
from rag.store.reports import ArticleInfo, IngestProgress, IngestReport, StoreStats
from rag.summaries.request import DigestRequest
from rag.summaries.results import Digest, DigestArticle, Summary
from rag.ui import app as ui_app
from rag.ui import chat
from rag.ui import format as fmt
from rag.ui import handlers as ui_handlers
from rag.ui import wiring as ui_wiring
from rag.ui.api import Api
from rag.ui.handlers import feedback as ui_feedback
from rag.ui.handlers.library import checked_locations
from rag.ui.runs import Run, Runs, Stopped, Tick
from rag.ui.server import ingest_samples_if_empty, launch_options

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]
EVIL_TITLE = '<script>window.__pwned=1</script><img src=x onerror="alert(1)"> Evil'
ANSWER_TEXT = "Hegseth ruled out NATO membership [1]. <b>bold</b>"


def _article(article_id: str, title: str, text: str, **extra: Any) -> Article:
    return Article(id=article_id, title=title, text=text, content_hash=f"h-{article_id}", **extra)


def _citation(number: int = 1, **extra: Any) -> Citation:
    values = {
        "article_id": "munich",
        "title": "Vance and Zelenskyy meet in Munich",
        "outlet": "The Meridian Post",
        "url": "https://meridian.example/munich",
        "published": "2025-02-14",
        "text": "Hegseth ruled out NATO membership for Ukraine.",
    } | extra
    return Citation(number=number, **values)


class FakeService:
    """The parts of NewsRAG the app calls, scripted; records every call.

    ``gate`` (when set) holds the answer stream before its first token until it is set,
    so a test can stop an answer while the model is still reading; ``pause`` holds it
    after the first words.
    """

    def __init__(self, tmp_path: Path, concurrency: int = 1) -> None:
        self.settings = load_settings(data_dir=tmp_path / "data", ui_concurrency=concurrency)
        self.calls: list[tuple[str, Any]] = []
        self.fail_next: Exception | None = None
        self.gate: threading.Event | None = None
        self.pause: threading.Event | None = None
        self.closed: list[str] = []
        self.articles = {
            "munich": _article(
                "munich",
                "Vance and Zelenskyy meet in Munich",
                "Hegseth ruled out NATO membership.\nSecond paragraph.",
                outlet="The Meridian Post",
                url="https://meridian.example/munich",
                published="2025-02-14",
                author="Ana Ruiz",
            ),
            "evil": _article(
                "evil",
                EVIL_TITLE,
                "<script>x()</script> [click](javascript:alert(2))",
                outlet="Bad <i>Wire</i>",
                url="javascript:alert(3)",
            ),
        }

    def _maybe_fail(self) -> None:
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc

    def stream_events(self, question: str, *, history=None, filters=None) -> Iterator[Any]:
        self.calls.append(
            ("stream", {"question": question, "history": history, "filters": filters})
        )
        self._maybe_fail()
        yield Stage("retrieving", "Searching the articles")
        if "weather" in question:
            yield PassagesFound([])
            yield Done(
                Answer(
                    question=question,
                    answer=ABSTAIN_MESSAGE,
                    standalone_question=question,
                    abstained=True,
                    abstain_reason="low_similarity",
                    abstain_note="The closest article is “Rates”.",
                )
            )
            return
        yield PassagesFound([_citation()])
        yield Stage("reading", "Reading 1 passages from 1 article")
        try:
            if self.gate is not None:
                self.gate.wait(10)
            yield Token("Hegseth ruled out ")
            if self.pause is not None:
                self.pause.wait(10)
            yield from (Token(t) for t in ("NATO membership [1]", ". "))
            yield Token("<b>bold</b>")
            yield Done(
                Answer(
                    question=question,
                    answer=ANSWER_TEXT,
                    citations=[_citation()],
                    passages=[_citation()],
                    standalone_question=question,
                    prompt_tokens=120,
                    completion_tokens=12,
                )
            )
        finally:
            self.closed.append(question)

    def stream_summary(self, article_id: str, *, style: str = "brief", refresh: bool = False):
        self.calls.append(("summary", (article_id, style)))
        self._maybe_fail()
        if article_id not in self.articles:
            raise NotFoundError(f"no article with id {article_id!r}", hint="news-rag list")
        yield "Vance met "
        yield "Zelenskyy."
        yield Summary(article_id=article_id, style=style, text="Vance met Zelenskyy <i>x</i>.")

    def stream_digest(self, request: DigestRequest, *, progress=None, refresh: bool = False):
        self.calls.append(("digest", request))
        self._maybe_fail()
        if progress:
            progress(0, 2, "")
            progress(1, 2, "Munich")
            progress(2, 2, "Evil")
        yield "- Talks [2]"
        yield Digest(
            text="- Talks in Munich [2]\n- Evil [5]",
            articles=[
                DigestArticle(n=2, article_id="munich", title="Munich", url="https://m.example/a"),
                DigestArticle(n=5, article_id="evil", title=EVIL_TITLE, url="javascript:x()"),
            ],
        )

    def get_article(self, article_id: str) -> Article:
        if article_id not in self.articles:
            raise NotFoundError(f"no article with id {article_id!r}", hint="news-rag list")
        return self.articles[article_id]

    def list_articles(self, outlet: str | None = None) -> list[ArticleInfo]:
        return [
            ArticleInfo(**a.model_dump(include=set(ArticleInfo.model_fields)), chunks=3)
            for a in self.articles.values()
            if outlet is None or a.outlet == outlet
        ]

    def stats(self) -> StoreStats:
        return StoreStats(
            articles=len(self.articles),
            chunks=3 * len(self.articles),
            mode="embedded",
            location="/data/chroma",
            collection="news",
        )

    def describe(self) -> dict[str, Any]:
        return {
            "version": "0.1.0",
            "llm": {"model": "qwen", "api_key": "sk-SECRET"},
            "embedder": "minilm",
            "store": "/data/chroma",
        }

    def ingest(self, locations, *, progress=None) -> IngestReport:
        self.calls.append(("ingest", list(locations)))
        self._maybe_fail()
        if progress:
            progress(
                IngestProgress(
                    articles=1,
                    chunks=4,
                    current="/tmp/up/a.txt",
                    locations_done=1,
                    locations_total=len(locations),
                )
            )
        failed = [(s, "unsupported file type") for s in locations if str(s).endswith(".pdf")]
        ok = len(list(locations)) - len(failed)
        self.articles["new"] = _article("new", "Harbour bridge reopens", "Text.")
        return IngestReport(
            added=ok, failed=failed, chunks_added=4 * ok, seconds=0.5, article_ids=["new"]
        )

    def ingest_text(self, text, title, *, outlet=None, url=None, published=None):
        self.calls.append(("ingest_text", (text, title, outlet, url, published)))
        self._maybe_fail()
        self.articles["pasted"] = _article("pasted", title, text, outlet=outlet)
        return IngestReport(added=1, chunks_added=1, article_ids=["pasted"])

    def delete(self, ids) -> int:
        self.calls.append(("delete", list(ids)))
        return sum(self.articles.pop(i, None) is not None for i in ids)

    def close(self) -> None:
        self.calls.append(("close", None))


@pytest.fixture
def service(tmp_path: Path) -> FakeService:
    return FakeService(tmp_path)


@pytest.fixture
def handlers(service: FakeService) -> ui_handlers.Handlers:
    return ui_handlers.Handlers(service, Runs(heartbeat=0.05))  # type: ignore[arg-type]


@pytest.fixture
def warnings_shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(ui_feedback, "warn", shown.append)
    return shown


def _ask(handlers, question, turns=None, outlets=None, since="", until="", session="s1"):
    """Ask like the page does: show the question, then stream; returns every update."""
    _, turns, box = handlers.begin(question, turns or [])
    assert box == ""
    return list(handlers.chat(turns, outlets, since, until, session))


def _answered(handlers, question, turns=None, **kwargs):
    """The final (messages, turns) after asking ``question``."""
    messages, turns, stored = _ask(handlers, question, turns, **kwargs)[-1]
    assert stored == turns
    return messages, turns


def _texts(messages: list[dict]) -> list[str]:
    return [m["content"] for m in messages]


# --- formatting -----------------------------------------------------------------------
def test_escape_md_neutralizes_html_and_markdown() -> None:
    text = fmt.escape_md("<script>alert(1)</script> [x](javascript:alert(2)) ![i](http://e/i.png)")
    assert "<" not in text and ">" not in text
    assert "&lt;script&gt;" in text
    assert "[" not in text.replace("\\[", "") and "(" not in text.replace("\\(", "")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a", "https://example.org/a"),
        ("http://example.org/a b)", "http://example.org/a%20b%29"),
        ("javascript:alert(1)", None),
        ("data:text/html,<b>", None),
        ("//evil.example/x", None),
        ("/relative", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url_allows_only_http(url: str | None, expected: str | None) -> None:
    assert fmt.safe_url(url) == expected


def test_sources_show_title_outlet_date_link_and_passage() -> None:
    text = fmt.format_passages(
        [_citation(), _citation(2, url="javascript:alert(1)", title="<b>T</b>")]
    )
    assert "**\\[1\\] Vance and Zelenskyy meet in Munich**" in text
    assert "The Meridian Post · 2025\\-02\\-14 · [link](https://meridian.example/munich)" in text
    assert "> Hegseth ruled out NATO membership for Ukraine\\." in text
    assert "javascript" not in text
    assert "&lt;b&gt;T&lt;/b&gt;" in text


def test_long_passages_are_shortened() -> None:
    text = fmt.format_passages([_citation(text="Word after word. " * 100)])
    assert text.endswith("…")
    assert len(text) < fmt.PASSAGE_CHARS + 300


def test_passages_show_whole_sentences_with_the_cited_one_in_bold() -> None:
    # chunks start and end mid-sentence; the answer quotes the middle sentence
    passage = "of the talks on Friday. Hegseth ruled out NATO membership. Kyiv was upset. It s"
    text = fmt.format_passages(
        [_citation(text=passage, quote="Hegseth ruled out NATO membership.")]
    )
    assert "> … **Hegseth ruled out NATO membership\\.** Kyiv was upset\\. …" in text
    assert "of the talks" not in text and "It s" not in text


def test_answer_markers_link_to_their_sources_with_the_cited_sentence() -> None:
    answer = Answer(
        question="q",
        answer="NATO [1]. <img src=x>",
        standalone_question="q",
        citations=[_citation(quote='He said "no".')],
    )
    assert fmt.format_answer(answer) == (
        'NATO [\\[1\\]](https://meridian.example/munich "Vance and Zelenskyy meet in Munich: '
        'He said ”no”\\.")\\. &lt;img src=x&gt;'
    )
    no_url = Answer(
        question="q", answer="NATO [1].", standalone_question="q", citations=[_citation(url="")]
    )
    assert fmt.format_answer(no_url) == "NATO **\\[1\\]**\\."


def test_citations_are_numbered_in_order_of_first_use() -> None:
    # bug: an answer cited "[3]" while the panel said "Sources (1)"
    answer = Answer(
        question="q",
        answer="First [3]. Second [1]. Again [3]. Unknown [9].",
        standalone_question="q",
        citations=[_citation(1, title="One"), _citation(3, title="Three")],
    )
    text, cited = fmt.cited_passages(answer)
    assert text == "First [1]. Second [2]. Again [1]. Unknown."
    assert [(c["number"], c["title"]) for c in cited] == [(1, "Three"), (2, "One")]
    messages = chat.render([chat.finished(chat.new_turn("q"), answer)])
    assert messages[1]["metadata"]["title"] == "Sources (2)"
    assert messages[1]["content"].index("\\[1\\] Three") < messages[1]["content"].index("\\[2\\]")
    assert "\\[3\\]" not in messages[2]["content"]


def test_refusal_is_said_once_with_the_closest_article() -> None:
    # bug: every refusal printed "The articles don't say." twice
    answer = Answer(
        question="q",
        answer=ABSTAIN_MESSAGE,
        standalone_question="q",
        abstained=True,
        abstain_note="The closest article is “Rates”.",
    )
    text = fmt.format_answer(answer)
    assert text.startswith("> **The articles don't say.**")
    assert text.count("articles don't say") == 1
    assert "The closest article is “Rates”\\." in text
    assert "Library" in text
    normal = fmt.format_answer(Answer(question="q", answer="Yes [1].", standalone_question="q"))
    assert "articles don't say" not in normal


def test_internal_checks_are_not_shown_to_readers() -> None:
    # bug: "Note: the model cited no source; citations were added by matching ..." was shown
    flags = [
        Flag(kind="inferred_citation", message="the model cited no source; citations were added"),
        Flag(kind="invalid_citation", message="citation [7] points to no source", number=7),
        Flag(kind="no_citation", message="the answer cites no source"),
    ]
    answer = Answer(question="q", answer="Yes.", standalone_question="q", flags=flags)
    text = fmt.format_answer(answer)
    assert "model cited" not in text and "points to no source" not in text
    assert text.endswith("*This answer cites no source: check it against the articles\\.*")


def test_lists_in_model_output_stay_lists() -> None:
    assert fmt.escape_block("Key points:\n- one *x*\n• two\n3) three") == (
        "Key points:\n- one \\*x\\*\n- two\n3\\. three"
    )


def test_digest_markers_link_to_their_articles_listed_one_per_line() -> None:
    # bug: the digest's "Articles" list rendered as one run-on line
    articles = [
        DigestArticle(n=1, article_id="a", title="A", url="https://a.example/1", outlet="Wire"),
        DigestArticle(n=2, article_id="b", title="B <i>", url="javascript:x"),
    ]
    text = fmt.format_digest("- Point [1]\n- Other [2]", articles, ["uncited article 2"])
    assert "- Point [\\[1\\]](https://a.example/1)" in text
    assert "- Other **\\[2\\]**" in text
    listing = text.split("**Articles**\n\n", 1)[1].splitlines()
    assert listing[:2] == [
        "- **\\[1\\]** [A](https://a.example/1) — Wire",
        "- **\\[2\\]** B &lt;i&gt;",
    ]
    assert "Check against the article: uncited article 2" in text
    assert "javascript" not in text


def test_summaries_and_digests_export_as_markdown() -> None:
    article = {"title": "T", "outlet": "S", "url": "https://s.example/t"}
    assert fmt.summary_markdown({"text": "Short <b>."}, article, "brief") == (
        "# T\n\nS · https://s.example/t\n\nSummary (brief):\n\nShort <b>.\n"
    )
    exported = fmt.digest_markdown("- A [1]", [{"n": 1, "title": "A", "outlet": "W"}], "D: x")
    assert exported == "# D: x\n\n- A [1]\n\n## Articles\n\n1. A — W\n"


def test_parse_range_validates_dates() -> None:
    assert fmt.parse_range("2025-02-01", " ") == (date(2025, 2, 1), None)
    with pytest.raises(ValueError, match="Since: '2025/02/01' is not a date"):
        fmt.parse_range("2025/02/01", "")
    with pytest.raises(ValueError, match="Until"):
        fmt.parse_range("", "2025-02-30")
    with pytest.raises(ValueError, match="after Until"):
        fmt.parse_range("2025-03-01", "2025-02-01")


def test_report_names_stored_titles_and_failures_as_given() -> None:
    # bug: "/etc/passwd" typed in the URL box was reported as "passwd"
    report = IngestReport(
        added=2,
        unchanged=1,
        chunks_added=9,
        seconds=1.25,
        failed=[("/tmp/gradio/abc/scan.pdf", "unsupported <type>"), ("/etc/passwd", "no URL")],
    )
    text, failures = fmt.format_report(report, ["Bridge <reopens>"], typed={"/etc/passwd"})
    assert text.startswith("Added **2** · replaced 0 · unchanged 1 · failed 2 · 9 new chunks")
    assert "- **Stored:** Bridge &lt;reopens&gt;" in text
    assert failures == ["scan.pdf: unsupported <type>", "/etc/passwd: no URL"]
    assert "&lt;type&gt;" in text


def test_describe_never_shows_credentials(service: FakeService) -> None:
    text = fmt.format_describe(service.describe(), service.stats())
    assert "SECRET" not in text and "api" not in text.lower()
    assert "| llm\\.model | qwen |" in text
    assert "| articles | 2 |" in text


def test_library_rows_show_the_author_and_recent_articles_first(service: FakeService) -> None:
    infos = service.list_articles()
    rows = fmt.article_rows(infos)
    assert rows[0] == [
        "Vance and Zelenskyy meet in Munich",
        "The Meridian Post",
        "Ana Ruiz",
        "2025-02-14",
        3,
        "munich",
    ]
    assert [r[-1] for r in fmt.article_rows(infos, recent=["evil"])] == ["evil", "munich"]
    assert fmt.outlet_choices(infos) == ["Bad <i>Wire</i>", "The Meridian Post"]
    assert fmt.article_label(infos[0]) == (
        "Vance and Zelenskyy meet in Munich — The Meridian Post, 2025-02-14"
    )


# --- runs ---------------------------------------------------------------------------------
def test_a_run_ticks_while_waiting_and_closes_its_stream_when_stopped() -> None:
    release, closed = threading.Event(), threading.Event()

    def slow() -> Iterator[str]:
        try:
            release.wait(5)
            yield "a"
            yield "b"  # never reached: the run is cancelled after "a"
        finally:
            closed.set()

    run = Run("answer", "s", heartbeat=0.02)
    items = run.items(slow)
    assert isinstance(next(items), Tick)  # the model is still "reading"
    run.cancel("stopped")
    assert list(items) == []  # the reader returns at once
    release.set()
    assert closed.wait(5)  # the worker closed the stream at its next item
    assert run.reason == "stopped" and not run.finished


def test_a_run_raises_the_worker_error_and_a_progress_post_stops_work() -> None:
    def failing() -> Iterator[str]:
        raise LLMUnavailableError("down")
        yield ""

    with pytest.raises(LLMUnavailableError, match="down"):
        list(Run("summary", None, heartbeat=0.02).items(failing))
    run = Run("digest", None)
    run.cancel("session closed")
    with pytest.raises(Stopped):
        run.post("progress")


def test_a_run_nobody_reads_stops_itself() -> None:
    produced: list[int] = []

    def endless() -> Iterator[int]:
        for n in range(1000):
            produced.append(n)
            time.sleep(0.01)
            yield n

    run = Run("answer", "s", heartbeat=0.01, stall_seconds=0.1)
    items = run.items(endless)
    next(items)  # the reader takes one item, then goes away (a closed connection)
    deadline = time.monotonic() + 5
    while run.reason is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert run.reason == "nobody is reading"
    assert len(produced) < 100


def test_runs_stop_refuses_a_request_still_waiting_in_the_queue() -> None:
    runs = Runs()
    asked = time.time()
    assert runs.stop("s1", ["answer"]) == []
    assert runs.start("answer", "s1", asked_at=asked) is None  # asked before the stop
    assert runs.start("answer", "s1", asked_at=time.time() + 1) is not None  # a new question
    assert runs.start("answer", "s2", asked_at=asked) is not None  # another tab


# --- Ask --------------------------------------------------------------------------------
def test_question_shows_at_once_then_sources_before_words_then_the_answer(
    handlers, service
) -> None:
    updates = _ask(handlers, "  What did Hegseth rule out?  ")
    first, final_turns, stored = updates[0]
    assert first[0] == {"role": "user", "content": "What did Hegseth rule out?"}
    assert final_turns is None and stored is None  # the state changes only at the end
    panels = [m[1] for m, _, _ in updates[:-1]]
    shown_sources = next(i for i, p in enumerate(panels) if "Vance and Zelenskyy" in p["content"])
    first_word = next(i for i, (m, _, _) in enumerate(updates) if m[-1]["content"].endswith("▌"))
    assert shown_sources < first_word
    assert panels[shown_sources]["metadata"]["status"] == "pending"
    title = panels[shown_sources]["metadata"]["title"]
    assert title.startswith("Reading 1 passage from 1 article… ")
    messages, turns, _ = updates[-1]
    assert messages[1]["metadata"] == {"title": "Sources (1)", "status": "done"}
    assert messages[2]["content"].startswith("Hegseth ruled out NATO membership [\\[1\\]](")
    assert "&lt;b&gt;" in messages[2]["content"]
    assert chat.history_pairs(turns) == [("What did Hegseth rule out?", ANSWER_TEXT)]
    assert service.calls[0] == (
        "stream",
        {"question": "What did Hegseth rule out?", "history": [], "filters": None},
    )


def test_follow_up_sends_history_and_filters(handlers, service) -> None:
    _, turns = _answered(handlers, "What did Hegseth rule out?")
    _ask(handlers, "And troops?", turns, ["The Meridian Post"], "2025-02-01", "")
    call = service.calls[-1][1]
    assert call["history"] == [("What did Hegseth rule out?", ANSWER_TEXT)]
    assert call["filters"].outlets == ["The Meridian Post"]
    assert str(call["filters"].since) == "2025-02-01" and call["filters"].until is None


def test_bad_questions_are_refused_before_asking_and_keep_the_box() -> None:
    # bug: a too-long question cleared the question box (a problem keeps it: no event runs)
    problems = ui_handlers.Handlers.question_problems
    assert problems("   ", [], "", "") == {"question": "Type a question first."}
    assert "too long (2001 characters)" in problems("x" * 2001, [], "", "")["question"]
    assert "YYYY-MM-DD" in problems("Who?", [], "14/02/2025", "")["since"]
    assert "after Until" in problems("Who?", [], "2025-03-01", "2025-02-01")["until"]
    assert "still being written" in problems("Who?", [chat.new_turn("Q")], "", "")["question"]
    assert problems("Who?", [], "", "") == {}


def test_refusal_is_shown_once_without_sources(handlers) -> None:
    messages, turns = _answered(handlers, "What is the weather on Mars?")
    assert len(messages) == 2  # no sources panel
    assert messages[-1]["content"].count("articles don't say") == 1
    assert chat.history_pairs(turns)[0][1] == ABSTAIN_MESSAGE


def test_llm_down_is_a_message_in_the_chat_and_chat_continues(
    handlers, service, warnings_shown
) -> None:
    service.fail_next = LLMUnavailableError(
        "the LLM at http://127.0.0.1:9 is not answering", hint="start it or set RAG_LLM_BASE_URL"
    )
    messages, turns = _answered(handlers, "What did Hegseth rule out?")
    assert messages[-1]["content"].startswith("**Error:** the LLM at http://127\\.0\\.0\\.1:9")
    assert "RAG\\_LLM\\_BASE\\_URL" in messages[-1]["content"]
    assert "Traceback" not in messages[-1]["content"]
    assert chat.history_pairs(turns) == []
    assert warnings_shown == ["the LLM at http://127.0.0.1:9 is not answering"]
    messages, turns = _answered(handlers, "What did Hegseth rule out?", turns)
    assert "NATO" in messages[-1]["content"] and len(chat.history_pairs(turns)) == 1


def test_unexpected_error_is_readable(handlers, service) -> None:
    service.fail_next = RuntimeError("boom")
    messages, _ = _answered(handlers, "Q?")
    assert messages[-1]["content"] == "**Something went wrong:** RuntimeError: boom"


def _until(updates: Iterator[Any], predicate) -> Any:
    for update in updates:
        if predicate(update):
            return update
    raise AssertionError("never happened")


def test_stop_while_reading_keeps_the_sources_and_frees_the_model(handlers, service) -> None:
    service.gate = threading.Event()  # the model "reads" until released
    _, turns, _ = handlers.begin("What did Hegseth rule out?", [])
    updates = handlers.chat(turns, [], "", "", "s1")
    _until(updates, lambda u: "Reading" in u[0][1]["metadata"]["title"])
    assert handlers.stop_answer(turns, "s1") == (None, None, None)  # the answer shows it
    messages, final, stored = list(updates)[-1]
    assert _texts(messages)[-1] == "*(stopped)*"
    assert messages[1]["metadata"]["title"] == "Read 1 article"
    assert final == stored and final[-1]["status"] == "stopped"
    service.gate.set()
    deadline = time.monotonic() + 5
    while not service.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert service.closed == ["What did Hegseth rule out?"]  # the model's stream was closed
    messages, turns = _answered(handlers, "Who met in Munich?", final)  # the chat goes on
    assert "NATO" in messages[-1]["content"] and turns[0]["status"] == "stopped"


def test_a_question_after_a_stop_says_the_model_finishes_the_stopped_one(handlers, service) -> None:
    service.gate = threading.Event()  # the stopped answer's model call is still reading
    _, turns, _ = handlers.begin("What did Hegseth rule out?", [])
    updates = handlers.chat(turns, [], "", "", "s1")
    _until(updates, lambda u: "Reading" in u[0][1]["metadata"]["title"])
    handlers.stop_answer(turns, "s1")
    *_, (_, final, _) = updates
    _, turns, _ = handlers.begin("Who met in Munich?", final)
    first = next(handlers.chat(turns, [], "", "", "s1"))[0]
    assert first[-1]["metadata"]["title"] == (
        "Searching the articles… 0 s (the model is finishing 1 earlier request first)"
    )
    service.gate.set()


def test_stop_while_streaming_keeps_what_was_written(handlers, service) -> None:
    service.pause = threading.Event()  # the model stops writing after its first words
    _, turns, _ = handlers.begin("What did Hegseth rule out?", [])
    updates = handlers.chat(turns, [], "", "", "s1")
    _until(updates, lambda u: u[0][-1]["content"].endswith("▌"))
    handlers.stop_answer(turns, "s1")
    messages, final, _ = list(updates)[-1]
    service.pause.set()
    assert _texts(messages)[-1] == "Hegseth ruled out *(stopped)*"
    assert final[-1]["partial"] == "Hegseth ruled out "
    assert chat.history_pairs(final) == []  # a stopped answer is not sent to the model


def test_stop_while_waiting_in_the_queue_shows_it_stopped_and_never_asks(handlers, service) -> None:
    _, turns, _ = handlers.begin("What did Hegseth rule out?", [])
    messages, turns, _ = handlers.stop_answer(turns, "s1")  # nothing runs yet
    assert _texts(messages) == ["What did Hegseth rule out?", "*(stopped)*"]
    queued = [chat.new_turn("What did Hegseth rule out?") | {"asked": time.time() - 1}]
    handlers.runs.stop("s1", ["answer"])
    assert list(handlers.chat(queued, [], "", "", "s1")) == []
    assert service.calls == []


def test_new_conversation_while_searching_then_a_new_question_works(handlers, service) -> None:
    # bug: "New conversation" while "Searching..." then asking again showed an Error badge
    service.gate = threading.Event()
    _, turns, _ = handlers.begin("What did Hegseth rule out?", [])
    updates = handlers.chat(turns, [], "", "", "s1")
    next(updates)
    assert handlers.new_conversation("s1") == (None, None, None)  # the answer clears itself
    assert next(updates) == ([], [], [])
    assert list(updates) == []
    service.gate.set()
    messages, turns = _answered(handlers, "Who met in Munich?")
    assert _texts(messages)[0] == "Who met in Munich?" and len(turns) == 1
    assert service.calls[-1][1]["history"] == []
    assert handlers.new_conversation("s1") == ([], [], [])  # nothing running: cleared now


def test_regenerate_and_edit_ask_again(handlers, service) -> None:
    _, turns = _answered(handlers, "What did Hegseth rule out?")
    _, turns = _answered(handlers, "And troops?", turns)
    messages, again = handlers.regenerate(turns)
    assert again[-1]["status"] == "pending" and again[-1]["question"] == "And troops?"
    assert len(again) == 2 and messages[-1]["metadata"]["title"] == "Waiting for the model…"
    _, edited = handlers.edit(turns, 0, "  Who is Hegseth? ")
    assert [t["question"] for t in edited] == ["Who is Hegseth?"]
    assert edited[0]["status"] == "pending"
    list(handlers.chat(edited, [], "", "", "s1"))
    assert service.calls[-1][1] == {"question": "Who is Hegseth?", "history": [], "filters": None}


def test_edit_to_nothing_is_refused(handlers, warnings_shown) -> None:
    _, turns = _answered(handlers, "What did Hegseth rule out?")
    _, unchanged = handlers.edit(turns, 0, "   ")
    assert unchanged == turns and warnings_shown == ["Type a question first."]


def test_conversation_is_restored_from_the_browser(handlers) -> None:
    _, turns = _answered(handlers, "What did Hegseth rule out?")
    messages, restored = handlers.restore(chat.stored_turns(turns))
    assert restored == turns and _texts(messages)[0] == "What did Hegseth rule out?"
    assert handlers.restore("not a list") == ([], [])
    assert chat.stored_turns([*turns, chat.new_turn("pending")]) == turns


def test_conversation_kept_before_the_outlet_rename_still_names_outlets(handlers) -> None:
    cited = {
        "number": 1,
        "article_id": "a",
        "title": "Vote",
        "source": "Civic Wire",
        "published": "2025-02-14",
        "text": "Ruiz won.",
        "quote": "Ruiz won.",
    }
    kept = [
        {
            "question": "Who won?",
            "status": chat.DONE,
            "answer": {"answer": "Ruiz won [1].", "citations": [cited], "abstained": False},
        }
    ]
    messages, _ = handlers.restore(kept)
    assert any("Civic Wire" in text for text in _texts(messages))


def test_closed_tab_stops_its_work_only(handlers, service) -> None:
    # bug: work continued after the browser tab closed
    service.gate = threading.Event()
    _, turns, _ = handlers.begin("What did Hegseth rule out?", [])
    mine, other = handlers.chat(turns, [], "", "", "gone"), handlers.chat(turns, [], "", "", "s2")
    next(mine), next(other)
    handlers.end_session("gone")
    assert [r.session for r in handlers.runs.active(None)] == []
    assert [r.session for r in handlers.runs.active("s2")] == ["s2"]
    service.gate.set()
    assert next(mine)[1][-1]["status"] == "stopped"
    assert list(other)[-1][1][-1]["status"] == "done"


# --- Summaries ----------------------------------------------------------------------------
def test_summary_names_its_article_and_style_and_exports(handlers, service) -> None:
    # bug: the summary panel could show another style than the one selected
    steps = list(handlers.summarize("munich", "bullets", "s1"))
    shown = [markdown for markdown, _ in steps]
    assert shown[0].startswith("### Vance and Zelenskyy meet in Munich\nThe Meridian Post")
    assert all("*Summary style: bullets \\(" in markdown for markdown in shown)
    assert any(markdown.endswith("Vance met  ▌") for markdown in shown)
    assert shown[-1].endswith("Vance met Zelenskyy &lt;i&gt;x&lt;/i&gt;\\.")
    assert [export for _, export in steps[:-1]] == [None] * (len(steps) - 1)
    assert steps[-1][1].startswith("# Vance and Zelenskyy meet in Munich\n")
    assert service.calls == [("summary", ("munich", "bullets"))]


def test_summary_of_missing_article_is_a_message(handlers, warnings_shown) -> None:
    assert list(handlers.summarize(None, "brief")) == [("Pick an article and a style first.", None)]
    assert warnings_shown == ["Pick an article first."]
    [(text, _)] = list(handlers.summarize("gone", "brief"))
    assert text == (
        "**Error:** no article with id 'gone'\n\nrefresh the Library tab to see the articles "
        "stored now"
    )


def test_digest_shows_progress_per_article_and_links_markers(handlers, service) -> None:
    steps = list(handlers.digest("Ukraine", "The Meridian Post", "2025-02-01", "", 3, "s1"))
    assert service.calls == [
        (
            "digest",
            DigestRequest(
                topic="Ukraine",
                outlet="The Meridian Post",
                since=date(2025, 2, 1),
                until=None,
                limit=3,
            ),
        )
    ]
    shown = "\n".join(markdown for markdown, _ in steps)
    assert "Summarizing article 1 of 2" in shown and "Summarizing article 2 of 2" in shown
    final, export = steps[-1]
    assert final.startswith("### Digest: Ukraine")
    assert "[\\[2\\]](https://m.example/a)" in final
    assert "**\\[5\\]**" in final and "<script>" not in final
    assert export.startswith("# Digest: Ukraine\n")


def test_digest_with_bad_dates_does_not_run(handlers, service, warnings_shown) -> None:
    steps = list(handlers.digest("", "", "", "yesterday", 5))
    assert service.calls == [] and "Until" in warnings_shown[0] and "Error" in steps[-1][0]


def test_stopping_a_summary_waiting_in_the_queue(handlers, service) -> None:
    asked = time.time() - 1
    assert handlers.stop_summaries("s1") == "*(stopped)* Nothing was written yet."
    assert list(handlers.summarize("munich", "brief", "s1", asked)) == []
    assert service.calls == []


# --- Library --------------------------------------------------------------------------------
def test_ingest_names_the_added_articles_and_keeps_refused_urls(
    handlers, service, warnings_shown
) -> None:
    # bug: refused URLs were cleared from the URL box and nothing named the added article
    updates: list[tuple[Any, str]] = []
    text, kept, added = handlers.ingest(
        ["/tmp/up/a.txt", "/tmp/up/scan.pdf"],
        "https://example.org/feed.xml\n/etc/passwd\n\n",
        progress=lambda value, desc=None: updates.append((value, desc)),
    )
    assert service.calls == [
        ("ingest", ["/tmp/up/a.txt", "/tmp/up/scan.pdf", "https://example.org/feed.xml"])
    ]
    assert updates == [((1, 3), "1 articles, 4 chunks: a.txt")]
    assert text.startswith("Added **2**")
    assert "- **Stored:** Harbour bridge reopens" in text
    assert "/etc/passwd: not an http\\(s\\) URL" in text
    assert "scan\\.pdf: unsupported file type" in text
    assert kept == "/etc/passwd" and added == ["new"]
    assert warnings_shown[0].startswith("2 source(s) could not be added")


def test_ingest_without_sources_is_a_message(handlers, service, warnings_shown) -> None:
    assert "Nothing to add" in handlers.ingest(None, "  ")[0]
    assert service.calls == [] and warnings_shown


def test_ingest_error_becomes_a_gradio_error(handlers, service) -> None:
    import gradio as gr

    service.fail_next = IngestError("file too big: 31 MB > 20 MB")
    with pytest.raises(gr.Error, match="file too big"):
        handlers.ingest(["/tmp/big.txt"], "")


def test_ingest_text_needs_title_and_text(handlers, service, warnings_shown) -> None:
    assert "Nothing added" in handlers.ingest_text("", "body", "", "", "")[0]
    text, added = handlers.ingest_text(" A title ", " Body ", " Wire ", "", "2025-02-01")
    assert service.calls == [("ingest_text", ("Body", "A title", "Wire", None, "2025-02-01"))]
    assert text.startswith("Added **1**") and "**Stored:** A title" in text
    assert added == ["pasted"]


def test_library_refresh_lists_articles_and_outlets(handlers) -> None:
    lists = handlers.library(["evil"])
    assert lists["outlets"] == ["Bad <i>Wire</i>", "The Meridian Post"]
    assert (
        "Vance and Zelenskyy meet in Munich — The Meridian Post, 2025-02-14",
        "munich",
    ) in lists["articles"]
    assert [row[-1] for row in lists["rows"]] == ["evil", "munich"]
    assert lists["counts"].startswith("**2 articles · 6 chunks**")
    assert lists["ids"] == {"munich", "evil"}


def test_reading_a_row_selects_nothing_and_shows_the_author(handlers) -> None:
    # bug: clicking a row to read an article also selected it for deletion
    preview, article_id = handlers.read_row([EVIL_TITLE, "", "", "", 3, "evil"])
    assert article_id == "evil"
    assert "<script>" not in preview and "<img" not in preview
    assert "&lt;script&gt;x\\(\\)&lt;/script&gt;" in preview
    assert "javascript" not in preview.replace("javascript:alert\\(2\\)", "")
    assert "By Ana Ruiz" in handlers.read_row(["", "", "", "", 3, "munich"])[0]
    assert handlers.select_for_deletion("evil", ["munich"]) == ["munich", "evil"]
    assert handlers.select_for_deletion("evil", ["evil"]) == ["evil"]


def test_delete_asks_first_then_clears_what_was_deleted(handlers, service, warnings_shown) -> None:
    # bug: deleting ended in an Error badge and left the deleted article in the preview
    assert handlers.confirm_delete([]) is None and warnings_shown
    question = handlers.confirm_delete(["evil"])
    assert question.startswith("**Delete 1 article?** This cannot be undone.")
    assert "&lt;script&gt;" in question
    assert service.calls == []  # nothing deleted before the confirmation
    assert handlers.delete(["evil"], "evil") == ("Deleted **1** article.", "", None)
    assert handlers.delete(["munich"], "other") == ("Deleted **1** article.", None, "other")
    assert service.calls == [("delete", ["evil"]), ("delete", ["munich"])]
    assert handlers.delete([], None)[0] == "Nothing deleted: no article selected."


def test_about_shows_status_without_secrets(handlers) -> None:
    text = handlers.about()
    assert "qwen" in text and "SECRET" not in text


# --- API handlers ---------------------------------------------------------------------------
@pytest.fixture
def api(service: FakeService) -> Api:
    return Api(service, Runs(heartbeat=0.05))  # type: ignore[arg-type]


def test_api_ask_lists_sources_first_then_streams_then_returns_citations(api) -> None:
    results = list(api.ask("What did Hegseth rule out?", [["a", "b"]], ["X"], "", ""))
    assert results[0]["done"] is False and results[0]["answer"] == ""
    assert results[0]["sources"][0]["title"] == "Vance and Zelenskyy meet in Munich"
    assert results[1] == {"answer": "Hegseth ruled out ", "done": False}
    final = results[-1]
    assert final["done"] is True and final["abstained"] is False
    assert final["citations"][0]["title"] == "Vance and Zelenskyy meet in Munich"
    assert final["citations"][0]["url"] == "https://meridian.example/munich"


def test_api_stop_ends_the_stream_with_what_was_written(api, service) -> None:
    service.gate = threading.Event()
    stream = api.ask("What did Hegseth rule out?", session="c1")
    assert next(stream)["sources"]
    assert api.stop("c1") == {"stopped": 1}
    assert next(stream) == {
        "answer": "",
        "sources": answer_sources(),
        "done": True,
        "stopped": True,
    }
    assert api.stop("c1") == {"stopped": 0}
    service.gate.set()


def answer_sources() -> list[dict]:
    return fmt.answer_to_dict({"sources": [_citation()]})["sources"]


def test_api_errors_are_gradio_errors_with_api_hints(api, service) -> None:
    import gradio as gr

    with pytest.raises(gr.Error, match="question is empty"):
        list(api.ask("  "))
    with pytest.raises(gr.Error, match="not a date"):
        list(api.ask("Q?", since="Feb 1"))
    service.fail_next = LLMUnavailableError("LLM down")
    with pytest.raises(gr.Error, match="LLM down"):
        list(api.summarize("munich"))
    # bug: the not-found hint told an API caller to run a CLI command
    with pytest.raises(gr.Error, match="/list_articles endpoint") as error:
        list(api.summarize("gone"))
    assert "news-rag" not in str(error.value)


def test_api_library_endpoints(api, service) -> None:
    assert [a["id"] for a in api.list_articles()] == ["munich", "evil"]
    assert api.list_articles("The Meridian Post")[0]["author"] == "Ana Ruiz"
    assert api.ingest_text("body", "T")["article_ids"] == ["pasted"]
    assert api.ingest(["/tmp/a.md"], "")["added"] == 1
    assert api.delete(["pasted", "nope"]) == {"deleted": 1}
    digest = list(api.digest(topic="x"))[-1]
    assert digest["done"] and digest["articles"][0]["n"] == 2


def test_api_summary_and_digest_stream_their_text_then_the_result(api) -> None:
    summary = list(api.summarize("munich", "bullets"))
    assert summary[:-1] == [
        {"text": "Vance met ", "done": False},
        {"text": "Vance met Zelenskyy.", "done": False},
    ]
    assert summary[-1]["done"] is True and summary[-1]["style"] == "bullets"
    assert summary[-1]["text"] == "Vance met Zelenskyy <i>x</i>."
    digest = list(api.digest("Ukraine", limit=3))
    assert digest[:-1] == [{"text": "- Talks [2]", "done": False}]  # no progress steps
    assert digest[-1]["done"] is True and digest[-1]["text"].startswith("- Talks in Munich")


def test_api_stop_ends_a_digest_with_what_it_wrote(api, service) -> None:
    release = threading.Event()
    stream_digest = service.stream_digest

    def slow(request, *, progress=None, refresh=False):
        yield "- Talks"
        release.wait(5)
        yield from stream_digest(request, progress=progress)

    service.stream_digest = slow
    stream = api.digest(topic="x", session="c1")
    assert next(stream) == {"text": "- Talks", "done": False}
    assert api.stop("c1") == {"stopped": 1}
    assert next(stream) == {"text": "- Talks", "done": True, "stopped": True}
    release.set()


# --- the app as a whole -------------------------------------------------------------------
def test_build_app_names_endpoints_and_limits_generation(tmp_path: Path) -> None:
    service = FakeService(tmp_path, concurrency=2)
    demo = ui_app.build_app(service)  # type: ignore[arg-type]
    public = {fn.api_name: fn for fn in demo.fns.values() if fn.api_visibility == "public"}
    assert set(public) == {
        "ask",
        "summarize",
        "digest",
        "stop",
        "ingest",
        "ingest_text",
        "list_articles",
        "delete",
    }
    for name in ("ask", "summarize", "digest"):
        assert public[name].concurrency_limit == 2
        assert public[name].concurrency_id == ui_wiring.GENERATION
    for name in ("ingest", "ingest_text", "delete"):
        assert public[name].concurrency_limit == 1
        assert public[name].concurrency_id == ui_wiring.LIBRARY_WRITE
    assert public["list_articles"].concurrency_limit is None
    assert not public["stop"].queue  # a stop never waits behind the work it stops
    answers = [fn for fn in demo.fns.values() if fn.name == "answer"]
    assert len(answers) == 3  # after Ask, regenerate and edit
    assert all(fn.concurrency_id == ui_wiring.GENERATION for fn in answers)
    assert all(fn.concurrency_limit == 2 for fn in answers)
    assert demo._queue.max_size == ui_app.QUEUE_MAX_SIZE
    info = demo.get_api_info()["named_endpoints"]
    assert [p["parameter_name"] for p in info["/ask"]["parameters"]] == [
        "question",
        "history",
        "sources",
        "since",
        "until",
    ]


def test_the_chat_trash_and_a_closed_tab_are_wired(tmp_path: Path) -> None:
    # bug: the chat's trash icon cleared only the display; the old history was still sent
    demo = ui_app.build_app(FakeService(tmp_path))  # type: ignore[arg-type]
    by_name = {}
    for fn in demo.fns.values():
        for _, event in fn.targets:
            by_name.setdefault(event, set()).add(fn.name)
    assert "forget" in by_name["clear"]
    assert "closed" in by_name["unload"]
    forget = next(fn for fn in demo.fns.values() if fn.name == "forget")
    assert {type(o).__name__ for o in forget.outputs} >= {"Chatbot", "State", "BrowserState"}


def test_launch_options_from_settings(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, ui_auth="ann:pa:ss", ui_port=8123, max_file_mb=1)
    options = launch_options(settings)
    assert options["auth"] == ("ann", "pa:ss")
    assert options["server_port"] == 8123 and options["server_name"] == "127.0.0.1"
    assert options["ssr_mode"] is False and options["share"] is False
    assert options["max_file_size"] == 1024 * 1024
    assert launch_options(load_settings(data_dir=tmp_path))["auth"] is None


def test_samples_are_ingested_only_into_an_empty_store(tmp_path: Path, monkeypatch) -> None:
    samples = tmp_path / "samples"
    samples.mkdir()
    (samples / "a.txt").write_text("Title\n\nBody.")
    monkeypatch.chdir(tmp_path)
    service = FakeService(tmp_path)
    ingest_samples_if_empty(service, service.settings)  # 2 articles: nothing to do
    assert service.calls == []
    service.articles.clear()
    ingest_samples_if_empty(service, load_settings(data_dir=tmp_path, ingest_samples=False))
    assert service.calls == []
    ingest_samples_if_empty(service, service.settings)
    assert service.calls == [("ingest", [samples])]


def test_importing_the_app_does_not_import_gradio() -> None:
    code = "import sys, app; print('gradio' in sys.modules, callable(app.build_app))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]


def test_the_app_checks_uploads_and_urls() -> None:
    sources, refused = checked_locations(["/"], "https://a.example/x\nnot a url")
    assert sources == ["https://a.example/x"]
    assert [reason for _, reason in refused] == [
        "not an uploaded file (a folder or a device)",
        "not an http(s) URL (only web addresses go in the URL box)",
    ]
