"""The embedded LLM runtime built for this CPU: detect, build once, verify, fall back.

The prebuilt ``xllamacpp`` wheel carries AVX2 kernels only and picks none at run time, so
on a CPU with AVX-512 or VNNI it processes prompts slower than it could (measured here:
~1.4x faster prompts with a build for this CPU, ~1.1x faster generation). The same
version built from its source with ``GGML_NATIVE=ON`` uses everything the CPU has.

:func:`runtime_status` compares what the installed runtime uses with what the CPU offers;
:func:`build_native_runtime` builds the wheel once (cached per version and CPU under
``RAG_DATA_DIR/runtime``), installs it, checks it loads in a fresh interpreter and, if
anything fails, puts the prebuilt wheel back. Setup-time only: building fetches the source
from the package index; nothing here runs while answering.

Example:
    >>> sorted(features_of("CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | AVX512_VNNI = 0 |"))
    ['AVX2', 'AVX512', 'SSE3']
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import ModelError

logger = logging.getLogger(__name__)

PACKAGE = "xllamacpp"
CMAKE_ARGS = (
    "-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_LLGUIDANCE=OFF "
    "-DLLAMA_BUILD_BORINGSSL=OFF -DLLAMA_USE_PREBUILT_UI=OFF"
)
# /proc/cpuinfo flag -> the name llama.cpp's system info gives the kernels that use it
SPEED_FEATURES = {
    "avx512f": "AVX512",
    "avx512_vnni": "AVX512_VNNI",
    "avx512vbmi": "AVX512_VBMI",
    "avx512_bf16": "AVX512_BF16",
    "avx_vnni": "AVX_VNNI",
    "amx_int8": "AMX_INT8",
}
FAILED_MARK = "build-failed.json"
Runner = Callable[[Sequence[str], dict[str, str]], subprocess.CompletedProcess[str]]


class RuntimeBuildError(ModelError):
    """The runtime could not be built or installed for this CPU (the prebuilt one stays)."""


@dataclass(frozen=True)
class RuntimeStatus:
    """What the installed runtime uses against what this CPU offers.

    Example:
        >>> RuntimeStatus("2026.1", frozenset({"AVX2"}), frozenset({"AVX512"})).needs_build
        True
    """

    version: str | None
    runtime_features: frozenset[str] = field(default_factory=frozenset)
    missing: frozenset[str] = field(default_factory=frozenset)
    """Instruction sets the CPU has and the installed runtime does not use."""

    @property
    def needs_build(self) -> bool:
        """True when a build for this CPU would use instructions the installed one skips."""
        return self.version is not None and bool(self.missing)

    def describe(self) -> str:
        """One line for people.

        Example:
            >>> RuntimeStatus("2026.1", frozenset({"AVX2"})).describe()
            'xllamacpp 2026.1, uses every speed feature of this CPU'
        """
        if self.version is None:
            return f"{PACKAGE} not installed: pip install 'news-rag[local]'"
        if not self.missing:
            return f"{PACKAGE} {self.version}, uses every speed feature of this CPU"
        skipped = ", ".join(sorted(self.missing))
        return (
            f"{PACKAGE} {self.version}, prebuilt: skips {skipped} of this CPU "
            "(news-rag models --build-runtime builds one for it, ~10 minutes once)"
        )


def features_of(system_info: str) -> frozenset[str]:
    """The features llama.cpp's ``get_system_info()`` reports as on (``NAME = 1``).

    Example:
        >>> sorted(features_of("CPU : AVX = 1 | AVX2 = 1 | F16C = 0 |"))
        ['AVX', 'AVX2']
    """
    return frozenset(re.findall(r"([A-Z0-9_]+) = 1\b", system_info))


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """This CPU's flags from ``/proc/cpuinfo`` (empty where there is none).

    Example:
        >>> sorted(cpu_flags("flags\\t\\t: fpu avx2 avx512f\\n"))
        ['avx2', 'avx512f', 'fpu']
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return frozenset()
    match = re.search(r"^flags\s*:\s*(.*)$", cpuinfo, flags=re.MULTILINE)
    return frozenset(match.group(1).split()) if match else frozenset()


