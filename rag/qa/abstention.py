"""When to say "The articles don't say.": before the model is called (no source, none
similar enough, or a name no source mentions) and after it replied (the calibrated doubt
signals), and the closest article named for the reader.

Example:
    >>> unsure({"answer_support": 0.1}, settings)  # the answer's words are not in the sources
    True
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from rag.qa.answer import Citation
from rag.qa.citations import Flag
from rag.qa.coverage import missing_names
from rag.qa.turn import Turn
from rag.settings import Settings

__all__ = ["closest_article_note", "should_abstain", "unsure"]

logger = logging.getLogger(__name__)


def should_abstain(turn: Turn, settings: Settings) -> bool:
    """Retrieval-score signal: no sources, or none similar enough (LLM not called); then the
    name signal. Sets ``turn.abstain_reason`` when it abstains.

    Example:
        >>> from rag.qa.turn import Turn
        >>> turn = Turn(question="Who won?", history=[], filters=None)
        >>> should_abstain(turn, settings), turn.abstain_reason
        (True, 'no_sources')
    """
    if not turn.documents:
        turn.abstain_reason = "no_sources"
        return True
    similarities = [
        float(s) for d in turn.documents if (s := d.metadata.get("dense_similarity")) is not None
    ]
    if similarities and max(similarities) < settings.abstain_min_similarity:
        logger.debug(
            "abstaining: best similarity %.3f < %.3f",
            max(similarities),
            settings.abstain_min_similarity,
        )
        turn.abstain_reason = "low_similarity"
        return True
    return settings.abstain_on_missing_names and _names_missing(turn)


def _names_missing(turn: Turn) -> bool:
    """Name signal: the question names someone or something no source mentions."""
    texts = [d.page_content for d in turn.documents]
    texts += [str(d.metadata.get("title") or "") for d in turn.documents]
    missing = missing_names(turn.standalone, texts)
    if not missing:
        return False
    logger.debug("abstaining: no source mentions %s", missing)
    turn.abstain_reason = "missing_name"
    turn.notices.append(
        Flag(kind="missing_name", message=f"no source mentions {', '.join(missing)}")
    )
    return True


def unsure(signals: Mapping[str, float], settings: Settings) -> bool:
    """The calibrated refusal: the model nearly named no evidence, its answer's words are
    mostly not in the sentences it named (both thresholds fitted on held-out data), or
    the answer adds no word to the question's own.

    Example:
        >>> unsure({"p_no_evidence": 0.99, "answer_support": 1.0}, settings)
        True
    """
    p_none = signals.get("p_no_evidence")
    if p_none is not None and p_none >= settings.qa_abstain_probability:
        logger.debug("abstaining: P(no evidence) %.3f", p_none)
        return True
    if signals.get("answer_new_words", 1.0) == 0:
        logger.debug("abstaining: the answer only restates the question")
        return True
    support = signals.get("answer_support", 1.0)
    if support < settings.qa_min_answer_support:
        logger.debug("abstaining: answer support %.2f", support)
        return True
    return False


def closest_article_note(passages: Sequence[Citation]) -> str | None:
    """What the nearest article is about, so a refusal still points somewhere useful.

    Example:
        >>> closest_article_note([Citation(number=1, article_id="a", title="Vote",
        ...                                outlet="Wire", text="")])
        'The closest article is “Vote” (Wire).'
    """
    if not passages:
        return None
    top = passages[0]
    extra = ", ".join(p for p in (top.outlet, top.published) if p)
    return f"The closest article is “{top.title}”" + (f" ({extra})." if extra else ".")
