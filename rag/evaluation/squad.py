"""Import a SQuAD 2.0-format file as an eval suite: corpus, QA dataset and suite file.

SQuAD-format JSON (``{"data": [{"title", "paragraphs": [{"context", "qas": [...]}]}]}``) is
the layout most extractive QA datasets ship in. :func:`import_squad` writes into one
folder:

- ``corpus/<title>.txt``: one article per ``title``, its paragraphs joined by blank
  lines, with ``Title:``, ``Source:`` and ``URL:`` header lines that the normal text
  loader reads. The URL is synthetic and stable (``https://squad.example/wiki/<title>``),
  so the dataset's ``gold_articles`` resolve to the stored articles. Every article of
  the file is written, also when sampling leaves it without questions: the others are
  the haystack retrieval has to search.
- ``<name>_qa.jsonl``: answerable questions as ``single`` cases with every distinct gold
  answer, the article as ``gold_articles`` and the sentence holding the first gold answer
  as ``evidence``; unanswerable ones (``is_impossible``) as ``unanswerable`` cases that
  expect an abstention.
- ``<name>.yaml``: the suite (temperature 0, only the ``qa.errors`` threshold: a new
  dataset has no measured numbers to set thresholds from).
- ``README.md``: where the data came from and how it was sampled.

``sample``/``seed`` draw a stratified sample: the questions are grouped by article and
by answerable/unanswerable, each group gets a share of the sample proportional to its
size (largest remainders round), and each group is sampled with its own seeded random
generator, so the same file, size and seed always give the same questions.

Example (``dev-v2.0.json`` is the downloaded SQuAD 2.0 dev set):
    >>> result = import_squad("dev-v2.0.json", "eval-runs/squad", sample=300, seed=13)
    ... # doctest: +SKIP
    >>> result.suite_path.name, result.answerable + result.unanswerable  # doctest: +SKIP
    ('squad.yaml', 300)
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from rag.errors import ConfigError
from rag.text import sentence_spans

__all__ = [
    "SOURCE_NAME",
    "URL_PREFIX",
    "ImportResult",
    "SquadArticle",
    "SquadQuestion",
    "article_url",
    "evidence_sentence",
    "import_squad",
    "read_squad",
    "stratified_sample",
]

logger = logging.getLogger(__name__)

URL_PREFIX = "https://squad.example/wiki/"
SOURCE_NAME = "SQuAD (Wikipedia)"
_SKIPPED_STEMS = ("readme", "license", "licence", "changelog")  # the folder loader skips them


# ============================================================================ reading
@dataclass(frozen=True)
class SquadQuestion:
    """One question of a SQuAD file, with its gold answers and where it comes from.

    Example:
        >>> q = SquadQuestion("q1", "Who?", ("Rollo",), "Normans", "Rollo led them.", 0)
        >>> q.answerable
        True
    """

    id: str
    question: str
    answers: tuple[str, ...]
    title: str
    context: str
    answer_start: int | None

    @property
    def answerable(self) -> bool:
        """True when the question has at least one gold answer."""
        return bool(self.answers)


@dataclass(frozen=True)
class SquadArticle:
    """One ``title`` of a SQuAD file: its paragraphs and its questions.

    Example:
        >>> SquadArticle("Normans", ("First.", "Second."), ()).text
        'First.\\n\\nSecond.'
    """

    title: str
    paragraphs: tuple[str, ...]
    questions: tuple[SquadQuestion, ...]

    @property
    def text(self) -> str:
        """The paragraphs joined by blank lines."""
        return "\n\n".join(self.paragraphs)


def read_squad(path: str | Path) -> list[SquadArticle]:
    """Parse a SQuAD 1.1 / 2.0-format JSON file; :class:`ConfigError` when it is not one.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> qa = {"id": "q1", "question": "When did the ferries run?", "is_impossible": False,
        ...       "answers": [{"text": "on Monday", "answer_start": 15}]}
        >>> data = {"data": [{"title": "Ferries", "paragraphs": [
        ...     {"context": "The ferries ran on Monday.", "qas": [qa]}]}]}
        >>> _ = (folder / "tiny.json").write_text(json.dumps(data))
        >>> [(a.title, a.text) for a in read_squad(folder / "tiny.json")]
        [('Ferries', 'The ferries ran on Monday.')]
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"SQuAD file not found: {path}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not a JSON file: {exc}") from None
    entries = data.get("data") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        raise ConfigError(
            f"{path} is not in SQuAD format",
            hint='expected {"data": [{"title": ..., "paragraphs": [{"context": ..., "qas": '
            "[...]}]}]}",
        )
    articles = [_article(entry, path, number) for number, entry in enumerate(entries)]
    ids = Counter(q.id for a in articles for q in a.questions)
    duplicates = sorted(i for i, count in ids.items() if count > 1)
    if duplicates:
        raise ConfigError(f"{path}: duplicate question ids: {', '.join(duplicates[:5])}")
    if not ids:
        raise ConfigError(f"{path}: no questions found")
    return articles


