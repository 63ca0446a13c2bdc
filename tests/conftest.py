"""Shared pytest fixtures.

Real models are session-scoped (loaded once per test run). Every test that writes
gets its own data directory under ``tmp_path``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# No telemetry, no hub downloads, ever.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = REPO_ROOT / "samples"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's RAG_* variables and .env out of tests."""
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(tmp_path: Path):
    """Settings with a fresh data directory."""
    from rag.settings import load_settings

    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES_DIR


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the assembled GGUF lives for the whole test run (shared across tests).

    Uses NEWS_RAG_TEST_MODEL_DIR when set (CI points it at a persistent folder) so the
    1 GB file is assembled once per machine, not once per run.
    """
    configured = os.environ.get("NEWS_RAG_TEST_MODEL_DIR")
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("model-cache")


# --- the running web app (used by tests/integration/test_app_api.py and tests/e2e/) ----------
@pytest.fixture(scope="session")
def start_app(model_dir: Path):
    """Factory: ``with start_app(data_dir) as url:`` runs ``python app.py`` on a free port.

    The app gets its own RAG_DATA_DIR (samples are ingested on first run), the shared
    ``model_dir`` and the embedded models; it is stopped when the ``with`` block ends.
    """
    import contextlib
    import sys

    from rag.child_server import ServerDidNotStart, app_environment, free_port, serving

    @contextlib.contextmanager
    def run(data_dir: Path, timeout: float = 600.0, **env_overrides: str):
        port = free_port()
        env = app_environment(data_dir, port, RAG_MODEL_DIR=str(model_dir), **env_overrides)
        data_dir.mkdir(parents=True, exist_ok=True)
        url = f"http://127.0.0.1:{port}/"
        command = [sys.executable, str(REPO_ROOT / "app.py")]
        app = serving(
            command, url, log_path=data_dir / "app.log", env=env, cwd=REPO_ROOT, timeout=timeout
        )
        with contextlib.ExitStack() as running:
            try:
                app_process = running.enter_context(app)
            except ServerDidNotStart as error:
                pytest.fail(f"the app did not start: {error}")
            run.pids[url] = app_process.pid
            yield url

    run.pids = {}  # url -> the app's process id (a failed browser test asks it for its stacks)
    return run