def missing_features(flags: frozenset[str], runtime: frozenset[str]) -> frozenset[str]:
    """Speed features the CPU has (``flags``) that the runtime (``runtime``) does not use.

    Example:
        >>> sorted(missing_features(frozenset({"avx2", "avx512f"}), frozenset({"AVX2"})))
        ['AVX512']
    """
    return frozenset(
        name for flag, name in SPEED_FEATURES.items() if flag in flags and name not in runtime
    )


def runtime_status(python: str | None = None) -> RuntimeStatus:
    """Inspect the runtime installed for ``python`` (default: this interpreter).

    The check loads the runtime in a child interpreter, so a broken build cannot crash
    the caller.

    Example:
        >>> runtime_status().version is None or isinstance(runtime_status().missing, frozenset)
        True
    """
    info = _probe(python or sys.executable)
    if info is None:
        return RuntimeStatus(None)
    features = features_of(info["system_info"])
    return RuntimeStatus(info["version"], features, missing_features(cpu_flags(), features))


def _probe(python: str) -> dict[str, str] | None:
    code = (
        "import json, importlib.metadata as m, xllamacpp; "
        "print(json.dumps({'version': m.version('xllamacpp'), "
        "'system_info': xllamacpp.get_system_info()}))"
    )
    done = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def cpu_tag(flags: frozenset[str] | None = None) -> str:
    """A short key for this CPU's speed features: wheels built for one CPU stay with it.

    Example:
        >>> cpu_tag(frozenset({"avx2", "avx512f"})) == cpu_tag(frozenset({"avx512f", "sse"}))
        True
    """
    flags = cpu_flags() if flags is None else flags
    used = ",".join(sorted(flag for flag in SPEED_FEATURES if flag in flags))
    return hashlib.sha256(used.encode()).hexdigest()[:12]


def _run(command: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), capture_output=True, text=True, env=env, check=False)