def _article(entry: Any, path: Path, number: int) -> SquadArticle:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("paragraphs"), list):
        raise ConfigError(f"{path}: data[{number}] has no 'paragraphs' list")
    title = " ".join(str(entry.get("title") or f"article-{number + 1}").split())
    paragraphs: list[str] = []
    questions: list[SquadQuestion] = []
    for paragraph in entry["paragraphs"]:
        context = str(paragraph.get("context") or "")
        if not context.strip():
            continue
        paragraphs.append(context.strip())
        questions += [_question(qa, title, context) for qa in paragraph.get("qas") or []]
    return SquadArticle(title, tuple(paragraphs), tuple(questions))


def _question(qa: Mapping[str, Any], title: str, context: str) -> SquadQuestion:
    impossible = bool(qa.get("is_impossible", False))
    raw = [] if impossible else list(qa.get("answers") or [])
    answers = _unique(str(a.get("text", "")).strip() for a in raw)
    start = raw[0].get("answer_start") if raw else None
    return SquadQuestion(
        id=str(qa["id"]),
        question=" ".join(str(qa.get("question", "")).split()),
        answers=tuple(answers),
        title=title,
        context=context,
        answer_start=int(start) if isinstance(start, int | float) else None,
    )


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value:
            seen.setdefault(value, None)
    return list(seen)


# =========================================================================== sampling
def stratified_sample(
    questions: Sequence[SquadQuestion], size: int | None, seed: int = 0
) -> list[SquadQuestion]:
    """A proportional, deterministic sample, stratified by article and answerability.

    Each (title, answerable) group gets ``size * group / total`` questions, rounded by
    largest remainders so the sizes add up to ``size``; questions keep the file's order.
    ``None`` or a size at least the number of questions returns them all.

    Example:
        >>> qs = [SquadQuestion(str(i), "?", ("a",) if i % 2 else (), "T", "c", None)
        ...       for i in range(10)]
        >>> len(stratified_sample(qs, 4, seed=1)), stratified_sample(qs, 4, 1) == \\
        ...     stratified_sample(qs, 4, 1)
        (4, True)
    """
    if size is None or size >= len(questions):
        return list(questions)
    if size < 1:
        raise ConfigError("--sample must be at least 1")
    groups: dict[tuple[str, bool], list[SquadQuestion]] = {}
    for question in questions:
        groups.setdefault((question.title, question.answerable), []).append(question)
    quotas = _quotas({key: len(items) for key, items in groups.items()}, size)
    chosen: set[str] = set()
    for key, items in groups.items():
        rng = random.Random(f"{seed}|{key[0]}|{key[1]}")
        chosen.update(q.id for q in rng.sample(items, quotas[key]))
    return [q for q in questions if q.id in chosen]


def _quotas(sizes: Mapping[Any, int], size: int) -> dict[Any, int]:
    """Largest-remainder (Hamilton) apportionment of ``size`` over groups of ``sizes``."""
    total = sum(sizes.values())
    exact = {key: size * count / total for key, count in sizes.items()}
    quotas = {key: int(value) for key, value in exact.items()}
    left = size - sum(quotas.values())
    order = sorted(sizes, key=lambda key: exact[key] - quotas[key], reverse=True)
    for key in order[:left]:  # ties keep the file's group order (sorted is stable)
        quotas[key] += 1
    return quotas


# ============================================================================ writing
def article_url(title: str) -> str:
    """The stable synthetic URL of an article: ``https://squad.example/wiki/<title>``.

    Example:
        >>> article_url("Super Bowl 50")
        'https://squad.example/wiki/Super_Bowl_50'
    """
    return URL_PREFIX + quote(title.replace(" ", "_"), safe="_-.,()'")


def evidence_sentence(context: str, start: int | None, answer: str) -> str:
    """The sentence of ``context`` that holds the answer starting at ``start``.

    Falls back to the first sentence containing ``answer``, then to ``""``.

    Example:
        >>> evidence_sentence("Rain fell. Rollo led them. Snow.", 11, "Rollo")
        'Rollo led them.'
    """
    spans = [(begin, end, context[begin:end]) for begin, end in sentence_spans(context)]
    if start is not None:
        for begin, end, sentence in spans:
            if begin <= start < end and answer in sentence:
                return sentence
    return next((s for _, _, s in spans if answer and answer in s), "")


def article_file_text(article: SquadArticle) -> str:
    """The article in the text format the ingest reads: header lines, blank line, body.

    Example:
        >>> print(article_file_text(SquadArticle("Normans", ("They came.",), ())))
        Title: Normans
        Source: SQuAD (Wikipedia)
        URL: https://squad.example/wiki/Normans
        <BLANKLINE>
        They came.
        <BLANKLINE>
    """
    header = [
        f"Title: {article.title.replace('_', ' ')}",
        f"Source: {SOURCE_NAME}",
        f"URL: {article_url(article.title)}",
    ]
    return "\n".join(header) + "\n\n" + article.text + "\n"


