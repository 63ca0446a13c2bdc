"""Hostile and random input for the loaders and the chunker.

Random bytes, huge lines, deep nesting, compression bombs disguised as text, malformed
feeds, odd encodings, NUL bytes and empty files: every one becomes an article or a clean
per-file failure, within a time bound and with bounded memory, and an ingest of a folder
full of them still stores the good files.
"""

from __future__ import annotations

import gzip
import io
import json
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.embeddings import DeterministicFakeEmbedding

from rag.errors import IngestError
from rag.ingest.article import Article, LoadFailure
from rag.ingest.chunking import MAX_CHARS_PER_TOKEN, Chunker
from rag.ingest.locations import EXTENSIONS, load_file
from rag.ingest.pipeline import ingest_locations
from rag.settings import load_settings
from rag.store.articles import ArticleStore
from rag.text import estimate_word_pieces

pytestmark = pytest.mark.unit

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
GOOD_BODY = " ".join(
    f"The harbour council approved plan number {i} for the ferry terminal on Monday."
    for i in range(12)
)


def bounded(seconds: float, func: Callable[[], Any]) -> Any:
    """Run ``func`` in a thread; fail the test if it does not finish in ``seconds``."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = func()
        except BaseException as exc:  # re-raised in the test thread
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"did not finish within {seconds} s (hang)")
    if "error" in result:
        raise result["error"]
    return result["value"]


def refuse_fetch(url: str) -> Any:
    raise IngestError(f"fetching is off in this test ({url})")


def load(path: Path, **overrides: Any) -> list[Article | LoadFailure]:
    conf = load_settings(data_dir=path.parent / "data", **overrides)
    return bounded(60, lambda: list(load_file(path, conf, fetch=refuse_fetch)))


def check_items(items: list[Article | LoadFailure]) -> None:
    """Every item is an article with clean text or a failure with a readable reason."""
    assert items, "a loader must say something about every file"
    chunker = Chunker(60, 10, count_tokens=estimate_word_pieces)
    for item in items:
        assert isinstance(item, Article | LoadFailure), item
        if isinstance(item, LoadFailure):
            assert item.reason and "Traceback" not in item.reason
            assert len(item.reason) < 600
            continue
        assert item.text.strip() and "\x00" not in item.text and "\x00" not in item.title
        assert "\n" not in item.title
        for chunk in chunker.chunk_article(item):
            assert chunk.text.strip()


# --------------------------------------------------------------------------- random input
@FUZZ
@given(data=st.binary(max_size=4096), ext=st.sampled_from(sorted(EXTENSIONS)))
def test_random_bytes_are_an_article_or_a_clean_failure(
    tmp_path: Path, data: bytes, ext: str
) -> None:
    path = tmp_path / f"random{ext}"
    path.write_bytes(data)
    check_items(load(path))


_ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "latin-1", "cp1252"]


@FUZZ
@given(
    text=st.text(min_size=1, max_size=2000),
    encoding=st.sampled_from(_ENCODINGS),
    ext=st.sampled_from([".txt", ".md", ".html", ".jsonl", ".xml"]),
)
def test_random_text_in_any_encoding(tmp_path: Path, text: str, encoding: str, ext: str) -> None:
    path = tmp_path / f"text{ext}"
    path.write_bytes(text.encode(encoding, errors="replace"))
    check_items(load(path))


@FUZZ
@given(
    text=st.lists(
        st.sampled_from([*"ab .!?\n\t\"'…。中", "word ", "Mr. ", "\n\n", "x" * 40]),
        max_size=600,
    ).map("".join),
    budget=st.integers(min_value=16, max_value=120),
)
def test_chunker_invariants_on_random_text(text: str, budget: int) -> None:
    chunker = Chunker(budget, budget // 4, count_tokens=estimate_word_pieces)
    chunks = bounded(30, lambda: chunker.split(text))
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.tokens <= budget
        assert len(chunk.text) <= budget * MAX_CHARS_PER_TOKEN
    covered = [False] * len(text)
    for chunk in chunks:
        covered[chunk.start : chunk.end] = [True] * (chunk.end - chunk.start)
    lost = [ch for ch, seen in zip(text, covered, strict=True) if not seen and not ch.isspace()]
    assert lost == [], "every non-space character is in some chunk"


# --------------------------------------------------------------------------- named hostile files
def _gzip_bomb() -> bytes:
    page = b"<html><body><p>" + b"A" * (64 * 1024 * 1024) + b"</p></body></html>"
    return gzip.compress(page, 9)


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", b"<html>" + b"A" * (64 * 1024 * 1024))
    return buffer.getvalue()


def _yaml_laughs() -> bytes:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    return ("---\n" + "\n".join(lines) + "\ntitle: *i\n---\n" + GOOD_BODY).encode()


def _entity_laughs() -> bytes:
    entities = ['<!ENTITY l0 "lol">']
    entities += [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)]
    return (
        f'<?xml version="1.0"?><!DOCTYPE r [{"".join(entities)}]><rss version="2.0"><channel>'
        "<title>&l9;</title><item><title>&l9;</title><description>&l9;</description></item>"
        "</channel></rss>"
    ).encode()


HOSTILE: dict[str, tuple[bytes | Callable[[], bytes], str]] = {
    # name: (content, expected: "article" or a substring of the failure reason)
    "gzip-bomb.html": (_gzip_bomb, "binary"),
    "gzip-bomb.txt": (_gzip_bomb, "binary"),
    "gzip-bomb.xml": (_gzip_bomb, "not an RSS/Atom feed"),
    "gzip-bomb.jsonl": (_gzip_bomb, "binary"),
    "zip-bomb.html": (_zip_bomb, "binary"),
    "zip-bomb.md": (_zip_bomb, "binary"),
    "nested-divs.html": (
        b"<html><body>" + b"<div>" * 5000 + GOOD_BODY.encode() + b"</div>" * 5000,
        "no article body",
    ),
    "nested-unclosed.html": (b"<html><body>" + b"<div><p><b><i>" * 20000, "no article body"),
    "deep.jsonl": (b'{"text": ' + b"[" * 100000 + b"]" * 100000 + b"}\n", "nested too deeply"),
    "deep-front-matter.md": (b"---\na: " + b"[" * 3000 + b"]" * 3000 + b"\n---\nBody.", "YAML"),
    "huge-front-matter.md": (b"---\na: " + b"x" * 50000 + b"\n---\nBody.", "too long"),
    "yaml-laughs.md": (_yaml_laughs, "aliases"),
    "entity-laughs.xml": (_entity_laughs, "article"),  # entities are never expanded
    "truncated-feed.xml": (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title><item><title>A'
        b"</title><description>" + GOOD_BODY.encode() * 8 + b"<unclos",
        "no text",
    ),
    "not-a-feed.rss": (b"<rss><channel><item><title>\xff\xfe</title></item>", "no text"),
    "feed-without-entries.atom": (b'<feed xmlns="http://www.w3.org/2005/Atom"></feed>', "feed"),
    "junk.xml": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not an RSS/Atom feed"),
    "utf16-bom.txt": (("\ufeffTitle: Zürich\n\n" + GOOD_BODY).encode("utf-16-le"), "article"),
    "utf16-no-bom.txt": (("Title: Zürich\n\n" + GOOD_BODY).encode("utf-16-le"), "article"),
    "utf16-be.md": (("# Zürich\n\n" + GOOD_BODY).encode("utf-16-be"), "article"),
    "latin1.md": (("# Café à Genève\n\n" + GOOD_BODY).encode("latin-1"), "article"),
    "invalid-utf8.txt": (b"Title: X\n\nHello \xc3\x28 \xa0\xa1 " + GOOD_BODY.encode(), "article"),
    "nul-everywhere.txt": (b"Hello\x00world " * 200, "binary"),
    "nul-at-the-end.txt": (GOOD_BODY.encode() * 20 + b"\x00" * 8, "article"),
    "nul-in.jsonl": (json.dumps({"title": "A\u0000B", "text": "x\u0000y"}).encode(), "article"),
    "empty.txt": (b"", "empty"),
    "whitespace.md": (b" \n\t\r\n  ", "empty"),
    "empty.html": (b"", "empty"),
    "empty.jsonl": (b"\n\n\n", "empty"),
    "empty.xml": (b"", "empty"),
    "random.html": (bytes(range(256)) * 100, "binary"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_an_article_or_a_clean_failure(tmp_path: Path, name: str) -> None:
    content, expected = HOSTILE[name]
    data = content() if callable(content) else content
    path = tmp_path / name
    path.write_bytes(data)
    tracemalloc.start()
    try:
        started = time.process_time()  # CPU time: what other processes do cannot move it
        items = load(path)
        cpu_seconds = time.process_time() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    check_items(items)
    kinds = [type(i).__name__ for i in items]
    if expected == "article":
        assert kinds == ["Article"], items
    else:
        assert kinds == ["LoadFailure"], items
        assert expected in items[0].reason, items[0].reason
    assert cpu_seconds < 30
    # a compressed bomb is never decompressed: memory stays near the file's own size (the
    # XML parser's own guard stops entity expansion at a few MB of amplification)
    allowance = (100 if name == "entity-laughs.xml" else 30) * 1024 * 1024
    assert peak < 40 * len(data) + allowance, f"peak {peak / 1e6:.0f} MB"


def test_nul_bytes_never_reach_the_article(tmp_path: Path) -> None:
    path = tmp_path / "nul.jsonl"
    path.write_text(json.dumps({"title": "Ferry\u0000 vote", "text": "Workers\u0000 voted."}))
    [article] = load(path)
    assert (article.title, article.text) == ("Ferry vote", "Workers voted.")


def test_utf16_without_bom_keeps_the_text(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_bytes(("Title: Zürich votes\n\n" + GOOD_BODY).encode("utf-16-le"))
    [article] = load(path)
    assert article.title == "Zürich votes" and article.text == GOOD_BODY


# --------------------------------------------------------------------------- huge input
def test_five_megabyte_single_line_is_read_and_chunked_in_bounded_time_and_memory(
    tmp_path: Path,
) -> None:
    path = tmp_path / "one-line.txt"
    path.write_bytes(b"word " * (1024 * 1024))  # 5 MB, no newline, no sentence end
    tracemalloc.start()
    try:
        [article] = load(path)
        chunks = bounded(120, lambda: Chunker(180, 30, estimate_word_pieces).chunk_article(article))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(article.text) == 5 * 1024 * 1024 - 1
    assert max(len(c.text) for c in chunks) <= 180 * MAX_CHARS_PER_TOKEN
    assert chunks[0].text.startswith("word word") and chunks[-1].text.endswith("word")
    assert peak < 40 * 5 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"


@pytest.mark.parametrize(
    "text",
    [
        "a" * 2_000_000,  # one 2 MB "word": the tokenizer sees one unknown piece
        "." * 500_000,  # a run of sentence marks (was quadratic in the sentence splitter)
        "中" * 500_000,  # CJK without spaces
        ("x" * 300 + " ") * 5000,  # long words the tokenizer counts as one piece each
    ],
    ids=["one-word", "dots", "cjk", "long-words"],
)
def test_pathological_text_is_chunked_quickly_into_bounded_chunks(text: str) -> None:
    chunks = bounded(60, lambda: Chunker(180, 30, estimate_word_pieces).split(text))
    assert all(len(c.text) <= 180 * MAX_CHARS_PER_TOKEN for c in chunks)
    assert all(c.text == text[c.start : c.end] for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "").startswith(text[:100].replace(" ", ""))


def test_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("wb") as handle:  # sparse: 200 MB on paper, nothing on disk
        handle.truncate(200 * 1024 * 1024)
    tracemalloc.start()
    try:
        [failure] = load(path, max_file_mb=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(failure, LoadFailure)
    assert "too large: 200.0 MB, over the 1 MB limit" in failure.reason
    assert peak < 5 * 1024 * 1024


# --------------------------------------------------------------------------- whole ingest
def test_ingest_of_a_folder_of_hostile_files_keeps_the_good_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    for name, (content, _) in HOSTILE.items():
        (folder / name).write_bytes(content() if callable(content) else content)
    (folder / "good.txt").write_text("Title: Ferry vote\n\n" + GOOD_BODY)
    (folder / "crash.html").write_text("<html><body><p>" + GOOD_BODY + "</p></body></html>")

    import rag.ingest.locations

    real_parse_html = rag.ingest.locations.parse_html

    def parse_html(html: Any, **kwargs: Any) -> Article:
        if kwargs.get("origin", "").endswith("crash.html"):
            raise RuntimeError("parser bug")  # a library failing in a way nobody expected
        return real_parse_html(html, **kwargs)

    monkeypatch.setattr(rag.ingest.locations, "parse_html", parse_html)
    conf = load_settings(data_dir=tmp_path / "data", chunk_tokens=60, chunk_overlap=10)
    store = ArticleStore.from_settings(
        conf, DeterministicFakeEmbedding(size=384), chunker=Chunker(60, 10, estimate_word_pieces)
    )
    monkeypatch.setattr(rag.ingest.locations, "_default_fetcher", lambda settings: refuse_fetch)
    report = bounded(240, lambda: ingest_locations([folder], store, conf))

    titles = {a.title for a in store.list_articles()}
    assert "Ferry vote" in titles
    failed = dict((Path(origin).name, reason) for origin, reason in report.failed)
    assert failed["crash.html"] == "could not be read (RuntimeError)"
    expected_failures = {n for n, (_, want) in HOSTILE.items() if want != "article"}
    assert expected_failures <= set(failed), expected_failures - set(failed)
    # every file is accounted for: stored (or a duplicate of a stored one) or reported
    accounted = report.added + report.unchanged + report.replaced + len(report.failed)
    assert accounted >= len(HOSTILE) + 2
