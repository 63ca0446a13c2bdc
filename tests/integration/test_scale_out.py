"""Two app processes (replicas) share one real Chroma server.

An article ingested through one replica is listed and answerable through the other, and
the other's BM25 index follows the store (it was built, empty, before the ingest).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from test_chroma_server import ChromaServer
from test_chroma_server import chroma_server as shared_chroma_server  # noqa: F401

pytestmark = pytest.mark.integration

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

QUESTION = "How much will the Lowmoor cycling lane cost?"


def test_article_ingested_through_one_replica_is_answered_by_the_other(
    start_app, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from gradio_client import Client

    chroma: ChromaServer = request.getfixturevalue("shared_chroma_server")

    shared = {
        "RAG_CHROMA_URL": chroma.url,
        "RAG_COLLECTION": f"replicas{uuid.uuid4().hex[:8]}",
        "RAG_INGEST_SAMPLES": "false",
    }
    with (
        start_app(tmp_path / "replica-a", **shared) as url_a,
        start_app(tmp_path / "replica-b", **shared) as url_b,
    ):
        a = Client(url_a, verbose=False, download_files=False)
        b = Client(url_b, verbose=False, download_files=False)
        before = b.predict(QUESTION, api_name="/ask")
        assert before["abstained"] is True  # nothing stored yet; B's indexes are built

        report = a.predict(
            "The Lowmoor council approved a new cycling lane on Tuesday. The lane will cost "
            "2.4 million pounds and open in September, council leader Mara Quist said.",
            "Lowmoor approves cycling lane",
            "Lowmoor Gazette",
            "https://gazette.example/lane",
            "2025-03-04",
            api_name="/ingest_text",
        )
        [article_id] = report["article_ids"]
        assert article_id in {info["id"] for info in b.predict(api_name="/list_articles")}

        after = b.predict(QUESTION, api_name="/ask")
        assert after["abstained"] is False
        assert "2.4 million" in after["answer"]
        assert [c["title"] for c in after["citations"]] == ["Lowmoor approves cycling lane"]

        assert b.predict([article_id], api_name="/delete") == {"deleted": 1}
        assert a.predict(api_name="/list_articles") == []
