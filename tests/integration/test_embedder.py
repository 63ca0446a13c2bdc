"""Integration tests: the real all-MiniLM-L6-v2 int8 embedder and a persisted Chroma collection."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from rag.errors import ModelError
from rag.models import embeddings as E

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def embedder() -> E.LocalEmbeddings:
    return E.LocalEmbeddings(batch_size=4).load()


def _cos(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b))


def test_related_news_sentences_are_closer_than_unrelated(embedder: E.LocalEmbeddings) -> None:
    anchor, related, unrelated = embedder.embed_documents(
        [
            "The central bank raised interest rates by half a point to fight inflation.",
            "Policymakers lifted borrowing costs again as consumer prices kept climbing.",
            "The striker scored twice as the home team won the cup final.",
        ]
    )
    assert _cos(anchor, related) > _cos(anchor, unrelated) + 0.2
    query = embedder.embed_query("Why did the bank increase rates?")
    assert _cos(query, anchor) > _cos(query, unrelated)


def test_vectors_are_normalized_with_384_dims(embedder: E.LocalEmbeddings) -> None:
    vectors = np.array(embedder.embed_documents(["Short.", "A somewhat longer sentence " * 30]))
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_batch_equals_single(embedder: E.LocalEmbeddings) -> None:
    texts = [
        "Flooding closed roads across the north of the country.",
        "Officials said the ceasefire would hold.",
        "Tech shares fell sharply after the earnings report, dragging the index lower "
        "for a third day as investors weighed the outlook for chip demand.",
        "Rain.",
        "Election turnout was the highest in decades, the commission said on Monday.",
    ]
    batch = np.array(embedder.embed_documents(texts))
    single = np.array([embedder.embed_query(t) for t in texts])
    assert np.abs(batch - single).max() < 1e-5


def test_count_tokens_does_not_truncate_but_embedding_does(embedder: E.LocalEmbeddings) -> None:
    long_text = "economy " * 400
    assert embedder.count_tokens(long_text) == 400
    assert len(embedder.tokenizer.encode(long_text).ids) == 256
    # everything past 256 word pieces is ignored
    a, b = embedder.embed_documents([long_text, long_text + " football " * 100])
    assert _cos(a, b) > 0.9999


def test_tampered_model_copy_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "model.onnx"
    shutil.copyfile(E.default_model_path(), copy)
    with open(copy, "r+b") as handle:
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    emb = E.LocalEmbeddings(model_path=copy)
    with pytest.raises(ModelError) as err:
        emb.embed_query("anything")
    assert "corrupt" in err.value.message
    assert "pip install" in (err.value.hint or "")


def test_describe_reports_verified_files(settings) -> None:
    info = E.describe_embeddings(settings)
    assert info["model_file_sha256_ok"] is True
    assert info["tokenizer_file_sha256_ok"] is True


def test_persisted_collection_reopens_with_registered_function(tmp_path: Path) -> None:
    import chromadb

    path = tmp_path / "chroma"
    client = chromadb.PersistentClient(path=str(path))
    collection = client.create_collection(
        "news",
        embedding_function=E.ChromaEmbeddingFunction(),
        configuration={"hnsw": {"space": "cosine"}},
    )
    collection.add(
        ids=["a", "b"],
        documents=["Heavy rain floods the streets of Paris", "Tokyo stocks rally on exports"],
    )
    # A fresh process: importing rag.models.embeddings registers the function; chromadb's default
    # (downloading) embedding function must never run.
    script = textwrap.dedent(
        f"""
        import chromadb
        from chromadb.utils.embedding_functions import onnx_mini_lm_l6_v2 as default_ef
        def _refuse(*args, **kwargs):
            raise SystemExit("default embedding function used")
        default_ef.ONNXMiniLM_L6_V2.__call__ = _refuse
        import rag.models.embeddings
        client = chromadb.PersistentClient(path={str(path)!r})
        col = client.get_collection("news")
        print(col.configuration["embedding_function"].name())
        print(col.query(query_texts=["flooding in France"], n_results=1)["ids"][0][0])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["news-rag-minilm", "a"]
