"""The running app's API through ``gradio_client``: ask, summarize, ingest, delete.

One app process (``python app.py``, embedded models, samples ingested on first run) serves
the whole module.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="module")
def app_url(start_app, tmp_path_factory: pytest.TempPathFactory):
    with start_app(tmp_path_factory.mktemp("app-api") / "data") as url:
        yield url


@pytest.fixture(scope="module")
def client(app_url: str):
    from gradio_client import Client

    return Client(app_url, verbose=False, download_files=False)


def _titles(passages: list[dict]) -> list[str]:
    return [p["title"] for p in passages]


def _munich_id(client) -> str:
    articles = client.predict(api_name="/list_articles")
    return next(a["id"] for a in articles if "Munich" in a["title"])


def test_endpoints_have_stable_names(client) -> None:
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {
        "/ask",
        "/summarize",
        "/digest",
        "/ingest",
        "/ingest_text",
        "/list_articles",
        "/delete",
        "/stop",
    } <= names


def test_samples_are_in_the_library(client) -> None:
    articles = client.predict(api_name="/list_articles")
    assert len(articles) >= 5
    assert any("Munich" in a["title"] for a in articles)
    assert all(a["chunks"] > 0 for a in articles)


def test_ask_answers_from_the_munich_article_and_follows_up(client) -> None:
    job = client.submit("What did Hegseth rule out?", api_name="/ask")
    answer = job.result(timeout=600)
    assert answer["done"] is True and answer["abstained"] is False
    assert "NATO" in answer["answer"]
    shown = _titles(answer["citations"]) + _titles(answer["sources"])
    assert any("Munich" in title or "Hegseth" in title for title in shown)
    assert len(job.outputs()) > 1  # streamed: partial answers came before the final one

    history = [["What did Hegseth rule out?", answer["answer"]]]
    follow_up = client.predict(
        "Did he also rule out sending US troops?", history, None, "", "", api_name="/ask"
    )
    assert follow_up["done"] is True
    assert follow_up["standalone_question"]
    assert "troop" in (follow_up["answer"] + follow_up["standalone_question"]).lower()


def test_ask_with_a_date_filter_outside_every_article_abstains(client) -> None:
    answer = client.predict(
        "What did Hegseth rule out?", None, None, "2030-01-01", "", api_name="/ask"
    )
    assert answer["abstained"] is True and answer["citations"] == []


def test_bad_requests_are_readable_errors_and_the_app_keeps_working(client) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="question is empty"):
        client.predict("   ", api_name="/ask")
    with pytest.raises(AppError, match="YYYY-MM-DD"):
        client.predict("Who?", None, None, "14/02/2025", "", api_name="/ask")
    with pytest.raises(AppError, match="no article") as not_found:
        client.predict("does-not-exist", "brief", api_name="/summarize")
    assert "/list_articles" in str(not_found.value) and "news-rag" not in str(not_found.value)
    assert client.predict(api_name="/list_articles")


def test_ask_lists_sources_first_and_stop_ends_it_with_what_was_written(client) -> None:
    import time

    job = client.submit("What happened when Vance met Zelenskyy in Munich?", api_name="/ask")
    deadline = time.monotonic() + 300
    while not job.outputs() and time.monotonic() < deadline:
        time.sleep(0.1)
    first = job.outputs()[0]
    assert first["done"] is False and first["answer"] == ""
    assert any("Munich" in s["title"] for s in first["sources"])  # before any word
    assert client.predict(api_name="/stop") == {"stopped": 1}
    result = job.result(timeout=120)
    assert result["done"] is True and result["stopped"] is True
    assert client.predict(api_name="/stop") == {"stopped": 0}


def test_summarize_brief(client) -> None:
    summary = client.predict(_munich_id(client), "brief", api_name="/summarize")
    assert summary["done"] is True and summary["style"] == "brief"
    text = summary["text"]
    assert 40 < len(text) < 1200
    assert any(name in text for name in ("Vance", "Zelenskyy", "Munich"))


def test_ingest_a_file_then_delete_it(client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    story = tmp_path / "harbour-bridge.txt"
    story.write_text(
        "Harbour bridge reopens after two-year repair\n\n"
        "The Quaymouth harbour bridge reopened on Monday after a repair that took two years "
        "and cost 48 million euros, the city council said.",
        encoding="utf-8",
    )
    report = client.predict([handle_file(str(story))], "", api_name="/ingest")
    assert report["added"] == 1 and report["failed"] == []
    [article_id] = report["article_ids"]
    listed = {a["id"]: a for a in client.predict(api_name="/list_articles")}
    assert "Harbour bridge" in listed[article_id]["title"]

    assert client.predict([article_id], api_name="/delete") == {"deleted": 1}
    assert article_id not in {a["id"] for a in client.predict(api_name="/list_articles")}


def test_ingest_text_then_delete_it(client) -> None:
    report = client.predict(
        "The Lowmoor council approved a new cycling lane on Tuesday.",
        "Lowmoor approves cycling lane",
        "Lowmoor Gazette",
        "https://gazette.example/lane",
        "2025-03-04",
        api_name="/ingest_text",
    )
    assert report["added"] == 1
    [article_id] = report["article_ids"]
    [info] = client.predict("Lowmoor Gazette", api_name="/list_articles")
    assert info["id"] == article_id and info["published"] == "2025-03-04"
    assert client.predict([article_id], api_name="/delete") == {"deleted": 1}


def test_ingest_failure_is_reported(client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    empty = tmp_path / "empty.txt"
    empty.write_text("   \n", encoding="utf-8")
    report = client.predict([handle_file(str(empty))], "", api_name="/ingest")
    assert report["added"] == 0
    assert len(report["failed"]) == 1 and report["failed"][0][0].endswith("empty.txt")
