"""Summaries and digests with the real embedded LLM over samples/ in embedded Chroma.

Slow (the 1.5B model runs on CPU): about five model calls in all.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from rag.summaries.faithfulness import check_faithfulness
from rag.summaries.request import DigestRequest
from rag.summaries.summarizer import Summarizer
from rag.text import split_sentences

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def summarizer(
    tmp_path_factory: pytest.TempPathFactory, model_dir: Path, samples_dir: Path
) -> Summarizer:
    from rag.ingest.pipeline import ingest_locations
    from rag.models.embeddings import LocalEmbeddings
    from rag.models.llm import build_chat_model
    from rag.retrieval.hybrid import HybridRetriever
    from rag.settings import load_settings
    from rag.store.articles import ArticleStore

    data_dir = tmp_path_factory.mktemp("summaries-real")
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("RAG_"):
                mp.delenv(name)
        mp.chdir(data_dir)
        settings = load_settings(data_dir=data_dir / "data", model_dir=model_dir)
    store = ArticleStore.from_settings(settings, LocalEmbeddings())
    report = ingest_locations([samples_dir], store, settings)
    assert not report.failed, report.failed
    retriever = HybridRetriever.from_settings(store, settings)
    return Summarizer(store, lambda: build_chat_model(settings), retriever, settings)


def _article_id(summarizer: Summarizer, word: str) -> str:
    matches = [a.id for a in summarizer.store.list_articles() if word in a.title]
    assert len(matches) == 1, [a.title for a in summarizer.store.list_articles()]
    return matches[0]


def test_munich_brief_is_short_grounded_and_cached(summarizer: Summarizer) -> None:
    article_id = _article_id(summarizer, "Munich")
    summary = summarizer.summarize(article_id, style="brief", refresh=True)
    text = summary.text
    assert "Vance" in text, summary
    assert re.search(r"Zelensk", text), summary
    assert "Munich" in text, summary
    assert 1 <= len(split_sentences(text)) <= 4, summary  # the brief style asks for 3-4
    assert summary.faithful and summary.issues == [], summary
    article = summarizer.store.get_article(article_id)
    assert check_faithfulness(text, article.text, check_names=False).ok
    assert summary.method == "stuff" and summary.prompt_tokens > 500
    again = summarizer.summarize(article_id, style="brief")
    assert again.cached and again.text == text


def test_quotes_are_verbatim(summarizer: Summarizer) -> None:
    article_id = _article_id(summarizer, "Munich")
    article = summarizer.store.get_article(article_id)
    summary = summarizer.summarize(article_id, style="quotes", refresh=True)
    lines = summary.text.split("\n")
    assert 1 <= len(lines) <= 5, summary
    for line in lines:
        quote = re.search(r"“([^”]+)”|\"([^\"]+)\"", line)
        assert quote, line
        words = " ".join(re.findall(r"\w+", (quote.group(1) or quote.group(2)).lower()))
        assert words in " ".join(re.findall(r"\w+", article.text.lower())), line


def test_digest_over_three_articles_cites_each(summarizer: Summarizer) -> None:
    ids = [_article_id(summarizer, word) for word in ("Munich", "Hegseth", "Westfield")]
    pieces = list(summarizer.stream_digest(DigestRequest(article_ids=ids)))
    digest = pieces[-1]
    assert any(isinstance(p, str) and p for p in pieces[:-1])
    assert [a.article_id for a in digest.articles] == ids
    assert digest.invalid_markers == [], digest
    assert digest.uncited == [], digest.text  # the model itself cited every article
    for n in (1, 2, 3):
        assert f"[{n}]" in digest.text, digest.text
    assert all(re.search(r"\[\d\]", line) for line in digest.text.split("\n")), digest.text
    assert all(s.style == "brief" for s in digest.summaries)
