"""The embedded llama.cpp server (xllamacpp) on 127.0.0.1: start, health, ports, one per process.

Started lazily on the first :func:`embedded_server` call and stopped at exit; it speaks
the OpenAI API behind a random per-process key.

Example (starts the embedded model):
    >>> from rag.settings import load_settings
    >>> embedded_server(load_settings()).base_url  # doctest: +SKIP
    'http://127.0.0.1:40123/v1'
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import ModelError
from rag.models.model_file import LOCAL_EXTRA_HINT, Progress, prepare_model

if TYPE_CHECKING:
    from rag.settings import Settings

logger = logging.getLogger(__name__)

PROMPT_SLOTS = 2
"""Cached prompts the embedded server keeps side by side (llama.cpp slots, ``--parallel``)."""


@dataclass(frozen=True)
class ServerConfig:
    """What the embedded server is started with.

    Example:
        >>> ServerConfig(Path("m.gguf"), threads=2, batch_threads=2).ctx_size
        4096
    """

    model_path: Path
    threads: int = 2
    batch_threads: int = 2
    ctx_size: int = 4096
    batch_size: int = 512
    port: int = 0
    cache_reuse: int = 256

    @classmethod
    def from_settings(cls, settings: Settings, model_path: Path) -> ServerConfig:
        """Config from settings for ``model_path``."""
        return cls(
            model_path=model_path,
            threads=settings.llm_threads,
            batch_threads=settings.llm_batch_threads,
            ctx_size=settings.llm_ctx_size,
            batch_size=settings.llm_batch_size,
            port=settings.llm_port,
            cache_reuse=settings.llm_cache_reuse,
        )


class EmbeddedServer:
    """A running xllamacpp (llama.cpp) HTTP server on 127.0.0.1 speaking the OpenAI API.

    Use :func:`embedded_server` rather than constructing it: that keeps one per process.

    Example (loads the model):
        >>> config = ServerConfig(Path("data/models/m.gguf"))
        >>> server = EmbeddedServer.start(config, timeout=60)  # doctest: +SKIP
        >>> server.base_url  # doctest: +SKIP
        'http://127.0.0.1:40123/v1'
        >>> server.stop()  # doctest: +SKIP
    """

    def __init__(
        self, config: ServerConfig, handle: Any, address: str, load_seconds: float, api_key: str
    ) -> None:
        self.config = config
        self.api_key = api_key
        self._handle = handle
        self.address = address.rstrip("/")
        self.load_seconds = load_seconds

    @property
    def base_url(self) -> str:
        """OpenAI-compatible base URL (``http://127.0.0.1:PORT/v1``)."""
        return f"{self.address}/v1"

    @property
    def running(self) -> bool:
        """True until :meth:`stop` is called."""
        return self._handle is not None

    @classmethod
    def start(cls, config: ServerConfig, timeout: float) -> EmbeddedServer:
        """Load the model and serve it; ModelError if that fails or exceeds ``timeout`` s."""
        xllamacpp = _import_runtime()
        if config.port:
            _ensure_port_free(config.port)
        api_key = secrets.token_urlsafe(24)
        params = _server_params(xllamacpp, config, api_key)
        started = time.perf_counter()
        handle, address = _construct(xllamacpp, params, config, timeout)
        server = cls(config, handle, address, time.perf_counter() - started, api_key)
        try:
            _wait_healthy(server.address, timeout - server.load_seconds)
        except ModelError:
            server.stop()
            raise
        logger.info(
            "Embedded model %s served at %s (loaded in %.1f s)",
            config.model_path.name,
            server.base_url,
            server.load_seconds,
        )
        return server

    def metrics(self) -> dict[str, float]:
        """llama.cpp's counters (``/metrics``): prompt tokens processed, seconds spent, ...

        Names lose their ``llamacpp:`` prefix, e.g. ``prompt_tokens_total``,
        ``prompt_seconds_total``, ``tokens_predicted_total``, ``tokens_predicted_seconds_total``.
        Prompt tokens taken from the cache are not counted as processed.

        Example (a running server):
            >>> server.metrics()["prompt_tokens_total"]  # doctest: +SKIP
            1250.0
        """
        request = urllib.request.Request(
            f"{self.address}/metrics", headers={"Authorization": f"Bearer {self.api_key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return parse_metrics(response.read().decode("utf-8", errors="replace"))

    def stop(self) -> None:
        """Stop the server and free the model (idempotent)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            del handle  # xllamacpp's destructor terminates the loop and joins its thread
            logger.debug("Embedded model server at %s stopped", self.address)


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text (``name value`` lines) as a dict, ``llamacpp:`` prefixes dropped.

    Example:
        >>> parse_metrics("# HELP x\\nllamacpp:prompt_tokens_total 12\\nother 1.5")
        {'prompt_tokens_total': 12.0, 'other': 1.5}
    """
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        with contextlib.suppress(ValueError):
            values[name.removeprefix("llamacpp:")] = float(value)
    return values


def _import_runtime() -> Any:
    try:
        import xllamacpp
    except ImportError:
        raise ModelError(
            "The embedded LLM runtime (xllamacpp) is not installed.", hint=LOCAL_EXTRA_HINT
        ) from None
    return xllamacpp


def _ensure_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise ModelError(
                f"Port {port} on 127.0.0.1 is already in use, so the embedded model server "
                "cannot start.",
                hint="stop the program using it, or set RAG_LLM_PORT=0 to pick a free port",
            ) from None


def _server_params(xllamacpp: Any, config: ServerConfig, api_key: str) -> Any:
    params = xllamacpp.CommonParams()
    # A random per-process key: other local programs and web pages cannot use the server.
    params.api_keys = [api_key]
    params.model.path = str(config.model_path)
    params.hostnames = ["127.0.0.1"]
    params.port = config.port
    # Two slots, each with the full context: llama.cpp gives a request the slot whose cached
    # prompt shares most with it, so the answer prompt's prefix stays cached in one slot while
    # follow-up rewriting (a different prompt) uses the other. With one slot, every follow-up
    # evicted it, and the host-RAM cache restores only prompts sharing >= 1/4 of their tokens.
    params.n_parallel = PROMPT_SLOTS
    params.kv_unified = False
    params.n_ctx = config.ctx_size * PROMPT_SLOTS
    params.n_batch = config.batch_size
    params.n_ubatch = config.batch_size
    params.cpuparams.n_threads = config.threads
    params.cpuparams_batch.n_threads = config.batch_threads
    params.cache_prompt = True
    params.cache_ram_mib = 512  # host-RAM cache of earlier prompts (llama.cpp default: 8 GiB)
    # Runs of at least this many cached tokens are reused even after a change earlier in the
    # prompt (shifted in the KV cache), e.g. a follow-up whose sources overlap the last ones.
    params.n_cache_reuse = config.cache_reuse
    params.endpoint_metrics = True  # counters for benchmarks; behind the per-process key
    params.ui = False
    params.warmup = True
    params.verbosity = -1 if not logger.isEnabledFor(logging.DEBUG) else 3
    return params


def _construct(
    xllamacpp: Any, params: Any, config: ServerConfig, timeout: float
) -> tuple[Any, str]:
    """Build ``xllamacpp.Server`` (blocks until the model is loaded) with a deadline."""
    result: dict[str, Any] = {}
    lock = threading.Lock()

    def target() -> None:
        try:
            server = xllamacpp.Server(params)
        except Exception as exc:  # any failure becomes a ModelError below
            result["error"] = exc
            return
        with lock:
            if result.get("abandoned"):
                del server  # loaded after the deadline: nobody will use it
                return
            result["server"], result["address"] = server, server.listening_address

    thread = threading.Thread(target=target, name="news-rag-llm-start", daemon=True)
    thread.start()
    thread.join(timeout)
    with lock:
        timed_out = "server" not in result and "error" not in result
        result["abandoned"] = timed_out
    if timed_out:
        raise ModelError(
            f"The embedded model {config.model_path.name} did not load within {timeout:.0f} s.",
            hint="raise RAG_LLM_STARTUP_TIMEOUT, or free CPU/memory (about 2 GB RAM needed)",
        )
    if "error" in result:
        where = f"port {config.port}" if config.port else "a free loopback port"
        raise ModelError(
            f"The embedded model server could not start for {config.model_path.name} on {where}: "
            f"{result['error']}.",
            hint="check that the file is a valid GGUF model, that about 2 GB of RAM is free, and "
            "that the port is not in use (run with -v for llama.cpp logs)",
        )
    return result["server"], str(result["address"])


def _wait_healthy(address: str, timeout: float) -> None:
    deadline = time.monotonic() + max(timeout, 1.0)
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{address}/health", timeout=2) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:  # 503 while loading
            last = f"HTTP {exc.code}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise ModelError(
        f"The embedded model server at {address} is not healthy ({last}).",
        hint="raise RAG_LLM_STARTUP_TIMEOUT or run with -v for llama.cpp logs",
    )


_servers: dict[Path, EmbeddedServer] = {}
_servers_lock = threading.Lock()
_atexit_registered = False


def embedded_server(settings: Settings, progress: Progress | None = None) -> EmbeddedServer:
    """The process-wide embedded server for this GGUF, started on first call.

    One server per model file per process: later calls reuse it even if thread or
    context settings differ (a second copy would double the memory).

    Example (starts the model):
        >>> from rag.settings import load_settings
        >>> server = embedded_server(load_settings())  # doctest: +SKIP
        >>> server.base_url.startswith("http://127.0.0.1:")  # doctest: +SKIP
        True
    """
    global _atexit_registered
    model_path = prepare_model(settings, progress).resolve()
    config = ServerConfig.from_settings(settings, model_path)
    with _servers_lock:
        server = _servers.get(model_path)
        if server is not None and server.running:
            if server.config != config:
                logger.info(
                    "Reusing the running server for %s (started with %s)",
                    model_path.name,
                    server.config,
                )
            return server
        server = EmbeddedServer.start(config, settings.llm_startup_timeout)
        _servers[model_path] = server
        if not _atexit_registered:
            atexit.register(stop_embedded_servers)
            _atexit_registered = True
        return server


def running_servers() -> list[EmbeddedServer]:
    """Embedded servers started by this process and still running."""
    with _servers_lock:
        return [s for s in _servers.values() if s.running]


def stop_embedded_servers() -> None:
    """Stop every embedded server of this process (also registered with ``atexit``).

    Example:
        >>> stop_embedded_servers()
    """
    with _servers_lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.stop()
