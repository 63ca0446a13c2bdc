"""Question answering: the LCEL chain and its steps, evidence selection, the reply format,
citations, abstention and the answer cache.

Example:
    >>> from rag.qa import QAService
"""

from rag.lazy import exports

# public name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    "ABSTAIN_MESSAGE": "answer",
    "Answer": "answer",
    "AnswerCache": "answer_cache",
    "AnswerStream": "answer_format",
    "Citation": "answer",
    "Done": "answer",
    "Evidence": "evidence",
    "EvidenceReply": "answer_format",
    "EvidenceSentence": "evidence",
    "Flag": "citations",
    "ParsedAnswer": "citations",
    "Passage": "evidence",
    "QAEvent": "answer",
    "QAService": "chain",
    "SourcesFound": "answer",
    "Stage": "answer",
    "Token": "answer",
    "build_qa_chain": "chain",
    "drop_unsourced_links": "citations",
    "format_sources": "sources",
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

__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
