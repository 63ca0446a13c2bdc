"""SQuAD 2.0 exact match and F1, as the official evaluation script computes them.

Per question: the prediction is normalized (lowercase, ASCII punctuation removed, the
articles a/an/the removed, whitespace collapsed) and compared with every gold answer; EM
and F1 are the best over the gold answers. A question without a gold answer (SQuAD 2.0
"unanswerable") has the empty string as its only gold answer, so it scores 1 exactly when
the system gives no answer -- here, when it abstains -- and 0 otherwise. An abstention on
an answerable question is an empty prediction and scores 0.

Aggregates follow the script's report: ``exact`` / ``f1`` over all questions, the same
over answerable questions (``has_ans_*``) and the share of unanswerable questions the
system declined (``no_ans_accuracy``; the script's ``NoAns_exact`` and ``NoAns_f1``, which
are equal). Scores are fractions (0-1), not the script's percentages.

:func:`rag.evaluation.metrics.normalize_answer` differs in two ways on purpose (it serves
keyword-free checks of sentence answers): it also removes typographic punctuation (``—``, ``–``,
curly quotes), which the official script keeps, and it strips citation markers. Here the
markers are stripped from the answer before scoring (:func:`answer_text`), and the
normalization is the official one, so numbers compare with published SQuAD results.

Example:
    >>> squad_exact("The Normans [1].", ["Normans"]), squad_f1("in France", ["France"])
    (1.0, 0.6666666666666666)
    >>> case_scores("I don't know.", abstained=True, answers=[])
    {'squad_em': 1.0, 'squad_f1': 1.0}
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rag.evaluation.metrics import mean, strip_citations

SQUAD_METRICS = ("squad_em", "squad_f1")
"""The per-case score names added to every QA result row."""

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = frozenset(string.punctuation)


def normalize(text: str) -> str:
    """The official SQuAD normalization: lowercase, no punctuation, no articles, one space.

    Example:
        >>> normalize("The  Rhine's length: 1,230 km!")
        'rhines length 1230 km'
        >>> normalize("1754–1763")  # the en dash is not ASCII punctuation: kept
        '1754–1763'
    """
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _exact(gold: str, prediction: str) -> float:
    return float(normalize(gold) == normalize(prediction))


def _f1(gold: str, prediction: str) -> float:
    gold_tokens = normalize(gold).split()
    pred_tokens = normalize(prediction).split()
    if not gold_tokens or not pred_tokens:
        return float(gold_tokens == pred_tokens)  # "no answer" scores 1 only against itself
    same = sum((Counter(gold_tokens) & Counter(pred_tokens)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def _golds(answers: Sequence[str]) -> list[str]:
    """Gold answers as the script uses them: empty ones dropped, ``[""]`` when none is left."""
    golds = [a for a in answers if normalize(a)]
    return golds or [""]


def squad_exact(prediction: str, answers: Sequence[str]) -> float:
    """Best exact match over the gold answers (citation markers removed first).

    Example:
        >>> squad_exact("Denver Broncos", ["Denver Broncos", "Broncos"])
        1.0
        >>> squad_exact("", []), squad_exact("Paris", [])
        (1.0, 0.0)
    """
    text = answer_text(prediction)
    return max(_exact(gold, text) for gold in _golds(answers))


def squad_f1(prediction: str, answers: Sequence[str]) -> float:
    """Best token F1 over the gold answers (citation markers removed first).

    Example:
        >>> squad_f1("the Denver Broncos won", ["Denver Broncos"])
        0.8
    """
    text = answer_text(prediction)
    return max(_f1(gold, text) for gold in _golds(answers))


def answer_text(answer: str) -> str:
    """The answer as scored: without ``[n]`` citation markers.

    Example:
        >>> answer_text("In 1066 [2].")
        'In 1066.'
    """
    return strip_citations(answer or "")


def case_scores(
    answer: str, *, abstained: bool, answers: Sequence[str], answerable: bool | None = None
) -> dict[str, float | None]:
    """``squad_em`` and ``squad_f1`` of one answer; an abstention is the empty prediction.

    ``answers`` is empty for an unanswerable question. An answerable question without
    gold answers (``answerable=True``, only keyword checks) cannot be scored: ``None``.

    Example:
        >>> case_scores("Rollo [1].", abstained=False, answers=["Rollo"])
        {'squad_em': 1.0, 'squad_f1': 1.0}
        >>> case_scores("The articles don't say.", abstained=True, answers=["Rollo"])
        {'squad_em': 0.0, 'squad_f1': 0.0}
        >>> case_scores("Yes.", abstained=False, answers=[], answerable=True)
        {'squad_em': None, 'squad_f1': None}
    """
    if answerable and not any(normalize(a) for a in answers):
        return dict.fromkeys(SQUAD_METRICS)
    prediction = "" if abstained else answer
    return {
        "squad_em": squad_exact(prediction, answers),
        "squad_f1": squad_f1(prediction, answers),
    }


def failure_scores(*, answers: Sequence[str], answerable: bool) -> dict[str, float | None]:
    """The scores of a case that failed with an error: 0, answerable or not.

    Example:
        >>> failure_scores(answers=[], answerable=False)
        {'squad_em': 0.0, 'squad_f1': 0.0}
    """
    if answerable and not any(normalize(a) for a in answers):
        return dict.fromkeys(SQUAD_METRICS)
    return dict.fromkeys(SQUAD_METRICS, 0.0)


def aggregate(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Overall, HasAns and NoAns numbers over QA result rows (``answerable`` and ``scores``).

    Rows without SQuAD scores (retrieval-only runs) are left out.

    Example:
        >>> rows = [{"answerable": True, "scores": {"squad_em": 1.0, "squad_f1": 1.0}},
        ...         {"answerable": False, "scores": {"squad_em": 0.0, "squad_f1": 0.0}}]
        >>> a = aggregate(rows)
        >>> a["exact"], a["has_ans_f1"], a["no_ans_accuracy"], a["no_ans_total"]
        (0.5, 1.0, 0.0, 1)
    """
    scored = [r for r in rows if (r.get("scores") or {}).get("squad_em") is not None]
    has_ans = [r for r in scored if r.get("answerable", True)]
    no_ans = [r for r in scored if not r.get("answerable", True)]

    def average(group: list[Mapping[str, Any]], name: str) -> float | None:
        return mean(r["scores"].get(name) for r in group)

    return {
        "total": len(scored),
        "exact": average(scored, "squad_em"),
        "f1": average(scored, "squad_f1"),
        "has_ans_total": len(has_ans),
        "has_ans_exact": average(has_ans, "squad_em"),
        "has_ans_f1": average(has_ans, "squad_f1"),
        "no_ans_total": len(no_ans),
        "no_ans_accuracy": average(no_ans, "squad_em"),
    }
