"""Settings: defaults, validation messages that name the variable, secrets, README table."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.settings import load_settings, settings_table

pytestmark = pytest.mark.unit

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_use_embedded_model_and_local_store(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.uses_embedded_llm
    assert settings.chroma_dir == tmp_path / "chroma"
    assert settings.models_dir == tmp_path / "models"
    assert settings.ui_host == "127.0.0.1"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_RETRIEVAL_K", "7")
    monkeypatch.setenv("RAG_LLM_BASE_URL", "http://127.0.0.1:11434/v1/")
    settings = load_settings()
    assert settings.retrieval_k == 7
    assert settings.llm_base_url == "http://127.0.0.1:11434/v1"
    assert not settings.uses_embedded_llm


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("RAG_UI_PORT=9001\n", encoding="utf-8")
    assert load_settings().ui_port == 9001


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RAG_RETRIEVAL_K", "zero"),
        ("RAG_UI_PORT", "70000"),
        ("RAG_CHROMA_URL", "localhost:8000"),
        ("RAG_EMBEDDING_PROVIDER", "word2vec"),
        ("RAG_LLM_TEMPERATURE", "-1"),
    ],
)
def test_invalid_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as excinfo:
        load_settings()
    assert variable in str(excinfo.value)
    assert "Hint:" in str(excinfo.value)


def test_invalid_secret_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_UI_AUTH", "no-colon-secret-value")
    with pytest.raises(ConfigError) as excinfo:
        load_settings()
    assert "RAG_UI_AUTH" in str(excinfo.value)
    assert "no-colon-secret-value" not in str(excinfo.value)


def test_api_key_is_hidden_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_LLM_API_KEY", "sk-very-secret")
    settings = load_settings()
    assert "sk-very-secret" not in repr(settings)
    assert settings.llm_api_key is not None
    assert settings.llm_api_key.get_secret_value() == "sk-very-secret"


def test_overlap_must_be_smaller_than_chunk() -> None:
    with pytest.raises(ConfigError, match="RAG_CHUNK_OVERLAP"):
        load_settings(chunk_tokens=64, chunk_overlap=64)


def test_openai_embeddings_need_an_endpoint() -> None:
    with pytest.raises(ConfigError, match="RAG_EMBEDDING_BASE_URL"):
        load_settings(embedding_provider="openai")


def test_readme_documents_every_setting() -> None:
    readme = README.read_text(encoding="utf-8")
    for line in settings_table().splitlines()[2:]:
        variable = line.split("|")[1].strip()
        assert variable in readme, f"{variable} missing from README configuration table"
