"""Question answering: the LCEL chain, evidence selection, the reply format, citations
and the answer cache.

Example:
    >>> from rag.qa import QAService
"""

from rag.lazy import exports

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

__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
