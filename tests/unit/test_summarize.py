"""Summaries and digests with fakes: routing, cache, style limits, regeneration, markers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.retrievers import BaseRetriever
from pydantic import Field

from rag.errors import NotFoundError, RagError
from rag.settings import load_settings
from rag.summaries import summarizer as summarize_module
from rag.summaries.cache import SummaryCache
from rag.summaries.long_articles import split_sections
from rag.summaries.request import DigestRequest
from rag.summaries.results import Digest, Summary
from rag.summaries.styles import NO_QUOTES_TEXT, StreamGate, enforce_style
from rag.summaries.summarizer import Summarizer
from rag.text import estimate_llm_tokens, split_sentences

pytestmark = pytest.mark.unit

MUNICH = (
    "MUNICH — US Vice President JD Vance met Ukraine's President Volodymyr Zelenskyy on "
    "Friday, February 14, 2025, at the Munich Security Conference.\n\n"
    '"We want the war to end, and we want it to end in a way that lasts," Vance told '
    "reporters. Zelenskyy said the talks had been “good and frank” but that Ukraine needed "
    "guarantees.\n\n"
    "Zelenskyy said the army numbers about 880,000 soldiers. Officials said 3 delegations "
    "took part."
)


# --- fakes ------------------------------------------------------------------------------


@dataclass
class FakeArticle:
    id: str
    title: str
    text: str
    outlet: str | None = "The Meridian Post"
    url: str | None = None
    published: str | None = "2025-02-14"
    content_hash: str = ""
    author: str | None = None

    def __post_init__(self) -> None:
        self.content_hash = self.content_hash or f"hash-{abs(hash(self.text))}"


@dataclass
class FakeStore:
    articles: dict[str, FakeArticle] = field(default_factory=dict)
    gets: int = 0

    def add(self, *articles: FakeArticle) -> FakeStore:
        for article in articles:
            self.articles[article.id] = article
        return self

    def get_article(self, article_id: str) -> FakeArticle | None:
        self.gets += 1
        return self.articles.get(article_id)

    def list_articles(self, outlet: str | None = None) -> list[FakeArticle]:
        return [a for a in self.articles.values() if outlet in (None, a.outlet)]


class ScriptedChatModel(BaseChatModel):
    """Replies with scripted texts in order, word by word when streamed; records calls."""

    responses: list[str]
    reply: Callable[[str], str] | None = None
    calls: list[dict[str, Any]] = Field(default_factory=list)
    chunks_sent: int = 0
    usage: bool = True

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _next(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
        self.calls.append({"messages": messages, "kwargs": kwargs})
        if self.reply is not None:
            return self.reply("\n".join(str(m.content) for m in messages))
        if not self.responses:
            raise AssertionError("the fake model ran out of scripted replies")
        return self.responses.pop(0)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        text = self._next(messages, kwargs)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        text = self._next(messages, kwargs)
        for token in re.split(r"(\s)", text):
            self.chunks_sent += 1
            yield ChatGenerationChunk(message=AIMessageChunk(content=token))
        if self.usage:
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    usage_metadata={"input_tokens": 321, "output_tokens": 42, "total_tokens": 363},
                )
            )

    def prompt(self, call: int) -> str:
        return "\n".join(str(m.content) for m in self.calls[call]["messages"])


class FakeRetriever(BaseRetriever):
    """Returns chunks of the given article ids in order, recording the filters it got."""

    ranked: list[str]
    similarity: float = 0.6
    seen: list[dict[str, Any]] = Field(default_factory=list)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        self.seen.append({"query": query, **kwargs})
        return [
            Document(
                page_content="chunk",
                metadata={"article_id": aid, "dense_similarity": self.similarity},
            )
            for aid in self.ranked
        ]


class Factory:
    """An LLM factory that counts how often the model was built."""

    def __init__(self, llm: BaseChatModel | None) -> None:
        self.llm = llm
        self.builds = 0

    def __call__(self) -> BaseChatModel:
        self.builds += 1
        if self.llm is None:
            raise AssertionError("the LLM must not start")
        return self.llm


def make(
    tmp_path: Path, responses: list[str], *articles: FakeArticle, **settings: Any
) -> tuple[Summarizer, ScriptedChatModel, Factory, FakeStore]:
    store = FakeStore().add(
        *(articles or (FakeArticle("munich", "Vance meets Zelenskyy", MUNICH),))
    )
    llm = ScriptedChatModel(responses=list(responses))
    factory = Factory(llm)
    s = load_settings(data_dir=tmp_path / "data", **settings)
    retriever = FakeRetriever(ranked=list(store.articles))
    return Summarizer(store, factory, retriever, s), llm, factory, store


def drain(iterator: Iterator[Any]) -> tuple[str, Any]:
    pieces = list(iterator)
    return "".join(p for p in pieces if isinstance(p, str)), pieces[-1]


GOOD_BRIEF = "Vance met Zelenskyy in Munich on February 14, 2025. They discussed guarantees."


# --- routing ------------------------------------------------------------------------------


def long_article(paragraphs: int = 40) -> FakeArticle:
    text = "\n\n".join(
        f"Paragraph {i}: Vance and Zelenskyy discussed guarantees in Munich for a long "
        f"while, and officials from both delegations took notes about item {i}." * 2
        for i in range(paragraphs)
    )
    return FakeArticle("long", "A very long report", text)


def test_short_article_is_stuffed_in_one_call(tmp_path: Path) -> None:
    summarizer, llm, _, store = make(tmp_path, [GOOD_BRIEF])
    assert summarizer.route(store.articles["munich"]) == "stuff"
    summary = summarizer.summarize("munich")
    assert summary.method == "stuff"
    assert summary.llm_calls == 1 == len(llm.calls)
    assert MUNICH.split("\n\n")[-1] in llm.prompt(0)


def test_long_article_is_mapped_then_reduced(tmp_path: Path) -> None:
    article = long_article()
    summarizer, llm, _, _ = make(tmp_path, [], article, llm_ctx_size=1024)
    parts = iter(range(100))
    llm.reply = lambda prompt: (
        GOOD_BRIEF if "Notes on each part" in prompt else f"- Note {next(parts)} about guarantees."
    )
    assert summarizer.route(article) == "map_reduce"
    summary = summarizer.summarize("long")
    assert summary.method == "map_reduce"
    map_calls = [i for i in range(len(llm.calls)) if "Part " in llm.prompt(i)[:200]]
    sections = len(map_calls)
    assert sections >= 2
    assert summary.llm_calls == sections + 1 == len(llm.calls)
    reduce_prompt = llm.prompt(len(llm.calls) - 1)
    assert "Notes on each part of a long article" in reduce_prompt
    assert "Note 0 about guarantees" in reduce_prompt
    budget = summarizer.input_budget(220)
    for i in map_calls:  # every map prompt fits the context
        assert estimate_llm_tokens(llm.prompt(i)) <= budget
    assert summary.text == GOOD_BRIEF  # faithful: checked against the full article text


def test_routing_threshold_follows_the_context_size(tmp_path: Path) -> None:
    article = long_article(12)
    small, *_ = make(tmp_path, [], article, llm_ctx_size=1024)
    large, *_ = make(tmp_path, [], article, llm_ctx_size=8192)
    assert small.route(article, "bullets") == "map_reduce"
    assert large.route(article, "bullets") == "stuff"


def test_a_brief_summary_reads_the_opening_of_a_long_article_in_one_call(tmp_path: Path) -> None:
    article = long_article()
    summarizer, llm, _, _ = make(
        tmp_path, [GOOD_BRIEF], article, llm_ctx_size=1024, summary_brief_words=220
    )
    assert summarizer.route(article, "brief") == "stuff"
    summary = summarizer.summarize("long")
    assert summary.method == "stuff" and len(llm.calls) == 1
    shown = llm.prompt(0).rsplit("<article>", 1)[1].split("</article>")[0].strip()
    assert article.text.startswith(shown) and len(shown) < len(article.text)
    assert len(shown.split()) >= summarizer.settings.summary_brief_words


def test_split_sections_is_even_and_loses_nothing() -> None:
    text = "\n\n".join(f"para {i} " + "word " * 30 for i in range(10))
    count = estimate_llm_tokens
    sections = split_sections(text, 200, count)
    assert all(count(s) <= 200 for s in sections)
    assert "".join(sections).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )
    sizes = [count(s) for s in sections]
    assert max(sizes) - min(sizes) <= max(count(p) for p in text.split("\n\n")) + 1


def test_estimate_tokens_errs_high_for_english_and_counts_non_ascii() -> None:
    assert estimate_llm_tokens("a" * 35) == 10
    assert estimate_llm_tokens("日本語") == 3


# --- cache ----------------------------------------------------------------------------------


def test_cache_hit_needs_no_model(tmp_path: Path) -> None:
    summarizer, _, factory, store = make(tmp_path, [GOOD_BRIEF])
    first = summarizer.summarize("munich")
    assert not first.cached and factory.builds == 1
    fresh = Summarizer(store, Factory(None), None, summarizer.settings)  # would fail to start
    streamed, hit = drain(fresh.stream("munich"))
    assert hit.cached and hit.text == first.text == streamed
    assert hit.prompt_tokens == first.prompt_tokens == 321
    assert hit.method == "stuff" and hit.faithful


def test_cache_key_changes_with_each_part() -> None:
    base = SummaryCache.make_key("h1", "brief", "model-a", "summary_brief:v1")
    assert base == SummaryCache.make_key("h1", "brief", "model-a", "summary_brief:v1")
    variants = [
        SummaryCache.make_key("h2", "brief", "model-a", "summary_brief:v1"),
        SummaryCache.make_key("h1", "bullets", "model-a", "summary_brief:v1"),
        SummaryCache.make_key("h1", "brief", "model-b", "summary_brief:v1"),
        SummaryCache.make_key("h1", "brief", "model-a", "summary_brief:v2"),
    ]
    assert len({base, *variants}) == 5


def test_cache_invalidated_by_content_model_prompt_and_refresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summarizer, llm, _, store = make(tmp_path, [GOOD_BRIEF] * 6)
    summarizer.summarize("munich")
    assert summarizer.summarize("munich").cached
    # the article changed
    store.articles["munich"].content_hash = "edited"
    assert not summarizer.summarize("munich").cached
    # another model
    other = Summarizer(
        store,
        Factory(llm),
        None,
        load_settings(data_dir=summarizer.settings.data_dir, llm_model="other-model"),
    )
    assert not other.summarize("munich").cached
    # a prompt reworded
    monkeypatch.setattr(summarize_module, "PIPELINE_VERSION", 99)
    assert not summarizer.summarize("munich").cached
    assert summarizer.summarize("munich").cached
    # forced
    assert not summarizer.summarize("munich", refresh=True).cached
    assert len(llm.calls) == 5


def test_cache_files_are_json_atomic_and_stale_versions_removed(tmp_path: Path) -> None:
    summarizer, _, _, store = make(tmp_path, [GOOD_BRIEF, GOOD_BRIEF, "- Point one about Vance."])
    summarizer.summarize("munich")
    folder = summarizer.settings.cache_dir / "summaries" / "munich"
    assert [p.name.split("-")[0] for p in folder.iterdir()] == ["brief"]
    store.articles["munich"].content_hash = "edited"
    summarizer.summarize("munich")
    summarizer.summarize("munich", style="bullets")
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == 2 and files[0].startswith("brief-") and files[1].startswith("bullets-")
    data = json.loads((folder / files[0]).read_text())
    assert data["content_hash"] == "edited" and data["style"] == "brief"
    assert data["prompt_version"].startswith("summary_brief:v")
    assert not list(folder.glob(".tmp-*"))


def test_corrupt_cache_file_is_ignored(tmp_path: Path) -> None:
    summarizer, *_ = make(tmp_path, [GOOD_BRIEF, GOOD_BRIEF])
    summarizer.summarize("munich")
    path = next((summarizer.settings.cache_dir / "summaries" / "munich").glob("brief-*.json"))
    path.write_text("{not json")
    again = summarizer.summarize("munich")
    assert not again.cached and again.text == GOOD_BRIEF


# --- style limits -----------------------------------------------------------------------------

OVERRUN_BRIEF = (
    "Here is a brief summary:\n\nVance met Zelenskyy in Munich. They spoke about guarantees. "
    "Zelenskyy called the talks good and frank. Vance wanted the war to end. "
    "Officials took part. Aides stayed outside."
)


def test_overrunning_brief_is_trimmed_and_stream_stops_early(tmp_path: Path) -> None:
    summarizer, llm, _, _ = make(tmp_path, [OVERRUN_BRIEF])
    streamed, summary = drain(summarizer.stream("munich"))
    assert summary.text == (
        "Vance met Zelenskyy in Munich. They spoke about guarantees. "
        "Zelenskyy called the talks good and frank. Vance wanted the war to end."
    )
    assert len(split_sentences(summary.text)) == 4
    assert "trimmed to 4 sentences (the model wrote more)" in summary.notes
    assert "Officials" not in streamed and streamed.rstrip().endswith("war to end.")
    assert llm.chunks_sent < len(re.split(r"(\s)", OVERRUN_BRIEF))  # generation was cut short
    assert summary.faithful


def test_bullets_are_capped_at_six_and_normalized(tmp_path: Path) -> None:
    points = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    reply = "Key points:\n" + "\n".join(f"{i}. Vance point {w}." for i, w in enumerate(points, 1))
    summarizer, _, _, _ = make(tmp_path, [reply])
    summary = summarizer.summarize("munich", style="bullets")
    lines = summary.text.split("\n")
    assert len(lines) == 6 and all(line.startswith("- Vance point") for line in lines)


def test_prose_bullets_become_one_point_per_sentence() -> None:
    text, _ = enforce_style("bullets", "Vance met Zelenskyy. They talked. It was frank.")
    assert text == "- Vance met Zelenskyy.\n- They talked.\n- It was frank."


def test_a_sentence_restating_an_earlier_one_is_left_out() -> None:
    reply = (
        "The Vision Pro headset has a Retina display for the first time. "
        "It is the headset's first Retina display. It costs 3,499 dollars."
    )
    text, notes = enforce_style("brief", reply)
    assert text == (
        "The Vision Pro headset has a Retina display for the first time. It costs 3,499 dollars."
    )
    assert notes == ["left out 1 sentence(s) repeating earlier ones"]


def test_points_that_share_a_few_words_are_all_kept() -> None:
    reply = "- Vance met Zelenskyy in Munich.\n- Vance met Putin in Moscow.\n- Vance point one."
    text, notes = enforce_style("bullets", reply)
    assert text.count("- ") == 3 and notes == []


def test_a_repeated_point_is_left_out() -> None:
    reply = "- Rates fell to 3.5% in March.\n- In March rates fell to 3.5%.\n- Exports rose."
    text, _ = enforce_style("bullets", reply)
    assert text == "- Rates fell to 3.5% in March.\n- Exports rose."


def test_headline_is_one_short_line(tmp_path: Path) -> None:
    reply = (
        '"Vance and Zelenskyy meet in Munich: talks on guarantees end without firm '
        'commitments as Europe worries about its own security."\nSecond line.'
    )
    summarizer, _, _, _ = make(tmp_path, [reply])
    streamed, summary = drain(summarizer.stream("munich", style="headline"))
    assert summary.text == "Vance and Zelenskyy meet in Munich"
    assert "\n" not in streamed
    assert len(summary.text.split()) <= 15


def test_headline_without_separator_is_cut_at_fifteen_words() -> None:
    words = " ".join(f"w{i}" for i in range(25))
    text, notes = enforce_style("headline", words)
    assert text.split() == [f"w{i}" for i in range(15)]
    assert notes == ["trimmed from 25 to at most 15 words"]


def test_quotes_keep_verbatim_and_drop_invented(tmp_path: Path) -> None:
    reply = (
        '- "We want the war to end, and we want it to end in a way that lasts" — JD Vance\n'
        '- "Ukraine will never give up an inch" — Volodymyr Zelenskyy\n'
        "- “good and frank” — Zelenskyy\n"
        '- "Vance meets Zelenskyy" — The Meridian Post'  # the title is not a quote
    )
    summarizer, llm, _, _ = make(tmp_path, [reply])
    summary = summarizer.summarize("munich", style="quotes")
    assert summary.text.split("\n") == [
        '- "We want the war to end, and we want it to end in a way that lasts" — JD Vance',
        "- “good and frank” — Zelenskyy",
    ]
    assert summary.faithful and len(llm.calls) == 1
    assert any("Ukraine will never give up an inch" in note for note in summary.notes)
    assert any("Vance meets Zelenskyy" in note for note in summary.notes)


def test_quotes_style_with_no_quotes() -> None:
    assert enforce_style("quotes", "No direct quotes.")[0] == NO_QUOTES_TEXT


def test_stream_gate_limits() -> None:
    gate = StreamGate("bullets", 2)
    out = "".join(gate.feed(t) for t in ["- a\n", "- b\n", "- c\n", "- d"])
    assert out.strip() == "- a\n- b" and gate.done


# --- faithfulness: regenerate once, then flag -----------------------------------------------


def test_unfaithful_summary_is_regenerated_once(tmp_path: Path) -> None:
    bad = "Vance met Zelenskyy in Munich. The army has 900,000 soldiers."
    good = "Vance met Zelenskyy in Munich. The army has about 880,000 soldiers."
    summarizer, llm, _, _ = make(tmp_path, [bad, good])
    summary = summarizer.summarize("munich")
    assert summary.text == good and summary.faithful and summary.issues == []
    assert summary.llm_calls == 2
    assert "900,000" in llm.prompt(1) and "not in the article" in llm.prompt(1)
    assert "regenerated once after a failed faithfulness check" in summary.notes


def test_still_unfaithful_after_retry_is_flagged(tmp_path: Path) -> None:
    bad = 'Vance met Biden in Munich and said "peace now".'
    summarizer, _, _, _ = make(tmp_path, [bad, bad])
    summary = summarizer.summarize("munich")
    assert not summary.faithful
    assert summary.issues == [
        'quote not in the article: "peace now"',
        "name not in the article: Biden",
    ]
    assert summarizer.summarize("munich").cached  # flagged summaries are cached too


# --- errors -------------------------------------------------------------------------------------


def test_unknown_style_and_article(tmp_path: Path) -> None:
    summarizer, _, factory, _ = make(tmp_path, [])
    with pytest.raises(RagError, match="unknown summary style"):
        summarizer.summarize("munich", style="poem")
    with pytest.raises(NotFoundError):
        summarizer.stream("nope")
    assert factory.builds == 0


# --- digest -------------------------------------------------------------------------------------

ARTICLES = (
    FakeArticle("a1", "Vance meets Zelenskyy", MUNICH, published="2025-02-14"),
    FakeArticle(
        "a2",
        "Hegseth rules out NATO membership",
        "Defense Secretary Pete Hegseth ruled out NATO membership for Ukraine in Brussels.",
        outlet="Civic Wire",
        published="2025-02-12",
    ),
    FakeArticle(
        "a3",
        "Westfield elects a mayor",
        "Westfield voters elected Dana Ortiz as mayor with 54 percent of the vote.",
        outlet="Civic Wire",
        published="2025-03-02",
        url="https://civic.example/westfield",
    ),
)
BRIEFS = [
    "Vance met Zelenskyy in Munich.",
    "Hegseth ruled out NATO membership for Ukraine.",
    "Westfield voters elected Dana Ortiz with 54 percent.",
]


def test_digest_markers_map_to_articles(tmp_path: Path) -> None:
    reply = (
        "- Vance met Zelenskyy in Munich while Hegseth ruled out NATO membership [1, 2].\n"
        "- A claim with a bad marker [7].\n"
        "- A point without any marker."
    )
    summarizer, llm, _, _ = make(tmp_path, [*BRIEFS, reply], *ARTICLES)
    streamed, digest = drain(
        summarizer.stream_digest(DigestRequest(article_ids=["a1", "a2", "a3"]))
    )
    assert isinstance(digest, Digest)
    assert [(a.n, a.article_id, a.title) for a in digest.articles] == [
        (1, "a1", "Vance meets Zelenskyy"),
        (2, "a2", "Hegseth rules out NATO membership"),
        (3, "a3", "Westfield elects a mayor"),
    ]
    assert digest.articles[2].url == "https://civic.example/westfield"
    lines = digest.text.split("\n")
    assert lines[0].endswith("NATO membership [1][2].")
    assert lines[1] == "- A claim with a bad marker."
    assert digest.invalid_markers == [7]
    assert digest.uncited == [3]
    assert lines[-1] == "- Westfield voters elected Dana Ortiz with 54 percent. [3]"
    assert any("without an article marker" in issue for issue in digest.issues)
    assert "[7]" in streamed  # tokens are streamed raw; the Digest is authoritative
    reduce_prompt = llm.prompt(3)
    for n, brief in enumerate(BRIEFS, start=1):
        assert f"[{n}] " in reduce_prompt and brief in reduce_prompt


def test_digest_reuses_cached_briefs_and_checks_numbers(tmp_path: Path) -> None:
    summarizer, llm, _, _ = make(tmp_path, list(BRIEFS), *ARTICLES)
    for article_id in ("a1", "a2", "a3"):
        summarizer.summarize(article_id)
    llm.responses.append("- Vance met Zelenskyy [1]. Hegseth ruled out NATO [2]. Ortiz won [3].")
    digest = summarizer.digest(DigestRequest(article_ids=["a1", "a2", "a3"]))
    assert all(s.cached for s in digest.summaries)
    assert len(llm.calls) == 4
    assert digest.faithful and digest.uncited == [] and digest.invalid_markers == []


def test_digest_flags_numbers_not_in_cited_articles(tmp_path: Path) -> None:
    reply = "- Ortiz won with 64 percent [3].\n- Vance met Zelenskyy [1]. Hegseth spoke [2]."
    summarizer, _, _, _ = make(tmp_path, [*BRIEFS, reply], *ARTICLES)
    digest = summarizer.digest(DigestRequest(article_ids=["a1", "a2", "a3"]))
    assert not digest.faithful
    assert "number not in the article: 64 (point 1)" in digest.issues


def test_digest_selection_by_source_dates_and_topic(tmp_path: Path) -> None:
    summarizer, _, _, _ = make(tmp_path, [], *ARTICLES)
    by_source = summarizer.select_articles(DigestRequest(outlet="Civic Wire"))
    assert [a.id for a in by_source] == ["a3", "a2"]  # newest first
    by_dates = summarizer.select_articles(
        DigestRequest(since=date(2025, 2, 13), until="2025-02-28")
    )
    assert [a.id for a in by_dates] == ["a1"]
    assert [a.id for a in summarizer.select_articles(DigestRequest(limit=2))] == ["a3", "a1"]
    summarizer.retriever = FakeRetriever(ranked=["a2", "a2", "a1"])
    by_topic = summarizer.select_articles(
        DigestRequest(topic="Ukraine", outlet="Civic Wire", limit=5)
    )
    assert [a.id for a in by_topic] == ["a2", "a1"]
    seen = summarizer.retriever.seen[0]
    assert seen["query"] == "Ukraine" and seen["filters"].outlets == ["Civic Wire"]
    summarizer.retriever = FakeRetriever(ranked=["a2"], similarity=0.05)
    with pytest.raises(NotFoundError, match="topic=Ukraine"):
        summarizer.select_articles(DigestRequest(topic="Ukraine"))
    with pytest.raises(NotFoundError):
        summarizer.select_articles(DigestRequest(since="2030-01-01"))
    with pytest.raises(RagError, match="limit"):
        summarizer.select_articles(DigestRequest(limit=0))
    with pytest.raises(RagError, match="YYYY-MM-DD"):
        summarizer.select_articles(DigestRequest(since="last week"))


def test_digest_by_topic_end_to_end(tmp_path: Path) -> None:
    reply = "- Vance met Zelenskyy in Munich [1].\n- Hegseth ruled out NATO membership [2]."
    summarizer, _, _, _ = make(tmp_path, [*BRIEFS[:2], reply], *ARTICLES)
    summarizer.retriever = FakeRetriever(ranked=["a1", "a2"])
    digest = summarizer.digest(DigestRequest(topic="war in Ukraine", limit=2))
    assert digest.topic == "war in Ukraine"
    assert [a.article_id for a in digest.articles] == ["a1", "a2"]
    assert digest.faithful and not digest.issues


# --- CLI ------------------------------------------------------------------------------------------


class FakeService:
    def __init__(self, summarizer: Summarizer) -> None:
        self.summarizer = summarizer

    def stream_summary(self, article_id: str, *, style: str = "brief", refresh: bool = False):
        return self.summarizer.stream(article_id, style=style, refresh=refresh)

    def summarize(self, article_id: str, *, style: str = "brief", refresh: bool = False):
        return self.summarizer.summarize(article_id, style=style, refresh=refresh)

    def stream_digest(self, request: DigestRequest, *, refresh: bool = False):
        return self.summarizer.stream_digest(request, refresh=refresh)

    def digest(self, request: DigestRequest, *, refresh: bool = False):
        return self.summarizer.digest(request, refresh=refresh)


@pytest.fixture
def cli_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def install(responses: list[str], *articles: FakeArticle) -> Summarizer:
        summarizer, *_ = make(tmp_path, responses, *articles)
        monkeypatch.setattr("rag.cli.common.open_service", lambda **_: FakeService(summarizer))
        return summarizer

    return install


def test_cli_summarize_streams_and_reports(cli_service) -> None:
    from rag.cli import main

    cli_service([OVERRUN_BRIEF])
    result = CliRunner().invoke(main, ["summarize", "munich"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Here is a brief summary:")  # the raw stream
    assert "Vance met Zelenskyy in Munich. They spoke about guarantees." in result.output
    assert "trimmed to 4 sentences (the model wrote more)" in result.output
    again = CliRunner().invoke(main, ["summarize", "munich", "--json"])
    data = json.loads(again.output)
    assert data["cached"] is True and data["method"] == "stuff"
    assert Summary.model_validate(data).text.endswith("war to end.")


def test_cli_digest_lists_articles(cli_service) -> None:
    from rag.cli import main

    reply = "- Vance met Zelenskyy in Munich [1].\n- Hegseth ruled out NATO membership [2]."
    cli_service([*BRIEFS[:2], reply], *ARTICLES)
    result = CliRunner().invoke(main, ["digest", "--id", "a1", "--id", "a2"])
    assert result.exit_code == 0, result.output
    assert "- Hegseth ruled out NATO membership [2]." in result.output
    assert "[1] Vance meets Zelenskyy — The Meridian Post, 2025-02-14" in result.output
    assert "[2] Hegseth rules out NATO membership — Civic Wire, 2025-02-12" in result.output


def test_cli_errors_are_clean(cli_service) -> None:
    from rag.cli import main

    cli_service([])
    result = CliRunner().invoke(main, ["summarize", "missing-id"])
    assert result.exit_code == 1
    assert "Error: no article with id 'missing-id'" in result.output
    bad_date = CliRunner().invoke(main, ["digest", "--since", "yesterday"])
    assert bad_date.exit_code == 2


def test_quotes_must_be_quotations_in_the_article_else_regenerated(tmp_path: Path) -> None:
    narration = '- "Vance told reporters." — JD Vance'  # article text, but nobody said it
    good = "- “good and frank” — Zelenskyy"
    summarizer, llm, _, _ = make(tmp_path, [narration, good])
    summary = summarizer.summarize("munich", style="quotes")
    assert summary.text == good and summary.faithful
    assert len(llm.calls) == 2
    assert "no quotation was copied word for word" in llm.prompt(1)


def test_style_prompts_share_the_article_prefix_for_prompt_caching(tmp_path: Path) -> None:
    summarizer, _, _, store = make(tmp_path, [])
    article = store.articles["munich"]
    rendered = [
        summarizer.messages_for(article, style)
        for style in ("brief", "bullets", "headline", "quotes")
    ]
    assert len({messages[0].content for messages in rendered}) == 1
    prefixes = {str(messages[1].content).split("</article>")[0] for messages in rendered}
    assert len(prefixes) == 1 and MUNICH in prefixes.pop()


def test_a_brief_from_the_opening_shares_the_start_of_the_other_prompts(tmp_path: Path) -> None:
    summarizer, _, _, store = make(tmp_path, [], summary_brief_words=20)
    article = store.articles["munich"]
    brief, bullets = (
        str(summarizer.messages_for(article, style)[1].content).split("</article>")[0]
        for style in ("brief", "bullets")
    )
    assert len(brief) < len(bullets) and bullets.startswith(brief.rstrip())
    assert "+opening:20" in summarizer.prompt_version("brief")


def test_a_brief_without_the_openings_figures_gets_the_sentence_that_holds_them(
    tmp_path: Path,
) -> None:
    reply = "Vance met Zelenskyy in Munich. They spoke about guarantees."
    summarizer, _, _, _ = make(tmp_path, [reply], summary_brief_figures=True)
    streamed, summary = drain(summarizer.stream("munich"))
    first = MUNICH.split("\n\n")[0]  # the sentence with the date's figures
    assert summary.text == f"{reply} {first}" == streamed
    assert "added the opening's sentence with figures the summary left out" in summary.notes
    assert summary.faithful
    assert summarizer.prompt_version("brief").endswith("+figures")


def test_a_brief_with_the_openings_figures_is_left_as_written(tmp_path: Path) -> None:
    reply = (
        "Vance met Zelenskyy in Munich on February 14, 2025. The army has 880,000 soldiers, "
        "and 3 delegations took part."
    )
    summarizer, _, _, _ = make(tmp_path, [reply], summary_brief_figures=True)
    summary = summarizer.summarize("munich")
    assert summary.text == reply
    assert not any("figures" in note for note in summary.notes)


def test_degenerate_digest_output_is_cut_and_articles_still_covered(tmp_path: Path) -> None:
    loop = "- " * 300
    summarizer, llm, _, _ = make(tmp_path, [*BRIEFS[:2], loop], *ARTICLES)
    digest = summarizer.digest(DigestRequest(article_ids=["a1", "a2"]))
    assert llm.chunks_sent < 200  # generation stopped soon after the loop began
    assert digest.text.split("\n") == [
        "- Vance met Zelenskyy in Munich. [1]",
        "- Hegseth ruled out NATO membership for Ukraine. [2]",
    ]
    assert digest.uncited == [1, 2]


def test_long_digest_point_keeps_first_sentence_and_markers(tmp_path: Path) -> None:
    filler = " ".join(["Vance met Zelenskyy in Munich and the talks went on."] * 6)
    reply = f"- Vance met Zelenskyy in Munich. {filler} [1]\n- Hegseth ruled out NATO. [2]"
    summarizer, _, _, _ = make(tmp_path, [*BRIEFS[:2], reply], *ARTICLES)
    digest = summarizer.digest(DigestRequest(article_ids=["a1", "a2"]))
    assert digest.text.split("\n")[0] == "- Vance met Zelenskyy in Munich. [1]"
    assert digest.notes == ["shortened point 1 to its first sentence"]


def test_quotes_chosen_by_number_are_written_verbatim(tmp_path: Path) -> None:
    summarizer, llm, _, _ = make(tmp_path, ["Here are the quotes:\n[1] JD Vance\n[9] Nobody\n"])
    streamed, summary = drain(summarizer.stream("munich", style="quotes"))
    expected = '- "We want the war to end, and we want it to end in a way that lasts" — JD Vance'
    assert summary.text == expected and summary.faithful
    assert streamed.strip() == expected  # lines are streamed already rendered
    prompt = llm.prompt(0)
    assert '[1] "We want the war to end, and we want it to end in a way that lasts"' in prompt
    assert "good and frank" not in prompt.split("</article>")[1]  # too short to list


def test_article_without_quotations_needs_no_model(tmp_path: Path) -> None:
    plain = FakeArticle("plain", "Rates cut", "The bank cut rates by 0.25 points on Tuesday.")
    summarizer, _, factory, _ = make(tmp_path, [], plain)
    summary = summarizer.summarize("plain", style="quotes")
    assert summary.text == NO_QUOTES_TEXT and summary.llm_calls == 0 and factory.builds == 0


SPEAKERS_TEXT = (
    "MUNICH — US Vice President JD Vance met Zelenskyy.\n\n"
    '"We want the war to end," Vance told reporters. "A durable peace, not a pause."\n\n'
    "Zelenskyy, who arrived a day earlier, said the talks were frank. "
    '"We need real security guarantees," he told journalists.\n\n'
    'Kaja Kallas, the EU\'s foreign policy chief, said any deal "made behind our backs" '
    "would not work.\n\n"
    '"Everything else is now a European question," said Fiona Larkin, a senior fellow.\n\n'
    '"Nobody knows who said this one."'
)


def test_find_speakers_covers_common_attribution_patterns() -> None:
    from rag.summaries.styles import extract_quotations, find_speakers

    quotes = extract_quotations(SPEAKERS_TEXT)
    assert find_speakers(SPEAKERS_TEXT, quotes) == [
        "JD Vance",  # "…," Vance told reporters (full name from elsewhere in the text)
        "JD Vance",  # the next quotation in the same paragraph
        "Zelenskyy",  # "he told": the paragraph's first known speaker
        "Kaja Kallas",  # Kallas, …, said any deal "…"
        "Fiona Larkin",  # "…," said Fiona Larkin
        None,  # nobody named: the model's attribution is used
    ]


def test_find_speakers_reads_called_and_described_and_stops_at_the_sentence_end() -> None:
    from rag.summaries.styles import find_speakers

    text = (
        "Dr. Ana Berg, a neurologist who was not involved, called the findings "
        '"solid and consistent." Tom Lind described the plan as "a good start."'
    )
    assert find_speakers(text, ["solid and consistent.", "a good start."]) == [
        "Ana Berg",
        "Tom Lind",
    ]


def test_article_speaker_wins_over_the_models(tmp_path: Path) -> None:
    article = FakeArticle("s", "Speakers", SPEAKERS_TEXT)
    summarizer, llm, _, _ = make(tmp_path, ["[1] Fiona Larkin\n[6] an unnamed official"], article)
    summary = summarizer.summarize("s", style="quotes")
    assert summary.text.split("\n") == [
        '- "We want the war to end" — JD Vance',
        '- "Nobody knows who said this one." — an unnamed official',
    ]
    assert '[1] "We want the war to end" — JD Vance' in llm.prompt(0)
    assert '[6] "Nobody knows who said this one."' in llm.prompt(0)


class KeywordRetriever(BaseRetriever):
    """A dense hit on the topic, then keyword-only hits with weak or strong BM25 scores."""

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        rows = [("a1", 0.46, 7.7), ("a2", None, 1.2), ("a3", None, 4.1), ("a1", 0.18, None)]
        return [
            Document(
                page_content="chunk",
                metadata={"article_id": aid, "dense_similarity": sim, "bm25_score": bm25},
            )
            for aid, sim, bm25 in rows
        ]


def test_digest_topic_skips_articles_sharing_one_keyword(tmp_path: Path) -> None:
    # "Apple and Steve Jobs": a rate-cut story about jobs matches one word, weakly, and
    # has no dense similarity; it must not join the digest.
    summarizer, _, _, _ = make(tmp_path, [], *ARTICLES)
    summarizer.retriever = KeywordRetriever()
    chosen = summarizer.select_articles(DigestRequest(topic="Apple and Steve Jobs"))
    assert [a.id for a in chosen] == [
        "a1",
        "a3",
    ]


def test_digest_reports_progress_before_and_after_each_article(tmp_path: Path) -> None:
    reply = "- Vance met Zelenskyy [1].\n- Hegseth ruled out NATO [2]."
    summarizer, _, _, _ = make(tmp_path, [*BRIEFS[:2], reply], *ARTICLES)
    seen: list[tuple[int, int, str]] = []
    items = list(
        summarizer.stream_digest(
            DigestRequest(article_ids=["a1", "a2"]), progress=lambda *step: seen.append(step)
        )
    )
    assert isinstance(items[-1], Digest)
    assert seen == [
        (0, 2, ""),
        (1, 2, "Vance meets Zelenskyy"),
        (2, 2, "Hegseth rules out NATO membership"),
    ]


def test_a_speaker_copied_from_the_context_hint_becomes_the_name_in_it() -> None:
    from rag.summaries.styles import render_quote_choice

    line = "[1] (context: Kessling, who led the police department, campaigned on safety,)"
    assert render_quote_choice(line, ["I will hold her to that."]) == (
        '- "I will hold her to that." — Kessling'
    )
    assert render_quote_choice("[1] (context: he said)", ["Go."]) == '- "Go."'
