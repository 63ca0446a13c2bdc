"""Renamed fields, keywords and options keep their old names working, with a warning."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models import FakeListChatModel

from rag.ingest.article import Article
from rag.qa.answer import Answer, Citation
from rag.retrieval.hybrid import SearchFilters
from rag.service import NewsRAG
from rag.settings import load_settings
from rag.store.reports import ArticleInfo
from rag.summaries.results import DigestArticle
from rag.ui.format import to_jsonable

pytestmark = pytest.mark.unit

RENAMED = r"renamed: '{}' is now '{}'"


def _old_attribute(obj: object, old: str, new: str) -> object:
    with pytest.warns(DeprecationWarning, match=RENAMED.format(old, new)):
        return getattr(obj, old)


# --------------------------------------------------------------------------- outlet
@pytest.mark.parametrize(
    "build",
    [
        lambda **kw: Article(id="a", title="T", text="x", content_hash="h", **kw),
        lambda **kw: Citation(number=1, article_id="a", text="x", **kw),
        lambda **kw: ArticleInfo(id="a", title="T", content_hash="h", **kw),
        lambda **kw: DigestArticle(n=1, article_id="a", title="T", **kw),
    ],
    ids=["Article", "Citation", "ArticleInfo", "DigestArticle"],
)
def test_outlet_was_source(build) -> None:
    old = build(source="Civic Wire")
    assert old.outlet == "Civic Wire" == build(outlet="Civic Wire").outlet
    assert _old_attribute(old, "source", "outlet") == "Civic Wire"
    dumped = old.model_dump()
    assert dumped["outlet"] == dumped["source"] == "Civic Wire"  # clients keep their key
    assert to_jsonable(old)["source"] == "Civic Wire"


def test_article_create_takes_the_old_outlet_keyword() -> None:
    with pytest.warns(DeprecationWarning, match=RENAMED.format("source", "outlet")):
        article = Article.create(title="T", text="Body.", source="Civic Wire")
    assert article.outlet == "Civic Wire"
    with pytest.raises(TypeError, match="not both"):
        Article.create(title="T", text="Body.", source="A", outlet="B")


def test_search_filters_outlets_were_sources() -> None:
    old = SearchFilters(sources=["AP"])
    assert old == SearchFilters(outlets=["AP"])
    assert _old_attribute(old, "sources", "outlets") == ["AP"]
    assert old.model_dump()["sources"] == ["AP"]


def _service(tmp_path: Path) -> NewsRAG:
    settings = load_settings(data_dir=tmp_path / "data")
    return NewsRAG.from_settings(
        settings,
        embeddings=DeterministicFakeEmbedding(size=384),
        llm=FakeListChatModel(responses=[]),
    )


def test_service_takes_the_old_outlet_keywords(tmp_path: Path) -> None:
    rag = _service(tmp_path)
    with pytest.warns(DeprecationWarning, match=RENAMED.format("source", "outlet")):
        rag.ingest_text("The ferry runs again.", "Ferry", source="Civic Wire")
    with pytest.warns(DeprecationWarning, match=RENAMED.format("source", "outlet")):
        listed = rag.list_articles(source="civic wire")
    assert [a.outlet for a in listed] == ["Civic Wire"]
    assert rag.list_articles(source=None) == listed == rag.list_articles(outlet="Civic Wire")
    with pytest.raises(TypeError, match="not both"):
        rag.list_articles("A", source="B")


def test_cli_source_option_is_a_hidden_old_name_of_outlet(monkeypatch) -> None:
    from rag.cli import library as library_cli
    from rag.cli import main

    asked: list[str | None] = []
    service = SimpleNamespace(list_articles=lambda outlet=None: asked.append(outlet) or [])
    monkeypatch.setattr(library_cli, "_service", lambda: service)
    runner = CliRunner()
    result = runner.invoke(main, ["list", "--source", "Nobody"])
    assert result.exit_code == 0 and "No articles from 'Nobody'" in result.stdout
    assert "deprecated" in result.stderr and asked == ["Nobody"]
    assert "--source" not in runner.invoke(main, ["list", "--help"]).stdout
    both = runner.invoke(main, ["list", "--source", "AP", "--outlet", "BBC"])
    assert both.exit_code == 2 and "not both" in both.stderr and asked == ["Nobody"]


def test_cli_ask_source_option_adds_to_the_outlets(monkeypatch) -> None:
    import rag.cli.ask as ask_cli
    from rag.cli import main

    seen: dict = {}

    def ask(question, history, filters):
        seen["filters"] = filters
        return Answer(question=question, answer="No.", standalone_question=question)

    service = SimpleNamespace(ask=ask, close=lambda: None)
    monkeypatch.setattr(ask_cli, "open_service", lambda **_: service)
    args = ["ask", "--json", "--outlet", "AP", "--source", "BBC", "Who?"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert seen["filters"].outlets == ["AP", "BBC"]


# --------------------------------------------------------------------------- passages
def test_answer_passages_were_sources() -> None:
    from rag.qa.answer import PassagesFound, SourcesFound

    shown = [Citation(number=1, article_id="a", text="x", outlet="AP")]
    old = Answer(question="q", answer="a", standalone_question="q", sources=shown)
    assert old.passages == shown
    assert _old_attribute(old, "sources", "passages") == shown
    assert old.model_dump()["sources"] == old.model_dump()["passages"]

    assert SourcesFound is PassagesFound
    with pytest.warns(DeprecationWarning, match=RENAMED.format("sources", "passages")):
        found = PassagesFound(sources=shown)
    assert found == PassagesFound(shown) == PassagesFound(passages=shown)
    assert _old_attribute(found, "sources", "passages") == shown


def test_old_passage_formatters_are_the_new_ones() -> None:
    import rag.qa
    import rag.ui.format as fmt

    assert rag.qa.format_sources is rag.qa.format_passages
    assert fmt.format_sources is fmt.format_passages
    assert fmt.cited_sources is fmt.cited_passages
    assert fmt.source_choices is fmt.outlet_choices


# --------------------------------------------------------------------------- locations
def test_ingest_progress_locations_were_sources() -> None:
    from rag.store.reports import IngestProgress

    with pytest.warns(DeprecationWarning, match="renamed: 'sources_(done|total)'"):
        old = IngestProgress(sources_done=1, sources_total=3)
    assert (old.locations_done, old.locations_total) == (1, 3)
    assert _old_attribute(old, "sources_done", "locations_done") == 1
    with pytest.warns(DeprecationWarning):
        old.sources_done = 2
    assert old.locations_done == 2


def test_old_ingest_names_still_work(tmp_path: Path) -> None:
    import rag.ingest

    assert rag.ingest.ingest_sources is rag.ingest.ingest_locations
    assert rag.ingest.load_source is rag.ingest.load_location
    rag_service = _service(tmp_path)
    with pytest.warns(DeprecationWarning, match=RENAMED.format("sources", "locations")):
        report = rag_service.ingest(sources=[tmp_path / "missing.txt"])
    assert report.failed == [(str(tmp_path / "missing.txt"), "no such file or folder")]
