"""Library uploads through the app's handlers: limits, hostile names and paths, bad types.

The handlers run against the real service (real store and loaders, fake models): every
bad upload is refused with a reason people can read, the good ones in the same request
are still added, and nothing outside the uploads is ever read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models import FakeListChatModel

from rag.service import NewsRAG
from rag.settings import load_settings
from rag.ui import server as ui_server
from rag.ui.api import Api
from rag.ui.handlers import Handlers
from rag.ui.handlers import feedback as ui_feedback
from rag.ui.handlers.library import MAX_UPLOAD_FILES, MAX_URLS, checked_locations
from rag.ui.runs import Runs

pytestmark = pytest.mark.unit

BODY = " ".join(f"The harbour council met for session {i} on Monday evening." for i in range(8))


@pytest.fixture
def service(tmp_path: Path) -> NewsRAG:
    settings = load_settings(data_dir=tmp_path / "data", max_file_mb=0.05)
    return NewsRAG.from_settings(
        settings,
        embeddings=DeterministicFakeEmbedding(size=384),
        llm=FakeListChatModel(responses=["unused"]),
    )


@pytest.fixture
def handlers(service: NewsRAG) -> Handlers:
    return Handlers(service)


def api_of(handlers: Handlers) -> Api:
    """The API endpoints over the same service as the page's handlers."""
    return Api(handlers.service, Runs())


@pytest.fixture
def warnings_shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(ui_feedback, "warn", shown.append)
    return shown


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    folder = tmp_path / "gradio-uploads"
    folder.mkdir()
    return folder


def upload(folder: Path, name: str, data: bytes | str) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return str(path)


def failed(report: dict[str, Any]) -> dict[str, str]:
    return {Path(origin).name or origin: reason for origin, reason in report["failed"]}


def test_good_upload_is_added_and_bad_ones_are_refused_by_name(
    handlers: Handlers, uploads: Path, service: NewsRAG
) -> None:
    files = [
        upload(uploads, "good.txt", "Title: Harbour council\n\n" + BODY),
        upload(uploads, "big.txt", "x " * 40_000),  # 80 KB > 0.05 MB
        upload(uploads, "scan.pdf", b"%PDF-1.7\n" + bytes(range(256))),
        upload(uploads, "program.exe", b"MZ" + bytes(200)),
        upload(uploads, "image.png.html", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
        upload(uploads, "noext", BODY),
        upload(uploads, "empty.md", ""),
    ]
    report = api_of(handlers).ingest(files, "")
    assert report["added"] == 1
    reasons = failed(report)
    assert reasons["big.txt"].startswith("too large: 0.1 MB, over the 0.05 MB limit")
    assert reasons["scan.pdf"].startswith("unsupported file type '.pdf'")
    assert reasons["program.exe"].startswith("unsupported file type '.exe'")
    assert reasons["image.png.html"] == "binary file (not text)"
    assert reasons["noext"].startswith("unsupported file type '(none)'")
    assert reasons["empty.md"] == "empty file"
    assert [a.title for a in service.list_articles()] == ["Harbour council"]


def test_the_page_handler_shows_refusals_as_text(
    handlers: Handlers, uploads: Path, warnings_shown: list[str]
) -> None:
    files = [upload(uploads, "scan.pdf", b"%PDF"), upload(uploads, "a.txt", BODY)]
    text, kept, added = handlers.ingest(files, "javascript:alert(1)\n/etc/passwd")
    assert text.startswith("Added **1**") and len(added) == 1
    assert kept == "javascript:alert(1)\n/etc/passwd"  # refused input stays to be corrected
    assert "scan\\.pdf: unsupported file type" in text
    assert "javascript:alert\\(1\\): not an http\\(s\\) URL" in text
    assert "passwd: not an http\\(s\\) URL" in text
    assert warnings_shown and warnings_shown[0].startswith("3 source(s) could not be added")


@pytest.mark.parametrize(
    "line",
    [
        "/etc/passwd",
        "../../etc/passwd",
        "~/.ssh/id_rsa",
        "samples/",
        ".",
        "file:///etc/passwd",
        "FILE:///etc/hostname",
        "ftp://example.org/story.txt",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://exa mple.org/story",
        "https://example.org/\x00story",
    ],
)
def test_the_url_box_never_reads_server_files(
    handlers: Handlers, service: NewsRAG, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("Title: Private notes\n\n" + BODY)
    monkeypatch.chdir(tmp_path)  # "." and relative paths would point at the secret
    report = api_of(handlers).ingest(None, f"{line}\n{secret}")
    assert report["added"] == 0 and service.list_articles() == []
    assert len(report["failed"]) == 2
    assert all("not an http(s) URL" in reason for _, reason in report["failed"])
    assert all("\x00" not in origin for origin, _ in report["failed"])


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "../../../../../../etc/passwd",
        "/etc/passwd",
        "/etc/",
        "/dev/zero",
        "/proc/self/environ",
        "upload\x00.txt",
        "../outside.txt",
    ],
)
def test_hostile_upload_names_are_refused_cleanly(
    handlers: Handlers, service: NewsRAG, uploads: Path, name: str
) -> None:
    report = api_of(handlers).ingest([str(uploads / name) if name.startswith("..") else name], "")
    assert report["added"] == 0 and service.list_articles() == []
    [(origin, reason)] = report["failed"]
    assert "\x00" not in origin
    assert reason and "Traceback" not in reason


def test_a_folder_passed_as_an_upload_is_not_ingested(
    handlers: Handlers, service: NewsRAG, uploads: Path
) -> None:
    upload(uploads, "inside/story.txt", "Title: Inside\n\n" + BODY)
    report = api_of(handlers).ingest([str(uploads / "inside")], "")
    assert report["added"] == 0 and service.list_articles() == []
    assert report["failed"] == [
        [str(uploads / "inside"), "not an uploaded file (a folder or a device)"]
    ]


def test_too_many_files_or_urls_are_refused_before_anything_is_read(
    handlers: Handlers, uploads: Path, service: NewsRAG
) -> None:
    import gradio as gr

    files = [
        upload(uploads, f"s{i}.txt", f"Story {i}\n\nStory {i}. {BODY}")
        for i in range(MAX_UPLOAD_FILES + 1)
    ]
    with pytest.raises(gr.Error, match=f"too many files \\({MAX_UPLOAD_FILES + 1}\\)"):
        api_of(handlers).ingest(files, "")
    with pytest.raises(gr.Error, match="too many URLs"):
        handlers.ingest(None, "\n".join(["https://example.org/a"] * (MAX_URLS + 1)))
    assert service.list_articles() == []
    assert api_of(handlers).ingest(files[:MAX_UPLOAD_FILES], "")["added"] == MAX_UPLOAD_FILES


def test_checked_locations_keeps_http_urls_and_real_uploads(uploads: Path) -> None:
    good = upload(uploads, "a.txt", BODY)
    sources, refused = checked_locations(
        [good, "   "], "  https://news.example/a  \n\nhttp://news.example/feed.xml\nnews.example/x"
    )
    assert sources == [good, "https://news.example/a", "http://news.example/feed.xml"]
    assert refused == [
        ("news.example/x", "not an http(s) URL (only web addresses go in the URL box)")
    ]


def test_gradio_limits_each_upload_to_the_file_size_setting() -> None:
    options = ui_server.launch_options(load_settings(max_file_mb=3))
    assert options["max_file_size"] == 3 * 1024 * 1024
