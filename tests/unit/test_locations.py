"""One source dispatcher: the library (load_location) and the ingest (ingest_locations) decide
alike what a source is and why it is refused, including the cases where they once differed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from small_chunks import small_chunk_settings, small_chunk_store  # noqa: F401 (fixtures)

import rag.ingest.locations
from rag.ingest.article import Article, LoadFailure
from rag.ingest.locations import load_location
from rag.ingest.pipeline import ingest_locations
from rag.settings import Settings
from rag.store.articles import ArticleStore

pytestmark = pytest.mark.unit

UNSUPPORTED = "unsupported URL scheme (only http:// and https://)"
STORY = "Title: Ferry times change\n\n" + " ".join(
    f"The ferry report number {i} describes the new timetable in the harbour." for i in range(12)
)


def library_reasons(source: str | Path, settings: Settings | None = None) -> list[str]:
    items = list(load_location(source, settings))
    assert all(isinstance(item, LoadFailure) for item in items)
    return [item.reason for item in items]


def ingest_reasons(source: str | Path, store: ArticleStore, settings: Settings) -> list[str]:
    report = ingest_locations([source], store, settings)
    assert report.total_ok == 0
    return [reason for _, reason in report.failed]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("ftp://x.example/a.txt", UNSUPPORTED),
        ("file:///etc/passwd", UNSUPPORTED),
        ("s3://bucket/story.txt", UNSUPPORTED),
        ("/dev/null", "not a regular file or folder"),
        ("no/such/story.txt", "no such file or folder"),
        (Path("ftp://x.example/a.txt"), "no such file or folder"),  # a Path is always a path
    ],
)
def test_library_and_ingest_refuse_a_source_for_the_same_reason(
    source: str | Path, reason: str, store: ArticleStore, settings: Settings
) -> None:
    assert library_reasons(source, settings) == [reason]
    assert ingest_reasons(source, store, settings) == [reason]


def test_a_non_http_scheme_is_refused_even_when_a_path_of_that_name_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: ArticleStore, settings: Settings
) -> None:
    # The ingest once looked at the file system first and read this file.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ftp:").mkdir()
    (tmp_path / "ftp:" / "story.txt").write_text(STORY)
    source = "ftp://story.txt"
    assert Path(source).is_file()  # the path the ingest used to read
    assert library_reasons(source, settings) == [UNSUPPORTED]
    assert ingest_reasons(source, store, settings) == [UNSUPPORTED]
    assert store.list_articles() == []


def test_a_missing_path_with_a_scheme_like_part_inside_is_a_missing_path(
    tmp_path: Path, store: ArticleStore, settings: Settings
) -> None:
    # The ingest once called any source holding "://" an unsupported URL.
    source = f"{tmp_path}/notes/see://story.txt"
    assert library_reasons(source, settings) == ["no such file or folder"]
    assert ingest_reasons(source, store, settings) == ["no such file or folder"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/story", "HTTP://169.254.169.254/latest/"])
def test_private_urls_are_refused_before_any_request(
    url: str, monkeypatch: pytest.MonkeyPatch, store: ArticleStore, settings: Settings
) -> None:
    requests: list[str] = []

    def recording_client(_settings: Settings | None) -> httpx.Client:
        def handle(request: httpx.Request) -> httpx.Response:
            requests.append(str(request.url))
            return httpx.Response(200, text="<html></html>")

        return httpx.Client(transport=httpx.MockTransport(handle))

    monkeypatch.setattr(rag.ingest.locations, "http_client", recording_client)
    [library] = library_reasons(url, settings)
    [ingest] = ingest_reasons(url, store, settings)
    assert library == ingest and library.startswith("refused: ")
    assert requests == []


def test_files_and_urls_go_to_the_given_loaders(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.txt", "sub/a.md", "README.md", "scan.pdf", ".hidden.txt"):
        (tmp_path / name).write_text(STORY)
    files: list[Path] = []
    urls: list[str] = []

    def file_loader(path: Path) -> list[Article]:
        files.append(path)
        return []

    def url_loader(url: str) -> list[Article]:
        urls.append(url)
        return []

    for source in (tmp_path, tmp_path / "b.txt", "https://news.example/a"):
        assert list(load_location(source, file_loader=file_loader, url_loader=url_loader)) == []
    assert [p.relative_to(tmp_path).as_posix() for p in files] == ["b.txt", "sub/a.md", "b.txt"]
    assert urls == ["https://news.example/a"]


def test_the_ingest_reads_a_url_named_twice_once(store: ArticleStore, settings: Settings) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/story.html"
    local = settings.model_copy(update={"fetch_allow_private": True})
    report = ingest_locations([url, url], store, local)
    reasons = [reason for _, reason in report.failed]
    assert len(reasons) == 2 and reasons[0].startswith("cannot connect")
    assert reasons[1] == f"duplicate of {url} (skipped)"
