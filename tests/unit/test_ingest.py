"""ingest_locations / ingest_text and the library CLI, with a fake embedder and embedded Chroma."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from langchain_core.embeddings import DeterministicFakeEmbedding
from small_chunks import small_chunk_settings, small_chunk_store  # noqa: F401 (fixtures)

from rag.ingest.pipeline import IngestProgress, ingest_locations, ingest_text
from rag.settings import Settings, load_settings
from rag.store.articles import ArticleStore

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"


def body(topic: str, sentences: int = 12) -> str:
    return " ".join(
        f"The {topic} report number {i} describes events in the harbour district today."
        for i in range(sentences)
    )


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A folder with good files of every format and one of each kind of bad input."""
    root = tmp_path / "library"
    (root / "nested").mkdir(parents=True)
    (root / "ferry.txt").write_text(
        "Title: Ferry times change\nSource: Harbor Daily\nDate: 2025-03-01\n\n" + body("ferry")
    )
    (root / "nested" / "budget.md").write_text(
        "---\ntitle: Budget passes\nsource: Civic Wire\ndate: 2025-02-02\n---\n\n" + body("budget")
    )
    shutil.copy(FIXTURES / "port-strike.html", root / "port-strike.html")
    shutil.copy(FIXTURES / "nav-only.html", root / "nav-only.html")
    lines = [
        json.dumps({"title": "Brief one", "text": body("brief one"), "source": "Wire"}),
        "{broken json",
        json.dumps({"title": "Brief two", "content": body("brief two")}),
        json.dumps({"title": "no text"}),
    ]
    (root / "briefs.jsonl").write_text("\n".join(lines) + "\n")
    (root / "empty.txt").write_text("")
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)) * 8)
    (root / "latin1.txt").write_bytes(
        ("Title: Café owners protest\n\n" + body("café")).encode("cp1252")
    )
    (root / "x-copy-of-ferry.txt").write_bytes((root / "ferry.txt").read_bytes())
    (root / "y-ferry-again.md").write_text("# Ferry times change\n\n" + body("ferry"))
    return root


def test_folder_with_good_and_bad_files(
    library: Path, store: ArticleStore, settings: Settings
) -> None:
    report = ingest_locations([library], store, settings)
    stored = {a.title for a in store.list_articles()}
    assert stored == {
        "Ferry times change",
        "Budget passes",
        "Port strike ends after five days as union accepts wage offer",
        "Brief one",
        "Brief two",
        "Café owners protest",
    }
    assert report.added == 6 and report.replaced == 0 and report.unchanged == 0
    assert len(report.article_ids) == 6
    failed = {Path(origin).name: reason for origin, reason in report.failed}
    assert "no article body" in failed["nav-only.html"]
    assert failed["empty.txt"] == "empty file"
    assert "binary" in failed["binary.txt"]
    assert (
        failed["x-copy-of-ferry.txt"].startswith("duplicate of")
        and "ferry.txt" in (failed["x-copy-of-ferry.txt"])
    )
    assert failed["y-ferry-again.md"].startswith("same article as")
    jsonl = [reason for origin, reason in report.failed if origin.endswith("briefs.jsonl")]
    assert sorted(r.split(":")[0] for r in jsonl) == ["line 2", "line 4"]
    assert len(report.failed) == 7
    assert store.check_consistency() == []
    again = ingest_locations([library], store, settings)
    assert (again.added, again.unchanged, again.chunks_added) == (0, 6, 0)


def test_size_limit_applies_per_file(tmp_path: Path, store: ArticleStore) -> None:
    settings = load_settings(data_dir=tmp_path / "data", max_file_mb=0.002)
    (tmp_path / "small.txt").write_text("Title: Small\n\n" + body("small", 3))
    (tmp_path / "big.txt").write_text("Title: Big\n\n" + body("big", 60))
    report = ingest_locations([tmp_path / "small.txt", tmp_path / "big.txt"], store, settings)
    assert report.added == 1
    assert report.failed[0][0].endswith("big.txt") and "too large" in report.failed[0][1]


def test_missing_sources_and_unsupported_types(
    tmp_path: Path, store: ArticleStore, settings: Settings
) -> None:
    (tmp_path / "doc.pdf").write_bytes(b"%PDF")
    report = ingest_locations(
        [tmp_path / "missing.txt", tmp_path / "doc.pdf", "ftp://x.example/a"], store, settings
    )
    assert report.all_failed and report.total_ok == 0
    reasons = [r for _, r in report.failed]
    assert reasons[0] == "no such file or folder"
    assert reasons[1].startswith("unsupported file type '.pdf'")
    assert "unsupported URL scheme" in reasons[2]


