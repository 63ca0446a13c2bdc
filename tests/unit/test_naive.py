"""The naive baseline with fake models: the tutorial's chunks, top-4 retrieval, prompt,
abstention detection, and an index that follows the article store without duplicates."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.messages import HumanMessage
from langchain_text_splitters import RecursiveCharacterTextSplitter
from recording_model import RecordingChatModel

from rag.errors import ConfigError
from rag.evaluation.floors import load_baseline_run
from rag.evaluation.naive import NaiveIndex, NaiveRAG, is_naive_abstention, split_article
from rag.evaluation.runner import run_suite
from rag.evaluation.suite import load_suite
from rag.ingest.article import Article
from rag.service import NewsRAG
from rag.settings import load_settings

pytestmark = pytest.mark.unit

INSTRUCTION = (
    "You are an assistant for question-answering tasks. Use the following pieces of "
    "retrieved context to answer the question. If you don't know the answer, just say that "
    "you don't know. Use three sentences maximum and keep the answer concise."
)
WORDS = ("harbour", "council", "budget", "river", "bridge", "market", "school", "rail")


def long_text(topic: str, paragraphs: int = 6) -> str:
    """Prose of ~2,500 characters: several chunks of at most 1,000 characters."""
    body = []
    for p in range(paragraphs):
        words = " ".join(WORDS[(p + i) % len(WORDS)] for i in range(8))
        body.append(
            f"The {topic} report, part {p}, notes that {words} matter to residents. "
            f"Officials said the {topic} plan number {p} would take several years to finish "
            "and that costs were still being counted by the finance office."
        )
    return "\n\n".join(body)


def write_corpus(folder: Path, count: int = 4) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    urls = []
    for n in range(count):
        url = f"https://news.example/story-{n}"
        (folder / f"story-{n}.txt").write_text(
            f"Title: Story {n}\nSource: Test Wire\nURL: {url}\n\n{long_text(f'topic{n}')}\n",
            encoding="utf-8",
        )
        urls.append(url)
    return urls


def fake_service(tmp_path: Path, replies: list[str], **overrides: Any) -> NewsRAG:
    values = {"collection": "eval-naive-test", **overrides}
    settings = load_settings(data_dir=tmp_path / "data", **values)
    return NewsRAG.from_settings(
        settings,
        embeddings=DeterministicFakeEmbedding(size=384),
        llm=RecordingChatModel(replies=replies),
    )


# ------------------------------------------------------------------------------ chunking
def test_chunks_are_the_tutorials_1000_200_split_with_stable_ids() -> None:
    # one long paragraph: the splitter falls back to words, so chunks overlap
    text = long_text("port", 12).replace("\n\n", " ")
    article = Article.create(title="Long", text=text, url="https://a.example/x")
    docs, ids = split_article(article)
    reference = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    assert [d.page_content for d in docs] == reference.split_text(article.text)
    assert len(docs) >= 3 and all(len(d.page_content) <= 1000 for d in docs)
    for doc in docs:  # offsets point into the article text
        start = doc.metadata["start_index"]
        assert article.text[start : start + len(doc.page_content)] == doc.page_content
    # neighbouring chunks overlap (by at most 200 characters)
    for first, second in itertools.pairwise(docs):
        end = first.metadata["start_index"] + len(first.page_content)
        assert 0 < end - second.metadata["start_index"] <= 200
    assert ids == [f"{article.id}:{article.content_hash[:16]}:{i}" for i in range(len(docs))]
    assert split_article(article)[1] == ids  # same article, same ids
    changed = Article.create(title="Long", text=article.text + " More.", url="https://a.example/x")
    assert set(split_article(changed)[1]).isdisjoint(ids)
    assert docs[0].metadata | {"start_index": 0} == {
        "article_id": article.id,
        "title": "Long",
        "source": "",
        "url": "https://a.example/x",
        "published": "",
        "start_index": 0,
        "chunk_index": 0,
    }


# ---------------------------------------------------------------------------- abstention
@pytest.mark.parametrize(
    "answer",
    [
        "I don't know.",
        "I don’t know the answer.",
        "I do not know who won.",
        "The population is not mentioned in the provided context.",
        "This information is not provided in the retrieved context.",
        "The context does not mention the school board.",
        "The pieces of retrieved context don't say when it opened.",
        "There is no information about the mayor's age in the context.",
    ],
)
def test_abstention_phrases_are_detected(answer: str) -> None:
    assert is_naive_abstention(answer)


@pytest.mark.parametrize(
    "answer",
    [
        "Hegseth ruled out NATO membership for Ukraine.",
        "The council approved a budget of 3 million dollars.",
        "Residents said they did not know the river could rise so fast.",
        "The report was not provided to the press until Monday.",
        "",
    ],
)
def test_answers_are_not_abstentions(answer: str) -> None:
    assert not is_naive_abstention(answer)


# ---------------------------------------------------------------------------- the pipeline
def test_ask_retrieves_dense_top4_and_sends_the_tutorial_prompt(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus")
    service = fake_service(tmp_path, ["The plan takes several years [1].", "I don't know."])
    naive = NaiveRAG(service)
    naive.ingest([str(tmp_path / "corpus")])
    question = "How long will the topic2 plan take?"

    answer = naive.ask(question, history=[("Earlier question?", "Earlier answer.")])

    # dense top-4: the four chunks nearest to the question by the store's own distance
    got = naive.index.vectorstore.get(include=["documents", "embeddings", "metadatas"])
    query = np.array(service.embeddings.embed_query(question))
    distance = np.linalg.norm(np.array(got["embeddings"]) - query, axis=1)
    nearest = [got["documents"][i] for i in np.argsort(distance)[:4]]
    assert [s.text for s in answer.passages] == nearest
    assert [s.number for s in answer.passages] == [1, 2, 3, 4]
    assert answer.citations == answer.passages
    by_url = {a.url: a for a in service.list_articles()}
    for source in answer.passages:
        assert by_url[source.url].id == source.article_id and source.title.startswith("Story")

    # one user message, the tutorial's words, the question as asked (no history)
    [messages] = service.llm.calls
    assert len(messages) == 1 and isinstance(messages[0], HumanMessage)
    expected = (
        f"{INSTRUCTION}\nQuestion: {question}\nContext: " + "\n\n".join(nearest) + "\nAnswer:"
    )
    assert messages[0].content == expected
    assert "Earlier" not in messages[0].content

    assert answer.answer == "The plan takes several years [1]."
    assert not answer.abstained and answer.prompt_tokens == 321
    assert set(answer.timings) == {"retrieve", "generate", "total"}
    declined = naive.ask("Who is the mayor?")
    assert declined.abstained and declined.abstain_reason == "model"


def test_index_follows_the_store_without_duplicates(tmp_path: Path) -> None:
    urls = write_corpus(tmp_path / "corpus", count=3)
    service = fake_service(tmp_path, ["ok"])
    naive = NaiveRAG(service)
    naive.ingest([str(tmp_path / "corpus")])
    articles = {a.url: a.id for a in service.list_articles()}
    expected = sum(len(split_article(service.get_article(i))[1]) for i in articles.values())
    ids = naive.index.chunk_ids()
    assert len(ids) == len(set(ids)) == expected
    assert naive.collection == "eval-naive-test-naive"

    # a re-run (new objects, same store) adds nothing
    again = NaiveRAG(fake_service(tmp_path, ["ok"]))
    again.ingest([str(tmp_path / "corpus")])
    assert sorted(again.index.chunk_ids()) == sorted(ids)

    # a changed article gets new chunks, a deleted one loses its chunks
    changed = tmp_path / "corpus" / "story-0.txt"
    changed.write_text(changed.read_text() + "\nA late correction was added.\n")
    again.ingest([str(tmp_path / "corpus")])
    again.delete([articles[urls[1]]])
    now = again.index.chunk_ids()
    prefixes = {cid.rsplit(":", 1)[0] for cid in now}
    stored = {a.id: a.content_hash for a in again.list_articles()}
    assert prefixes == {f"{i}:{h[:16]}" for i, h in stored.items()}
    assert articles[urls[1]] not in {p.split(":")[0] for p in prefixes}
    assert len(now) == len(set(now))


def test_index_is_rebuilt_when_the_embedder_changes(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus", count=2)
    service = fake_service(tmp_path, ["ok"])
    naive = NaiveRAG(service)
    naive.ingest([str(tmp_path / "corpus")])
    count = len(naive.index.chunk_ids())

    class OtherEmbedding(DeterministicFakeEmbedding):
        pass

    other = NaiveIndex(service.store.client, naive.collection, OtherEmbedding(size=384))
    assert other.chunk_ids() == []  # vectors of another embedder are not reused
    assert other.sync(service.store) == {"added": count, "removed": 0, "chunks": count}
    meta = service.store.client.get_collection(naive.collection).metadata
    assert meta["embedder"] == "OtherEmbedding"


# ------------------------------------------------------------------------- eval runner
def write_suite(tmp_path: Path) -> Path:
    urls = write_corpus(tmp_path / "suite" / "corpus")
    cases = [
        {
            "id": "plan-length",
            "type": "single",
            "question": "How long will the topic1 plan take?",
            "answers": ["several years"],
            "gold_articles": [urls[1]],
            "evidence": "would take several years to finish",
        },
        {"id": "mayor-age", "type": "unanswerable", "question": "How old is the mayor?"},
    ]
    dataset = tmp_path / "suite" / "qa.jsonl"
    dataset.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    summaries = tmp_path / "suite" / "summaries.jsonl"
    summary = {"id": "s1", "article": urls[0], "key_facts": [{"fact": "f", "keywords": ["plan"]}]}
    summaries.write_text(json.dumps(summary) + "\n", encoding="utf-8")
    suite = {
        "name": "tiny",
        "corpus": ["corpus"],
        "datasets": {"qa": "qa.jsonl", "summaries": "summaries.jsonl"},
        "thresholds": {"qa.errors": {"max": 0}, "summary.key_fact_coverage": 0.5},
    }
    path = tmp_path / "suite" / "tiny.yaml"
    path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    return path


def test_eval_with_the_naive_pipeline_is_labelled_and_skips_summaries(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path))
    service = fake_service(
        tmp_path, ["Several years [2].", "I don't know."], collection="eval-tiny"
    )
    outcome = run_suite(suite, out_dir=tmp_path / "run", service=service, pipeline="naive")

    rows = {r["id"]: r for r in outcome.results}
    assert set(rows) == {"plan-length", "mayor-age"}  # no summary case
    assert len(rows["plan-length"]["retrieved"]) == 4
    assert rows["plan-length"]["scores"]["squad_em"] == 1.0  # citation marker stripped
    assert rows["mayor-age"]["abstained"] and rows["mayor-age"]["scores"]["squad_em"] == 1.0
    assert [t["metric"] for t in outcome.thresholds] == ["qa.errors"]
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["run"]["pipeline"] == "naive"
    assert saved["run"]["service"]["collection"] == "eval-tiny-naive"
    assert saved["metrics"]["squad"]["no_ans_accuracy"] == 1.0
    report = (tmp_path / "run" / "report.md").read_text()
    assert "- Pipeline: naive" in report and "dense, k=4" in report
    assert "Summaries: not measured (the naive pipeline does not summarize)." in report


def test_baseline_naive_runs_beside_news_rag_in_the_same_run(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path))
    service = fake_service(
        tmp_path, ["Several years [1]."], collection="eval-tiny", abstain_min_similarity=-1.0
    )
    stages: list[str] = []
    outcome = run_suite(
        suite,
        out_dir=tmp_path / "run",
        service=service,
        baseline="naive",
        progress=lambda stage, done, total: stages.append(stage),
    )
    floor = outcome.summary["metrics"]["floors"]["naive"]
    assert floor["pipeline"] == "naive" and floor["qa"]["cases"] == 2
    assert floor["run"] == "this run" and floor["started"] == outcome.summary["run"]["started"]
    assert set(floor["squad"]) >= {"exact", "f1", "has_ans_f1", "no_ans_accuracy"}
    assert "naive:qa" in stages and "summaries" in stages
    assert outcome.summary["metrics"]["summary"]["cases"] == 1  # news-rag still summarizes
    naive_rows = [json.loads(line) for line in (tmp_path / "run" / "results.naive.jsonl").open()]
    assert [r["id"] for r in naive_rows] == ["plan-length", "mayor-age"]
    assert all(len(r["retrieved"]) == 4 for r in naive_rows)
    report = (tmp_path / "run" / "report.md").read_text()
    assert "## news-rag beside the naive baseline" in report
    assert "| SQuAD F1 |" in report
    with pytest.raises(ConfigError, match="is the pipeline being measured"):
        run_suite(suite, service=service, pipeline="naive", baseline="naive", write=False)


def test_a_naive_floor_from_an_earlier_run_has_the_in_run_shape_and_one_table(
    tmp_path: Path,
) -> None:
    suite = load_suite(write_suite(tmp_path))
    replies = ["Several years [1].", "I don't know."]
    service = fake_service(tmp_path, replies, collection="eval-tiny", abstain_min_similarity=-1.0)
    naive_dir = tmp_path / "naive"
    earlier = run_suite(suite, out_dir=naive_dir, service=service, pipeline="naive")
    in_run = run_suite(suite, out_dir=tmp_path / "both", service=service, baseline="naive")
    read = run_suite(suite, out_dir=tmp_path / "read", service=service, baseline_run=naive_dir)

    floor = read.summary["metrics"]["floors"]["naive"]
    same_run = in_run.summary["metrics"]["floors"]["naive"]
    shape = {"pipeline", "run", "started", "qa", "qa_by_type", "squad", "warnings"}
    assert set(floor) == set(same_run) == shape
    assert floor["pipeline"] == "naive" and floor["run"] == str(naive_dir)
    assert floor["started"] == earlier.summary["run"]["started"] and floor["warnings"] == []
    assert floor["squad"] == earlier.summary["metrics"]["squad"]
    assert floor["qa"]["cases"] == 2 and read.summary["run"]["baseline"] is None
    assert read.summary["run"]["baseline_run"] == str(naive_dir)
    header = f"- Pipeline: news-rag, beside the earlier naive run in `{naive_dir}`"
    assert header in (tmp_path / "read" / "report.md").read_text()

    for folder, source in (("read", "Read from the earlier run"), ("both", "Measured in this run")):
        report = (tmp_path / folder / "report.md").read_text()
        assert report.count("beside the naive baseline") == 1 and source in report
        assert report.count("| Naive pipeline |") == 1  # one column, not in the floors table
        floors_section = report.split("### Against the floors", 1)[1].split("\n#", 1)[0]
        assert "| Never abstain |" in floors_section and "Naive" not in floors_section

    with pytest.raises(ConfigError, match=r"both give floors\.naive"):
        run_suite(suite, service=service, baseline="naive", baseline_run=naive_dir, write=False)


def test_a_baseline_run_of_another_pipeline_is_used_with_a_warning(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path))
    service = fake_service(tmp_path, ["Several years [1]."], collection="eval-tiny")
    run_suite(suite, out_dir=tmp_path / "newsrag", service=service)
    floor = load_baseline_run(tmp_path / "newsrag", suite)
    assert floor["pipeline"] == "naive"
    assert floor["warnings"] == ["baseline run's pipeline is news-rag, not naive"]
