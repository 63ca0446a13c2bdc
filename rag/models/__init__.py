"""The models: the chat model (any OpenAI-compatible endpoint or embedded llama.cpp) and its
guard, the embedder, and the warm-up that loads them.

Example:
    >>> from rag.models import build_chat_model
"""

from rag.lazy import exports

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
    "translate_llm_errors": "llm_errors",
}

__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
