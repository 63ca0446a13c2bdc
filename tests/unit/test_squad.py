"""SQuAD-format import (corpus, dataset, suite), stratified sampling, official EM/F1, CLI.

Every SQuAD file here is a tiny one the tests write themselves, in the SQuAD 2.0 layout.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models import FakeListChatModel

from rag.errors import ConfigError
from rag.evaluation import metrics, squad_metrics
from rag.evaluation import runner as eval_runner
from rag.evaluation.articles import ArticleIndex
from rag.evaluation.squad import (
    article_url,
    evidence_sentence,
    import_squad,
    read_squad,
    stratified_sample,
)
from rag.evaluation.suite import load_suite
from rag.ingest.article import Article
from rag.ingest.locations import load_location
from rag.service import NewsRAG

pytestmark = pytest.mark.unit


# ------------------------------------------------------------------------------ fixtures
def paragraph(title: str, number: int) -> dict:
    """A paragraph of three sentences with one answerable and one unanswerable question."""
    lead = f"The {title} guild was founded in year {1000 + number}. "
    middle = f"Its {number}th master was called Orlan {title}-{number}. "
    context = lead + middle + "Nobody recorded the weather that day."
    start = context.index(f"Orlan {title}-{number}")
    return {
        "context": context,
        "qas": [
            {
                "id": f"{title}-{number}-a",
                "question": f"Who was the {number}th master of the {title} guild?",
                "answers": [
                    {"text": f"Orlan {title}-{number}", "answer_start": start},
                    {"text": f"Orlan {title}-{number}", "answer_start": start},
                    {"text": "Orlan", "answer_start": start},
                ],
                "is_impossible": False,
            },
            {
                "id": f"{title}-{number}-u",
                "question": f"How tall was the {number}th master of the {title} guild?",
                "answers": [],
                "plausible_answers": [{"text": "Orlan", "answer_start": start}],
                "is_impossible": True,
            },
        ],
    }


def squad_file(tmp_path: Path, sizes: dict[str, int] | None = None) -> Path:
    """Titles with their number of paragraphs (2 questions each: 1 answerable, 1 not)."""
    sizes = sizes or {"Alpha_Guild": 3, "Beta": 2, "Gamma": 1}
    data = {
        "version": "v2.0",
        "data": [
            {"title": title, "paragraphs": [paragraph(title, n) for n in range(count)]}
            for title, count in sizes.items()
        ],
    }
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ reading
def test_read_squad_keeps_distinct_gold_answers_and_unanswerables(tmp_path: Path) -> None:
    articles = read_squad(squad_file(tmp_path))
    assert [a.title for a in articles] == ["Alpha_Guild", "Beta", "Gamma"]
    alpha = articles[0]
    assert len(alpha.paragraphs) == 3 and alpha.text.count("\n\n") == 2
    answerable, unanswerable = alpha.questions[:2]
    assert answerable.answers == ("Orlan Alpha_Guild-0", "Orlan")
    assert unanswerable.answers == () and not unanswerable.answerable  # plausible ignored


def test_read_squad_rejects_other_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"rows": []}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not in SQuAD format"):
        read_squad(bad)
    bad.write_text("not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a JSON file"):
        read_squad(bad)


# ------------------------------------------------------------------------------ import
def test_import_writes_a_corpus_the_ingest_reads_and_a_resolving_dataset(tmp_path: Path) -> None:
    result = import_squad(squad_file(tmp_path), tmp_path / "out" / "tiny", seed=3)
    assert (result.articles, result.answerable, result.unanswerable) == (3, 6, 6)

    loaded = [a for a in load_location(result.corpus_dir) if isinstance(a, Article)]
    by_title = {a.title: a for a in loaded}
    assert set(by_title) == {"Alpha Guild", "Beta", "Gamma"}
    alpha = by_title["Alpha Guild"]
    assert alpha.url == "https://squad.example/wiki/Alpha_Guild" == article_url("Alpha_Guild")
    assert alpha.outlet == "SQuAD (Wikipedia)"
    assert alpha.text.startswith("The Alpha_Guild guild was founded")
    assert alpha.text.count("\n\n") == 2  # three paragraphs, blank lines between

    suite = load_suite(result.suite_path)
    assert suite.name == "tiny" and suite.collection == "eval-tiny"
    assert suite.settings == {"llm_temperature": 0.0}
    assert suite.thresholds == {"qa.errors": [{"max": 0.0}]}
    assert suite.corpus == [result.corpus_dir]
    index = ArticleIndex((a.id, a.url, a.title) for a in loaded)
    kinds = Counter(c.type for c in suite.qa_cases)
    assert kinds == {"single": 6, "unanswerable": 6}
    for case in suite.qa_cases:
        if case.type == "unanswerable":
            assert not case.answerable and not case.answers
            continue
        gold_ids, missing = index.resolve_gold(case.gold_articles)
        assert not missing and len(gold_ids) == 1
        [evidence] = case.evidence
        text = next(a.text for a in loaded if a.id == gold_ids[0][0])
        assert evidence in text and case.answers[0] in evidence
        assert evidence.startswith("Its ")  # the sentence holding the answer, not the first
    assert "sha256" in (result.suite_path.parent / "README.md").read_text()


def test_reimport_replaces_the_corpus(tmp_path: Path) -> None:
    out = tmp_path / "out"
    import_squad(squad_file(tmp_path), out)
    import_squad(squad_file(tmp_path, {"Delta": 1}), out)
    assert sorted(p.name for p in (out / "corpus").glob("*.txt")) == ["Delta.txt"]


def test_evidence_sentence() -> None:
    context = 'He said "go." Then Rollo led them. Later, Rollo rested.'
    assert (
        evidence_sentence(context, context.index("Rollo rested"), "Rollo") == "Later, Rollo rested."
    )
    assert evidence_sentence(context, None, "Rollo") == "Then Rollo led them."
    assert evidence_sentence(context, None, "absent") == ""


# ------------------------------------------------------------------------------ sampling
def test_sampling_is_deterministic_proportional_and_in_file_order(tmp_path: Path) -> None:
    path = squad_file(tmp_path, {"A": 30, "B": 12, "C": 6, "D": 2})  # 100 questions
    questions = [q for a in read_squad(path) for q in a.questions]
    sample = stratified_sample(questions, 25, seed=13)

    assert [q.id for q in sample] == [q.id for q in stratified_sample(questions, 25, seed=13)]
    assert [q.id for q in sample] != [q.id for q in stratified_sample(questions, 25, seed=14)]
    assert len(sample) == 25
    order = [q.id for q in questions]
    assert [order.index(q.id) for q in sample] == sorted(order.index(q.id) for q in sample)

    groups = Counter((q.title, q.answerable) for q in questions)
    picked = Counter((q.title, q.answerable) for q in sample)
    for key, size in groups.items():
        assert abs(picked[key] - 25 * size / len(questions)) < 1, key
    # 7.5, 7.5, 3, 3, 1.5, 1.5, 0.5, 0.5: the 3 seats left go to the largest remainders,
    # ties in the file's order
    assert [picked[k] for k in groups] == [8, 8, 3, 3, 2, 1, 0, 0]
    assert stratified_sample(questions, None, 1) == questions
    assert stratified_sample(questions, 1000, 1) == questions


def test_import_with_a_sample_writes_only_the_sample(tmp_path: Path) -> None:
    path = squad_file(tmp_path, {"A": 10, "B": 10})
    result = import_squad(path, tmp_path / "s", sample=8, seed=5)
    lines = result.dataset_path.read_text().splitlines()
    assert len(lines) == 8 and (result.answerable, result.unanswerable) == (4, 4)
    assert result.articles == 2  # every article stays in the corpus
    again = import_squad(path, tmp_path / "t", sample=8, seed=5, name="s")
    assert again.dataset_path.read_text().splitlines() == lines
    assert "sample seed 5" in result.suite_path.read_text()


# ------------------------------------------------------------------------------ EM / F1
@pytest.mark.parametrize(
    ("prediction", "golds", "em", "f1"),
    [
        ("Denver Broncos", ["Denver Broncos", "Broncos"], 1.0, 1.0),
        ("the Denver Broncos!", ["Denver Broncos"], 1.0, 1.0),  # articles, punctuation
        ("Broncos", ["Denver Broncos"], 0.0, 2 / 3),
        ("Denver Broncos won", ["Denver Broncos"], 0.0, 0.8),
        ("Santa Clara, California", ["Santa Clara", "Levi's Stadium"], 0.0, 0.8),
        ("levis stadium", ["Levi's Stadium"], 1.0, 1.0),
        ("Rollo [1].", ["Rollo"], 1.0, 1.0),  # citation markers are not part of the answer
        ("", ["Rollo"], 0.0, 0.0),
        ("", [], 1.0, 1.0),  # no answer to an unanswerable question
        ("Rollo", [], 0.0, 0.0),
        ("", [" ", "the"], 1.0, 1.0),  # golds that normalize to nothing count as no answer
    ],
)
def test_em_and_f1_match_the_official_script(
    prediction: str, golds: list[str], em: float, f1: float
) -> None:
    assert squad_metrics.squad_exact(prediction, golds) == em
    assert squad_metrics.squad_f1(prediction, golds) == pytest.approx(f1)


def test_official_normalization() -> None:
    assert (
        squad_metrics.normalize("The  Quick, brown fox (an example)!") == "quick brown fox example"
    )
    assert squad_metrics.normalize("1754–1763") == "1754–1763"  # not ASCII punctuation: kept
    assert squad_metrics.normalize("Theory") == "theory"  # "the" only as a word


@pytest.mark.parametrize(
    ("prediction", "gold"),
    [
        ("The Denver Broncos", "Denver Broncos"),
        ("in the 10th and 11th centuries", "10th and 11th centuries"),
        ("Levi's Stadium, Santa Clara", "Levi's Stadium"),
        ("Rollo [1].", "Rollo"),
    ],
)
def test_project_metrics_agree_with_the_official_ones_on_ascii_text(
    prediction: str, gold: str
) -> None:
    assert metrics.exact_match(prediction, [gold]) == squad_metrics.squad_exact(prediction, [gold])
    assert metrics.f1_score(prediction, [gold]) == squad_metrics.squad_f1(prediction, [gold])


def test_project_normalization_differs_on_typographic_punctuation() -> None:
    # rag.evaluation.metrics drops the en dash (lenient keyword-style matching); the official script
    # keeps it, so SQuAD numbers use the official normalization
    assert metrics.exact_match("1754-1763", ["1754–1763"]) == 1.0
    assert squad_metrics.squad_exact("1754-1763", ["1754–1763"]) == 0.0


def test_case_scores_treat_abstention_as_the_empty_answer() -> None:
    def scores(answer: str, abstained: bool, answers: list[str]) -> tuple:
        got = squad_metrics.case_scores(answer, abstained=abstained, answers=answers)
        return got["squad_em"], got["squad_f1"]

    assert scores("The articles don't say.", True, []) == (1.0, 1.0)
    assert scores("Rollo led them.", False, []) == (0.0, 0.0)
    assert scores("I don't know.", True, ["Rollo"]) == (0.0, 0.0)
    assert scores("Rollo [2].", False, ["Rollo"]) == (1.0, 1.0)


def test_aggregate_splits_has_ans_and_no_ans() -> None:
    rows = [
        {"answerable": True, "scores": {"squad_em": 1.0, "squad_f1": 1.0}},
        {"answerable": True, "scores": {"squad_em": 0.0, "squad_f1": 0.5}},
        {"answerable": False, "scores": {"squad_em": 1.0, "squad_f1": 1.0}},
        {"answerable": False, "scores": {"squad_em": 0.0, "squad_f1": 0.0}},
        {"answerable": True, "scores": {"hit_at_k": 1.0}},  # retrieval-only row: left out
    ]
    got = squad_metrics.aggregate(rows)
    assert got == {
        "total": 4,
        "exact": 0.5,
        "f1": 0.625,
        "has_ans_total": 2,
        "has_ans_exact": 0.5,
        "has_ans_f1": 0.75,
        "no_ans_total": 2,
        "no_ans_accuracy": 0.5,
    }


# ------------------------------------------------------------------------------ CLI
def test_cli_help_teaches_both_forms() -> None:
    from rag.cli import main

    result = CliRunner().invoke(main, ["eval", "--help"])
    assert result.exit_code == 0
    assert "news-rag eval evals/smoke.yaml" in result.output
    assert "news-rag eval import-squad" in result.output and "--pipeline naive" in result.output
    run_help = CliRunner().invoke(main, ["eval", "run", "--help"])
    assert "--pipeline [news-rag|naive]" in run_help.output and "--baseline" in run_help.output


def test_cli_import_then_eval_in_both_forms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.cli import main

    runner = CliRunner()
    out = tmp_path / "squad"
    imported = runner.invoke(
        main,
        [
            "eval",
            "import-squad",
            str(squad_file(tmp_path)),
            "--out",
            str(out),
            "--sample",
            "4",
            "--seed",
            "2",
        ],
    )
    assert imported.exit_code == 0, imported.output
    assert "4 questions (2 answerable, 2 unanswerable)" in imported.output
    suite = out / "squad.yaml"
    assert f"Run it: news-rag eval {suite}" in imported.output

    def fake(settings):
        return NewsRAG.from_settings(
            settings,
            embeddings=DeterministicFakeEmbedding(size=384),
            llm=FakeListChatModel(responses=["I don't know."]),
        )

    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(eval_runner, "build_service", fake)
    short = runner.invoke(
        main, ["eval", str(suite), "--pipeline", "naive", "--out", str(tmp_path / "a"), "--quiet"]
    )
    assert short.exit_code == 0, short.output
    assert "SQuAD-style: EM 0.500" in short.output  # abstains on all: NoAns right, HasAns not
    saved = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert saved["run"]["pipeline"] == "naive"
    assert saved["metrics"]["squad"]["no_ans_accuracy"] == 1.0
    assert saved["metrics"]["squad"]["has_ans_f1"] == 0.0

    spelled = runner.invoke(
        main, ["eval", "run", str(suite), "--baseline", "naive", "--out", str(tmp_path / "b")]
    )
    assert spelled.exit_code == 0, spelled.output
    assert "Baseline naive (4 cases)" in spelled.output
    floors = json.loads((tmp_path / "b" / "summary.json").read_text())["metrics"]["floors"]
    assert floors["naive"]["squad"]["total"] == 4

    reused = runner.invoke(
        main,
        ["eval", str(suite), "--baseline-run", str(tmp_path / "a"), "--out", str(tmp_path / "c")],
    )
    assert reused.exit_code == 0, reused.output
    assert "Baseline naive (4 cases)" in reused.output and "(read from" in reused.output
    floors = json.loads((tmp_path / "c" / "summary.json").read_text())["metrics"]["floors"]
    assert floors["naive"]["run"] == str(tmp_path / "a")
    assert floors["naive"]["squad"] == saved["metrics"]["squad"]
    suite_yaml = yaml.safe_load(suite.read_text())
    assert suite_yaml["settings"]["llm_temperature"] == 0.0
