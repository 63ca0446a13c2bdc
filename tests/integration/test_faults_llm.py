"""The LLM endpoint misbehaves for real: down, hanging, slow, 429/5xx, malformed or cut streams.

A local HTTP server (``fake_llm.FakeLLMServer``) speaks the OpenAI chat-completions API
and fails on purpose; the real MiniLM embedder and an embedded Chroma hold two sample
articles. Through the library (``ask``, ``stream``, ``astream``, ``summarize``) and the
CLI (``news-rag ask``), each fault must give a clear :class:`LLMUnavailableError`
(message + hint, no API key, no traceback) within ``timeout * (retries + 1)`` plus a
margin, with a bounded number of requests, nothing written (no summary cache entry,
store unchanged), and the same ``NewsRAG`` object answering once the endpoint behaves.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fake_llm import FakeLLMServer

from rag import NewsRAG
from rag.cli import main
from rag.errors import LLMUnavailableError, RagError
from rag.models.embeddings import shared_local_embeddings
from rag.settings import Settings, load_settings

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
ARTICLES = [SAMPLES / "hegseth-brussels-ukraine.txt", SAMPLES / "norvania-rate-cut.html"]
QUESTION = "What did Hegseth rule out?"
API_KEY = "sk-faulttest-7c1e9a52d04b"
TIMEOUT = 2.0
RETRIES = 1
SLACK = 6.0  # backoff between retries, embedding the question, a loaded machine


def bound(retries: int = RETRIES) -> float:
    """The longest a failing call may take: every attempt times out, plus a margin."""
    return TIMEOUT * (retries + 1) + SLACK


def make_settings(data_dir: Path, base_url: str, **overrides: Any) -> Settings:
    """Settings pointing at ``base_url`` with a short timeout and one retry."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "llm_base_url": base_url,
        "llm_api_key": API_KEY,
        "llm_model": "fake-model",
        "llm_timeout": TIMEOUT,
        "llm_max_retries": RETRIES,
    }
    return load_settings(**(values | overrides))


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, fake: FakeLLMServer) -> Path:
    """A store with the two sample articles, ingested once for the module."""
    folder = tmp_path_factory.mktemp("faults-llm") / "data"
    rag = NewsRAG.from_settings(
        make_settings(folder, fake.base_url), embeddings=shared_local_embeddings()
    )
    report = rag.ingest(ARTICLES)
    assert report.added == 2 and not report.failed
    return folder


@pytest.fixture
def rag(fake: FakeLLMServer, data_dir: Path) -> NewsRAG:
    """A fresh service on the shared store, an empty summary cache, a well-behaved fake."""
    shutil.rmtree(data_dir / "cache", ignore_errors=True)
    fake.reset()
    fake.retry_after = None
    fake.chunk_delay = 0.0
    return NewsRAG.from_settings(
        make_settings(data_dir, fake.base_url), embeddings=shared_local_embeddings()
    )


def cache_entries(rag: NewsRAG) -> list[Path]:
    """Summary cache files on disk."""
    return sorted((rag.settings.cache_dir / "summaries").rglob("*.json"))


def store_state(rag: NewsRAG) -> tuple[int, int, str]:
    """Articles, chunks and generation: any write changes one of them."""
    stats = rag.stats()
    return stats.articles, stats.chunks, rag.store.generation()


def run(rag: NewsRAG, op: str) -> str:
    """Do one LLM operation to completion; return its text."""
    if op == "ask":
        return rag.ask(QUESTION).answer
    if op == "stream":
        pieces = list(rag.stream(QUESTION))
        return pieces[-1].answer
    article_id = next(a.id for a in rag.list_articles() if "Hegseth" in a.title)
    return rag.summarize(article_id, style="brief").text


def assert_clean_error(error: RagError, caplog: pytest.LogCaptureFixture) -> None:
    """A message and a hint for a person; the API key nowhere."""
    assert isinstance(error, LLMUnavailableError)
    assert error.message and error.hint
    assert "127.0.0.1" in error.message
    for text in (str(error), repr(error), error.hint, caplog.text):
        assert API_KEY not in text


@dataclass(frozen=True)
class Fault:
    """One way the endpoint misbehaves, the operations it applies to, what is expected."""

    name: str
    setup: dict[str, Any]
    message: str
    retried: bool
    ops: tuple[str, ...] = ("ask", "stream", "summarize")
    extra: dict[str, Any] = field(default_factory=dict)


