"""The LLM runtime built for this CPU: feature detection, build, verify, fall back."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from rag.models import runtime_build as rb

pytestmark = pytest.mark.unit

PREBUILT_INFO = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | OPENMP = 1 |"
NATIVE_INFO = PREBUILT_INFO + " AVX512 = 1 | AVX512_VNNI = 1 | AVX_VNNI = 1 |"
AVX512_CPU = frozenset({"avx2", "avx512f", "avx512_vnni", "avx_vnni"})


def test_features_read_only_the_ones_switched_on() -> None:
    assert rb.features_of("CPU : AVX2 = 1 | AVX512 = 0 | FMA = 1 |") == {"AVX2", "FMA"}


def test_prebuilt_runtime_on_an_avx512_cpu_misses_its_speed_features() -> None:
    missing = rb.missing_features(AVX512_CPU, rb.features_of(PREBUILT_INFO))
    assert missing == {"AVX512", "AVX512_VNNI", "AVX_VNNI"}


def test_a_native_build_misses_nothing() -> None:
    assert not rb.missing_features(AVX512_CPU, rb.features_of(NATIVE_INFO))


def test_an_avx2_only_cpu_gains_nothing_from_a_build() -> None:
    status = rb.RuntimeStatus(
        "1.0", rb.features_of(PREBUILT_INFO), rb.missing_features(frozenset({"avx2"}), set())
    )
    assert not status.needs_build
    assert "uses every speed feature" in status.describe()


def test_cpu_flags_parse_proc_cpuinfo() -> None:
    text = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\nbugs\t\t: none\n"
    assert rb.cpu_flags(text) == {"fpu", "sse", "avx2", "avx512f"}
    assert rb.cpu_flags("no flags here") == frozenset()


def test_cpu_tag_depends_only_on_speed_features() -> None:
    assert rb.cpu_tag(frozenset({"avx512f", "fpu"})) == rb.cpu_tag(frozenset({"avx512f"}))
    assert rb.cpu_tag(frozenset({"avx512f"})) != rb.cpu_tag(frozenset({"avx2"}))


class FakePip:
    """Records pip commands; ``fail`` names the pip subcommands that exit non-zero."""

    def __init__(self, fail: Sequence[str] = ()) -> None:
        self.commands: list[list[str]] = []
        self.envs: list[dict[str, str]] = []
        self.fail = set(fail)

    def __call__(
        self, command: Sequence[str], env: dict[str, str]
    ) -> subprocess.CompletedProcess[str]:
        self.commands.append(list(command))
        self.envs.append(env)
        sub = command[4]  # python -m pip --quiet <sub>
        if sub == "wheel" and "wheel" not in self.fail:
            out = Path(command[command.index("-w") + 1])
            (out / "xllamacpp-1.0-cp311-abi3-linux_x86_64.whl").write_bytes(b"wheel")
        code = 1 if sub in self.fail else 0
        return subprocess.CompletedProcess(command, code, "", f"{sub} broke")

    def subcommands(self) -> list[str]:
        return [command[4] for command in self.commands]


@pytest.fixture
def statuses(monkeypatch: pytest.MonkeyPatch) -> list[rb.RuntimeStatus]:
    """What runtime_status reports after install (pop from the front)."""
    queue = [rb.RuntimeStatus("1.0", rb.features_of(NATIVE_INFO))]
    monkeypatch.setattr(rb, "runtime_status", lambda python=None: queue[0])
    monkeypatch.setattr(rb.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    return queue


def _build(tmp_path: Path, pip: FakePip) -> rb.RuntimeBuild:
    return rb.RuntimeBuild(tmp_path / "runtime", "1.0", python="py", run=pip, tag="cpu")


def test_build_installs_a_native_wheel_and_caches_it(tmp_path: Path, statuses: list) -> None:
    pip = FakePip()
    wheel = _build(tmp_path, pip).install(progress=lambda line: None)
    assert wheel.parent == tmp_path / "runtime" / "xllamacpp-1.0-cpu"
    assert pip.subcommands() == ["wheel", "install"]
    build_env = pip.envs[0]
    assert "GGML_NATIVE=ON" in build_env["CMAKE_ARGS"]
    assert "--no-binary" in pip.commands[0] and "xllamacpp==1.0" in pip.commands[0]
    assert str(wheel) in pip.commands[1]

    again = FakePip()
    assert _build(tmp_path, again).install(progress=lambda line: None) == wheel
    assert again.subcommands() == ["install"]  # the cached wheel: no second build


def test_a_failed_build_leaves_the_prebuilt_alone_and_is_remembered(
    tmp_path: Path, statuses: list
) -> None:
    pip = FakePip(fail=["wheel"])
    build = _build(tmp_path, pip)
    with pytest.raises(rb.RuntimeBuildError, match="pip wheel failed: wheel broke"):
        build.install(progress=lambda line: None)
    assert pip.subcommands() == ["wheel"]  # nothing installed, nothing to put back
    assert "pip wheel failed" in (build.failed_before() or "")


def test_a_failed_install_restores_the_prebuilt(tmp_path: Path, statuses: list) -> None:
    pip = FakePip(fail=["install"])
    with pytest.raises(rb.RuntimeBuildError, match="pip install failed"):
        _build(tmp_path, pip).install(progress=lambda line: None)
    assert pip.subcommands() == ["wheel", "install", "install"]
    assert "--only-binary" in pip.commands[2]  # the prebuilt wheel put back


def test_a_build_that_still_skips_features_is_rolled_back(tmp_path: Path, statuses: list) -> None:
    statuses[0] = rb.RuntimeStatus("1.0", rb.features_of(PREBUILT_INFO), frozenset({"AVX512"}))
    pip = FakePip()
    with pytest.raises(rb.RuntimeBuildError, match="still skips AVX512"):
        _build(tmp_path, pip).install(progress=lambda line: None)
    assert pip.subcommands() == ["wheel", "install", "install"]
    assert "--only-binary" in pip.commands[2]


def test_a_runtime_that_does_not_load_is_rolled_back(tmp_path: Path, statuses: list) -> None:
    statuses[0] = rb.RuntimeStatus(None)
    pip = FakePip()
    with pytest.raises(rb.RuntimeBuildError, match="does not load"):
        _build(tmp_path, pip).install(progress=lambda line: None)
    assert "--only-binary" in pip.commands[-1]


def test_a_success_clears_an_earlier_failure(tmp_path: Path, statuses: list) -> None:
    build = _build(tmp_path, FakePip(fail=["wheel"]))
    with pytest.raises(rb.RuntimeBuildError):
        build.install(progress=lambda line: None)
    build.run = FakePip()
    build.install(progress=lambda line: None)
    assert build.failed_before() is None


def test_missing_compiler_is_a_clear_error(
    tmp_path: Path, statuses: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rb.shutil, "which", lambda tool: None if tool == "cmake" else "/bin/x")
    pip = FakePip()
    with pytest.raises(rb.RuntimeBuildError, match="cmake not found") as raised:
        _build(tmp_path, pip).install(progress=lambda line: None)
    assert "apt-get install g++ cmake" in str(raised.value)
    assert pip.subcommands() == []  # the prebuilt runtime was never touched


def test_only_one_build_holds_the_lock(tmp_path: Path) -> None:
    with rb.build_lock(tmp_path) as first, rb.build_lock(tmp_path) as second:
        assert (first, second) == (True, False)
    with rb.build_lock(tmp_path) as again:
        assert again


def test_runtime_status_of_an_interpreter_without_the_runtime(tmp_path: Path) -> None:
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\nexit 1\n")
    fake_python.chmod(0o755)
    status = rb.runtime_status(str(fake_python))
    assert status.version is None and not status.needs_build
    assert "not installed" in status.describe()


def _cli(args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> str:
    from click.testing import CliRunner

    from rag.cli import main

    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_builds_nothing_for_a_remote_llm(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    output = _cli(
        ["models", "--build-runtime"], monkeypatch, tmp_path, RAG_LLM_BASE_URL="http://x/v1"
    )
    assert "Nothing to build: the LLM is remote" in output


def test_cli_background_build_is_not_retried_after_a_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    status = rb.RuntimeStatus("1.0", frozenset({"AVX2"}), frozenset({"AVX512"}))
    monkeypatch.setattr(rb, "runtime_status", lambda python=None: status)
    started: list[Path] = []
    monkeypatch.setattr(rb, "start_background_build", lambda cache: started.append(cache))
    build = rb.RuntimeBuild(tmp_path / "runtime", "1.0")
    build.wheel_dir.mkdir(parents=True)
    build._remember_failure("cmake not found")
    output = _cli(["models", "--build-runtime", "--background"], monkeypatch, tmp_path)
    assert "the last attempt failed (cmake not found)" in output and not started

    (build.wheel_dir / rb.FAILED_MARK).unlink()
    output = _cli(["models", "--build-runtime", "--background"], monkeypatch, tmp_path)
    assert started == [tmp_path / "runtime"] and "in the background" in output
