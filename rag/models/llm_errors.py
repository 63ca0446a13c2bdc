"""OpenAI client errors turned into :class:`LLMUnavailableError`: endpoint named, key never shown.

Example:
    >>> with translate_llm_errors("http://127.0.0.1:9/v1"):
    ...     pass
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from rag.errors import LLMUnavailableError


def _endpoint_of(exc: BaseException, fallback: str | None) -> str:
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    if url is not None:
        from rag.models.chat_guard import endpoint_label

        return endpoint_label(str(url))
    return fallback or "the LLM endpoint"


@contextlib.contextmanager
def translate_llm_errors(endpoint: str | None = None) -> Iterator[None]:
    """Turn openai client errors into :class:`LLMUnavailableError` (endpoint named, no key).

    Example:
        >>> with translate_llm_errors("http://127.0.0.1:9/v1"):
        ...     pass
    """
    import openai

    try:
        yield
    except openai.APITimeoutError as exc:
        where = _endpoint_of(exc, endpoint)
        raise LLMUnavailableError(
            f"The LLM at {where} did not answer in time.",
            hint="retry, raise RAG_LLM_TIMEOUT, or use a faster model or endpoint",
        ) from None
    except openai.APIConnectionError as exc:
        where = _endpoint_of(exc, endpoint)
        raise LLMUnavailableError(
            f"Cannot reach the LLM at {where}.",
            hint="check that the server is running and RAG_LLM_BASE_URL is right "
            "(unset it to use the embedded model)",
        ) from None
    except openai.AuthenticationError as exc:
        raise LLMUnavailableError(
            f"The LLM at {_endpoint_of(exc, endpoint)} refused the API key (HTTP 401).",
            hint="check RAG_LLM_API_KEY",
        ) from None
    except openai.RateLimitError as exc:
        wait = _retry_after(exc)
        asks = f"; it asks to wait {wait:.0f} s" if wait else ""
        raise LLMUnavailableError(
            f"The LLM at {_endpoint_of(exc, endpoint)} is rate-limiting requests (HTTP 429{asks}).",
            hint="wait and retry, or raise RAG_LLM_MAX_RETRIES",
        ) from None
    except openai.APIStatusError as exc:
        detail = _short_detail(exc)
        raise LLMUnavailableError(
            f"The LLM at {_endpoint_of(exc, endpoint)} answered with an error "
            f"(HTTP {exc.status_code}{': ' + detail if detail else ''}).",
            hint="check RAG_LLM_MODEL and the server's logs; retry later if it is overloaded",
        ) from None
    except openai.APIError as exc:  # an error event in the middle of a stream
        detail = _short_detail(exc) or _redacted(str(exc.message or ""), exc)[:200]
        raise LLMUnavailableError(
            f"The LLM at {_endpoint_of(exc, endpoint)} failed while answering"
            f"{': ' + detail if detail else ''}.",
            hint="retry; if it keeps happening, check the server's logs",
        ) from None


def _retry_after(exc: Any) -> float | None:
    from rag.models.chat_guard import retry_after_seconds

    response = getattr(exc, "response", None)
    return retry_after_seconds(response.headers) if response is not None else None


def _redacted(text: str, exc: Any) -> str:
    """``text`` without the bearer token the failed request carried (servers may echo it)."""
    from rag.redaction import redact

    request = getattr(exc, "request", None)
    auth = str(getattr(request, "headers", {}).get("Authorization", "")) if request else ""
    token = auth.split(" ", 1)[1] if " " in auth else auth
    return redact(text, [token, auth])


def _short_detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    if not message and isinstance(body, dict) and isinstance(body.get("error"), dict):
        message = body["error"].get("message")
    text = str(message or "").strip().replace("\n", " ")
    return _redacted(text, exc)[:200]