STREAMED = ("stream", "summarize")  # both stream tokens; ``ask`` makes one plain request
FAULTS = [
    Fault("http_500", {"fault": "status", "status": 500}, "HTTP 500", retried=True),
    Fault("http_503", {"fault": "status", "status": 503}, "HTTP 503", retried=True),
    Fault("http_429", {"fault": "status", "status": 429}, "HTTP 429", retried=True),
    Fault(
        "http_429_retry_after_30s",
        {"fault": "status", "status": 429, "retry_after": 30},
        "asks to wait 30 s",
        retried=False,
    ),
    Fault("hang", {"fault": "hang"}, "did not answer in time", retried=True),
    Fault("connection_dropped", {"fault": "drop"}, "Cannot reach the LLM", retried=True),
    Fault("error_echoes_key", {"fault": "echo_key"}, "HTTP 500", retried=True),
    Fault("stall_mid_stream", {"fault": "stall"}, "did not answer in time", False, STREAMED),
    Fault("truncated_stream", {"fault": "truncated"}, "stopped in the middle", False, STREAMED),
    Fault("garbage_sse_event", {"fault": "garbage"}, "cannot read", False, STREAMED),
    Fault("error_event_mid_stream", {"fault": "error_event"}, "failed while", False, STREAMED),
    Fault("malformed_json_body", {"fault": "bad_json"}, "cannot read", False, ("ask",)),
]
CASES = [pytest.param(f, op, id=f"{f.name}-{op}") for f in FAULTS for op in f.ops]


@pytest.mark.parametrize(("fault_case", "op"), CASES)
def test_fault_gives_clear_bounded_error_and_recovers(
    rag: NewsRAG,
    fake: FakeLLMServer,
    fault_case: Fault,
    op: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    before = store_state(rag)
    fake.reset(fault_case.setup["fault"])
    for name, value in fault_case.setup.items():
        setattr(fake, name, value)

    started = time.monotonic()
    with pytest.raises(LLMUnavailableError) as info:
        run(rag, op)
    elapsed = time.monotonic() - started

    assert fault_case.message in info.value.message
    assert_clean_error(info.value, caplog)
    assert elapsed < bound(), f"{elapsed:.1f} s"
    requests = fake.chat_requests()
    assert len(requests) == (RETRIES + 1 if fault_case.retried else 1)
    assert all(r["headers"].get("authorization") == f"Bearer {API_KEY}" for r in requests)
    assert cache_entries(rag) == []
    assert store_state(rag) == before

    fake.reset()  # the endpoint recovers: the same object answers
    assert "NATO" in run(rag, op)
    assert len(fake.chat_requests()) >= 1
    if op == "summarize":
        assert len(cache_entries(rag)) == 1


@pytest.mark.parametrize("retries", [0, 2])
def test_retries_follow_the_setting(
    fake: FakeLLMServer, data_dir: Path, retries: int, caplog: pytest.LogCaptureFixture
) -> None:
    fake.reset("status")
    fake.status, fake.retry_after = 502, None
    rag = NewsRAG.from_settings(
        make_settings(data_dir, fake.base_url, llm_max_retries=retries),
        embeddings=shared_local_embeddings(),
    )
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError, match="HTTP 502") as info:
        rag.ask(QUESTION)
    assert time.monotonic() - started < bound(retries)
    assert len(fake.chat_requests()) == retries + 1
    assert_clean_error(info.value, caplog)
    fake.reset()


def test_short_retry_after_is_honoured_within_the_bound(
    rag: NewsRAG, fake: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    fake.reset("status")
    fake.status, fake.retry_after = 429, 1
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError, match="HTTP 429") as info:
        rag.ask(QUESTION)
    elapsed = time.monotonic() - started
    assert len(fake.chat_requests()) == RETRIES + 1
    assert 0.9 <= elapsed < bound()
    assert_clean_error(info.value, caplog)


