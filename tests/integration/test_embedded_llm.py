"""Integration tests: the real embedded LLM (assembled GGUF + xllamacpp) via the openai client."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from rag.models import llm as L
from rag.models import llm_errors as E
from rag.models import llm_server as S
from rag.models import model_file as M
from rag.settings import load_settings

pytestmark = pytest.mark.integration

PARAGRAPH = (
    "LISBON, 3 March - The Portuguese water agency said on Monday that the Alqueva reservoir "
    "will reopen to boats on 14 April, after repairs to its main dam that cost 12 million "
    "euros. The agency's director, Marta Quintela, said fishing would stay banned until June."
)


@pytest.fixture(scope="module")
def embedded_settings(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("llm-data"),
        model_dir=model_dir,
        llm_temperature=0.0,
        llm_max_tokens=60,
    )
    yield settings
    S.stop_embedded_servers()


@pytest.fixture(scope="module")
def chat(embedded_settings: Any) -> Any:
    return L.build_chat_model(embedded_settings)


def _messages(question: str) -> list[tuple[str, str]]:
    return [
        ("system", "Answer the question using only the article. Answer in one short sentence."),
        ("human", f"Article:\n{PARAGRAPH}\n\nQuestion: {question}"),
    ]


def test_grounded_short_answer_contains_the_fact(chat: Any) -> None:
    with E.translate_llm_errors():
        reply = chat.invoke(_messages("When will the Alqueva reservoir reopen to boats?"))
    assert "14 April" in reply.content or "April 14" in reply.content
    assert reply.usage_metadata["input_tokens"] > 50


def test_streaming_yields_several_chunks_and_usage(chat: Any) -> None:
    chunks = []
    with E.translate_llm_errors():
        for chunk in chat.stream(_messages("Who is the agency's director and what did she say?")):
            chunks.append(chunk)
    text = "".join(str(c.content) for c in chunks)
    assert len([c for c in chunks if c.content]) >= 3
    assert "Quintela" in text
    usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert usage and usage[-1]["input_tokens"] > 50


def test_second_start_reuses_cached_file_and_server(
    embedded_settings: Any, chat: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = embedded_settings.models_dir / M.DEFAULT_MODEL.filename
    before = path.stat()

    def _no_rebuild(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the cached model file must be reused")

    monkeypatch.setattr(M, "_build", _no_rebuild)
    monkeypatch.setattr(M, "sha256_file", _no_rebuild)
    assert M.prepare_model(embedded_settings) == path
    again = L.build_chat_model(embedded_settings)
    assert again.openai_api_base == chat.openai_api_base  # same server, not a second one
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert L.describe_llm(embedded_settings)["status"] == "verified"


def test_corrupted_cache_file_is_detected_and_rebuilt(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", model_dir=tmp_path / "models")
    target = settings.models_dir / M.DEFAULT_MODEL.filename
    target.parent.mkdir(parents=True)
    target.write_bytes(b"GGUF" + os.urandom(1 << 20))  # a truncated, corrupt leftover
    assert L.describe_llm(settings)["status"] == "unverified"
    try:
        path = M.prepare_model(settings)
        assert path == target
        assert path.stat().st_size > 1_000_000_000
        assert M.cache_status(path, M.DEFAULT_MODEL.sha256) == "verified"
    finally:
        shutil.rmtree(tmp_path / "models", ignore_errors=True)  # 1.1 GB: do not keep it
