"""Background warm-up: steps run off the caller's thread, questions wait for it, priming."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models import FakeListChatModel
from pydantic import Field

from rag.models.warmup import Warmup
from rag.qa.answer_format import NOT_FOUND
from rag.service import NewsRAG
from rag.settings import load_settings

pytestmark = pytest.mark.unit

STORY = (
    "The defence secretary ruled out NATO membership for Ukraine on Wednesday. "
    "He said a return to the old borders was unrealistic."
)


class RecordingChat(FakeListChatModel):
    """A fake chat model that records every call's messages and keyword arguments."""

    calls: list[tuple[list[Any], dict[str, Any]]] = Field(default_factory=list)

    def _call(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[override]
        self.calls.append((list(messages), kwargs))
        return super()._call(messages, stop=stop, run_manager=run_manager, **kwargs)


class LoadCountingEmbeddings(DeterministicFakeEmbedding):
    """A fake embedder with the local model's ``load()``."""

    loads: int = 0

    def load(self) -> LoadCountingEmbeddings:
        self.loads += 1
        return self


# --------------------------------------------------------------------------- Warmup
def test_steps_run_in_order_in_a_background_thread() -> None:
    seen: list[tuple[str, str]] = []

    def step(name: str):
        return lambda: seen.append((name, threading.current_thread().name))

    warmup = Warmup([("a", step("a")), ("b", step("b"))]).start()
    assert warmup.wait(5)
    assert [name for name, _ in seen] == ["a", "b"]
    assert all(thread == "news-rag-warmup" for _, thread in seen)
    assert warmup.state == "ready" and warmup.error is None
    assert list(warmup.seconds) == ["a", "b"]


def test_a_failed_step_stops_the_warm_up_and_is_reported() -> None:
    later: list[str] = []

    def broken() -> None:
        raise RuntimeError("model file missing")

    warmup = Warmup([("model", broken), ("prefix", lambda: later.append("x"))]).start()
    assert warmup.wait(5)
    assert warmup.state == "failed"
    assert warmup.error == "model: model file missing"
    assert later == []


def test_start_twice_runs_once_and_run_after_start_is_refused() -> None:
    count: list[int] = []
    warmup = Warmup([("a", lambda: count.append(1))])
    assert warmup.state == "idle" and not warmup.done
    warmup.start().start()
    assert warmup.wait(5) and count == [1]
    with pytest.raises(RuntimeError):
        warmup.run()


# --------------------------------------------------------------------------- NewsRAG.warm_up
def _service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **overrides: Any):
    """A NewsRAG whose embedded model is a recording fake built by ``build_chat_model``."""
    built: list[RecordingChat] = []
    gate = threading.Event()
    gate.set()

    def fake_build(settings, **kwargs):
        gate.wait(10)
        built.append(RecordingChat(responses=["ok", "He ruled out NATO membership [1]."]))
        return built[-1]

    monkeypatch.setattr("rag.models.llm.build_chat_model", fake_build)
    settings = load_settings(
        data_dir=tmp_path / "data", abstain_min_similarity=-1.0, answer_cache_size=0, **overrides
    )
    rag = NewsRAG.from_settings(settings, embeddings=LoadCountingEmbeddings(size=384))
    return rag, built, gate


def test_warm_up_loads_embedder_and_model_and_primes_the_answer_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rag, built, _ = _service(tmp_path, monkeypatch)
    warmup = rag.warm_up()
    assert rag.warm_up() is warmup and rag.warmup is warmup
    assert warmup.wait(10) and warmup.state == "ready", warmup.error
    assert list(warmup.seconds) == ["embedder", "search index", "model", "prompt prefix"]
    assert rag.embeddings.loads == 1
    [llm] = built
    [(messages, kwargs)] = llm.calls
    assert kwargs.get("max_tokens") == 1
    expected = rag.qa.warm_prompt_messages()  # the fixed head of the answer prompt
    assert [m.content for m in messages] == [m.content for m in expected]
    real = rag.qa.prompts.excerpts.messages(excerpts="A fact.", question="Q?", not_found=NOT_FOUND)
    assert [m.content for m in real[: len(expected)]] == [m.content for m in expected]
    assert messages[0].type == "system"


