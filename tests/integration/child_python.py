"""Helpers for tests that check a store from another process: a clean environment, a
command that must succeed, and a Python snippet run in the repository, read back as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def child_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """This environment without the developer's ``RAG_*`` variables, with ``RAG_DATA_DIR``
    set to ``data_dir`` and each keyword set as ``RAG_<NAME>``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_DATA_DIR"] = str(data_dir)
    env |= {f"RAG_{name.upper()}": value for name, value in settings.items()}
    return env


def run_child(
    command: list[str], *, env: dict[str, str], cwd: Path = REPO, timeout: float = 300
) -> str:
    """Run ``command`` in ``cwd``; it must succeed within ``timeout`` s. Its output is returned."""
    done = subprocess.run(
        command,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def run_python(code: str, *args: str, env: dict[str, str]) -> Any:
    """Run ``code`` (with ``args``) in a new interpreter from the repository; it must succeed,
    and its last output line is returned as JSON."""
    output = run_child([sys.executable, "-c", code, *args], env=env)
    return json.loads(output.strip().splitlines()[-1])
