"""A real full disk and a real read-only data directory under the embedded Chroma store.

Disk full: a small tmpfs is mounted (root only; skipped elsewhere), a store is filled,
then the rest of the disk is filled with a file. Read-only: an existing store is seen
through a read-only bind mount (root) or with its write permission removed (non-root).
Ingest must fail with a clear :class:`StoreError`, the store must stay readable with
unchanged counts, and after freeing space the same ``NewsRAG`` object must ingest again.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_llm import FakeLLMServer
from fault_helpers import assert_store_consistent

from rag import NewsRAG
from rag.cli import main
from rag.errors import StoreError
from rag.models.embeddings import shared_local_embeddings
from rag.settings import load_settings

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
HEGSETH = SAMPLES / "hegseth-brussels-ukraine.txt"
MORE = [SAMPLES / "norvania-rate-cut.html", SAMPLES / "briefs.jsonl"]
IS_ROOT = os.geteuid() == 0


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB tmpfs (needs root and mount rights)."""
    if not IS_ROOT:
        pytest.skip("mounting a small file system needs root")
    point = tmp_path / "small-disk"
    point.mkdir()
    try:
        _mount("-t", "tmpfs", "-o", "size=24m", "tmpfs", str(point))
    except (subprocess.CalledProcessError, OSError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    yield point
    subprocess.run(["umount", "-l", str(point)], check=False, timeout=30)


def fill(folder: Path) -> Path:
    """Write zeros into ``folder/filler`` until the disk is full."""
    filler = folder / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * (1 << 16))
                handle.flush()
        except OSError:
            pass
    return filler


def test_disk_full_ingest_keeps_the_store_and_recovers(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeLLMServer() as llm:
        settings = load_settings(
            data_dir=small_disk / "data", llm_base_url=llm.base_url, llm_timeout=2.0
        )
        rag = NewsRAG.from_settings(settings, embeddings=shared_local_embeddings())
        assert rag.ingest([HEGSETH]).added == 1
        before = (rag.stats().articles, rag.stats().chunks)
        filler = fill(small_disk)

        with pytest.raises(StoreError) as info:
            rag.ingest(MORE)
        assert "is full" in info.value.message and "MB free" in info.value.message
        assert "free disk space" in (info.value.hint or "")
        assert (rag.stats().articles, rag.stats().chunks) == before
        assert_store_consistent(rag.store)
        assert "NATO" in rag.ask("What did Hegseth rule out?").answer  # reading still works
        with caplog.at_level(logging.WARNING):
            summary = rag.summarize(rag.list_articles()[0].id)
        assert summary.text and "not cached" in caplog.text

        env = {"RAG_DATA_DIR": str(small_disk / "data"), "RAG_LLM_BASE_URL": llm.base_url}
        result = CliRunner().invoke(main, ["ingest", str(MORE[0])], env=env)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
        assert "is full" in result.output and "Traceback" not in result.output

        filler.unlink()  # space comes back: the same object carries on
        report = rag.ingest(MORE)
        assert report.added >= 2 and not report.failed
        assert_store_consistent(rag.store)


@pytest.fixture
def read_only_view(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(writable data dir with a store, the same folder read-only)."""
    source = tmp_path / "data"
    rag = NewsRAG.from_settings(
        load_settings(data_dir=source), embeddings=shared_local_embeddings()
    )
    assert rag.ingest([HEGSETH]).added == 1
    if IS_ROOT:  # permissions do not stop root: use a read-only bind mount instead
        view = tmp_path / "read-only"
        view.mkdir()
        try:
            _mount("--bind", str(source), str(view))
            _mount("-o", "remount,ro,bind", str(view))
        except (subprocess.CalledProcessError, OSError) as exc:
            subprocess.run(["umount", str(view)], check=False, timeout=30)
            pytest.skip(f"cannot make a read-only bind mount here: {exc}")
        yield source, view
        subprocess.run(["umount", "-l", str(view)], check=False, timeout=30)
    else:
        folders = [source, *[p for p in source.rglob("*") if p.is_dir()]]
        files = [p for p in source.rglob("*") if p.is_file()]
        for path in files:
            path.chmod(0o444)
        for path in folders:
            path.chmod(0o555)
        yield source, source
        for path in folders:
            path.chmod(0o755)
        for path in files:
            path.chmod(0o644)


def test_read_only_data_dir_gives_a_clear_error(
    read_only_view: tuple[Path, Path], tmp_path: Path
) -> None:
    source, view = read_only_view
    rag = NewsRAG.from_settings(load_settings(data_dir=view), embeddings=shared_local_embeddings())
    for call in (lambda: rag.ingest(MORE), rag.list_articles, rag.stats):
        with pytest.raises(StoreError, match="read-only") as info:
            call()
        assert "RAG_DATA_DIR" in (info.value.hint or "")
    result = CliRunner().invoke(main, ["ingest", str(MORE[0])], env={"RAG_DATA_DIR": str(view)})
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "read-only" in result.output and "Traceback" not in result.output

    if source == view:  # non-root: give the permissions back before reading it again
        for path in [source, *source.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    store = NewsRAG.from_settings(
        load_settings(data_dir=source), embeddings=shared_local_embeddings()
    )
    assert next(a.title for a in store.list_articles()).startswith("Hegseth")
    assert store.stats().articles == 1
    assert_store_consistent(store.store)


def test_data_dir_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should go")
    data_dir = blocker / "data"
    rag = NewsRAG.from_settings(
        load_settings(data_dir=data_dir), embeddings=shared_local_embeddings()
    )
    with pytest.raises(StoreError, match="cannot open the embedded Chroma store") as info:
        rag.ingest([HEGSETH])
    assert "RAG_DATA_DIR" in (info.value.hint or "")
    result = CliRunner().invoke(main, ["ingest", str(HEGSETH)], env={"RAG_DATA_DIR": str(data_dir)})
    assert result.exit_code == 1 and "Error: " in result.output
    assert "Traceback" not in result.output
    assert blocker.read_text().startswith("a file")
