"""Unit tests for rag.models.chat_guard and the LLM error translation it feeds (no network)."""

from __future__ import annotations

import email.utils
import time

import httpx2
import openai
import pytest

from rag.errors import LLMUnavailableError
from rag.models.chat_guard import (
    _limit_retry_after,
    endpoint_label,
    redact,
    retry_after_seconds,
    retry_limited_clients,
)
from rag.models.llm_errors import translate_llm_errors

pytestmark = pytest.mark.unit

KEY = "sk-unit-0123456789"
URL = "http://127.0.0.1:8123/v1/chat/completions"


def _request() -> httpx2.Request:
    return httpx2.Request("POST", URL, headers={"Authorization": f"Bearer {KEY}"})


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"retry-after": "7"}) == 7.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None
    future = email.utils.formatdate(time.time() + 90, usegmt=True)
    assert 80 < (retry_after_seconds({"retry-after": future}) or 0) <= 91


@pytest.mark.parametrize(("value", "refused"), [("30", True), ("1", False), (None, False)])
def test_long_retry_after_is_not_retried(value: str | None, refused: bool) -> None:
    headers = {"retry-after": value} if value else {}
    response = httpx2.Response(429, headers=headers, request=_request())
    _limit_retry_after(response, limit=2.0)
    assert (response.headers.get("x-should-retry") == "false") is refused


def test_clients_carry_the_hook() -> None:
    sync_client, async_client = retry_limited_clients(2.0)
    assert len(sync_client.event_hooks["response"]) == 1
    assert len(async_client.event_hooks["response"]) == 1


def test_redact_and_endpoint_label() -> None:
    assert redact(f"key {KEY} and {KEY}", [KEY, None]) == "key *** and ***"
    assert redact("short", ["ab"]) == "short"
    assert endpoint_label("https://user:pw@api.example.com/v1") == "https://api.example.com"
    assert endpoint_label(None) == "the LLM endpoint"


def test_status_error_echoing_the_key_is_redacted() -> None:
    body = {"error": {"message": f"bad credentials Bearer {KEY}"}}
    response = httpx2.Response(500, json=body, request=_request())
    error = openai.InternalServerError("boom", response=response, body=body["error"])
    with pytest.raises(LLMUnavailableError) as info, translate_llm_errors():
        raise error
    assert KEY not in str(info.value) and "HTTP 500" in info.value.message


def test_error_event_mid_stream_is_translated() -> None:
    error = openai.APIError("model crashed", request=_request(), body={"message": "crashed"})
    expected = "failed while answering: crashed"
    with pytest.raises(LLMUnavailableError, match=expected) as info, translate_llm_errors():
        raise error
    assert "127.0.0.1:8123" in info.value.message and info.value.hint


def test_rate_limit_names_the_requested_wait() -> None:
    response = httpx2.Response(429, headers={"retry-after": "30"}, request=_request())
    error = openai.RateLimitError("slow down", response=response, body=None)
    with pytest.raises(LLMUnavailableError, match="asks to wait 30 s"), translate_llm_errors():
        raise error
