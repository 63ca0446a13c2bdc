"""The model's reply turned into the :class:`~rag.qa.answer.Answer`: answer text, citations
and flags for each reader mode (numbered evidence, excerpts, whole passages), or the
refusal when the model or the calibrated signals say the articles do not answer.

Example (a whole-passage reply that cites no source):
    >>> from rag.qa.turn import Turn
    >>> turn = Turn(question="Who won?", history=[], filters=None, standalone="Who won?")
    >>> [flag.kind for flag in finish_answer(turn, "Ana Ruiz won.", settings).flags]
    ['no_citation']
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from rag.qa.abstention import closest_article_note, unsure
from rag.qa.answer import ABSTAIN_MESSAGE, Answer, Citation
from rag.qa.answer_format import parse_reply, says_not_found
from rag.qa.citations import (
    Flag,
    drop_unsourced_links,
    infer_citations,
    is_abstention,
    parse_citations,
    strip_citations,
)
from rag.qa.evidence import Evidence, EvidenceSentence
from rag.qa.passages import article_citations
from rag.qa.statements import with_continuation
from rag.qa.support import (
    covering_sentences,
    evidence_signals,
    supporting_sentences,
    unverified_quotes,
    with_markers,
)
from rag.qa.turn import Turn
from rag.settings import Settings

__all__ = ["Reading", "finish_answer", "read_reply"]

logger = logging.getLogger(__name__)

Reading = tuple[str, list[Citation], list[Flag]]
"""A reply as read: answer text, its citations, its flags."""


def finish_answer(turn: Turn, text: str, settings: Settings) -> Answer:
    """The :class:`Answer` of ``turn`` from the model's reply ``text`` (the refusal when the
    turn has abstained already, or does now).

    Example:
        >>> from rag.qa.turn import Turn
        >>> turn = Turn(question="Who won?", history=[], filters=None, standalone="Who won?")
        >>> turn.abstain_reason = "no_sources"
        >>> finish_answer(turn, ABSTAIN_MESSAGE, settings).abstained
        True
    """
    abstained = turn.abstain_reason is not None
    citations: list[Citation] = []
    flags: list[Flag] = []
    if not abstained:
        text, citations, flags = read_reply(turn, text, settings)
        abstained = turn.abstain_reason is not None
    if abstained:
        text, citations, flags = ABSTAIN_MESSAGE, [], []
    flags.extend(turn.notices)
    turn.timings["total"] = time.perf_counter() - turn.started
    for flag in flags:
        logger.debug("answer flag: %s", flag.message)
    return Answer(
        question=turn.question,
        answer=text,
        citations=citations,
        passages=turn.passages,
        standalone_question=turn.standalone,
        abstained=abstained,
        abstain_reason=turn.abstain_reason,
        abstain_note=closest_article_note(turn.passages) if abstained else None,
        flags=flags,
        timings={k: round(v, 4) for k, v in turn.timings.items()},
        prompt_tokens=turn.prompt_tokens,
        completion_tokens=turn.completion_tokens,
        signals=turn.signals,
    )


def read_reply(turn: Turn, text: str, settings: Settings) -> Reading:
    """The reply as answer text, citations and flags, as the turn's reader mode wrote it;
    sets ``turn.abstain_reason`` when the reply abstains or is doubted.

    Example:
        >>> from rag.qa.turn import Turn
        >>> turn = Turn(question="Who won?", history=[], filters=None, standalone="Who won?")
        >>> read_reply(turn, ABSTAIN_MESSAGE, settings), turn.abstain_reason
        (("The articles don't say.", [], []), 'model')
    """
    if turn.evidence is not None and turn.numbered:
        return _evidence_answer(turn, text, settings)
    if turn.evidence is not None:
        return _excerpt_answer(turn, text, settings)
    return _passage_answer(turn, text)


def _evidence_answer(turn: Turn, raw: str, settings: Settings) -> Reading:
    """Citations from the sentences the model named, numbered 1, 2, ... by first use."""
    evidence = turn.evidence
    assert evidence is not None
    logger.debug("model reply: %s", raw)
    reply = parse_reply(raw, evidence.numbers)
    chosen = [s for n in reply.evidence if (s := evidence.by_number(n)) is not None]
    chosen = supporting_sentences(evidence, chosen, reply.answer, turn.standalone)
    turn.signals.update(evidence_signals(evidence, chosen, reply.answer, turn.standalone))
    if reply.empty or is_abstention(reply.answer, ABSTAIN_MESSAGE):
        turn.abstain_reason = "model"
        return ABSTAIN_MESSAGE, [], []
    text, cited, flags = _cite(turn, evidence, chosen, reply.answer, settings)
    if reply.invalid_numbers and turn.abstain_reason is None:
        flags.append(
            Flag(kind="invalid_citation", message="the reply named sentences it was not shown")
        )
    return text, cited, flags


def _excerpt_answer(turn: Turn, text: str, settings: Settings) -> Reading:
    """Citations for a free-text answer: the shown sentences that hold its words."""
    evidence = turn.evidence
    assert evidence is not None
    logger.debug("model reply: %s", text)
    answer = strip_citations(text).strip()
    if not answer or says_not_found(answer) or is_abstention(answer, ABSTAIN_MESSAGE):
        turn.abstain_reason = "model"
        return ABSTAIN_MESSAGE, [], []
    chosen = covering_sentences(evidence.sentences, answer, turn.standalone)
    turn.signals.update(evidence_signals(evidence, chosen, answer, turn.standalone))
    answer, chosen = with_continuation(turn.standalone, answer, chosen, evidence)
    return _cite(turn, evidence, chosen, answer, settings, must_be_held=True)


def _cite(
    turn: Turn,
    evidence: Evidence,
    chosen: Sequence[EvidenceSentence],
    answer: str,
    settings: Settings,
    *,
    must_be_held: bool = False,
) -> Reading:
    """The answer with ``[n]`` markers for the articles of ``chosen``, numbered by first
    use; the refusal instead when the calibrated signals doubt it, or (``must_be_held``)
    when no shown sentence holds any word the answer adds to the question."""
    if unsure(turn.signals, settings):
        turn.abstain_reason = "unsure"
        return ABSTAIN_MESSAGE, [], []
    if must_be_held and not chosen and turn.signals.get("answer_new_words"):
        logger.info("answer not found in the excerpts, refused: %s", answer)
        turn.abstain_reason = "unsupported"
        return ABSTAIN_MESSAGE, [], []
    turn.passages = article_citations(evidence, chosen)
    cited = [c for c in turn.passages if c.quote]
    answer, flags = drop_unsourced_links(
        answer, {c.number: c.quote for c in cited}, [c.url for c in turn.passages]
    )
    flags += unverified_quotes(answer, [s.text for s in chosen])
    return with_markers(answer, chosen, evidence), cited, flags


def _passage_answer(turn: Turn, text: str) -> Reading:
    """Citations from the ``[n]`` markers the model wrote over whole passages."""
    if is_abstention(text, ABSTAIN_MESSAGE):
        turn.abstain_reason = "model"
        return ABSTAIN_MESSAGE, [], []
    texts = {c.number: c.text for c in turn.passages}
    parsed = parse_citations(text, texts)
    if not parsed.numbers:
        inferred = parse_citations(infer_citations(parsed.text, texts), texts)
        if inferred.numbers:
            parsed = inferred
            parsed.flags.append(
                Flag(
                    kind="inferred_citation",
                    message="the model cited no source; citations were added by "
                    "matching each sentence to the source it repeats",
                )
            )
    text, flags = parsed.text, parsed.flags
    # links: only those the model was shown (instruction-like text removed)
    shown = {n: source.text for n, source in enumerate(turn.shown, start=1)}
    text, link_flags = drop_unsourced_links(text, shown, [c.url for c in turn.passages])
    flags.extend(link_flags)
    by_number = {c.number: c for c in turn.passages}
    citations = [by_number[n] for n in parsed.numbers]
    if not citations:
        flags.append(Flag(kind="no_citation", message="the answer cites no source"))
    return text, citations, flags
