"""The web app's handlers and formatting, against a scripted fake service (no models)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from rag.documents import Article
from rag.errors import IngestError, LLMUnavailableError, NotFoundError
from rag.qa import ABSTAIN_MESSAGE, Answer, Citation
from rag.settings import load_settings
from rag.store import ArticleInfo, IngestProgress, IngestReport, StoreStats
from rag.summarize import Digest, DigestArticle, Summary
from rag.ui import app as ui_app
from rag.ui import format as fmt

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]
EVIL_TITLE = '<script>window.__pwned=1</script><img src=x onerror="alert(1)"> Evil'


def _article(article_id: str, title: str, text: str, **extra: Any) -> Article:
    return Article(id=article_id, title=title, text=text, content_hash=f"h-{article_id}", **extra)


def _citation(number: int = 1, **extra: Any) -> Citation:
    values = {
        "article_id": "munich",
        "title": "Vance and Zelenskyy meet in Munich",
        "source": "The Meridian Post",
        "url": "https://meridian.example/munich",
        "published": "2025-02-14",
        "text": "Hegseth ruled out NATO membership for Ukraine.",
    } | extra
    return Citation(number=number, **values)


class FakeService:
    """The parts of NewsRAG the app calls, scripted; records every call."""

    def __init__(self, tmp_path: Path, concurrency: int = 1) -> None:
        self.settings = load_settings(data_dir=tmp_path / "data", ui_concurrency=concurrency)
        self.calls: list[tuple[str, Any]] = []
        self.fail_next: Exception | None = None
        self.articles = {
            "munich": _article(
                "munich",
                "Vance and Zelenskyy meet in Munich",
                "Hegseth ruled out NATO membership.\nSecond paragraph.",
                source="The Meridian Post",
                url="https://meridian.example/munich",
                published="2025-02-14",
            ),
            "evil": _article(
                "evil",
                EVIL_TITLE,
                "<script>x()</script> [click](javascript:alert(2))",
                source="Bad <i>Wire</i>",
                url="javascript:alert(3)",
            ),
        }

    def _maybe_fail(self) -> None:
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc

    def stream(self, question: str, *, history=None, filters=None) -> Iterator[Any]:
        self.calls.append(
            ("stream", {"question": question, "history": history, "filters": filters})
        )
        self._maybe_fail()
        if "weather" in question:
            yield ABSTAIN_MESSAGE
            yield Answer(
                question=question,
                answer=ABSTAIN_MESSAGE,
                standalone_question=question,
                abstained=True,
                abstain_reason="low_similarity",
            )
            return
        yield from ["Hegseth ruled out ", "NATO membership [1]", ". <b>bold</b>"]
        yield Answer(
            question=question,
            answer="Hegseth ruled out NATO membership [1]. <b>bold</b>",
            citations=[_citation()],
            sources=[_citation()],
            standalone_question=question,
        )

    def stream_summary(self, article_id: str, *, style: str = "brief", refresh: bool = False):
        self.calls.append(("summary", (article_id, style)))
        self._maybe_fail()
        yield "Vance met "
        yield "Zelenskyy."
        yield Summary(article_id=article_id, style=style, text="Vance met Zelenskyy <i>x</i>.")

    def stream_digest(self, **kwargs: Any):
        self.calls.append(("digest", kwargs))
        self._maybe_fail()
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
            raise NotFoundError(f"no article with id {article_id!r}")
        return self.articles[article_id]

    def list_articles(self, source: str | None = None) -> list[ArticleInfo]:
        return [
            ArticleInfo(
                id=a.id,
                title=a.title,
                source=a.source,
                url=a.url,
                published=a.published,
                chunks=3,
                content_hash=a.content_hash,
            )
            for a in self.articles.values()
            if source is None or a.source == source
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

    def ingest(self, sources, *, progress=None) -> IngestReport:
        self.calls.append(("ingest", list(sources)))
        self._maybe_fail()
        if progress:
            progress(
                IngestProgress(
                    articles=1,
                    chunks=4,
                    current="/tmp/up/a.txt",
                    sources_done=1,
                    sources_total=len(sources),
                )
            )
        failed = [(s, "unsupported file type") for s in sources if str(s).endswith(".pdf")]
        ok = len(list(sources)) - len(failed)
        return IngestReport(added=ok, failed=failed, chunks_added=4 * ok, seconds=0.5)

    def ingest_text(self, text, title, *, source=None, url=None, published=None):
        self.calls.append(("ingest_text", (text, title, source, url, published)))
        self._maybe_fail()
        self.articles["pasted"] = _article("pasted", title, text, source=source)
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
def handlers(service: FakeService) -> ui_app.Handlers:
    return ui_app.Handlers(service)  # type: ignore[arg-type]


@pytest.fixture
def warnings_shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(ui_app, "_warn", shown.append)
    return shown


def _run_chat(handlers, question, messages=None, history=None, sources=None, since="", until=""):
    return list(handlers.chat(question, messages or [], history or [], sources, since, until))


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
    text = fmt.format_sources(
        [_citation(), _citation(2, url="javascript:alert(1)", title="<b>T</b>")]
    )
    assert "**\\[1\\] Vance and Zelenskyy meet in Munich**" in text
    assert "The Meridian Post · 2025\\-02\\-14 · [link](https://meridian.example/munich)" in text
    assert "> Hegseth ruled out NATO membership for Ukraine\\." in text
    assert "javascript" not in text
    assert "&lt;b&gt;T&lt;/b&gt;" in text


def test_long_passages_are_shortened() -> None:
    text = fmt.format_sources([_citation(text="word " * 400)])
    assert text.endswith("…")
    assert len(text) < fmt.PASSAGE_CHARS + 300


def test_answer_markers_are_bold_and_html_escaped() -> None:
    answer = Answer(question="q", answer="NATO [1]. <img src=x>", standalone_question="q")
    assert fmt.format_answer(answer) == "NATO **\\[1\\]**\\. &lt;img src=x&gt;"


def test_abstention_has_its_own_display() -> None:
    answer = Answer(question="q", answer=ABSTAIN_MESSAGE, standalone_question="q", abstained=True)
    text = fmt.format_answer(answer)
    assert text.startswith("> **The articles don't say.**")
    assert "Library" in text
    normal = fmt.format_answer(Answer(question="q", answer="Yes [1].", standalone_question="q"))
    assert "articles don't say" not in normal


def test_lists_in_model_output_stay_lists() -> None:
    assert fmt.escape_block("Key points:\n- one *x*\n• two\n3) three") == (
        "Key points:\n- one \\*x\\*\n- two\n3\\. three"
    )


def test_digest_markers_link_to_their_articles() -> None:
    articles = [
        DigestArticle(n=1, article_id="a", title="A", url="https://a.example/1"),
        DigestArticle(n=2, article_id="b", title="B <i>", url="javascript:x"),
    ]
    text = fmt.format_digest("- Point [1]\n- Other [2]", articles, ["uncited article 2"])
    assert "- Point [\\[1\\]](https://a.example/1)" in text
    assert "- Other **\\[2\\]**" in text
    assert "2\\. B &lt;i&gt;" in text
    assert "Check against the article: uncited article 2" in text
    assert "javascript" not in text


def test_parse_range_validates_dates() -> None:
    assert fmt.parse_range("2025-02-01", " ") == (fmt.date(2025, 2, 1), None)
    with pytest.raises(ValueError, match="Since: '2025/02/01' is not a date"):
        fmt.parse_range("2025/02/01", "")
    with pytest.raises(ValueError, match="Until"):
        fmt.parse_range("", "2025-02-30")
    with pytest.raises(ValueError, match="after Until"):
        fmt.parse_range("2025-03-01", "2025-02-01")


def test_report_lists_failures_by_file_name() -> None:
    report = IngestReport(
        added=2,
        unchanged=1,
        chunks_added=9,
        seconds=1.25,
        failed=[("/tmp/gradio/abc/scan.pdf", "unsupported <type>")],
    )
    text, failures = fmt.format_report(report)
    assert text.startswith("Added **2** · replaced 0 · unchanged 1 · failed 1 · 9 new chunks")
    assert failures == ["scan.pdf: unsupported <type>"]
    assert "&lt;type&gt;" in text


def test_describe_never_shows_credentials(service: FakeService) -> None:
    text = fmt.format_describe(service.describe(), service.stats())
    assert "SECRET" not in text and "api" not in text.lower()
    assert "| llm\\.model | qwen |" in text
    assert "| articles | 2 |" in text


def test_library_rows_and_choices(service: FakeService) -> None:
    infos = service.list_articles()
    rows = fmt.article_rows(infos)
    assert rows[0] == [
        "Vance and Zelenskyy meet in Munich",
        "The Meridian Post",
        "2025-02-14",
        3,
        "munich",
    ]
    assert fmt.source_choices(infos) == ["Bad <i>Wire</i>", "The Meridian Post"]
    assert fmt.article_label(infos[0]) == (
        "Vance and Zelenskyy meet in Munich — The Meridian Post, 2025-02-14"
    )


# --- Ask --------------------------------------------------------------------------------
def test_chat_streams_then_shows_answer_with_sources(handlers, service) -> None:
    steps = _run_chat(handlers, "  What did Hegseth rule out?  ")
    first_messages, _, box = steps[0]
    assert box == ""  # the question box is cleared at once
    assert first_messages[0] == {"role": "user", "content": "What did Hegseth rule out?"}
    partials = [m[-1]["content"] for m, _, _ in steps[1:-1]]
    assert partials[0] == "Hegseth ruled out  ▌"
    assert all(p.endswith("▌") for p in partials)
    messages, history, _ = steps[-1]
    assert messages[1]["content"].startswith("Hegseth ruled out NATO membership **\\[1\\]**")
    assert "&lt;b&gt;" in messages[1]["content"]
    panel = messages[2]
    assert panel["metadata"] == {"title": "Sources (1)", "status": "done"}
    assert "Vance and Zelenskyy meet in Munich" in panel["content"]
    assert history == [
        ["What did Hegseth rule out?", "Hegseth ruled out NATO membership [1]. <b>bold</b>"]
    ]
    assert service.calls[0] == (
        "stream",
        {"question": "What did Hegseth rule out?", "history": [], "filters": None},
    )


def test_follow_up_sends_history_and_filters(handlers, service) -> None:
    messages, history, _ = _run_chat(handlers, "What did Hegseth rule out?")[-1]
    _run_chat(handlers, "And troops?", messages, history, ["The Meridian Post"], "2025-02-01", "")
    call = service.calls[-1][1]
    assert call["history"] == [(history[0][0], history[0][1])]
    assert call["filters"].sources == ["The Meridian Post"]
    assert str(call["filters"].since) == "2025-02-01" and call["filters"].until is None


def test_empty_question_warns_and_calls_nothing(handlers, service, warnings_shown) -> None:
    steps = _run_chat(handlers, "   ")
    assert steps == [([], [], "")]
    assert warnings_shown == ["Type a question first."]
    assert service.calls == []


def test_bad_date_filter_warns_and_keeps_the_question(handlers, service, warnings_shown) -> None:
    steps = _run_chat(handlers, "Who?", since="14/02/2025")
    assert steps == [([], [], "Who?")]
    assert "YYYY-MM-DD" in warnings_shown[0]
    assert service.calls == []


def test_abstention_is_shown_distinctly(handlers) -> None:
    messages, history, _ = _run_chat(handlers, "What is the weather on Mars?")[-1]
    assert messages[-1]["content"].startswith("> **The articles don't say.**")
    assert len(messages) == 2  # no sources panel
    assert history[0][1] == ABSTAIN_MESSAGE


def test_llm_down_is_a_message_in_the_chat_and_chat_continues(
    handlers, service, warnings_shown
) -> None:
    service.fail_next = LLMUnavailableError(
        "the LLM at http://127.0.0.1:9 is not answering", hint="start it or set RAG_LLM_BASE_URL"
    )
    messages, history, _ = _run_chat(handlers, "What did Hegseth rule out?")[-1]
    assert messages[-1]["content"].startswith("**Error:** the LLM at http://127\\.0\\.0\\.1:9")
    assert "RAG\\_LLM\\_BASE\\_URL" in messages[-1]["content"]
    assert "Traceback" not in messages[-1]["content"]
    assert history == []
    assert warnings_shown == ["the LLM at http://127.0.0.1:9 is not answering"]
    messages, history, _ = _run_chat(handlers, "What did Hegseth rule out?", messages, history)[-1]
    assert "NATO" in messages[-2]["content"] and len(history) == 1


def test_unexpected_error_is_readable(handlers, service) -> None:
    service.fail_next = RuntimeError("boom")
    messages, _, _ = _run_chat(handlers, "Q?")[-1]
    assert messages[-1]["content"] == "**Something went wrong:** RuntimeError: boom"


def test_new_conversation_forgets_everything() -> None:
    assert ui_app.Handlers.new_conversation() == ([], [], "")


# --- Summaries ----------------------------------------------------------------------------
def test_summary_streams_under_the_article_header(handlers, service) -> None:
    steps = list(handlers.summarize("munich", "bullets"))
    assert steps[0].startswith("### Vance and Zelenskyy meet in Munich\nThe Meridian Post")
    assert steps[1].endswith("Vance met  ▌")
    assert steps[-1].endswith("Vance met Zelenskyy &lt;i&gt;x&lt;/i&gt;\\.")
    assert service.calls == [("summary", ("munich", "bullets"))]


def test_summary_of_missing_article_is_a_message(handlers, warnings_shown) -> None:
    assert list(handlers.summarize(None, "brief")) == [""]
    assert warnings_shown == ["Pick an article first."]
    assert list(handlers.summarize("gone", "brief")) == ["**Error:** no article with id 'gone'"]


def test_digest_passes_filters_and_links_markers(handlers, service) -> None:
    steps = list(handlers.digest("Ukraine", "The Meridian Post", "2025-02-01", "", 3))
    assert service.calls == [
        (
            "digest",
            {
                "topic": "Ukraine",
                "source": "The Meridian Post",
                "since": fmt.date(2025, 2, 1),
                "until": None,
                "limit": 3,
            },
        )
    ]
    assert "[\\[2\\]](https://m.example/a)" in steps[-1]
    assert "**\\[5\\]**" in steps[-1] and "<script>" not in steps[-1]


def test_digest_with_bad_dates_does_not_run(handlers, service, warnings_shown) -> None:
    steps = list(handlers.digest("", "", "", "yesterday", 5))
    assert service.calls == [] and "Until" in warnings_shown[0] and "Error" in steps[-1]


# --- Library --------------------------------------------------------------------------------
def test_ingest_reports_progress_and_failures(handlers, service, warnings_shown) -> None:
    updates: list[tuple[Any, str]] = []
    text = handlers.ingest(
        ["/tmp/up/a.txt", "/tmp/up/scan.pdf"],
        "https://example.org/feed.xml\n\n",
        progress=lambda value, desc=None: updates.append((value, desc)),
    )
    assert service.calls == [
        ("ingest", ["/tmp/up/a.txt", "/tmp/up/scan.pdf", "https://example.org/feed.xml"])
    ]
    assert updates == [((1, 3), "1 articles, 4 chunks: a.txt")]
    assert text.startswith("Added **2**")
    assert "scan\\.pdf: unsupported file type" in text
    assert warnings_shown == ["1 source(s) could not be added: scan.pdf: unsupported file type"]


def test_ingest_without_sources_is_a_message(handlers, service, warnings_shown) -> None:
    assert "Nothing to add" in handlers.ingest(None, "  ")
    assert service.calls == [] and warnings_shown


def test_ingest_error_becomes_a_gradio_error(handlers, service) -> None:
    import gradio as gr

    service.fail_next = IngestError("file too big: 31 MB > 20 MB")
    with pytest.raises(gr.Error, match="file too big"):
        handlers.ingest(["/tmp/big.txt"], "")


def test_ingest_text_needs_title_and_text(handlers, service, warnings_shown) -> None:
    assert "Nothing added" in handlers.ingest_text("", "body", "", "", "")
    text = handlers.ingest_text(" A title ", " Body ", " Wire ", "", "2025-02-01")
    assert service.calls == [("ingest_text", ("Body", "A title", "Wire", None, "2025-02-01"))]
    assert text.startswith("Added **1**")


def test_library_refresh_lists_articles_and_outlets(handlers) -> None:
    sources, picker, digest_source, table, counts, deleter, ids = handlers.library()
    assert sources.choices == [
        ("Bad <i>Wire</i>", "Bad <i>Wire</i>"),
        ("The Meridian Post", "The Meridian Post"),
    ]
    assert ("Vance and Zelenskyy meet in Munich — The Meridian Post, 2025-02-14", "munich") in (
        picker.choices
    )
    assert digest_source.choices[0] == ("All outlets", "")
    assert table.value["data"][0][-1] == "munich"
    assert counts.startswith("**2 articles · 6 chunks**")
    assert deleter.choices == picker.choices
    assert ids == {"munich", "evil"}


def test_row_click_toggles_selection_and_previews_safely(handlers) -> None:
    event = SimpleNamespace(row_value=[EVIL_TITLE, "", "", 3, "evil"])
    selected, preview = handlers.select_row(["munich"], event)
    assert selected == ["munich", "evil"]
    assert "<script>" not in preview and "<img" not in preview
    assert "&lt;script&gt;x\\(\\)&lt;/script&gt;" in preview
    assert "javascript" not in preview.replace("javascript:alert\\(2\\)", "")
    selected, _ = handlers.select_row(selected, event)
    assert selected == ["munich"]


def test_delete_selected_then_prune(handlers, service, warnings_shown) -> None:
    assert "Nothing deleted" in handlers.delete([])
    assert handlers.delete(["evil"]) == "Deleted **1** article."
    assert service.calls == [("delete", ["evil"])]
    assert ui_app.Handlers.prune_selection(["evil", "munich"], {"munich"}) == ["munich"]


def test_about_shows_status_without_secrets(handlers) -> None:
    text = handlers.about()
    assert "qwen" in text and "SECRET" not in text


# --- API handlers ---------------------------------------------------------------------------
def test_api_ask_streams_then_returns_citations(handlers) -> None:
    results = list(handlers.api_ask("What did Hegseth rule out?", [["a", "b"]], ["X"], "", ""))
    assert results[0] == {"answer": "Hegseth ruled out ", "done": False}
    final = results[-1]
    assert final["done"] is True and final["abstained"] is False
    assert final["citations"][0]["title"] == "Vance and Zelenskyy meet in Munich"
    assert final["citations"][0]["url"] == "https://meridian.example/munich"


def test_api_errors_are_gradio_errors(handlers, service) -> None:
    import gradio as gr

    with pytest.raises(gr.Error, match="question is empty"):
        list(handlers.api_ask("  "))
    with pytest.raises(gr.Error, match="not a date"):
        list(handlers.api_ask("Q?", since="Feb 1"))
    service.fail_next = LLMUnavailableError("LLM down")
    with pytest.raises(gr.Error, match="LLM down"):
        list(handlers.api_summarize("munich"))


def test_api_library_endpoints(handlers, service) -> None:
    assert [a["id"] for a in handlers.api_list_articles()] == ["munich", "evil"]
    assert handlers.api_list_articles("The Meridian Post")[0]["title"].startswith("Vance")
    assert handlers.api_ingest_text("body", "T")["article_ids"] == ["pasted"]
    assert handlers.api_ingest(["/tmp/a.md"], "")["added"] == 1
    assert handlers.api_delete(["pasted", "nope"]) == {"deleted": 1}
    digest = list(handlers.api_digest(topic="x"))[-1]
    assert digest["done"] and digest["articles"][0]["n"] == 2


# --- the app as a whole -------------------------------------------------------------------
def test_build_app_names_endpoints_and_limits_generation(tmp_path: Path) -> None:
    service = FakeService(tmp_path, concurrency=2)
    demo = ui_app.build_app(service)  # type: ignore[arg-type]
    public = {fn.api_name: fn for fn in demo.fns.values() if fn.api_visibility == "public"}
    assert set(public) == {
        "ask",
        "summarize",
        "digest",
        "ingest",
        "ingest_text",
        "list_articles",
        "delete",
    }
    for name in ("ask", "summarize", "digest"):
        assert public[name].concurrency_limit == 2
        assert public[name].concurrency_id == ui_app.GENERATION
    for name in ("ingest", "ingest_text", "delete"):
        assert public[name].concurrency_limit == 1
        assert public[name].concurrency_id == ui_app.LIBRARY_WRITE
    assert public["list_articles"].concurrency_limit is None
    chat = [fn for fn in demo.fns.values() if fn.name == "chat"]
    assert len(chat) == 1 and chat[0].concurrency_id == ui_app.GENERATION
    assert chat[0].concurrency_limit == 2
    assert demo._queue.max_size == ui_app.QUEUE_MAX_SIZE


def test_launch_options_from_settings(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, ui_auth="ann:pa:ss", ui_port=8123, max_file_mb=1)
    options = ui_app.launch_options(settings)
    assert options["auth"] == ("ann", "pa:ss")
    assert options["server_port"] == 8123 and options["server_name"] == "127.0.0.1"
    assert options["ssr_mode"] is False and options["share"] is False
    assert options["max_file_size"] == 1024 * 1024
    assert ui_app.launch_options(load_settings(data_dir=tmp_path))["auth"] is None


def test_samples_are_ingested_only_into_an_empty_store(tmp_path: Path, monkeypatch) -> None:
    samples = tmp_path / "samples"
    samples.mkdir()
    (samples / "a.txt").write_text("Title\n\nBody.")
    monkeypatch.chdir(tmp_path)
    service = FakeService(tmp_path)
    ui_app.ingest_samples_if_empty(service, service.settings)  # 2 articles: nothing to do
    assert service.calls == []
    service.articles.clear()
    ui_app.ingest_samples_if_empty(service, load_settings(data_dir=tmp_path, ingest_samples=False))
    assert service.calls == []
    ui_app.ingest_samples_if_empty(service, service.settings)
    assert service.calls == [("ingest", [samples])]


def test_importing_the_app_does_not_import_gradio() -> None:
    code = "import sys, app; print('gradio' in sys.modules, callable(app.build_app))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]
