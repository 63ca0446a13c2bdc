"""The eval runner with fake services: suite loading, scoring, outputs, thresholds, CLI.

The fakes share the facade's methods (ingest, list_articles, get_article, delete, ask,
summarize): an "oracle" that retrieves the gold chunks and answers with the gold answer,
a deliberately broken pipeline (random chunks, a nonsense answer, never abstains), the two
constant abstention policies and a pipeline whose summaries are the article's first three
sentences. The oracle must pass both shipped suites and every other fake must fail them,
so the gate can tell a working pipeline from a broken or a trivial one.
"""

from __future__ import annotations

import dataclasses
import html
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eval_runs import run_recording_stages
from langchain_core.documents import Document

from rag.errors import ConfigError, LLMUnavailableError
from rag.evaluation import metrics
from rag.evaluation import runner as eval_runner
from rag.evaluation.articles import ArticleIndex
from rag.evaluation.case_runner import _qa_failure, cited_text
from rag.evaluation.floors import compute_floors, load_baseline_run
from rag.evaluation.judge import parse_judge_reply
from rag.evaluation.report import _against
from rag.evaluation.runner import run_suite
from rag.evaluation.scoring import score_qa
from rag.evaluation.suite import QA_TYPES, QACase, Suite, load_suite
from rag.evaluation.thresholds import check_thresholds, parse_thresholds
from rag.qa.answer import ABSTAIN_MESSAGE, Answer, Citation
from rag.store.reports import ArticleInfo, IngestReport
from rag.summaries.results import Summary
from rag.text import split_sentences

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "evals" / "smoke.yaml"
FULL = REPO / "evals" / "full.yaml"


# --------------------------------------------------------------------------- raw corpus
def read_raw_articles(paths: list[Path]) -> dict[str, dict[str, str]]:
    """URL -> {title, text, published, source} from the fixture files (no project loaders)."""
    articles: dict[str, dict[str, str]] = {}
    files = [f for p in paths for f in (sorted(p.rglob("*")) if p.is_dir() else [p])]
    for path in files:
        raw = path.read_text(encoding="utf-8") if path.is_file() else ""
        if path.suffix == ".jsonl":
            for line in raw.splitlines():
                row = json.loads(line)
                articles[row["url"]] = {
                    "title": row["title"],
                    "text": row["text"],
                    "published": str(row.get("published") or row.get("date") or "")[:10],
                    "source": str(row.get("source") or ""),
                }
        elif path.suffix in (".txt", ".md"):
            url = re.search(r"(?im)^url:\s*(\S+)", raw)
            title = re.search(r"(?im)^title:\s*\"?(.+?)\"?$", raw)
            day = re.search(r"(?im)^date:\s*(\d{4}-\d\d-\d\d)", raw)
            source = re.search(r"(?im)^source:\s*(.+?)\s*$", raw)
            if url and title:
                content = raw.split("---", 2)[-1] if raw.startswith("---") else raw
                body = re.split(r"\n\s*\n", content, maxsplit=1)
                articles[url.group(1)] = {
                    "title": title.group(1),
                    "text": body[-1].strip(),
                    "published": day.group(1) if day else "",
                    "source": source.group(1) if source else "",
                }
        elif path.suffix == ".html":
            url = re.search(r'property="og:url" content="([^"]+)"', raw)
            title = re.search(r'property="og:title" content="([^"]+)"', raw)
            day = re.search(r'property="article:published_time" content="(\d{4}-\d\d-\d\d)', raw)
            source = re.search(r'property="og:site_name" content="([^"]+)"', raw)
            body = re.search(r"<article.*?</article>", raw, re.DOTALL)
            if url and title and body:
                paragraphs = re.findall(r"<p[^>]*>(.*?)</p>", body.group(0), re.DOTALL)
                text = "\n\n".join(html.unescape(re.sub(r"<[^>]+>", "", p)) for p in paragraphs)
                articles[url.group(1)] = {
                    "title": html.unescape(title.group(1)),
                    "text": text,
                    "published": day.group(1) if day else "",
                    "source": html.unescape(source.group(1)) if source else "",
                }
    return articles


