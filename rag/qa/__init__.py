"""Question answering: the LCEL chain and its steps, evidence selection, the reply format,
citations, abstention and the answer cache.

Example:
    >>> from rag.qa import QAService
"""

from rag.lazy import exported_names, exports

# submodule -> the public names it defines
_EXPORTS: dict[str, tuple[str, ...]] = {
    "answer": (
        "ABSTAIN_MESSAGE",
        "Answer",
        "Citation",
        "Done",
        "PassagesFound",
        "QAEvent",
        "SourcesFound",
        "Stage",
        "Token",
    ),
    "answer_cache": ("AnswerCache",),
    "answer_format": (
        "AnswerStream",
        "EvidenceReply",
        "no_evidence_probability",
        "parse_reply",
        "reply_schema",
    ),
    "chain": ("QAService", "build_qa_chain"),
    "citations": (
        "Flag",
        "ParsedAnswer",
        "drop_unsourced_links",
        "infer_citations",
        "is_abstention",
        "normalize_text",
        "parse_citations",
        "strip_instructions",
    ),
    "coverage": ("missing_names", "question_names"),
    "evidence": ("Evidence", "EvidenceSentence", "Passage", "select_evidence"),
    "passages": ("format_passages", "format_sources"),
}

__all__ = exported_names(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