def test_a_question_asked_while_warming_waits_and_reuses_the_same_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rag, built, gate = _service(tmp_path, monkeypatch)
    rag.ingest_text(STORY, "Hegseth rules out NATO bid", outlet="Civic Wire")
    gate.clear()  # the model "loads" until the gate opens
    warmup = rag.warm_up()
    answers: list[Any] = []
    asker = threading.Thread(target=lambda: answers.append(rag.ask("What was ruled out?")))
    asker.start()
    asker.join(0.3)
    assert asker.is_alive() and answers == []  # waiting for the warm-up, not failing
    gate.set()
    asker.join(10)
    assert warmup.wait(10) and warmup.state == "ready"
    assert len(built) == 1  # one model, shared by the warm-up and the question
    assert "NATO" in answers[0].answer


def test_warm_up_in_the_foreground_blocks_until_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rag, built, _ = _service(tmp_path, monkeypatch, retrieval_mode="dense")
    warmup = rag.warm_up(background=False)
    assert warmup.done and warmup.state == "ready"
    assert "search index" not in warmup.seconds
    assert len(built) == 1


def test_no_priming_for_a_remote_endpoint_or_an_injected_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rag, built, _ = _service(tmp_path, monkeypatch, llm_base_url="http://127.0.0.1:9/v1")
    assert "prompt prefix" not in rag.warm_up(background=False).seconds
    assert built[0].calls == []

    injected = RecordingChat(responses=["x"])
    rag = NewsRAG.from_settings(
        load_settings(data_dir=tmp_path / "other"),
        embeddings=DeterministicFakeEmbedding(size=384),
        llm=injected,
    )
    warmup = rag.warm_up(background=False)
    assert warmup.state == "ready" and "prompt prefix" not in warmup.seconds
    assert injected.calls == []


def test_a_failing_model_start_marks_the_warm_up_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.errors import ModelError

    def broken(settings, **kwargs):
        raise ModelError("The embedded model is not installed.")

    monkeypatch.setattr("rag.models.llm.build_chat_model", broken)
    rag = NewsRAG.from_settings(
        load_settings(data_dir=tmp_path / "data"), embeddings=DeterministicFakeEmbedding(size=384)
    )
    warmup = rag.warm_up(background=False)
    assert warmup.state == "failed" and "not installed" in (warmup.error or "")
    with pytest.raises(ModelError):  # the question still gets the real error
        _ = rag.llm


def test_the_qa_service_can_supply_its_own_warm_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_core.messages import SystemMessage

    rag, built, _ = _service(tmp_path, monkeypatch)
    prefix = [SystemMessage("fixed system text")]
    monkeypatch.setattr(type(rag.qa), "warm_prompt_messages", lambda self: prefix, raising=False)
    rag.warm_up(background=False)
    [(messages, _)] = built[0].calls
    assert [m.content for m in messages] == ["fixed system text"]


# --------------------------------------------------------------------------- CLI chat
class _ChatService:
    def __init__(self, warmup: bool) -> None:
        self.settings = load_settings(llm_warmup=warmup)
        self.warmed = 0

    def warm_up(self) -> None:
        self.warmed += 1

    def close(self) -> None:
        pass


@pytest.mark.parametrize("enabled", [True, False])
def test_chat_starts_the_warm_up_unless_disabled(
    monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    import rag.cli.ask as ask_module
    from rag.cli import main

    fake = _ChatService(enabled)
    monkeypatch.setattr(ask_module, "open_service", lambda **_: fake)
    result = CliRunner().invoke(main, ["chat"], input="/quit\n")
    assert result.exit_code == 0, result.output
    assert fake.warmed == (1 if enabled else 0)