def test_unreachable_url_is_a_failure_not_an_exception(
    store: ArticleStore, settings: Settings
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    local = settings.model_copy(update={"fetch_allow_private": True})
    report = ingest_locations([f"http://127.0.0.1:{port}/story.html"], store, local)
    assert report.all_failed and "cannot connect" in report.failed[0][1]


def test_same_file_named_twice_is_read_once(
    library: Path, store: ArticleStore, settings: Settings
) -> None:
    report = ingest_locations([library / "ferry.txt", library / "ferry.txt"], store, settings)
    assert (report.added, report.failed) == (1, [])


def test_progress_updates(library: Path, store: ArticleStore, settings: Settings) -> None:
    updates: list[tuple[int, int | None, int, int]] = []

    def record(p: IngestProgress) -> None:
        updates.append((p.locations_done, p.locations_total, p.articles, p.failed))

    sources = [library / "ferry.txt", library / "nested", library / "empty.txt"]
    report = ingest_locations(sources, store, settings, progress=record)
    assert updates[-1] == (3, 3, report.total_ok, len(report.failed))
    assert [u[0] for u in updates] == sorted(u[0] for u in updates)
    assert any(u[3] == 1 for u in updates)


def test_ingest_text(store: ArticleStore, settings: Settings) -> None:
    report = ingest_text(
        store, settings, text=body("pasted"), title="Pasted story", published="14 Feb 2025"
    )
    assert report.added == 1
    article = store.get_article(report.article_ids[0])
    assert article.published == "2025-02-14" and article.origin == "pasted text"
    assert ingest_text(store, settings, text=body("pasted"), title="Pasted story").replaced == 1
    bad = [
        ingest_text(store, settings, text="  ", title="T"),
        ingest_text(store, settings, text="x", title=" "),
        ingest_text(store, settings, text="x", title="T", published="soon"),
        ingest_text(store, settings, text="x", title="T", url="ftp://x"),
    ]
    assert all(r.all_failed for r in bad)
    assert [r.failed[0][1] for r in bad] == [
        "the article has no text",
        "the title is empty",
        "unrecognized date 'soon' (use YYYY-MM-DD)",
        "not an http(s) URL: 'ftp://x'",
    ]


# --------------------------------------------------------------------------- CLI
@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, settings: Settings):
    """Run ``news-rag`` commands against a service with the fake embedder."""
    from rag.cli import library as library_cli
    from rag.cli import main
    from rag.service import NewsRAG

    def service() -> NewsRAG:
        return NewsRAG.from_settings(settings, embeddings=DeterministicFakeEmbedding(size=384))

    monkeypatch.setattr(library_cli, "_service", service)
    runner = CliRunner()
    return lambda *args, **kw: runner.invoke(main, list(args), catch_exceptions=False, **kw)


def test_cli_ingest_list_show_delete(cli, library: Path) -> None:
    result = cli("ingest", str(library / "ferry.txt"), str(library / "empty.txt"))
    assert result.exit_code == 0, result.output
    assert "Ingest summary" in result.output and "Added" in result.output
    assert "empty.txt" in result.output and "empty file" in result.output

    listed = json.loads(cli("list", "--json").output)
    assert [a["title"] for a in listed] == ["Ferry times change"]
    article_id = listed[0]["id"]
    assert listed[0]["outlet"] == "Harbor Daily" and listed[0]["chunks"] >= 1

    table = cli("list").output
    assert article_id in table and "Harbor Daily" in table
    assert "No articles from 'Nobody'" in cli("list", "--outlet", "Nobody").output

    shown = cli("show", article_id[:6])
    assert shown.exit_code == 0
    assert (
        shown.output.startswith("Ferry times change\n") and "Published: 2025-03-01" in shown.output
    )
    assert body("ferry") in shown.output
    assert json.loads(cli("show", article_id, "--json").output)["id"] == article_id

    refused = cli("delete", article_id, input="n\n")
    assert refused.exit_code == 1 and "Delete 1 article(s)?" in refused.output
    deleted = cli("delete", article_id, "--yes")
    assert deleted.exit_code == 0 and "Deleted 1 article(s)." in deleted.output
    assert json.loads(cli("list", "--json").output) == []


def test_cli_errors_and_exit_codes(cli, library: Path) -> None:
    failed = cli("ingest", str(library / "empty.txt"), str(library / "binary.txt"))
    assert failed.exit_code == 1 and "binary" in failed.output
    missing = cli("show", "feedbeef")
    assert missing.exit_code == 1 and "no article with id 'feedbeef'" in missing.output
    assert "news-rag list" in missing.output
    gone = cli("delete", "feedbeef", "--yes")
    assert gone.exit_code == 1 and "Skipped" in gone.output
    report = json.loads(cli("ingest", "--json", str(library / "ferry.txt")).output)
    assert report["added"] == 1 and report["failed"] == []


def test_cli_help_has_examples(cli) -> None:
    for command in ("ingest", "list", "show", "delete"):
        output = cli(command, "--help").output
        assert "Examples:" in output and f"news-rag {command}" in output