@dataclass
class RuntimeBuild:
    """Builds, installs and verifies ``xllamacpp`` for this CPU, falling back on failure.

    Example:
        >>> build = RuntimeBuild(Path("data/runtime"), "2026.10.11549")
        >>> build.wheel_dir.parent.name
        'runtime'
    """

    cache_dir: Path
    version: str
    python: str = sys.executable
    run: Runner = _run
    tag: str = field(default_factory=cpu_tag)

    @property
    def wheel_dir(self) -> Path:
        """Where the wheel for this version and CPU is cached."""
        return self.cache_dir / f"{PACKAGE}-{self.version}-{self.tag}"

    def cached_wheel(self) -> Path | None:
        """The cached wheel, if a build finished before."""
        return next(iter(sorted(self.wheel_dir.glob(f"{PACKAGE}-*.whl"))), None)

    def failed_before(self) -> str | None:
        """Why the last attempt for this version and CPU failed (None: it did not)."""
        mark = self.wheel_dir / FAILED_MARK
        if not mark.exists():
            return None
        return json.loads(mark.read_text(encoding="utf-8")).get("error", "unknown error")

    def install(self, progress: Callable[[str], None] = logger.info) -> Path:
        """Build (unless cached), install and verify; if the install or its check fails,
        put the prebuilt wheel back (a failed build installed nothing).

        Raises :class:`RuntimeBuildError` saying what failed; a failure is remembered so
        automatic attempts stop.
        """
        self.wheel_dir.mkdir(parents=True, exist_ok=True)
        try:
            wheel = self.cached_wheel() or self._build(progress)
        except RuntimeBuildError as exc:  # nothing was installed: the prebuilt one stays
            self._remember_failure(exc.message)
            raise
        try:
            progress(f"Installing {wheel.name}")
            self._pip("install", "--no-deps", "--force-reinstall", str(wheel))
            self._verify()
        except RuntimeBuildError as exc:
            self._remember_failure(exc.message)
            self._restore_prebuilt(progress)
            raise
        (self.wheel_dir / FAILED_MARK).unlink(missing_ok=True)
        return wheel

    def _build(self, progress: Callable[[str], None]) -> Path:
        missing = [tool for tool in ("cmake", "c++") if shutil.which(tool) is None]
        if missing:
            raise RuntimeBuildError(
                f"Cannot build the runtime: {' and '.join(missing)} not found.",
                hint="Install a C++ compiler and cmake (Debian: apt-get install g++ cmake).",
            )
        progress(f"Building {PACKAGE} {self.version} for this CPU (about 10 minutes on 2 cores)")
        with tempfile.TemporaryDirectory(dir=self.wheel_dir) as scratch:
            env = {**os.environ, "CMAKE_ARGS": CMAKE_ARGS, "TMPDIR": scratch}
            env["NPROC"] = str(os.cpu_count() or 1)
            self._pip(
                "wheel", "--no-deps", "--no-binary", PACKAGE, "--no-cache-dir",
                "-w", scratch, f"{PACKAGE}=={self.version}", env=env,
            )  # fmt: skip
            built = sorted(Path(scratch).glob(f"{PACKAGE}-*.whl"))
            if not built:
                raise RuntimeBuildError("The runtime build finished without a wheel.")
            return Path(shutil.move(str(built[0]), self.wheel_dir / built[0].name))

    def _verify(self) -> None:
        status = runtime_status(self.python)
        if status.version is None:
            raise RuntimeBuildError("The runtime built for this CPU does not load.")
        if status.missing:
            skipped = ", ".join(sorted(status.missing))
            raise RuntimeBuildError(f"The runtime built for this CPU still skips {skipped}.")

    def _restore_prebuilt(self, progress: Callable[[str], None]) -> None:
        progress(f"Restoring the prebuilt {PACKAGE} {self.version}")
        try:
            self._pip(
                "install", "--no-deps", "--force-reinstall", "--only-binary", ":all:",
                f"{PACKAGE}=={self.version}",
            )  # fmt: skip
        except RuntimeBuildError as exc:
            logger.error("Could not restore the prebuilt runtime: %s", exc.message)

    def _pip(self, *args: str, env: dict[str, str] | None = None) -> None:
        done = self.run([self.python, "-m", "pip", "--quiet", *args], env or dict(os.environ))
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise RuntimeBuildError(f"pip {args[0]} failed: {' '.join(detail)[-400:]}")

    def _remember_failure(self, error: str) -> None:
        record = {"error": error, "when": time.strftime("%Y-%m-%dT%H:%M:%S")}
        (self.wheel_dir / FAILED_MARK).write_text(json.dumps(record), encoding="utf-8")


@contextmanager
def build_lock(cache_dir: Path) -> Iterator[bool]:
    """Hold the build lock if free; yields False when another build holds it.

    Example:
        >>> import tempfile
        >>> with build_lock(Path(tempfile.mkdtemp())) as mine:
        ...     mine
        True
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / "build.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_background_build(cache_dir: Path) -> Path:
    """Run ``news-rag models --build-runtime`` detached, at the lowest CPU priority.

    Lowest priority (nice 19) lets answers take the CPU whenever they need it; the build
    uses what is left. Returns the log file.

    Example (not run: builds for ~10 minutes):
        >>> start_background_build(Path("data/runtime"))  # doctest: +SKIP
        PosixPath('data/runtime/build.log')
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    log = cache_dir / "build.log"
    command = [sys.executable, "-c", "from rag.cli import main; main()"]
    command += ["models", "--build-runtime"]
    with open(log, "a", encoding="utf-8") as out:
        subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the terminal and the app that started it
            preexec_fn=lambda: os.nice(19),
        )
    return log
