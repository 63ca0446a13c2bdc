"""A server run as a child process for the length of a ``with`` block: started on a free
loopback port, waited for until a URL of it answers, stopped at the end.

The tests and the benchmarks run the app (``python app.py``, in :func:`app_environment`) and
``chroma run`` this way.

Example:
    >>> import sys, tempfile, urllib.request
    >>> port = free_port()
    >>> url = f"http://127.0.0.1:{port}/"
    >>> command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    >>> log = Path(tempfile.mkdtemp()) / "server.log"
    >>> with serving(command, url, log_path=log, cwd=tempfile.mkdtemp()):
    ...     urllib.request.urlopen(url).status
    200
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

__all__ = ["ServerDidNotStart", "app_environment", "free_port", "serving"]

logger = logging.getLogger(__name__)


class ServerDidNotStart(RuntimeError):
    """The child exited, or did not answer in time; the message ends with its log."""


def free_port() -> int:
    """A free loopback port.

    Example:
        >>> 0 < free_port() < 65536
        True
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(data_dir: Path, port: int, **settings: str) -> dict[str, str]:
    """The environment of the app run as a child: this process's without its ``RAG_*``
    variables, then the app's data folder and loopback port, no telemetry or hub downloads,
    and ``settings`` (``RAG_*`` names) over all.

    Example:
        >>> env = app_environment(Path("data"), 7861, RAG_ANSWER_CACHE_SIZE="0")
        >>> sorted(name for name in env if name.startswith("RAG_"))
        ['RAG_ANSWER_CACHE_SIZE', 'RAG_DATA_DIR', 'RAG_UI_HOST', 'RAG_UI_PORT']
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("RAG_")}
    return env | {
        "RAG_DATA_DIR": str(data_dir),
        "RAG_UI_HOST": "127.0.0.1",
        "RAG_UI_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        **settings,
    }


@contextlib.contextmanager
def serving(
    command: Sequence[str],
    probe_url: str,
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float = 600.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` (its output to ``log_path``) until the block ends; enter the block
    once ``probe_url`` answers with a success status.

    Raises :class:`ServerDidNotStart` when the child exits first or ``timeout`` seconds pass.
    At the end the child is asked to stop, then killed if it has not within 30 s.

    Example:
        >>> import sys, tempfile
        >>> log = Path(tempfile.mkdtemp()) / "server.log"
        >>> try:
        ...     with serving([sys.executable, "-c", "pass"], f"http://127.0.0.1:{free_port()}/",
        ...                  log_path=log):
        ...         pass
        ... except ServerDidNotStart as error:
        ...     print(error)
        the server exited (0); its log .../server.log:
    """
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_answers(process, probe_url, log_path, timeout)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def _wait_until_answers(
    process: subprocess.Popen[bytes], url: str, log_path: Path, timeout: float
) -> None:
    started = time.monotonic()
    while True:
        # refused, or an error status: not ready yet
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5):
            logger.debug("%s answered after %.1f s", url, time.monotonic() - started)
            return
        if process.poll() is not None:
            problem = f"the server exited ({process.returncode})"
        elif time.monotonic() - started > timeout:
            problem = f"the server did not answer in {timeout:.0f} s"
        else:
            time.sleep(0.5)
            continue
        log = log_path.read_text(encoding="utf-8", errors="replace")
        raise ServerDidNotStart(f"{problem}; its log {log_path}:\n{log}")
