"""Question answering: the LCEL chain, evidence selection, the reply format, citations
and the answer cache.

Public names are re-exported here and imported on first use, so importing one module
never loads the others.

Example:
    >>> from rag.qa import QAService
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.qa.answer_cache import AnswerCache
    from rag.qa.answer_format import (
        AnswerStream,
        EvidenceReply,
        no_evidence_probability,
        parse_reply,
        reply_schema,
    )
    from rag.qa.chain import (
        ABSTAIN_MESSAGE,
        Answer,
        Citation,
        Done,
        Flag,
        QAEvent,
        QAService,
        SourcesFound,
        Stage,
        Token,
        build_qa_chain,
        format_sources,
    )
    from rag.qa.citations import (
        ParsedAnswer,
        drop_unsourced_links,
        infer_citations,
        is_abstention,
        normalize_text,
        parse_citations,
        strip_instructions,
    )
    from rag.qa.coverage import missing_names, question_names
    from rag.qa.evidence import (
        Evidence,
        EvidenceSentence,
        Passage,
        estimate_tokens,
        select_evidence,
    )

# public name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    "ABSTAIN_MESSAGE": "chain",
    "Answer": "chain",
    "AnswerCache": "answer_cache",
    "AnswerStream": "answer_format",
    "Citation": "chain",
    "Done": "chain",
    "Evidence": "evidence",
    "EvidenceReply": "answer_format",
    "EvidenceSentence": "evidence",
    "Flag": "chain",
    "ParsedAnswer": "citations",
    "Passage": "evidence",
    "QAEvent": "chain",
    "QAService": "chain",
    "SourcesFound": "chain",
    "Stage": "chain",
    "Token": "chain",
    "build_qa_chain": "chain",
    "drop_unsourced_links": "citations",
    "estimate_tokens": "evidence",
    "format_sources": "chain",
    "infer_citations": "citations",
    "is_abstention": "citations",
    "missing_names": "coverage",
    "no_evidence_probability": "answer_format",
    "normalize_text": "citations",
    "parse_citations": "citations",
    "parse_reply": "answer_format",
    "question_names": "coverage",
    "reply_schema": "answer_format",
    "select_evidence": "evidence",
    "strip_instructions": "citations",
}

__all__ = [
    "ABSTAIN_MESSAGE",
    "Answer",
    "AnswerCache",
    "AnswerStream",
    "Citation",
    "Done",
    "Evidence",
    "EvidenceReply",
    "EvidenceSentence",
    "Flag",
    "ParsedAnswer",
    "Passage",
    "QAEvent",
    "QAService",
    "SourcesFound",
    "Stage",
    "Token",
    "build_qa_chain",
    "drop_unsourced_links",
    "estimate_tokens",
    "format_sources",
    "infer_citations",
    "is_abstention",
    "missing_names",
    "no_evidence_probability",
    "normalize_text",
    "parse_citations",
    "parse_reply",
    "question_names",
    "reply_schema",
    "select_evidence",
    "strip_instructions",
]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package stays cheap and has no side effects.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
