"""``ChatOpenAI`` that refuses half answers and unreadable responses, with bounded retries.

An OpenAI-compatible endpoint can fail in ways the ``openai`` client passes on silently
or as raw exceptions:

- a stream that ends (connection closed cleanly) before the model finished: the
  client just stops iterating, so a cut answer would look complete. A stream must end
  with a ``finish_reason``; otherwise :class:`LLMUnavailableError` is raised.
- a body or SSE event that is not the JSON shape of a chat completion: raised here as
  :class:`LLMUnavailableError` naming the endpoint (never the API key).
- ``Retry-After`` on a 429/503: the client waits as long as the server asks (up to two
  minutes). A wait longer than ``RAG_LLM_TIMEOUT`` is not taken: the error is reported
  at once, so a question never waits far beyond the configured timeout.

Example:
    >>> from rag.models.chat_guard import GuardedChatOpenAI, retry_limited_clients
    >>> sync_client, async_client = retry_limited_clients(2.0)
    >>> llm = GuardedChatOpenAI(model="m", base_url="http://127.0.0.1:9/v1", api_key="k",
    ...                         http_client=sync_client, http_async_client=async_client)
    >>> llm.model_name
    'm'
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import openai
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI

from rag.errors import LLMUnavailableError, RagError
from rag.redaction import redact

logger = logging.getLogger(__name__)

MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError)
"""What the client raises for a body that is not a chat completion (JSON errors included)."""


def endpoint_label(url: str | None) -> str:
    """``scheme://host:port`` of an endpoint URL (no path, no credentials).

    Example:
        >>> endpoint_label("http://user:pw@127.0.0.1:8000/v1")
        'http://127.0.0.1:8000'
    """
    if not url:
        return "the LLM endpoint"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"


class GuardedChatOpenAI(ChatOpenAI):
    """``ChatOpenAI`` whose streams must finish and whose responses must be readable.

    Example:
        >>> llm = GuardedChatOpenAI(model="m", base_url="http://127.0.0.1:9/v1", api_key="k")
        >>> isinstance(llm, ChatOpenAI)
        True
    """

    def _secrets(self) -> list[str | None]:
        key = self.openai_api_key
        return [key.get_secret_value() if key is not None else None]

    def _where(self) -> str:
        return endpoint_label(self.openai_api_base)

    @contextlib.contextmanager
    def _readable(self) -> Iterator[None]:
        try:
            yield
        except RagError:
            raise
        except openai.OpenAIError:
            raise  # translated by rag.models.llm_errors.translate_llm_errors
        except MALFORMED as exc:
            detail = redact(f"{type(exc).__name__}: {exc}", self._secrets())
            raise LLMUnavailableError(
                f"The LLM at {self._where()} sent a response news-rag cannot read "
                f"({detail[:200]}).",
                hint="check that RAG_LLM_BASE_URL points at an OpenAI-compatible "
                "chat-completions API (usually ending in /v1) and RAG_LLM_MODEL is right",
            ) from None

    def _incomplete(self, pieces: int) -> LLMUnavailableError:
        logger.warning(
            "LLM stream from %s ended after %d chunk(s) without a finish reason",
            self._where(),
            pieces,
        )
        return LLMUnavailableError(
            f"The LLM at {self._where()} stopped in the middle of its answer "
            "(the stream ended without finishing).",
            hint="retry; if it keeps happening, check the server's logs and any proxy "
            "timeout between the server and news-rag",
        )

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        with self._readable():
            return super()._generate(*args, **kwargs)

    async def _agenerate(self, *args: Any, **kwargs: Any) -> ChatResult:
        with self._readable():
            return await super()._agenerate(*args, **kwargs)

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        finished, pieces = False, 0
        with self._readable():
            for chunk in super()._stream(*args, **kwargs):
                finished = finished or _has_finish_reason(chunk)
                pieces += 1
                yield chunk
        if not finished:
            raise self._incomplete(pieces)

    async def _astream(self, *args: Any, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        finished, pieces = False, 0
        with self._readable():
            async for chunk in super()._astream(*args, **kwargs):
                finished = finished or _has_finish_reason(chunk)
                pieces += 1
                yield chunk
        if not finished:
            raise self._incomplete(pieces)


def _has_finish_reason(chunk: ChatGenerationChunk) -> bool:
    info = chunk.generation_info or {}
    return bool(info.get("finish_reason") or chunk.message.response_metadata.get("finish_reason"))


# --------------------------------------------------------------------------- Retry-After
def retry_after_seconds(headers: Any) -> float | None:
    """The wait a response asks for (``retry-after-ms``, ``retry-after`` seconds or date).

    Example:
        >>> retry_after_seconds({"retry-after": "20"})
        20.0
        >>> retry_after_seconds({}) is None
        True
    """
    value = headers.get("retry-after-ms")
    if value is not None:
        with contextlib.suppress(ValueError):
            return float(value) / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    with contextlib.suppress(ValueError):
        return float(value)
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return float(email.utils.mktime_tz(parsed) - time.time())


def _limit_retry_after(response: Any, limit: float) -> None:
    wait = retry_after_seconds(response.headers)
    if wait is not None and wait > limit:
        # Honoured by the openai client: do not sleep longer than the request timeout.
        response.headers["x-should-retry"] = "false"
        logger.info(
            "LLM endpoint asks to retry after %.0f s (> RAG_LLM_TIMEOUT %.0f s): not retrying",
            wait,
            limit,
        )


def retry_limited_clients(limit: float) -> tuple[Any, Any]:
    """HTTP clients (sync, async) for ``openai`` that refuse ``Retry-After`` waits > ``limit`` s.

    Example:
        >>> sync_client, async_client = retry_limited_clients(5.0)
        >>> sync_client.event_hooks["response"] != []
        True
    """

    def hook(response: Any) -> None:
        _limit_retry_after(response, limit)

    async def ahook(response: Any) -> None:
        _limit_retry_after(response, limit)

    return (
        openai.DefaultHttpxClient(event_hooks={"response": [hook]}),
        openai.DefaultAsyncHttpxClient(event_hooks={"response": [ahook]}),
    )