def qa_case(question: SquadQuestion) -> dict[str, Any]:
    """One line of the QA dataset for a SQuAD question.

    Example:
        >>> qa_case(SquadQuestion("q1", "Who?", (), "Normans", "c", None))["type"]
        'unanswerable'
    """
    notes = f"SQuAD article: {question.title}"
    if not question.answerable:
        return {
            "id": question.id,
            "type": "unanswerable",
            "question": question.question,
            "answerable": False,
            "notes": notes,
        }
    case: dict[str, Any] = {
        "id": question.id,
        "type": "single",
        "question": question.question,
        "answers": list(question.answers),
        "gold_articles": [article_url(question.title)],
    }
    evidence = evidence_sentence(question.context, question.answer_start, question.answers[0])
    if evidence:
        case["evidence"] = evidence
    case["notes"] = notes
    return case


@dataclass
class ImportResult:
    """What :func:`import_squad` wrote.

    Example:
        >>> ImportResult(Path("s.yaml"), Path("qa.jsonl"), Path("corpus"), 2, 3, 4).articles
        2
    """

    suite_path: Path
    dataset_path: Path
    corpus_dir: Path
    articles: int
    answerable: int
    unanswerable: int


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "article"
    return f"article-{slug}" if slug.lower().startswith(_SKIPPED_STEMS) else slug


def _write_corpus(articles: Sequence[SquadArticle], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt"):  # a re-import replaces the corpus, never mixes two
        old.unlink()
    used: set[str] = set()
    for article in articles:
        base = name = _slug(article.title)
        number = 2
        while name.lower() in used:
            name, number = f"{base}-{number}", number + 1
        used.add(name.lower())
        (folder / f"{name}.txt").write_text(article_file_text(article), encoding="utf-8")


def _suite(name: str, dataset: str, counts: tuple[int, int], source: str, seed: int | None) -> str:
    answerable, unanswerable = counts
    sampled = f", sample seed {seed}" if seed is not None else ""
    data = {
        "name": name,
        "description": f"SQuAD-format questions from {source}: {answerable} answerable, "
        f"{unanswerable} unanswerable{sampled}.",
        "corpus": ["corpus"],
        "collection": f"eval-{name}",
        "datasets": {"qa": dataset},
        "settings": {"llm_temperature": 0.0},
        "thresholds": {"qa.errors": {"max": 0}},
    }
    comment = (
        "# Written by news-rag eval import-squad. Thresholds: only errors are gated; add\n"
        "# bounds (e.g. squad.f1: 0.4) once a run has measured this dataset.\n"
    )
    return comment + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _readme(source: Path, digest: str, result: ImportResult, sample: int | None, seed: int) -> str:
    sampling = (
        f"a stratified sample of {sample} questions (seed {seed})"
        if sample is not None
        else "every question"
    )
    return (
        f"# Imported SQuAD-format data\n\n"
        f"Source file: `{source.name}` (sha256 `{digest}`), {sampling}.\n\n"
        f"- `corpus/`: {result.articles} articles, one per title\n"
        f"- `{result.dataset_path.name}`: {result.answerable} answerable and "
        f"{result.unanswerable} unanswerable questions\n"
        f"- `{result.suite_path.name}`: the suite; run it with "
        f"`news-rag eval {result.suite_path}`\n\n"
        "The texts, questions and answers keep the licence of the source file "
        "(SQuAD 2.0 itself: CC BY-SA 4.0, contexts from Wikipedia).\n"
    )


def import_squad(
    path: str | Path,
    out_dir: str | Path,
    *,
    sample: int | None = None,
    seed: int = 0,
    name: str | None = None,
) -> ImportResult:
    """Write the corpus, QA dataset, suite file and README for a SQuAD-format file.

    ``name`` names the suite and its collection (default: the output folder's name).

    Example (``squad_file``: the one-question file of :func:`read_squad`'s example):
        >>> r = import_squad(squad_file, squad_file.parent / "squad")
        >>> r.suite_path.name, r.articles, r.answerable, r.unanswerable
        ('squad.yaml', 1, 1, 0)
    """
    source, out = Path(path), Path(out_dir)
    articles = read_squad(source)
    questions = [q for a in articles for q in a.questions]
    picked = stratified_sample(questions, sample, seed)
    sampled = sample is not None and sample < len(questions)
    name = _slug(name or out.resolve().name).lower()
    out.mkdir(parents=True, exist_ok=True)
    _write_corpus(articles, out / "corpus")
    dataset = out / f"{name}_qa.jsonl"
    with dataset.open("w", encoding="utf-8") as handle:
        for question in picked:
            handle.write(json.dumps(qa_case(question), ensure_ascii=False) + "\n")
    counts = (sum(q.answerable for q in picked), sum(not q.answerable for q in picked))
    suite = out / f"{name}.yaml"
    suite.write_text(
        _suite(name, dataset.name, counts, source.name, seed if sampled else None),
        encoding="utf-8",
    )
    result = ImportResult(suite, dataset, out / "corpus", len(articles), *counts)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    (out / "README.md").write_text(
        _readme(source, digest, result, sample if sampled else None, seed),
        encoding="utf-8",
    )
    logger.debug(
        "Imported %d articles and %d questions (%d answerable) into %s",
        result.articles,
        len(picked),
        result.answerable,
        out,
    )
    return result
