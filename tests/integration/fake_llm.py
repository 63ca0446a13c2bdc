"""A real local HTTP server that speaks just enough of the OpenAI chat-completions API.

It answers ``POST /v1/chat/completions`` (plain JSON or SSE when ``"stream": true``) and
misbehaves on purpose according to :attr:`FakeLLMServer.fault`:

- ``None``: a well-formed answer (``FakeLLMServer.answer``), streamed or not;
- ``"status"``: HTTP ``status`` (429, 500, ...) with an OpenAI-style error body,
  plus ``Retry-After`` when ``retry_after`` is set;
- ``"hang"``: accept the request and never answer (until the server stops);
- ``"stall"``: send the SSE headers and the first chunk, then go silent;
- ``"drop"``: close the connection without any response;
- ``"truncated"``: stream a few chunks, then end the body without a finish reason
  or ``[DONE]`` (a clean end of stream: the client cannot tell from the transport);
- ``"garbage"``: stream one good chunk, then a ``data:`` line that is not JSON;
- ``"error_event"``: stream one good chunk, then ``data: {"error": {...}}``;
- ``"bad_json"``: answer a non-streaming request with a body that is not JSON;
- ``"echo_key"``: HTTP 500 whose error message repeats the request's bearer token.

Every request is recorded (path, lower-cased headers, JSON body) in :attr:`FakeLLMServer.requests`.

Example:
    >>> with FakeLLMServer() as llm:  # doctest: +SKIP
    ...     llm.fault = "status"; llm.status = 500
    ...     settings = load_settings(llm_base_url=llm.base_url, llm_timeout=2)
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWER = "Hegseth told allies in Brussels that Ukraine will not join NATO in a peace deal [1]."


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        with fake.lock:
            fake.requests.append(
                {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
            )
            fault = fake.fault
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        stream = bool(body.get("stream"))
        if fault == "status":
            self._error(fake.status, f"fake failure {fake.status}")
        elif fault == "echo_key":
            token = self.headers.get("Authorization", "")
            self._error(500, f"upstream rejected credentials {token}")
        elif fault == "hang":
            fake.stopping.wait(fake.hang_seconds)
        elif fault == "drop":
            self.close_connection = True
            self.wfile.flush()
            self.connection.close()
        elif fault == "bad_json" and not stream:
            self._raw(200, b'{"id": "x", "choices": [ {"message": ', "application/json")
        elif stream:
            self._stream(fault, body)
        else:
            self._json(200, completion(fake.answer, body))

    # --- responses ----------------------------------------------------------------
    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None):
        self._raw(status, json.dumps(payload).encode(), "application/json", headers)

    def _raw(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        fake = self.server.fake
        headers = {"Retry-After": str(fake.retry_after)} if fake.retry_after is not None else {}
        payload = {"error": {"message": message, "type": "server_error", "code": status}}
        self._json(status, payload, headers)

    def _stream(self, fault: str | None, body: dict[str, Any]) -> None:
        fake = self.server.fake
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()  # HTTP/1.0 without Content-Length: the body ends when we close
        words = fake.answer.split(" ")
        pieces = [w + " " for w in words[:-1]] + [words[-1]]
        if fault in ("truncated", "garbage", "error_event", "stall"):
            pieces = pieces[: max(1, len(pieces) // 3)]
        try:
            for piece in pieces:
                self._event(chunk(piece, body))
                time.sleep(fake.chunk_delay)
            if fault == "truncated":
                return
            if fault == "stall":
                fake.stopping.wait(fake.hang_seconds)
                return
            if fault == "garbage":
                self.wfile.write(b'data: {"id": "x", "choices": [{"delta": {"content": \n\n')
                self.wfile.flush()
                return
            if fault == "error_event":
                self._event({"error": {"message": "the model crashed mid-answer", "code": 500}})
                return
            self._event(chunk("", body, finish="stop"))
            if (body.get("stream_options") or {}).get("include_usage"):
                self._event(usage_chunk(body))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return

    def _event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeLLMServer


class FakeLLMServer:
    """The fake endpoint on ``127.0.0.1`` and a random port; use as a context manager.

    Change ``fault`` (and ``status``, ``retry_after``...) at any time; the next request
    sees the new behaviour. ``requests`` lists what was received. ``port`` reuses a port
    (an endpoint that comes back after being down).
    """

    def __init__(self, answer: str = ANSWER, port: int = 0) -> None:
        self.answer = answer
        self.fault: str | None = None
        self.status = 500
        self.retry_after: int | None = None
        self.hang_seconds = 30.0
        self.chunk_delay = 0.0
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def chat_requests(self) -> list[dict[str, Any]]:
        """The chat-completion requests received so far."""
        with self.lock:
            return [r for r in self.requests if r["path"].rstrip("/").endswith("/chat/completions")]

    def reset(self, fault: str | None = None) -> None:
        """Forget recorded requests and set a new fault (``None``: behave)."""
        with self.lock:
            self.requests.clear()
            self.fault = fault

    def __enter__(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


USAGE = {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}


def completion(text: str, body: dict[str, Any]) -> dict[str, Any]:
    """A non-streaming chat completion holding ``text``."""
    choice = {"index": 0, "message": {"role": "assistant", "content": text}}
    return _reply("chat.completion", body, [{**choice, "finish_reason": "stop"}], usage=USAGE)


def chunk(text: str, body: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    """One streamed ``chat.completion.chunk`` carrying ``text``."""
    delta = {"role": "assistant", "content": text} if text else {}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return _reply("chat.completion.chunk", body, [choice])


def usage_chunk(body: dict[str, Any]) -> dict[str, Any]:
    """The final usage-only chunk sent when ``stream_options.include_usage`` is set."""
    return _reply("chat.completion.chunk", body, [], usage=USAGE)


def _reply(kind: str, body: dict[str, Any], choices: list[Any], **extra: Any) -> dict[str, Any]:
    """The envelope every reply shares: id, object, time, the model asked for, choices."""
    return {
        "id": "chatcmpl-fake",
        "object": kind,
        "created": int(time.time()),
        "model": body.get("model", "fake-model"),
        "choices": choices,
        **extra,
    }
