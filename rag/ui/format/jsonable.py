"""Results as the plain JSON values the API endpoints return.

Example:
    >>> to_jsonable({"ids": ("a", "b")})
    {'ids': ['a', 'b']}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from rag.ui.format.markdown import field_of

__all__ = ["answer_to_dict", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Pydantic models, dataclasses, dates and paths as plain JSON values (for API endpoints).

    A model's renamed field is given under its old name too (:class:`rag.renamed.KeepsOldNames`),
    so API clients keep their keys.

    Example:
        >>> to_jsonable({"day": date(2025, 2, 14), "path": Path("a")})
        {'day': '2025-02-14', 'path': 'a'}
        >>> from rag.store.reports import ArticleInfo
        >>> to_jsonable(ArticleInfo(id="a", title="T", outlet="AP", content_hash="h"))["source"]
        'AP'
    """
    if hasattr(value, "model_dump"):
        return to_jsonable(value.model_dump())  # renamed fields under both names (KeepsOldNames)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if isinstance(value, date | Path):
        return value.isoformat() if isinstance(value, date) else str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def answer_to_dict(answer: object) -> dict[str, Any]:
    """An ``Answer`` as the JSON the ``/ask`` endpoint returns.

    ``citations`` are the passages the answer cites (``[n]`` = ``number``); ``sources`` are all
    the passages the model was given (the answer's ``passages``; a mapping may still name them
    ``sources``). Each passage has its ``outlet`` also under its old key, ``source``.

    Example:
        >>> answer_to_dict({"answer": "No.", "citations": [], "abstained": True})["abstained"]
        True
    """
    names = ("number", "article_id", "title", "outlet", "url", "published", "text", "quote")

    def passages(field: str, old: str = "") -> list[dict[str, Any]]:
        items = field_of(answer, field)
        if items is None and old and isinstance(answer, Mapping):
            items = answer.get(old)
        listed = [{name: field_of(c, name) for name in names} for c in items or []]
        return [passage | {"source": passage["outlet"]} for passage in listed]

    return to_jsonable(
        {
            "answer": field_of(answer, "answer", ""),
            "citations": passages("citations"),
            "sources": passages("passages", "sources"),  # the API's key keeps its old name
            "abstained": bool(field_of(answer, "abstained", False)),
            "abstain_note": field_of(answer, "abstain_note"),
            "flags": list(field_of(answer, "flags") or []),
            "standalone_question": field_of(answer, "standalone_question"),
        }
    )
