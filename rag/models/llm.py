"""The chat model: ``ChatOpenAI`` for any OpenAI-compatible endpoint, or for the embedded server.

One code path for local and remote: both are reached through ``langchain-openai``'s
:class:`ChatOpenAI`. With no ``RAG_LLM_BASE_URL`` the bundled Qwen2.5-Coder-1.5B-Instruct
GGUF (or any ``RAG_LLM_GGUF``, :mod:`rag.models.model_file`) is served by the embedded
llama.cpp server (:mod:`rag.models.llm_server`), started on the first
:func:`build_chat_model` call and stopped at exit. Client errors become messages with a
hint in :mod:`rag.models.llm_errors`.

Example (starts the embedded model):
    >>> from rag.settings import load_settings
    >>> from rag.models.llm import build_chat_model
    >>> from rag.models.llm_errors import translate_llm_errors
    >>> llm = build_chat_model(load_settings())  # doctest: +SKIP
    >>> with translate_llm_errors():  # doctest: +SKIP
    ...     print(llm.invoke("Say OK").content)
    OK
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rag.files import package_dir
from rag.models.llm_errors import translate_llm_errors
from rag.models.llm_server import embedded_server, running_servers
from rag.models.model_file import configured_model_path, describe_model_file
from rag.redaction import public_url

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

    from rag.settings import Settings

logger = logging.getLogger(__name__)

PLACEHOLDER_API_KEY = "not-needed"


def build_chat_model(settings: Settings, **overrides: Any) -> BaseChatModel:
    """A ``ChatOpenAI`` for ``RAG_LLM_BASE_URL``, or for the embedded server (started now).

    ``overrides`` go to ``ChatOpenAI`` (e.g. ``temperature=0``, ``max_tokens=200``).

    Example:
        >>> from rag.settings import load_settings
        >>> llm = build_chat_model(load_settings(llm_base_url="http://127.0.0.1:11434/v1"))
        >>> llm.model_name
        'qwen2.5-coder-1.5b-instruct'
    """
    from rag.models.chat_guard import GuardedChatOpenAI, retry_limited_clients
    from rag.models.interrupt import track_reads

    sync_client, async_client = retry_limited_clients(settings.llm_timeout)
    track_reads(sync_client)  # a Stop can cut a reply off while the model reads the prompt
    kwargs: dict[str, Any] = {
        "model": settings.llm_model,
        "timeout": settings.llm_timeout,
        "max_retries": settings.llm_max_retries,
        "temperature": settings.llm_temperature,
        "max_tokens": settings.llm_max_tokens,
        "stream_usage": True,
        "http_client": sync_client,
        "http_async_client": async_client,
    }
    if settings.uses_embedded_llm:
        server = embedded_server(settings)
        kwargs["base_url"] = server.base_url
        kwargs["api_key"] = server.api_key
        # llama.cpp reuses the KV cache of a shared prompt prefix (e.g. the system prompt).
        kwargs["extra_body"] = {"cache_prompt": True}
    else:
        key = settings.llm_api_key
        kwargs["base_url"] = settings.llm_base_url
        kwargs["api_key"] = key.get_secret_value() if key else PLACEHOLDER_API_KEY
    kwargs.update(overrides)
    return GuardedChatOpenAI(**kwargs)


def prime_prompt_cache(llm: BaseChatModel, messages: Sequence[BaseMessage]) -> float:
    """Send ``messages`` once, generating a single token, so the server caches their prefix.

    llama.cpp keeps the processed prompt of its last request (``cache_prompt``) and reuses
    the longest common prefix for the next one: a prompt whose fixed system text and
    examples were primed this way is processed from where it starts to differ. Returns the
    seconds the request took.

    Example:
        >>> from langchain_core.language_models import FakeListChatModel
        >>> from langchain_core.messages import SystemMessage
        >>> prime_prompt_cache(FakeListChatModel(responses=["ok"]),
        ...                    [SystemMessage("Answer.")]) >= 0
        True
    """
    started = time.perf_counter()
    with translate_llm_errors():
        llm.invoke(list(messages), max_tokens=1)
    seconds = time.perf_counter() - started
    logger.info("Answer prompt prefix primed in %.1f s", seconds)
    return seconds


def describe_llm(settings: Settings, *, verify: bool = False) -> dict[str, Any]:
    """What answers questions: endpoint or embedded model, file, hash status (no secrets).

    ``verify`` goes to :func:`~rag.models.model_file.describe_model_file` (embedded model only).

    Example:
        >>> from rag.settings import load_settings
        >>> describe_llm(load_settings(llm_base_url="https://api.openai.com/v1"))["mode"]
        'remote'
    """
    if not settings.uses_embedded_llm:
        return {
            "mode": "remote",
            "base_url": public_url(settings.llm_base_url),
            "model": settings.llm_model,
            "api_key_set": settings.llm_api_key is not None,
            "timeout": settings.llm_timeout,
            "max_retries": settings.llm_max_retries,
        }
    info: dict[str, Any] = {
        "mode": "embedded",
        "runtime": _runtime_version(),
        "threads": settings.llm_threads,
        "batch_threads": settings.llm_batch_threads,
        "ctx_size": settings.llm_ctx_size,
        "batch_size": settings.llm_batch_size,
    }
    info.update(describe_model_file(settings, verify=verify))
    path = configured_model_path(settings)
    running = [s.base_url for s in running_servers() if s.config.model_path == path.resolve()]
    if running:
        info["served_at"] = running[0]
    return info


def _runtime_version() -> str | None:
    if package_dir("xllamacpp") is None:
        return None
    try:
        from importlib.metadata import version

        return f"xllamacpp {version('xllamacpp')}"
    except Exception:  # metadata may be missing in odd installs
        return "xllamacpp"
