"""The models: the chat model (any OpenAI-compatible endpoint or embedded llama.cpp) and its
guard, the embedder, and the warm-up that loads them.

Public names are re-exported here and imported on first use, so importing one module
never loads the others.

Example:
    >>> from rag.models import build_chat_model
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.models.chat_guard import endpoint_label, retry_after_seconds, retry_limited_clients
    from rag.models.embeddings import LocalEmbeddings, shared_local_embeddings
    from rag.models.interrupt import interrupt_reads, interruptible, track_reads
    from rag.models.llm import build_chat_model, describe_llm, translate_llm_errors
    from rag.models.warmup import Step, Warmup

# public name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    "LocalEmbeddings": "embeddings",
    "Step": "warmup",
    "Warmup": "warmup",
    "build_chat_model": "llm",
    "describe_llm": "llm",
    "endpoint_label": "chat_guard",
    "interrupt_reads": "interrupt",
    "interruptible": "interrupt",
    "retry_after_seconds": "chat_guard",
    "retry_limited_clients": "chat_guard",
    "shared_local_embeddings": "embeddings",
    "track_reads": "interrupt",
    "translate_llm_errors": "llm",
}

__all__ = [
    "LocalEmbeddings",
    "Step",
    "Warmup",
    "build_chat_model",
    "describe_llm",
    "endpoint_label",
    "interrupt_reads",
    "interruptible",
    "retry_after_seconds",
    "retry_limited_clients",
    "shared_local_embeddings",
    "track_reads",
    "translate_llm_errors",
]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package stays cheap and has no side effects.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
