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
    except openai.APIError as exc:
        raise _unavailable(exc, endpoint) from None


def _unavailable(exc: Any, endpoint: str | None) -> LLMUnavailableError:
    """The readable error for an openai client error, most specific kind first (a timeout is
    a connection error, and 401 and 429 are status errors, each with its own advice)."""
    import openai

    where = _endpoint_of(exc, endpoint)
    if isinstance(exc, openai.APITimeoutError):
        message = f"The LLM at {where} did not answer in time."
        hint = "retry, raise RAG_LLM_TIMEOUT, or use a faster model or endpoint"
    elif isinstance(exc, openai.APIConnectionError):
        message = f"Cannot reach the LLM at {where}."
        hint = (
            "check that the server is running and RAG_LLM_BASE_URL is right "
            "(unset it to use the embedded model)"
        )
    elif isinstance(exc, openai.AuthenticationError):
        message = f"The LLM at {where} refused the API key (HTTP 401)."
        hint = "check RAG_LLM_API_KEY"
    elif isinstance(exc, openai.RateLimitError):
        wait = _retry_after(exc)
        asks = f"; it asks to wait {wait:.0f} s" if wait else ""
        message = f"The LLM at {where} is rate-limiting requests (HTTP 429{asks})."
        hint = "wait and retry, or raise RAG_LLM_MAX_RETRIES"
    elif isinstance(exc, openai.APIStatusError):
        detail = _short_detail(exc)
        message = (
            f"The LLM at {where} answered with an error "
            f"(HTTP {exc.status_code}{': ' + detail if detail else ''})."
        )
        hint = "check RAG_LLM_MODEL and the server's logs; retry later if it is overloaded"
    else:  # an error event in the middle of a stream
        detail = _short_detail(exc) or _redacted(str(exc.message or ""), exc)[:200]
        message = f"The LLM at {where} failed while answering{': ' + detail if detail else ''}."
        hint = "retry; if it keeps happening, check the server's logs"
    return LLMUnavailableError(message, hint=hint)


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
