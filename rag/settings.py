"""Settings: every knob of news-rag, read from ``RAG_*`` environment variables and ``.env``.

Settings are validated at start; an invalid value raises :class:`rag.errors.ConfigError`
naming the variable. Nothing is read at import time: call :func:`load_settings`.

Example:
    >>> from rag.settings import load_settings
    >>> settings = load_settings(retrieval_k=4)
    >>> settings.retrieval_k
    4
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.errors import ConfigError

ENV_PREFIX = "RAG_"


def _default_threads() -> int:
    """All cores: llama.cpp and onnxruntime scale to the physical core count here."""
    return max(1, os.cpu_count() or 1)


def _thread_count(description: str) -> Any:
    """A thread-count setting: 1 to 256, all cores by default."""
    return Field(
        default_factory=_default_threads,
        ge=1,
        le=256,
        description=f"{description} Default: all cores.",
    )


class Settings(BaseSettings):
    """All configuration, one field per ``RAG_<NAME>`` environment variable.

    Example:
        >>> Settings(llm_temperature=0.0).llm_temperature
        0.0
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # --- storage -------------------------------------------------------------
    data_dir: Path = Field(
        Path("data"),
        description="Folder for the embedded Chroma store, caches and the assembled model file.",
    )
    chroma_path: Path | None = Field(
        None, description="Embedded Chroma folder. Default: `<RAG_DATA_DIR>/chroma`."
    )
    chroma_url: str | None = Field(
        None,
        description="Chroma server URL (e.g. `http://127.0.0.1:8000`). When set, the server "
        "is used instead of the embedded store.",
    )
    chroma_timeout: float = Field(
        30.0,
        gt=0,
        description="Seconds to wait for the Chroma server to answer one request "
        "(`RAG_CHROMA_URL` only).",
    )
    model_dir: Path | None = Field(
        None,
        description="Where the assembled embedded model file is kept. Default: "
        "`<RAG_DATA_DIR>/models`.",
    )
    collection: str = Field(
        "news", min_length=3, max_length=200, description="Chroma collection name for articles."
    )

    # --- LLM -----------------------------------------------------------------
    llm_base_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server). "
        "Unset: the embedded local model is served on 127.0.0.1.",
    )
    llm_api_key: SecretStr | None = Field(
        None, description="API key for `RAG_LLM_BASE_URL` (never logged)."
    )
    llm_model: str = Field(
        "qwen2.5-coder-1.5b-instruct",
        description="Model name sent to the endpoint (e.g. `gpt-4o-mini`, `llama3.1:8b`).",
    )
    llm_gguf: Path | None = Field(
        None,
        description="Serve this GGUF file with the embedded runtime instead of the bundled model.",
    )
    llm_threads: int = _thread_count("CPU threads for token generation (embedded model).")
    llm_batch_threads: int = _thread_count("CPU threads for prompt processing (embedded model).")
    llm_ctx_size: int = Field(
        4096,
        ge=512,
        le=131072,
        description="Context window of the embedded model per request, in tokens (it keeps "
        "two cached prompts of this size).",
    )
    llm_batch_size: int = Field(
        512, ge=16, le=8192, description="Prompt-processing batch size of the embedded model."
    )
    llm_temperature: float = Field(0.1, ge=0.0, le=2.0, description="Sampling temperature.")
    llm_max_tokens: int = Field(
        400, ge=16, le=8192, description="Upper bound on tokens generated per answer."
    )
    llm_timeout: float = Field(
        120.0, gt=0, description="Seconds to wait for one LLM request before giving up."
    )
    llm_max_retries: int = Field(
        1, ge=0, le=10, description="Retries of a failed LLM request (429/5xx/connection)."
    )
    llm_startup_timeout: float = Field(
        60.0, gt=0, description="Seconds to wait for the embedded model server to become healthy."
    )
    llm_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="Loopback port of the embedded model server (127.0.0.1 only). 0: a free port.",
    )
    llm_cache_reuse: int = Field(
        256,
        ge=0,
        le=65536,
        description="Embedded model: reuse runs of at least this many tokens of the previous "
        "prompt even when an earlier part changed (llama.cpp `--cache-reuse`); 0 turns it off.",
    )
    llm_warmup: bool = Field(
        True,
        description="Load the models in the background when the app or `news-rag chat` starts "
        "(and put the answer prompt's fixed part into the embedded model's prompt cache), so "
        "the first question does not wait for them.",
    )

    # --- embeddings ----------------------------------------------------------
    embedding_provider: Literal["local", "openai"] = Field(
        "local",
        description="`local`: bundled all-MiniLM-L6-v2 int8 ONNX. `openai`: an "
        "OpenAI-compatible embeddings endpoint.",
    )
    embedding_model: str = Field(
        "text-embedding-3-small", description="Embedding model name when the provider is `openai`."
    )
    embedding_base_url: str | None = Field(
        None, description="Embeddings endpoint; default: `RAG_LLM_BASE_URL`."
    )
    embedding_api_key: SecretStr | None = Field(
        None, description="Embeddings API key; default: `RAG_LLM_API_KEY` (never logged)."
    )
    embedding_batch_size: int = Field(32, ge=1, le=2048, description="Texts per embedding batch.")
    embedding_threads: int = _thread_count("onnxruntime threads for the local embedder.")

    # --- ingestion -----------------------------------------------------------
    max_file_mb: float = Field(
        20.0, gt=0, description="Files (and downloads) larger than this are refused."
    )
    fetch_timeout: float = Field(20.0, gt=0, description="Seconds per URL or feed download.")
    fetch_allow_private: bool = Field(
        False,
        description="Fetch URLs (and feed links) on private, loopback or link-local addresses "
        "(your own network, 127.0.0.1, 169.254.x.x). Off: such URLs are refused.",
    )
    chunk_tokens: int = Field(
        180, ge=32, le=250, description="Target chunk size in embedder word pieces (< 256)."
    )
    chunk_overlap: int = Field(
        30, ge=0, le=120, description="Overlap between neighbouring chunks, in word pieces."
    )

    # --- retrieval and answers ----------------------------------------------
    retrieval_k: int = Field(5, ge=1, le=50, description="Chunks given to the model per answer.")
    retrieval_fetch_k: int = Field(
        30, ge=1, le=500, description="Candidates fetched from each retriever before fusion."
    )
    retrieval_mode: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", description="`hybrid` (dense + BM25 fused by RRF), `dense` or `bm25`."
    )
    dense_weight: float = Field(1.0, ge=0.0, description="Weight of dense ranks in the fusion.")
    bm25_weight: float = Field(1.0, ge=0.0, description="Weight of BM25 ranks in the fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    max_chunks_per_article: int = Field(
        2, ge=1, le=50, description="Cap on chunks from one article in an answer's sources."
    )
    abstain_min_similarity: float = Field(
        0.25,
        ge=-1.0,
        le=1.0,
        description="If no retrieved chunk reaches this cosine similarity, answer that the "
        "articles do not say (no LLM call).",
    )
    answer_cache_size: int = Field(
        256,
        ge=0,
        description="Answers kept in memory for repeated questions (0 = off); one is reused "
        "only while the articles, filters, history, model and settings are unchanged.",
    )
    abstain_on_missing_names: bool = Field(
        True,
        description="Answer that the articles do not say when a name in the question "
        "(a person, place or organisation) appears in no retrieved source (no LLM call).",
    )

    qa_mode: Literal["excerpts", "evidence", "passages"] = Field(
        "excerpts",
        description="`excerpts`: the model reads the best sentences of the retrieved passages "
        "as short excerpts under each article's title and date and answers in plain words; "
        "citations go to the sentences that hold the answer's words. `evidence`: the same "
        "sentences, numbered; the model names the ones it answers from (JSON). `passages`: "
        "the model reads whole chunks and cites `[n]`.",
    )
    qa_candidates: int = Field(
        8, ge=1, le=50, description="Chunks searched for evidence sentences (`evidence` mode)."
    )
    qa_candidates_per_article: int = Field(
        4, ge=1, le=50, description="Cap on those chunks from one article (`evidence` mode)."
    )
    qa_evidence_tokens: int = Field(
        460,
        ge=64,
        le=8000,
        description="Prompt tokens of evidence per answer, beyond the fixed prompt (raise it "
        "for a large remote model).",
    )
    qa_answer_parts: bool = Field(
        True,
        description='Answer each part of a compound question ("who coached the Rovers, and '
        'who won the marathon?") with its own model call over the same excerpts, then join '
        "the answers (`excerpts` and `evidence` modes). Off: one call for the whole question.",
    )
    qa_abstain_probability: float = Field(
        0.15,
        ge=0.0,
        le=1.0,
        description="Answer that the articles do not say when the model's own probability of "
        "finding nothing reaches this: of replying `Unknown.` (`excerpts`) or of naming no "
        "evidence (`evidence`, fitted value 0.05). Needs an endpoint that reports logprobs; "
        "1 = off. Fitted on held-out SQuAD 2.0 articles (see evals/README.md).",
    )
    qa_min_answer_support: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="Answer that the articles do not say when less than this share of the "
        "answer's words appear in the sentences it is cited to (or the question); 0 = off.",
    )
    summary_brief_words: int = Field(
        0,
        ge=0,
        description="Write brief summaries from the article's opening sentences up to this "
        "many words (half the prompt; see evals/README.md for what it does to key facts); "
        "0 = the whole article. Other styles always read the whole article.",
    )
    summary_brief_figures: bool = Field(
        False,
        description="When a brief summary leaves out a figure of the article's opening, add "
        "the first sentence that states one, word for word, if the brief stays within the "
        "length of the article's first three sentences (more key facts, lower ROUGE; see "
        "evals/README.md).",
    )
    qa_constrained_output: bool = Field(
        True,
        description="Constrain the reply to the evidence JSON schema (OpenAI `response_format`; "
        "llama.cpp, vLLM and OpenAI support it). Off: a plain reply with `[n]` markers.",
    )

    # --- app -----------------------------------------------------------------
    ui_host: str = Field("127.0.0.1", description="Address the app listens on.")
    ui_port: int = Field(7860, ge=1, le=65535, description="Port the app listens on.")
    ui_auth: SecretStr | None = Field(
        None,
        description="`user:password` required to use the app. Unset: no login (keep the "
        "app on localhost then).",
    )
    ui_concurrency: int = Field(
        1,
        ge=1,
        le=64,
        description="Answers/summaries generated at once (1 for the embedded model; raise it "
        "for a server that batches, such as vLLM).",
    )
    ingest_samples: bool = Field(
        True, description="Ingest `samples/` when the app starts on an empty store."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Logging level."
    )

    @field_validator("chroma_url", "llm_base_url", "embedding_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("ui_auth")
    @classmethod
    def _user_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and ":" not in value.get_secret_value():
            raise ValueError("must look like user:password")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError("RAG_CHUNK_OVERLAP must be smaller than RAG_CHUNK_TOKENS")
        if self.embedding_provider == "openai" and not (
            self.embedding_base_url or self.llm_base_url
        ):
            raise ValueError(
                "RAG_EMBEDDING_PROVIDER=openai needs RAG_EMBEDDING_BASE_URL or RAG_LLM_BASE_URL"
            )
        return self

    def __repr_args__(self) -> Any:
        """Like pydantic's, with endpoint URLs shown without their credentials."""
        from rag.redaction import public_url

        for name, value in super().__repr_args__():
            if name in ("llm_base_url", "embedding_base_url", "chroma_url"):
                value = public_url(value)
            yield name, value

    # --- derived values --------------------------------------------------------
    @property
    def chroma_dir(self) -> Path:
        """Folder of the embedded Chroma store."""
        return self.chroma_path or self.data_dir / "chroma"

    @property
    def cache_dir(self) -> Path:
        """Folder for caches (summaries, answers, assembled model file)."""
        return self.data_dir / "cache"

    @property
    def models_dir(self) -> Path:
        """Folder holding the assembled embedded model file."""
        return self.model_dir or self.data_dir / "models"

    @property
    def uses_embedded_llm(self) -> bool:
        """True when no remote endpoint is configured and the local model serves."""
        return self.llm_base_url is None


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and ``.env``, applying ``overrides`` on top.

    Raises :class:`ConfigError` naming each invalid setting as its ``RAG_`` variable.

    Example:
        >>> load_settings(ui_port=8080).ui_port
        8080
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_describe_validation_error(exc), hint=_CONFIG_HINT) from None


_CONFIG_HINT = "fix the variable in your environment or .env file (see README: Configuration)"


def _describe_validation_error(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        name = f"{ENV_PREFIX}{field.upper()}" if field else "settings"
        value = error.get("input")
        secret = any(word in field for word in ("key", "auth", "secret"))
        shown = "" if secret else f" (got {value!r})"
        lines.append(f"Invalid setting {name}{shown}: {error['msg']}")
    return "\n".join(lines)


def settings_table() -> str:
    """The configuration table of the README, generated from the fields above.

    Example:
        >>> settings_table().splitlines()[0]
        '| Variable | Default | Description |'
    """
    rows = ["| Variable | Default | Description |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        if field.default_factory is not None:
            default = "number of CPU cores"
        elif field.default is None:
            default = "unset"
        else:
            default = f"`{field.default}`"
        rows.append(f"| `{ENV_PREFIX}{name.upper()}` | {default} | {field.description} |")
    return "\n".join(rows)
