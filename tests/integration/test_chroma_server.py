"""The same store behaviour against a real Chroma server started by the tests.

The server runs ``chroma run --path DIR --host 127.0.0.1 --port N`` (shipped with
chromadb), is waited on until its heartbeat answers, and is stopped afterwards.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_store_real import StoreBehaviour, story

from rag.errors import StoreError
from rag.models.embeddings import shared_local_embeddings
from rag.settings import Settings, load_settings
from rag.store.articles import ArticleStore

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chroma_command() -> list[str]:
    script = Path(sys.executable).parent / "chroma"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from chromadb.cli.cli import app; app()"]


class ChromaServer:
    """A ``chroma run`` subprocess on a free loopback port."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = path.parent / f"chroma-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> None:
        command = [*chroma_command(), "run", "--path", str(self.path)]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma run exited early:\n{self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"chroma run did not answer within {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "db")
    server.start()
    yield server
    server.stop()


class TestServerStore(StoreBehaviour):
    @pytest.fixture
    def store_settings(self, chroma_server: ChromaServer, tmp_path: Path) -> Settings:
        # A fresh collection per test keeps tests independent on the shared server.
        return load_settings(
            data_dir=tmp_path / "data",
            chroma_url=chroma_server.url,
            collection=f"t{uuid.uuid4().hex[:12]}",
        )

    def test_mode_and_location(self, store: ArticleStore, chroma_server: ChromaServer) -> None:
        stats = store.stats()
        assert (stats.mode, stats.location) == ("server", chroma_server.url)
        assert not (Path(store.location) / "chroma").exists()


def test_stopped_server_gives_a_clear_error(tmp_path: Path) -> None:
    server = ChromaServer(tmp_path / "db")
    server.start()
    settings = load_settings(data_dir=tmp_path / "data", chroma_url=server.url)
    store = ArticleStore.from_settings(settings, shared_local_embeddings())
    store.add_articles([story("ferry")])
    server.stop()
    with pytest.raises(StoreError) as info:
        store.list_articles()
    assert "chroma run --path" in str(info.value) and server.url in str(info.value)
    with pytest.raises(StoreError, match="cannot reach the Chroma server"):
        ArticleStore.from_settings(settings, shared_local_embeddings())
    server.start()  # same folder: the data survived the restart
    try:
        reopened = ArticleStore.from_settings(settings, shared_local_embeddings())
        assert [a.title for a in reopened.list_articles()] == [story("ferry").title]
    finally:
        server.stop()
