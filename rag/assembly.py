"""What the facade is made of, from settings: its warm-up steps and its description.

:class:`rag.components.Components` builds the facade's parts lazily; this module holds
what is derived from those parts and the settings rather than being one of them.

Example:
    >>> describe_setup(settings)["store_mode"]
    'embedded'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rag import __version__

if TYPE_CHECKING:
    from rag.components import Components
    from rag.models.warmup import Step
    from rag.settings import Settings

__all__ = ["describe_setup", "warmup_steps"]


def warmup_steps(parts: Components, *, llm_injected: bool) -> list[Step]:
    """The steps that load the facade's models: embedder, search index, model, prompt prefix.

    The prompt prefix is primed only for the embedded server this process started
    (``llm_injected`` says the chat model was given, not built from settings).

    Example:
        >>> [name for name, _ in warmup_steps(rag.components, llm_injected=True)]
        ['embedder', 'search index', 'model']
    """
    steps: list[Step] = [("embedder", lambda: _load_embedder(parts))]
    if parts.settings.retrieval_mode != "dense":
        steps.append(("search index", lambda: parts.retriever.lexical_index()))
    steps.append(("model", lambda: parts.llm))
    if parts.settings.uses_embedded_llm and not llm_injected:
        steps.append(("prompt prefix", lambda: _prime_answer_prompt(parts)))
    return steps


def _load_embedder(parts: Components) -> None:
    load = getattr(parts.embeddings, "load", None)
    if callable(load):  # the local model; a remote endpoint needs no loading
        load()


def _prime_answer_prompt(parts: Components) -> None:
    from rag.models.llm import prime_prompt_cache

    prime_prompt_cache(parts.llm, parts.warm_prompt_messages())


def describe_setup(settings: Settings) -> dict[str, Any]:
    """What is in use (LLM, embedder, store, version), without secrets.

    Example:
        >>> describe_setup(settings)["version"] == __version__
        True
    """
    from rag.models.llm import describe_llm

    if settings.embedding_provider == "local":
        embedder = "all-MiniLM-L6-v2 (int8 ONNX, local)"
    else:
        endpoint = settings.embedding_base_url or settings.llm_base_url
        embedder = f"{settings.embedding_model} at {endpoint}"
    return {
        "version": __version__,
        "llm": describe_llm(settings),
        "embedder": embedder,
        "store": settings.chroma_url or str(settings.chroma_dir),
        "store_mode": "server" if settings.chroma_url else "embedded",
        "collection": settings.collection,
        "retrieval": f"{settings.retrieval_mode}, k={settings.retrieval_k}",
    }
