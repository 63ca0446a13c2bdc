"""Secrets never show: distinctive keys, login and URL credentials are set, then every output
is searched for them (logs, errors, the About tab, ``news-rag models``, eval reports)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models import FakeListChatModel

from rag import redaction
from rag.errors import LLMUnavailableError
from rag.service import NewsRAG
from rag.settings import Settings, load_settings
from rag.ui import handlers as ui_handlers
from rag.ui import server as ui_server
from rag.ui.handlers import feedback as ui_feedback

pytestmark = pytest.mark.unit

LLM_KEY = "sk-LLMKEY-7f3a9c1e5b"
EMBED_KEY = "emb-EMBEDKEY-c41d2e"
UI_PASSWORD = "pw-UIPASS-9e8d7c"
URL_PASSWORD = "urlpw-URLPASS-5a6b"
QUERY_KEY = "q-QUERYKEY-1f2e3d"
SECRETS = [LLM_KEY, EMBED_KEY, UI_PASSWORD, URL_PASSWORD, QUERY_KEY]
ENV = {
    "RAG_LLM_BASE_URL": f"https://bob:{URL_PASSWORD}@llm.example/v1?api-key={QUERY_KEY}",
    "RAG_LLM_API_KEY": LLM_KEY,
    "RAG_EMBEDDING_API_KEY": EMBED_KEY,
    "RAG_UI_AUTH": f"ann:{UI_PASSWORD}",
}


def assert_clean(text: str, where: str) -> None:
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"{where} shows {leaked}:\n{text[:2000]}"


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    return load_settings()


@pytest.fixture
def service(secret_env: Settings) -> NewsRAG:
    return NewsRAG.from_settings(
        secret_env,
        embeddings=DeterministicFakeEmbedding(size=384),
        llm=FakeListChatModel(responses=["unused"]),
    )


def test_settings_print_and_dump_without_secrets(secret_env: Settings) -> None:
    assert all(s in json.dumps(ENV) for s in SECRETS)  # the test really sets them
    assert_clean(repr(secret_env), "repr(settings)")
    assert_clean(str(secret_env), "str(settings)")
    dumped = secret_env.model_dump_json()  # keys stay SecretStr; URLs are configuration
    assert LLM_KEY not in dumped and EMBED_KEY not in dumped and UI_PASSWORD not in dumped


def test_invalid_setting_messages_never_echo_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.errors import ConfigError

    monkeypatch.setenv("RAG_UI_AUTH", f"no-colon-{UI_PASSWORD}")
    monkeypatch.setenv("RAG_LLM_API_KEY", LLM_KEY)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "RAG_UI_AUTH" in str(info.value)
    assert_clean(str(info.value), "ConfigError")


def test_about_tab_and_describe_outputs(service: NewsRAG) -> None:
    handlers = ui_handlers.Handlers(service)
    about = handlers.about()
    assert "llm\\.example" in about  # the endpoint is named, its credentials are not
    assert_clean(about, "About tab")
    from rag.models.embeddings import describe_embeddings
    from rag.models.llm import describe_llm

    assert_clean(json.dumps(describe_llm(service.settings)), "describe_llm")
    assert_clean(json.dumps(describe_embeddings(service.settings)), "describe_embeddings")


@pytest.mark.parametrize("args", [["models", "--json"], ["models"]])
def test_models_command_output(secret_env: Settings, args: list[str]) -> None:
    from rag.cli import main

    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "llm.example" in result.output
    assert_clean(result.output, f"news-rag {' '.join(args)}")


def test_errors_shown_to_users_mask_secrets(
    service: NewsRAG, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import gradio as gr

    handlers = ui_handlers.Handlers(service)
    echoed = f"upstream said: invalid key {LLM_KEY} for user bob:{URL_PASSWORD}"

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(echoed)

    monkeypatch.setattr(service, "list_articles", boom)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(gr.Error) as info:
            handlers.library()
        assert_clean(str(info.value), "gr.Error (unexpected)")
        markdown = ui_feedback.error_markdown(RuntimeError(echoed))
        assert_clean(markdown, "error panel")
        rag_error = ui_feedback.error_markdown(LLMUnavailableError(echoed, hint=f"key {EMBED_KEY}"))
        assert_clean(rag_error, "error panel (RagError)")
        assert_clean(str(ui_feedback.user_error(ValueError(echoed))), "gr.Error (ValueError)")


def test_cli_errors_mask_secrets(secret_env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import click

    from rag.cli.common import handle_errors, load_cli_settings

    load_cli_settings()

    @click.command()
    @handle_errors
    def fail() -> None:
        raise LLMUnavailableError(f"The LLM refused key {LLM_KEY}", hint=f"pw {UI_PASSWORD}")

    result = CliRunner().invoke(fail, [])
    assert result.exit_code == 1 and "The LLM refused key ***" in result.output
    assert_clean(result.output, "CLI error")


def test_logs_mask_secrets_whatever_logs_them(secret_env: Settings) -> None:
    import io

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        redaction.install_log_redaction(secret_env)
        logging.getLogger("httpx").warning("HTTP Request: POST %s", ENV["RAG_LLM_BASE_URL"])
        logging.getLogger("rag.models.llm").error("auth failed with %s", LLM_KEY)
        try:
            raise RuntimeError(f"echo {EMBED_KEY}")
        except RuntimeError:
            logging.getLogger("rag.ui.app").exception("unexpected error in the app")
        logging.getLogger("x").warning(f"login ann:{UI_PASSWORD}")
    finally:
        root.removeHandler(handler)
    output = stream.getvalue()
    assert output.count("***") >= 4 and "RuntimeError" in output
    assert_clean(output, "log output")


def test_public_url_drops_credentials() -> None:
    assert redaction.public_url(ENV["RAG_LLM_BASE_URL"]) == "https://llm.example/v1?api-key=***"
    assert redaction.public_url("http://[::1]:8000/v1?model=x") == "http://[::1]:8000/v1?model=x"
    assert redaction.public_url(None) is None


def test_eval_reports_never_contain_secrets(secret_env: Settings, tmp_path: Path) -> None:
    from test_evaluation import OracleService

    from rag.evaluation.runner import run_suite
    from rag.evaluation.suite import load_suite

    smoke = load_suite(Path(__file__).resolve().parents[2] / "evals" / "smoke.yaml")
    outcome = run_suite(
        smoke,
        out_dir=tmp_path / "run",
        service=OracleService(smoke),
        limit=2,
        settings_overrides={"data_dir": tmp_path / "data"},
    )
    written = [p for p in (tmp_path / "run").iterdir() if p.suffix in (".md", ".json", ".jsonl")]
    assert {p.name for p in written} >= {"report.md", "summary.json", "results.jsonl"}
    for path in written:
        assert_clean(path.read_text(encoding="utf-8"), path.name)
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["run"]["settings"]["llm_base_url"] == "https://llm.example/v1?api-key=***"
    assert outcome.results


def test_app_launch_options_carry_the_login_but_the_log_line_does_not(
    secret_env: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    options = ui_server.launch_options(secret_env)
    assert options["auth"] == ("ann", UI_PASSWORD)
    assert options["show_error"] is False and options["share"] is False
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("rag.ui.app").info("launch options %s", {**options, "auth": "set"})
    assert_clean(caplog.text, "app log")
