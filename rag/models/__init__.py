"""The models: the chat model (any OpenAI-compatible endpoint or embedded llama.cpp) and its
guard, the embedder, and the warm-up that loads them.

Example:
    >>> from rag.models import build_chat_model
"""

from rag.lazy import exported_names, exports

# submodule -> the public names it defines
_EXPORTS: dict[str, tuple[str, ...]] = {
    "chat_guard": ("endpoint_label", "retry_after_seconds", "retry_limited_clients"),
    "embeddings": ("LocalEmbeddings", "shared_local_embeddings"),
    "interrupt": ("interrupt_reads", "interruptible", "track_reads"),
    "llm": ("build_chat_model", "describe_llm"),
    "llm_errors": ("translate_llm_errors",),
    "warmup": ("Step", "Warmup"),
}

__all__ = exported_names(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