def test_endpoint_down_then_back_on_the_same_port(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeLLMServer() as probe:
        port = probe.port
    base_url = f"http://127.0.0.1:{port}/v1"  # nothing listens there now
    rag = NewsRAG.from_settings(
        make_settings(data_dir, base_url), embeddings=shared_local_embeddings()
    )
    shutil.rmtree(data_dir / "cache", ignore_errors=True)
    before = store_state(rag)
    for op in ("ask", "stream", "summarize"):
        started = time.monotonic()
        with pytest.raises(LLMUnavailableError, match="Cannot reach the LLM") as info:
            run(rag, op)
        assert time.monotonic() - started < bound()
        assert_clean_error(info.value, caplog)
        assert "RAG_LLM_BASE_URL" in (info.value.hint or "")
    assert cache_entries(rag) == [] and store_state(rag) == before

    with FakeLLMServer(port=port) as back:
        for op in ("ask", "stream", "summarize"):
            assert "NATO" in run(rag, op)
        assert back.chat_requests()  # answers may come from the answer cache after the first
    assert len(cache_entries(rag)) == 1


def test_slow_but_steady_stream_completes(rag: NewsRAG, fake: FakeLLMServer) -> None:
    """A stream slower in total than the timeout, but never silent that long, is an answer."""
    original = fake.answer
    fake.answer = "Hegseth ruled out NATO membership for Ukraine [1]."
    fake.chunk_delay = TIMEOUT / 3
    try:
        started = time.monotonic()
        pieces = list(rag.stream(QUESTION))
        assert time.monotonic() - started > TIMEOUT  # slower than the timeout in total
        assert "NATO membership" in pieces[-1].answer
        assert len(fake.chat_requests()) == 1
    finally:
        fake.answer, fake.chunk_delay = original, 0.0


@pytest.mark.parametrize("fault", ["truncated", "garbage", "error_event", "stall"])
def test_async_stream_faults(
    rag: NewsRAG, fake: FakeLLMServer, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def consume() -> list[Any]:
        return [piece async for piece in rag.astream(QUESTION)]

    async def fail_then_recover() -> tuple[RagError, float, list[Any]]:
        fake.reset(fault)
        started = time.monotonic()
        with pytest.raises(LLMUnavailableError) as info:
            await consume()
        elapsed = time.monotonic() - started
        fake.reset()
        return info.value, elapsed, await consume()

    error, elapsed, pieces = asyncio.run(fail_then_recover())
    assert_clean_error(error, caplog)
    assert elapsed < bound()
    assert "NATO" in pieces[-1].answer


# --------------------------------------------------------------------------- the CLI
def cli_env(data_dir: Path, base_url: str) -> dict[str, str]:
    return {
        "RAG_DATA_DIR": str(data_dir),
        "RAG_LLM_BASE_URL": base_url,
        "RAG_LLM_API_KEY": API_KEY,
        "RAG_LLM_MODEL": "fake-model",
        "RAG_LLM_TIMEOUT": str(TIMEOUT),
        "RAG_LLM_MAX_RETRIES": str(RETRIES),
    }


CLI_FAULTS = [
    ({"fault": "status", "status": 500}, [], "HTTP 500"),
    ({"fault": "hang"}, [], "did not answer in time"),
    ({"fault": "truncated"}, [], "stopped in the middle"),
    ({"fault": "garbage"}, [], "cannot read"),
    ({"fault": "echo_key"}, ["--json"], "HTTP 500"),
    ({"fault": "bad_json"}, ["--json"], "cannot read"),
]


@pytest.mark.parametrize(
    ("setup", "flags", "message"),
    CLI_FAULTS,
    ids=[f"{s['fault']}{''.join(f)}" for s, f, _ in CLI_FAULTS],
)
def test_cli_ask_reports_the_fault_and_works_after_recovery(
    fake: FakeLLMServer,
    data_dir: Path,
    setup: dict[str, Any],
    flags: list[str],
    message: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.reset(setup["fault"])
    for name, value in setup.items():
        setattr(fake, name, value)
    runner = CliRunner()
    env = cli_env(data_dir, fake.base_url)
    started = time.monotonic()
    result = runner.invoke(main, ["ask", *flags, QUESTION], env=env)
    elapsed = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a handled error, not a crash
    assert "Error: " in result.output and message in result.output
    assert "Hint: " in result.output
    assert "Traceback" not in result.output
    assert API_KEY not in result.output and API_KEY not in caplog.text
    assert elapsed < bound()

    fake.reset()
    result = runner.invoke(main, ["ask", *flags, QUESTION], env=env)
    assert result.exit_code == 0, result.output
    assert "NATO" in result.output


def test_cli_ask_with_the_endpoint_down(data_dir: Path) -> None:
    with FakeLLMServer() as probe:
        port = probe.port
    env = cli_env(data_dir, f"http://127.0.0.1:{port}/v1")
    started = time.monotonic()
    result = CliRunner().invoke(main, ["ask", QUESTION], env=env)
    assert time.monotonic() - started < bound()
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"Error: Cannot reach the LLM at http://127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output and API_KEY not in result.output


# --------------------------------------------------------------------------- Stop
def test_stop_cuts_off_a_reply_the_model_has_not_started(fake: FakeLLMServer) -> None:
    """A Stop while the model still reads the prompt (no token yet) ends the request at
    once, without a retry, and the next request on the same client works."""
    from rag.models.llm import build_chat_model
    from rag.ui.runs import Run, Tick

    settings = load_settings(
        llm_base_url=fake.base_url, llm_timeout=30, llm_max_retries=2, llm_model="fake-model"
    )
    llm = build_chat_model(settings)
    fake.reset("hang")
    ended = threading.Event()
    run = Run("answer", None, on_worker=lambda _run, alive: alive or ended.set())
    items = run.items(lambda: llm.stream("What did Hegseth rule out?"))
    timer = threading.Timer(1.0, run.cancel)
    timer.start()
    started = time.monotonic()
    assert [item for item in items if not isinstance(item, Tick)] == []
    assert ended.wait(5), "the worker is still waiting for the model"
    assert time.monotonic() - started < 5 and run.reason == "stopped"
    assert len(fake.chat_requests()) == 1  # not retried
    fake.reset()
    assert "NATO" in llm.invoke("What did Hegseth rule out?").content
