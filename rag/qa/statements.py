"""Statements that run on: an answer about what someone said or did gets the sentence in
which the same speaker goes on.

News reports a statement over several sentences: "Hegseth ruled out NATO membership for
Ukraine. He said a return to the pre-war borders was an unrealistic objective." Asked
"What did Hegseth rule out?", a small model copies the first sentence and stops, so the
answer is half of what the article says. When the question asks what someone said, did or
decided, the answer restates one sentence, and the article's next sentence continues with
the same speaker ("He said...", "She added...", "They also..."), that sentence is added
to the answer word for word, and cited like the first.

Example:
    >>> from langchain_core.documents import Document
    >>> from rag.qa.evidence import select_evidence
    >>> doc = Document(page_content="Hegseth ruled out NATO membership. He said the 2014 "
    ...     "borders were unrealistic.", metadata={"article_id": "a", "title": "Brussels"})
    >>> ev = select_evidence("What did Hegseth rule out?", [doc], embed=None)
    >>> answer, chosen = with_continuation("What did Hegseth rule out?",
    ...     "Hegseth ruled out NATO membership.", ev.sentences[:1], ev)
    >>> answer
    'Hegseth ruled out NATO membership. He said the 2014 borders were unrealistic.'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from rag.qa.evidence import Evidence, EvidenceSentence
from rag.qa.support import answer_support, new_words

__all__ = ["asks_what_someone_did", "continues_speaker", "with_continuation"]

logger = logging.getLogger(__name__)

RESTATES = 0.8  # share of the answer's words one sentence must hold to be what it restates
MIN_NEW_WORDS = 3  # the next sentence must add this many words the answer lacks

# "What did Hegseth rule out?", "What has the court decided?", "What will the bank do?"
_WHAT_DID = re.compile(r"^\s*what\s+(?:did|does|do|has|have|had|will|would)\s+\S", re.IGNORECASE)
# "He said ...", "She also warned ...", "They added that ..."
_SAME_SPEAKER = re.compile(
    r"^(?:He|She|They)\s+(?:\w+\s+)?(?:said|says|added|adds|told|tells|warned|warns|argued|"
    r"noted|stressed|insisted|also)\b"
)


def asks_what_someone_did(question: str) -> bool:
    """True for an open question about what someone said, did or decided, whose answer in
    news is often more than one thing.

    Example:
        >>> asks_what_someone_did("What did Hegseth rule out?")
        True
        >>> asks_what_someone_did("How long did the call last?")
        False
    """
    return bool(_WHAT_DID.match(question))


def continues_speaker(sentence: str) -> bool:
    """True when ``sentence`` goes on with the previous sentence's speaker.

    Example:
        >>> continues_speaker("He said a return to the 2014 borders was unrealistic.")
        True
        >>> continues_speaker("He spoke to Zelenskyy by phone later the same day.")
        False
    """
    return bool(_SAME_SPEAKER.match(sentence))


def with_continuation(
    question: str, answer: str, chosen: Sequence[EvidenceSentence], evidence: Evidence
) -> tuple[str, list[EvidenceSentence]]:
    """``answer`` and the sentences it rests on, with the next sentence of the same speaker
    added when the answer restates one sentence of what someone said or did (see the
    module's docstring); unchanged otherwise.

    Example:
        >>> from rag.qa.evidence import Evidence
        >>> with_continuation("Who won?", "Ana won.", [], Evidence(passages=[], sentences=[]))
        ('Ana won.', [])
    """
    if not asks_what_someone_did(question):
        return answer, list(chosen)
    restated = _restated(answer, chosen)
    if restated is None or not continues_speaker(restated.following):
        return answer, list(chosen)
    if len(set(new_words(restated.following, answer))) < MIN_NEW_WORDS:
        return answer, list(chosen)
    after = evidence.next_sentence(restated)
    if after is None:
        return answer, list(chosen)
    logger.debug("the answer's speaker goes on; added: %s", after.seen)
    return f"{answer.rstrip()} {after.seen}", sorted([*chosen, after], key=lambda s: s.number)


def _restated(answer: str, chosen: Sequence[EvidenceSentence]) -> EvidenceSentence | None:
    """The one sentence of ``chosen`` holding nearly all of the answer's words, if any."""
    if len(chosen) != 1 or answer_support(chosen, answer, question="") < RESTATES:
        return None
    return chosen[0]
