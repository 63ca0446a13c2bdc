"""The facade's parts, each built from settings on first use, and their warm-up.

:class:`Components` owns the embedder, the store, the chat model, the retriever, the
answer service, the answer cache and the summarizer. Nothing is built until it is first
read: listing articles loads no LLM, and the embedded model server starts on the first
question or summary, unless :meth:`Components.warm_up` already started it in the
background. :class:`rag.service.NewsRAG` holds one and shows its parts as its own
attributes (:class:`Part`).

Example:
    >>> parts = Components(settings, embeddings=embeddings)
    >>> parts.answer_cache.enabled, parts.warmup is None
    (True, True)
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage
    from langchain_core.runnables import Runnable

    from rag.models.warmup import Warmup
    from rag.qa.answer_cache import AnswerCache
    from rag.qa.chain import QAService
    from rag.retrieval.hybrid import HybridRetriever
    from rag.settings import Settings
    from rag.store.articles import ArticleStore
    from rag.summaries.summarizer import Summarizer

__all__ = ["Components", "Part"]

T = TypeVar("T")


class Components:
    """Every part of the library, each created on first use from ``settings``.

    ``embeddings`` and ``llm`` replace the configured models (fakes in tests, or any
    LangChain model a developer already has).

    Example:
        >>> from langchain_core.language_models import FakeListChatModel
        >>> parts = Components(settings, llm=FakeListChatModel(responses=["ok"]))
        >>> parts.llm.invoke("Anyone there?").content
        'ok'
    """

    def __init__(
        self,
        settings: Settings,
        *,
        embeddings: Embeddings | None = None,
        llm: BaseChatModel | None = None,
    ) -> None:
        self.settings = settings
        self._embeddings = embeddings
        self._llm = llm
        self._llm_injected = llm is not None
        self._llm_lock = threading.Lock()
        self._warmup: Warmup | None = None
        self._warmup_lock = threading.Lock()

    @cached_property
    def embeddings(self) -> Embeddings:
        """The embedding model (local MiniLM by default)."""
        if self._embeddings is not None:
            return self._embeddings  # given at construction
        from rag.models.embeddings import build_embeddings

        return build_embeddings(self.settings)

    @cached_property
    def store(self) -> ArticleStore:
        """The Chroma-backed article store."""
        from rag.store.articles import ArticleStore

        return ArticleStore.from_settings(self.settings, self.embeddings)

    @property
    def llm(self) -> BaseChatModel:
        """The chat model; the embedded model server starts on first access."""
        with self._llm_lock:
            if self._llm is None:
                from rag.models.llm import build_chat_model

                self._llm = build_chat_model(self.settings)
            return self._llm

    @cached_property
    def retriever(self) -> HybridRetriever:
        """The hybrid (dense + BM25) LangChain retriever over the store."""
        from rag.retrieval.hybrid import HybridRetriever

        return HybridRetriever.from_settings(self.store, self.settings)

    @cached_property
    def qa(self) -> QAService:
        """The question-answering service (condense, retrieve, answer, cite)."""
        from rag.qa.chain import QAService

        return QAService(self.retriever, self.llm, self.settings, self.embeddings)

    @cached_property
    def answer_cache(self) -> AnswerCache:
        """Answers to repeated questions, while articles, model and settings are unchanged."""
        from rag.qa.answer_cache import AnswerCache

        return AnswerCache(self.settings.answer_cache_size)

    @property
    def chain(self) -> Runnable:
        """The LCEL answer chain: ``{"question", "history", "filters"}`` -> ``Answer``."""
        return self.qa.chain

    @cached_property
    def summarizer(self) -> Summarizer:
        """The summary and digest service (with its on-disk cache)."""
        from rag.summaries.summarizer import Summarizer

        return Summarizer(self.store, lambda: self.llm, self.retriever, self.settings)

    def warm_up(self, *, background: bool = True) -> Warmup:
        """Load the embedder, the search index and the LLM now, and prime the answer prompt.

        In the background by default: the caller goes on at once, and a question asked
        meanwhile waits for the parts it needs instead of loading them twice. With the
        embedded model, one tiny request puts the answer prompt's fixed prefix (system
        text and examples) into the server's prompt cache, so the first question only pays
        for its own passages. Called once per object; later calls return the same warm-up.

        Example:
            >>> warmup = rag.components.warm_up()
            >>> warmup.wait(120), warmup.state
            (True, 'ready')
        """
        from rag.assembly import warmup_steps
        from rag.models.warmup import Warmup

        with self._warmup_lock:
            if self._warmup is None:
                self._warmup = Warmup(warmup_steps(self, llm_injected=self._llm_injected))
                if background:
                    self._warmup.start()
                else:
                    self._warmup.run()
            return self._warmup

    @property
    def warmup(self) -> Warmup | None:
        """The warm-up started by :meth:`warm_up` (its ``state``: running, ready, failed)."""
        return self._warmup

    def warm_prompt_messages(self) -> list[BaseMessage]:
        """The answer prompt's fixed part, sent once at warm-up to fill the prompt cache.

        Uses ``QAService.warm_prompt_messages()`` when the answer service provides it;
        otherwise the answer prompt for an empty question over no passages, whose rendered
        text starts with the same system message and examples as every real question.

        Example:
            >>> [m.type for m in rag.components.warm_prompt_messages()]
            ['system']
        """
        own = getattr(self.qa, "warm_prompt_messages", None)
        if callable(own):
            return list(own())
        return self.qa.prompt_messages("", [])


class Part(Generic[T]):
    """An attribute of the facade that is one of its components: ``rag.store`` reads (and
    a replacement sets) ``rag.components.store``.

    Example:
        >>> class Facade:
        ...     store = Part()
        ...     def __init__(self, components):
        ...         self.components = components
        >>> facade = Facade(Components(settings, embeddings=embeddings))
        >>> facade.store is facade.components.store
        True
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Part[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(obj.components, self.name)

    def __set__(self, obj: Any, value: T) -> None:
        setattr(obj.components, self.name, value)