# --------------------------------------------------------------------------- fake service
@dataclass
class FakeService:
    """Same methods as ``NewsRAG``; subclasses decide how to answer."""

    suite: Suite
    articles: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> article
    asked: list[tuple[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    preexisting: dict[str, dict[str, str]] = field(default_factory=dict)

    def ingest(self, locations: list[str], progress: Any = None) -> IngestReport:
        raw = read_raw_articles([Path(s) for s in locations])
        ids = []
        for number, (url, article) in enumerate(sorted(raw.items())):
            article_id = f"id{number:02d}"
            self.articles[article_id] = {**article, "url": url}
            ids.append(article_id)
        self.articles.update(self.preexisting)
        return IngestReport(added=len(ids), article_ids=ids)

    def list_articles(self, outlet: str | None = None) -> list[ArticleInfo]:
        return [
            ArticleInfo(
                id=i, title=a["title"], url=a["url"], chunks=len(self.chunks(i)), content_hash="h"
            )
            for i, a in self.articles.items()
        ]

    def delete(self, ids: list[str]) -> int:
        self.deleted.extend(ids)
        for article_id in ids:
            self.articles.pop(article_id, None)
        return len(ids)

    def get_article(self, article_id: str) -> Any:
        article = self.articles[article_id]
        return type("Article", (), {"id": article_id, **article})()

    def chunks(self, article_id: str) -> list[str]:
        return [p for p in self.articles[article_id]["text"].split("\n\n") if p.strip()]

    def citation(self, number: int, article_id: str, text: str) -> Citation:
        article = self.articles[article_id]
        return Citation(
            number=number,
            article_id=article_id,
            title=article["title"],
            url=article["url"],
            text=text,
        )

    def case_for(self, question: str) -> QACase:
        return next(c for c in self.suite.qa_cases if c.question == question)


def oracle_answer(
    question: str, text: str, seconds: float, prompt_tokens: int, **fields: Any
) -> Answer:
    """An answer to ``question`` as the oracle gives it: no rewrite, timed and counted."""
    return Answer(
        question=question,
        answer=text,
        standalone_question=question,
        timings={"total": seconds},
        prompt_tokens=prompt_tokens,
        **fields,
    )


class OracleService(FakeService):
    """Retrieves the chunks holding the evidence and answers with the gold answer."""

    def ask(self, question: str, history: Any = None, filters: Any = None) -> Answer:
        self.asked.append((question, history))
        case = self.case_for(question)
        if not case.answerable:
            return oracle_answer(question, ABSTAIN_MESSAGE, 0.01, 100, abstained=True)
        by_url = {metrics.normalize_keywords(a["url"]): i for i, a in self.articles.items()}
        sources = []
        for item in case.gold_articles:
            for url in [item] if isinstance(item, str) else item:
                article_id = by_url.get(metrics.normalize_keywords(url))
                if article_id is None:
                    continue
                for chunk in self.chunks(article_id):
                    if any(metrics.evidence_recall(chunk, e) >= 0.9 for e in case.evidence):
                        sources.append(self.citation(len(sources) + 1, article_id, chunk))
                break
        text = " ".join([*case.answers[:1], *case.evidence]) + " [1]"
        return oracle_answer(question, text, 0.02, 200, citations=sources, passages=sources)

    def summarize(self, article_id: str, style: str = "brief", refresh: bool = False) -> Summary:
        case = next(
            c
            for c in self.suite.summary_cases
            if metrics.normalize_keywords(c.article)
            == metrics.normalize_keywords(self.articles[article_id]["url"])
        )
        return Summary(article_id=article_id, style=style, text=case.reference or "")


class _OracleRetriever:
    def __init__(self, service: OracleService) -> None:
        self.service = service

    def invoke(self, query: str) -> list[Document]:
        case = next(c for c in self.service.suite.qa_cases if query.endswith(c.question))
        answer = self.service.ask(case.question, case.history)
        self.service.asked.pop()
        return [
            Document(page_content=s.text, metadata={"article_id": s.article_id, "title": s.title})
            for s in answer.passages
        ]


class RetrievingOracle(OracleService):
    """Also exposes ``retriever`` (for retrieval-only runs); ``ask`` must not be used."""

    @property
    def retriever(self) -> _OracleRetriever:
        return _OracleRetriever(self)


class BrokenService(FakeService):
    """Random chunks, an answer about something else, and it never abstains."""

    def ask(self, question: str, history: Any = None, filters: Any = None) -> Answer:
        self.asked.append((question, history))
        pool = [(i, c) for i in sorted(self.articles) for c in self.chunks(i)]
        picked = random.Random(question).sample(pool, 5)  # deterministic per question
        sources = [self.citation(n, i, c) for n, (i, c) in enumerate(picked, start=1)]
        return Answer(
            question=question,
            answer="Bananas are an excellent source of potassium [1].",
            standalone_question=question,
            citations=sources[:1],
            passages=sources,
        )

    def summarize(self, article_id: str, style: str = "brief", refresh: bool = False) -> Summary:
        other = sorted(i for i in self.articles if i != article_id)[0]
        return Summary(article_id=article_id, style=style, text=self.chunks(other)[-1])


class NeverAbstains(OracleService):
    """The never-abstain policy: gold answers where there are some, a confident guess elsewhere."""

    def ask(self, question: str, history: Any = None, filters: Any = None) -> Answer:
        if self.case_for(question).answerable:
            return super().ask(question, history, filters)
        self.asked.append((question, history))
        article_id = sorted(self.articles)[0]
        chunk = self.chunks(article_id)[0]
        source = self.citation(1, article_id, chunk)
        return Answer(
            question=question,
            answer=f"{split_sentences(chunk)[0]} [1]",
            standalone_question=question,
            citations=[source],
            passages=[source],
        )


class AlwaysAbstains(OracleService):
    """The always-abstain policy: retrieves the gold chunks, then refuses every question."""

    def ask(self, question: str, history: Any = None, filters: Any = None) -> Answer:
        found = super().ask(question, history, filters)
        return Answer(
            question=question,
            answer=ABSTAIN_MESSAGE,
            standalone_question=question,
            passages=found.passages,
            abstained=True,
        )


class LeadThreeSummaries(OracleService):
    """Perfect answers, but every summary is the article's first three sentences."""

    def summarize(self, article_id: str, style: str = "brief", refresh: bool = False) -> Summary:
        text = metrics.lead_n(self.articles[article_id]["text"], 3)
        return Summary(article_id=article_id, style=style, text=text)


class FailingSummaries(OracleService):
    """Perfect answers; every summary fails."""

    def summarize(self, article_id: str, style: str = "brief", refresh: bool = False) -> Summary:
        raise RuntimeError("the summarizer crashed")


@pytest.fixture
def smoke() -> Suite:
    return load_suite(SMOKE)


# --------------------------------------------------------------------------- datasets
def test_shipped_suites_load_and_meet_the_brief() -> None:
    smoke, full = load_suite(SMOKE), load_suite(FULL)
    assert 8 <= len(smoke.qa_cases) <= 14 and smoke.summary_cases
    types = [c.type for c in full.qa_cases]
    assert len(full.qa_cases) >= 60
    assert set(types) == set(QA_TYPES)
    assert sum(not c.answerable for c in full.qa_cases) >= 10
    assert types.count("followup") >= 8
    assert all(c.history for c in full.qa_cases if c.type == "followup")
    corpus = read_raw_articles(full.corpus)
    assert len(corpus) >= 20
    summarized = {metrics.normalize_keywords(c.article) for c in full.summary_cases}
    assert summarized == {metrics.normalize_keywords(u) for u in corpus}, "one summary per article"


@pytest.mark.parametrize("suite_path", [SMOKE, FULL], ids=["smoke", "full"])
def test_datasets_are_grounded_in_the_corpus(suite_path: Path) -> None:
    """Every gold URL exists, evidence is verbatim, must_include and key facts are in the text."""
    suite = load_suite(suite_path)
    corpus = {metrics.normalize_keywords(u): a for u, a in read_raw_articles(suite.corpus).items()}

    def texts(items: list[Any]) -> list[str]:
        urls = [u for item in items for u in ([item] if isinstance(item, str) else item)]
        return [
            corpus[metrics.normalize_keywords(u)]["text"]
            for u in urls
            if metrics.normalize_keywords(u) in corpus
        ]

    for case in suite.qa_cases:
        if not case.answerable:
            assert not case.gold_articles and not case.answers, case.id
            continue
        for item in case.gold_articles:
            assert texts([item]), f"{case.id}: no article in the corpus for {item}"
        gold_texts = [" ".join(t.split()) for t in texts(case.gold_articles)]
        for sentence in case.evidence:
            assert any(" ".join(sentence.split()) in t for t in gold_texts), (case.id, sentence)
        assert metrics.keyword_recall(" ".join(gold_texts), case.must_include) in (1.0, None), (
            case.id
        )
    for case in suite.summary_cases:
        text = corpus[metrics.normalize_keywords(case.article)]["text"]
        assert metrics.key_fact_coverage(text, case.key_facts)[0] == 1.0, case.id
        assert metrics.forbidden_violations(text, case.forbidden) == [], case.id
        if case.reference:
            assert metrics.forbidden_violations(case.reference, case.forbidden) == [], case.id


def test_load_suite_reports_bad_input_clearly(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    bad_type = {"id": "q1", "type": "trivia", "question": "?"}
    (tmp_path / "qa.jsonl").write_text(json.dumps(bad_type) + "\n")
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\ncorpus: [corpus]\ndatasets: {qa: qa.jsonl}\n")
    with pytest.raises(ConfigError, match=r"qa.jsonl:1: type 'trivia'"):
        load_suite(suite)
    (tmp_path / "qa.jsonl").write_text('{"id": "q1", "type": "single", "question": "?"}\n')
    with pytest.raises(ConfigError, match="needs gold_articles"):
        load_suite(suite)
    (tmp_path / "qa.jsonl").write_text("{not json\n")
    with pytest.raises(ConfigError, match=r"qa\.jsonl:1: invalid JSON"):
        load_suite(suite)
    (tmp_path / "qa.jsonl").write_text('{"id": "u", "type": "unanswerable", "question": "?"}\n')
    suite.write_text(
        "name: s\ncorpus: [corpus]\ndatasets: {qa: qa.jsonl}\nsettings: {retreival_k: 3}\n"
    )
    with pytest.raises(ConfigError, match=r"unknown setting.*retreival_k"):
        load_suite(suite)
    suite.write_text("name: s\ncorpus: [missing]\n")
    with pytest.raises(ConfigError, match="corpus path not found"):
        load_suite(suite)
    with pytest.raises(ConfigError, match="suite file not found"):
        load_suite(tmp_path / "nope.yaml")


def test_url_keys_and_article_index() -> None:
    index = ArticleIndex([("a1", "https://news.example/x", "X"), ("a2", None, "Y")])
    assert index.resolve("http://www.news.example/x/?utm=1") == "a1"
    assert index.resolve("a2") == "a2"
    resolved, missing = index.resolve_gold(
        [["https://gone.example/z", "a1"], "https://gone.example/q"]
    )
    assert resolved == [["a1"]]
    assert missing == ["https://gone.example/q"]


# --------------------------------------------------------------------------- runner
def test_oracle_pipeline_passes_smoke_and_writes_every_output(smoke: Suite, tmp_path: Path) -> None:
    service = OracleService(smoke)
    outcome, stages = run_recording_stages(
        smoke, tmp_path / "run", service=service, settings_overrides={"data_dir": tmp_path / "data"}
    )
    assert outcome.passed, outcome.failures
    qa = outcome.summary["metrics"]["qa"]
    assert qa["hit_at_k"] == 1.0 and qa["abstention_accuracy"] == 1.0
    assert qa["refusal_rate"] == 1.0 and qa["false_refusal_rate"] == 0.0
    assert qa["citation_validity"] == 1.0 and qa["must_include_recall"] >= 0.9
    # follow-ups are asked with their history
    followup = next(c for c in smoke.qa_cases if c.type == "followup")
    assert (followup.question, followup.history) in service.asked
    # every stage reported its progress to the end
    assert ("qa", len(smoke.qa_cases), len(smoke.qa_cases)) in stages
    assert ("summaries", len(smoke.summary_cases), len(smoke.summary_cases)) in stages
    names = {p.name for p in outcome.files}
    assert not (tmp_path / "run/results.partial.jsonl").exists()
    assert {"results.jsonl", "summary.json", "ragas.jsonl", "report.md"} <= names
    assert {"scores_by_type.png", "latency.png", "summaries_vs_lead3.png"} <= names
    for png in (p for p in outcome.files if p.suffix == ".png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = [json.loads(x) for x in (tmp_path / "run/results.jsonl").read_text().splitlines()]
    assert len(rows) == len(smoke.qa_cases) + len(smoke.summary_cases)
    summary_row = next(r for r in rows if r["kind"] == "summary")
    assert summary_row["baseline"]["text"] and summary_row["scores"]["rouge1"] == 1.0
    ragas = [json.loads(x) for x in (tmp_path / "run/ragas.jsonl").read_text().splitlines()]
    assert set(ragas[0]) == {"question", "answer", "contexts", "ground_truth"}
    assert len(ragas) == len(smoke.qa_cases)
    report = (tmp_path / "run/report.md").read_text()
    assert "**Result: PASSED**" in report and "| unanswerable |" in report
    assert "Lead-3 baseline" in report
    assert "| Metric | Bound | Stated against | Value | Result |" in report
    assert "`floors.never_abstain.qa.refusal_rate` (0.000) + 0.30" in report
    assert "### Against the floors" in report and "| Lead, same length |" in report
    saved = json.loads((tmp_path / "run/summary.json").read_text())
    assert saved["passed"] is True and saved["run"]["collection"] == "eval-smoke"
    floors = saved["metrics"]["floors"]
    assert set(floors) == {"never_abstain", "always_abstain", "random_retrieval", "naive"}
    assert floors["naive"] is None  # filled only from a baseline run
    assert saved["metrics"]["summary"]["supported_rate"] == 1.0


def test_broken_pipeline_fails_the_smoke_thresholds(smoke: Suite, tmp_path: Path) -> None:
    outcome = run_suite(
        smoke,
        out_dir=tmp_path / "broken",
        service=BrokenService(smoke),
        settings_overrides={"data_dir": tmp_path / "data"},
    )
    assert not outcome.passed
    failed = {row["metric"] for row in outcome.failures}
    assert {"qa.hit_at_k", "qa.mrr", "qa.must_include_recall", "qa.refusal_rate"} <= failed
    assert {"qa.citation_validity", "summary.key_fact_coverage"} <= failed
    assert {"summary.rougeL", "summary.supported_rate"} <= failed
    report = (tmp_path / "broken/report.md").read_text()
    assert "**Result: FAILED**" in report and "## Worst QA cases" in report
    assert "Bananas are an excellent source" in report


def test_compare_shows_case_by_case_regressions(smoke: Suite, tmp_path: Path) -> None:
    overrides = {"data_dir": tmp_path / "data"}
    run_suite(
        smoke, out_dir=tmp_path / "good", service=OracleService(smoke), settings_overrides=overrides
    )
    outcome = run_suite(
        smoke,
        out_dir=tmp_path / "bad",
        service=BrokenService(smoke),
        compare=tmp_path / "good",
        settings_overrides=overrides,
    )
    assert outcome.comparison is not None
    regressed = {c["id"] for c in outcome.comparison.regressions}
    assert regressed == {c.id for c in smoke.qa_cases} | {c.id for c in smoke.summary_cases}
    hit = next(m for m in outcome.comparison.metrics if m["metric"] == "qa.hit_at_k")
    assert hit["old"] == 1.0 and hit["delta"] < 0
    compare_md = (tmp_path / "bad/compare.md").read_text()
    assert "### Regressions" in compare_md and "ukraine-hegseth-ruled-out" in compare_md
    with pytest.raises(ConfigError, match="no earlier run"):
        run_suite(
            smoke,
            compare=tmp_path / "nothing-here",
            service=OracleService(smoke),
            settings_overrides=overrides,
        )


def test_limit_and_stale_articles(smoke: Suite, tmp_path: Path) -> None:
    service = OracleService(smoke, preexisting={"old1": {"title": "Old", "text": "x", "url": ""}})
    outcome = run_suite(
        smoke,
        limit=2,
        service=service,
        write=False,
        settings_overrides={"data_dir": tmp_path / "data"},
    )
    assert [r["id"] for r in outcome.results if r["kind"] == "qa"] == [
        c.id for c in smoke.qa_cases[:2]
    ]
    assert service.deleted == ["old1"], "articles left by an earlier corpus are removed"


def test_retrieval_only_skips_the_llm_and_non_retrieval_thresholds(
    smoke: Suite, tmp_path: Path
) -> None:
    service = RetrievingOracle(smoke)
    outcome = run_suite(
        smoke,
        retrieval_only=True,
        out_dir=tmp_path / "r",
        service=service,
        settings_overrides={"data_dir": tmp_path / "data"},
    )
    assert service.asked == [], "no question went to the LLM"
    assert {t["metric"] for t in outcome.thresholds} == {"qa.hit_at_k", "qa.mrr"}
    assert outcome.passed and outcome.summary["metrics"]["qa"]["hit_at_k"] == 1.0
    assert outcome.summary["metrics"]["summary"]["cases"] == 0
    followup = next(r for r in outcome.results if r["type"] == "followup")
    assert followup["standalone_question"].startswith(followup["history"][0][0])
    assert "retrieval only" in (tmp_path / "r/report.md").read_text()
    with pytest.raises(ConfigError, match="--judge"):
        run_suite(
            smoke,
            retrieval_only=True,
            judge=True,
            service=service,
            write=False,
            settings_overrides={"data_dir": tmp_path / "data"},
        )


def test_a_failing_case_is_recorded_not_fatal(smoke: Suite, tmp_path: Path) -> None:
    class Flaky(OracleService):
        def ask(self, question: str, history: Any = None, filters: Any = None) -> Answer:
            if question == smoke.qa_cases[0].question:
                raise RuntimeError("boom")
            return super().ask(question, history, filters)

    outcome = run_suite(
        smoke, service=Flaky(smoke), write=False, settings_overrides={"data_dir": tmp_path / "data"}
    )
    first = outcome.results[0]
    assert first["error"] == "RuntimeError: boom" and first["score"] == 0.0
    assert outcome.summary["metrics"]["qa"]["errors"] == 1
    assert "qa.errors" in {row["metric"] for row in outcome.failures}


def test_a_failed_case_scores_zero_on_squad_em_and_f1_answerable_or_not(
    smoke: Suite, tmp_path: Path
) -> None:
    answerable = next(c for c in smoke.qa_cases if c.answerable and c.answers)
    unanswerable = next(c for c in smoke.qa_cases if not c.answerable)

    class Flaky(OracleService):
        def ask(self, question: str, history: Any = None, filters: Any = None) -> Answer:
            if question in (answerable.question, unanswerable.question):
                raise RuntimeError("boom")
            return super().ask(question, history, filters)

    outcome = run_suite(
        smoke, service=Flaky(smoke), write=False, settings_overrides={"data_dir": tmp_path / "data"}
    )
    rows = {r["id"]: r for r in outcome.results}
    for case in (answerable, unanswerable):
        scores = rows[case.id]["scores"]
        assert rows[case.id]["error"] == "RuntimeError: boom"
        assert (scores["squad_em"], scores["squad_f1"]) == (0.0, 0.0)  # an error is no abstention
        assert scores["abstention_accuracy"] == 0.0 and scores["score"] == 0.0
    assert rows[answerable.id]["scores"]["false_refusal_rate"] == 1.0
    assert rows[unanswerable.id]["scores"]["refusal_rate"] == 0.0
    squad, qa = outcome.summary["metrics"]["squad"], outcome.summary["metrics"]["qa"]
    assert squad["total"] == qa["cases"] and squad["no_ans_accuracy"] < 1.0

    failed = _qa_failure(answerable, "boom", 0.0, retrieval_only=True)["scores"]
    assert failed["hit_at_k"] == 0.0 and failed.get("squad_em") is None  # no answer measured


def test_llm_outage_stops_the_run_but_a_single_timeout_does_not(
    smoke: Suite, tmp_path: Path
) -> None:
    class Unreachable(OracleService):
        def ask(self, question: str, history: Any = None, filters: Any = None) -> Answer:
            if question in fail:
                raise LLMUnavailableError("the LLM did not answer in time")
            return super().ask(question, history, filters)

    overrides = {"data_dir": tmp_path / "data"}
    fail = {smoke.qa_cases[1].question}
    outcome = run_suite(
        smoke, service=Unreachable(smoke), write=False, settings_overrides=overrides
    )
    assert outcome.results[1]["error"].startswith("LLMUnavailableError")
    assert outcome.summary["metrics"]["qa"]["errors"] == 1

    fail = {c.question for c in smoke.qa_cases[2:5]}
    with pytest.raises(LLMUnavailableError, match="3 cases in a row"):
        run_suite(
            smoke, service=Unreachable(smoke), out_dir=tmp_path / "o", settings_overrides=overrides
        )
    partial = (tmp_path / "o/results.partial.jsonl").read_text().splitlines()
    assert len(partial) == 5


def test_score_qa_for_unanswerable_and_abstained_cases() -> None:
    unanswerable = QACase(id="u", type="unanswerable", question="?", answerable=False)
    scores = score_qa(unanswerable, ABSTAIN_MESSAGE, True, ["a"], [], [], k=5)
    assert scores["abstention_accuracy"] == 1.0 and scores["hit_at_k"] is None
    assert scores["score"] == 1.0
    answerable = QACase(
        id="q",
        type="single",
        question="?",
        answers=["Tern"],
        must_include=["Tern"],
        gold_articles=["a"],
    )
    scores = score_qa(answerable, ABSTAIN_MESSAGE, True, ["a"], [], [["a"]], k=5)
    assert scores["abstention_accuracy"] == 0.0 and scores["hit_at_k"] == 1.0
    # abstaining on an answerable case cites nothing valid: 0, not left out of the mean
    assert scores["must_include_recall"] == 0.0 and scores["citation_validity"] == 0.0
    assert scores["false_refusal_rate"] == 1.0 and scores["refusal_rate"] is None
    assert scores["score"] == 0.0


def test_thresholds_min_max_and_missing() -> None:
    summary = {"qa": {"hit_at_k": 0.9, "latency_p95_s": 12.0, "mrr": None}}
    rows = check_thresholds(
        summary,
        {
            "qa.hit_at_k": {"min": 0.8},
            "qa.latency_p95_s": {"max": 10.0},
            "qa.mrr": {"min": 0.1},
            "qa.nothing": {"min": 0.0},
        },
    )
    assert [r["passed"] for r in rows] == [True, False, False, False]


def test_judge_scores_are_labelled_with_the_judge_model(smoke: Suite, tmp_path: Path) -> None:
    from langchain_core.language_models import FakeListChatModel

    class Judged(OracleService):
        llm = FakeListChatModel(responses=['{"faithfulness": 1, "correctness": 0.5}'])

    outcome = run_suite(
        smoke,
        service=Judged(smoke),
        judge=True,
        out_dir=tmp_path / "j",
        settings_overrides={"data_dir": tmp_path / "data", "llm_model": "judge-x"},
    )
    judge = outcome.summary["metrics"]["judge"]
    assert judge == {"model": "judge-x", "faithfulness": 1.0, "correctness": 0.5}
    assert "LLM judge correctness (judge-x)" in (tmp_path / "j/report.md").read_text()


def test_parse_judge_reply() -> None:
    assert parse_judge_reply('{"faithfulness": 0.2, "correctness": 1}') == {
        "faithfulness": 0.2,
        "correctness": 1.0,
    }
    assert parse_judge_reply('text {"scale": "1-5", "faithfulness": 3} more') == {
        "faithfulness": 0.5,
        "correctness": None,
    }
    assert parse_judge_reply("no verdict") == {"faithfulness": None, "correctness": None}


def test_parse_judge_reply_is_monotone_on_each_declared_scale() -> None:
    def read(value: float, scale: str | None = None) -> float | None:
        declared = f'"scale": "{scale}", ' if scale else ""
        return parse_judge_reply(f'{{{declared}"faithfulness": {value}}}')["faithfulness"]

    one_to_five = [read(v, "1-5") for v in (1, 2, 3, 4, 5)]
    assert one_to_five == [0.0, 0.25, 0.5, 0.75, 1.0]  # the worst grade reads as the worst
    assert [read(v, "1 to 10") for v in (1, 10)] == [0.0, 1.0]
    zero_to_one = [read(v) for v in (0, 0.25, 0.5, 1)]
    assert zero_to_one == [0.0, 0.25, 0.5, 1.0]  # the prompt's 0-1 scale: values stay
    assert zero_to_one == sorted(zero_to_one) and one_to_five == sorted(one_to_five)
    # a value off its scale is unreadable, never guessed onto another scale
    assert read(3) is None and read(6, "1-5") is None and read(0, "1-5") is None
    assert read(-0.5) is None


# --------------------------------------------------------------------------- the gate
SUITES = pytest.mark.parametrize("suite_path", [SMOKE, FULL], ids=["smoke", "full"])


def _gate(suite_path: Path, service_type: type[FakeService], tmp_path: Path) -> Any:
    suite = load_suite(suite_path)
    return run_suite(
        suite,
        service=service_type(suite),
        write=False,
        settings_overrides={"data_dir": tmp_path / "data"},
    )


def _rows(outcome: Any, metric: str) -> list[dict[str, Any]]:
    return [row for row in outcome.thresholds if row["metric"] == metric]


@SUITES
def test_the_oracle_passes_the_gate(suite_path: Path, tmp_path: Path) -> None:
    outcome = _gate(suite_path, OracleService, tmp_path)
    assert outcome.passed, outcome.failures
    assert outcome.summary["metrics"]["summary"]["supported_rate"] == 1.0


@SUITES
def test_the_broken_pipeline_fails_the_gate(suite_path: Path, tmp_path: Path) -> None:
    outcome = _gate(suite_path, BrokenService, tmp_path)
    failed = {row["metric"] for row in outcome.failures}
    assert {"qa.hit_at_k", "qa.mrr", "qa.must_include_recall", "qa.citation_validity"} <= failed
    assert {"qa.refusal_rate", "summary.key_fact_coverage", "summary.rougeL"} <= failed
    assert "summary.supported_rate" in failed  # summaries of another article


@SUITES
def test_never_abstaining_fails_on_refusals_though_its_accuracy_passes(
    suite_path: Path, tmp_path: Path
) -> None:
    outcome = _gate(suite_path, NeverAbstains, tmp_path)
    failed = {row["metric"] for row in outcome.failures}
    refusal_rows = {"qa.refusal_rate", "qa_by_type.unanswerable.refusal_rate"}
    assert failed == refusal_rows & {row["metric"] for row in outcome.thresholds}
    # one accuracy number is what the constant policy games: it ties its floor and passes
    (accuracy,) = _rows(outcome, "qa.abstention_accuracy")
    assert accuracy["passed"] and accuracy["value"] == pytest.approx(accuracy["floor"])
    assert accuracy["value"] > 0.7
    qa = outcome.summary["metrics"]["qa"]
    assert qa["refusal_rate"] == 0.0 and qa["false_refusal_rate"] == 0.0


@SUITES
def test_always_abstaining_fails_on_false_refusals(suite_path: Path, tmp_path: Path) -> None:
    outcome = _gate(suite_path, AlwaysAbstains, tmp_path)
    failed = {row["metric"] for row in outcome.failures}
    assert {"qa.false_refusal_rate", "qa.abstention_accuracy"} <= failed
    assert {"qa.must_include_recall", "qa.citation_validity"} <= failed
    assert "qa.refusal_rate" not in failed  # it refuses every unanswerable question
    qa = outcome.summary["metrics"]["qa"]
    floor = outcome.summary["metrics"]["floors"]["always_abstain"]["qa"]
    for name in ("refusal_rate", "false_refusal_rate", "citation_validity", "score"):
        assert qa[name] == pytest.approx(floor[name]), name  # the floor predicts the policy


@SUITES
def test_lead_three_summaries_fail_the_gate(suite_path: Path, tmp_path: Path) -> None:
    outcome = _gate(suite_path, LeadThreeSummaries, tmp_path)
    failed = {row["metric"] for row in outcome.failures}
    assert failed == {"summary.key_fact_coverage", "summary.rougeL"}
    summary = outcome.summary["metrics"]["summary"]
    assert summary["key_fact_coverage"] == summary["baseline_lead3"]["key_fact_coverage"]
    assert summary["words_mean"] == summary["baseline_lead3"]["words_mean"]


@SUITES
def test_failed_summaries_count_as_failures(suite_path: Path, tmp_path: Path) -> None:
    outcome = _gate(suite_path, FailingSummaries, tmp_path)
    summary = outcome.summary["metrics"]["summary"]
    assert summary["errors"] == summary["cases"] > 0
    assert summary["forbidden_free_rate"] == 0.0  # no summary is no proof of no wrong claim
    assert summary["supported_rate"] == 0.0 and summary["key_fact_coverage"] == 0.0
    failed = {row["metric"] for row in outcome.failures}
    assert {"summary.errors", "summary.forbidden_free_rate", "summary.supported_rate"} <= failed


def test_shipped_thresholds_are_stated_against_floors() -> None:
    """Only error counts have fixed bounds; every quality bound names a floor of the run."""
    for suite in (load_suite(SMOKE), load_suite(FULL)):
        for metric, specs in suite.thresholds.items():
            for spec in specs:
                if metric.endswith(".errors"):
                    assert spec == {"max": 0.0}, (suite.name, metric)
                    continue
                floor = spec.get("min_over") or spec.get("max_under")
                assert floor and floor.startswith(("floors.", "summary.baseline_")), metric
                assert not {"min", "max"} & set(spec), (suite.name, metric)
        assert {"qa.errors", "summary.errors"} <= set(suite.thresholds)
        assert {"qa.refusal_rate", "qa.false_refusal_rate"} <= set(suite.thresholds)


def test_a_gold_article_missing_from_the_store_is_a_failure(smoke: Suite, tmp_path: Path) -> None:
    case = next(c for c in smoke.qa_cases if c.type == "single")
    gold_urls = {
        u for item in case.gold_articles for u in ([item] if isinstance(item, str) else item)
    }

    class Missing(OracleService):
        def ingest(self, locations: list[str], progress: Any = None) -> IngestReport:
            report = super().ingest(locations, progress)
            gone = [i for i, a in self.articles.items() if a["url"] in gold_urls]
            for article_id in gone:
                del self.articles[article_id]
            report.article_ids = [i for i in report.article_ids if i not in gone]
            return report

    service = Missing(smoke)
    outcome = run_suite(
        smoke, service=service, write=False, settings_overrides={"data_dir": tmp_path / "data"}
    )
    row = next(r for r in outcome.results if r["id"] == case.id)
    assert row["error"].startswith("gold article(s) not in the store")
    assert row["score"] == 0.0 and row["scores"]["hit_at_k"] == 0.0
    assert row["scores"]["false_refusal_rate"] == 1.0
    assert case.question not in [q for q, _ in service.asked], "no model call for it"
    failed = [r for r in outcome.results if r["kind"] == "qa" and r["error"]]
    assert all(r["score"] == 0.0 and r["scores"]["hit_at_k"] == 0.0 for r in failed)
    qa = outcome.summary["metrics"]["qa"]
    answerable = sum(c.answerable for c in smoke.qa_cases)
    assert qa["errors"] == len(failed) and qa["cases"] == len(smoke.qa_cases)
    assert qa["hit_at_k"] == pytest.approx((answerable - len(failed)) / answerable)
    assert "qa.errors" in {r["metric"] for r in outcome.failures}


def test_floors_of_constant_policies_and_random_retrieval() -> None:
    rows = [
        {"kind": "qa", "id": "u", "type": "unanswerable", "answerable": False},
        {
            "kind": "qa",
            "id": "s",
            "type": "single",
            "answerable": True,
            "gold_answers": ["Tern"],
            "must_include": ["Tern"],
            "gold_articles": ["a"],
            "gold_article_ids": [["a"]],
        },
        {
            "kind": "qa",
            "id": "m",
            "type": "multi",
            "answerable": True,
            "gold_answers": ["x"],
            "gold_articles": ["a", "b"],
            "gold_article_ids": [["a"], ["b"]],
        },
    ]
    floors = compute_floors(rows, {"a": 1, "b": 1, "c": 2}, k=1)
    never, always = floors["never_abstain"], floors["always_abstain"]
    assert never["qa"]["refusal_rate"] == 0.0 and never["qa"]["false_refusal_rate"] == 0.0
    assert never["qa"]["abstention_accuracy"] == pytest.approx(2 / 3)
    assert "f1" not in never["qa"], "never abstaining says nothing about the answers"
    assert always["qa"]["refusal_rate"] == 1.0 and always["qa"]["false_refusal_rate"] == 1.0
    assert always["qa"]["must_include_recall"] == 0.0 and always["qa"]["f1"] == 0.0
    assert always["qa"]["score"] == pytest.approx(1 / 3)
    assert always["qa_by_type"]["unanswerable"]["refusal_rate"] == 1.0
    assert always["qa_by_type"]["single"]["refusal_rate"] is None
    # one random chunk of four: single needs a (1 of 4), multi needs a or b (2 of 4)
    rand = floors["random_retrieval"]
    assert rand["qa_by_type"]["single"]["hit_at_k"] == 0.25
    assert rand["qa_by_type"]["multi"]["hit_at_k"] == 0.5
    assert rand["qa_by_type"]["multi"]["recall_at_k"] == 0.25
    assert rand["qa"]["hit_at_k"] == pytest.approx(0.375) and rand["qa"]["cases"] == 2
    assert floors["naive"] is None


def test_a_naive_baseline_run_becomes_a_floor(smoke: Suite, tmp_path: Path) -> None:
    baseline = tmp_path / "naive"
    baseline.mkdir()
    naive_metrics = {
        "qa": {"cases": 11, "must_include_recall": 0.5, "f1": 0.2},
        "qa_by_type": {"single": {"cases": 5, "f1": 0.25}},
        "summary": {"cases": 0},
    }
    baseline_summary = {"run": {"suite": "smoke", "pipeline": "naive"}, "metrics": naive_metrics}
    (baseline / "summary.json").write_text(json.dumps(baseline_summary))
    gated = dataclasses.replace(
        smoke,
        thresholds={
            "qa.must_include_recall": [
                {"min_over": "floors.naive.qa.must_include_recall", "margin": 0.3}
            ],
            "qa.f1": [{"min_over": "floors.naive.qa.f1", "margin": 0.5}],
        },
    )
    outcome = run_suite(
        gated,
        service=OracleService(smoke),
        baseline_run=baseline,
        out_dir=tmp_path / "run",
        settings_overrides={"data_dir": tmp_path / "data"},
    )
    naive = outcome.summary["metrics"]["floors"]["naive"]
    assert naive["qa"]["f1"] == 0.2 and naive["pipeline"] == "naive"
    assert naive["qa_by_type"]["single"]["f1"] == 0.25 and naive["warnings"] == []
    rows = {row["metric"]: row for row in outcome.thresholds}
    assert rows["qa.must_include_recall"]["passed"] and rows["qa.must_include_recall"]["min"] == 0.8
    assert not rows["qa.f1"]["passed"] and rows["qa.f1"]["floor"] == 0.2
    report = (tmp_path / "run/report.md").read_text()
    assert "| Naive pipeline |" in report and "`floors.naive.qa.f1` (0.200) + 0.50" in report

    baseline_summary["run"]["suite"] = "full"
    (baseline / "summary.json").write_text(json.dumps(baseline_summary))
    warned = load_baseline_run(baseline / "summary.json", smoke)["warnings"]
    assert warned == ["baseline run is of suite 'full', not 'smoke'"]
    with pytest.raises(ConfigError, match="no baseline run"):
        load_baseline_run(tmp_path / "nowhere")


def test_threshold_syntax_floor_relative_bounds() -> None:
    summary = {
        "qa": {"refusal_rate": 0.3, "false_refusal_rate": 0.2, "f1": 0.4},
        "summary": {"words_mean": 50.0, "baseline_lead3": {"words_mean": 50.0}},
        "floors": {
            "never_abstain": {"qa": {"refusal_rate": 0.0}},
            "always_abstain": {"qa": {"false_refusal_rate": 1.0}},
        },
    }
    raw = {
        "qa.refusal_rate": {"min_over": "floors.never_abstain.qa.refusal_rate", "margin": 0.3},
        "qa.false_refusal_rate": {
            "max_under": "floors.always_abstain.qa.false_refusal_rate",
            "margin": 0.85,
        },
        "summary.words_mean": {"max_under": "summary.baseline_lead3.words_mean"},
        "qa.f1": [{"min": 0.1}, {"min_over": "floors.naive.qa.f1"}],
    }
    thresholds = parse_thresholds(raw, "s.yaml")
    rows = check_thresholds(summary, thresholds)
    by = [(r["metric"], r.get("min"), r.get("max"), r["passed"]) for r in rows]
    assert by == [
        ("qa.refusal_rate", 0.3, None, True),  # 0.0 + 0.3: the bound itself passes
        ("qa.false_refusal_rate", None, 0.15, False),  # 1.0 - 0.85
        ("summary.words_mean", None, 50.0, True),  # equal length passes
        ("qa.f1", 0.1, None, True),
        ("qa.f1", None, None, False),  # a floor that was not measured fails
    ]
    assert rows[0]["floor"] == 0.0 and rows[1]["margin"] == 0.85
    assert _against(rows[1]) == "`floors.always_abstain.qa.false_refusal_rate` (1.000) − 0.85"
    assert _against(rows[3]) == "fixed"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"min": 0.1, "min_over": "floors.x"}, "both min and min_over"),
        ({"max": 1, "max_under": "floors.x"}, "both max and max_under"),
        ({"min_over": "a", "max_under": "b"}, "both min_over and max_under"),
        ({"min": 0.5, "margin": 0.1}, "margin needs min_over or max_under"),
        ({"min_over": 3}, "min_over must be a metric path"),
        ({"above": "floors.x"}, "must be a number or a mapping"),
        ({"min": "high"}, "must be a number or a mapping"),
        ([], "empty list"),
    ],
)
def test_threshold_syntax_errors_are_clear(spec: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_thresholds({"qa.f1": spec}, "s.yaml")


# --------------------------------------------------------------------------- CLI
def test_cli_exit_status_follows_thresholds(
    smoke: Suite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.cli import main

    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(eval_runner, "build_service", lambda settings: OracleService(smoke))
    runner = CliRunner()
    ok = runner.invoke(main, ["eval", str(SMOKE), "--out", str(tmp_path / "ok")])  # with bars
    assert ok.exit_code == 0, ok.output
    assert "PASSED: report in" in ok.output and "QA (11 cases): hit@k 1.000" in ok.output

    monkeypatch.setattr(eval_runner, "build_service", lambda settings: BrokenService(smoke))
    bad = runner.invoke(
        main,
        [
            "eval",
            str(SMOKE),
            "--out",
            str(tmp_path / "bad"),
            "--compare",
            str(tmp_path / "ok"),
            "--retrieval-mode",
            "bm25",
            "--quiet",
        ],
    )
    assert bad.exit_code == 1
    assert "FAILED threshold qa.refusal_rate" in bad.output
    assert re.search(r"regressed: ukraine-hegseth-ruled-out \d\.\d+ -> 0\.\d+", bad.output)
    saved = json.loads((tmp_path / "bad/summary.json").read_text())
    assert saved["run"]["settings"]["retrieval_mode"] == "bm25"


def test_cli_reports_a_missing_suite_cleanly(tmp_path: Path) -> None:
    from rag.cli import main

    result = CliRunner().invoke(main, ["eval", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_a_cited_weekday_is_read_with_its_article_date() -> None:
    """A chunk that says "on Thursday" supports the date that Thursday was."""
    sworn = Citation(
        number=1,
        article_id="a",
        title="Ruiz sworn in",
        published="2025-01-02",
        text="Ana Ruiz was sworn in as mayor on Thursday.",
    )
    answers = ["January 2, 2025"]
    assert not metrics.citation_valid("a", sworn.text, ["a"], answers=answers)
    assert metrics.citation_valid("a", cited_text(sworn), ["a"], answers=answers)
    undated = sworn.model_copy(update={"published": None})
    assert not metrics.citation_valid("a", cited_text(undated), ["a"], answers=answers)
