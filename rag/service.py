"""The library facade and composition root: one object that builds every service from settings.

``NewsRAG`` wires the store, the embedder, the retriever, the answer chain and the
summarizer together. Models start lazily: listing articles loads no LLM, and the
embedded model server starts on the first question or summary, unless
:meth:`NewsRAG.warm_up` already started it in the background (the app and
``news-rag chat`` do, see ``RAG_LLM_WARMUP``). Tests inject fakes through
:meth:`NewsRAG.from_settings`.

Example (the embedder and the LLM load on the first ingest and the first question):
    >>> from rag import NewsRAG
    >>> rag = NewsRAG.from_settings()
    >>> rag.ingest(["samples/"]).added  # doctest: +SKIP
    10
    >>> answer = rag.ask("What did Hegseth rule out?")  # doctest: +SKIP
    >>> answer.answer  # doctest: +SKIP
    'Hegseth ruled out NATO membership for Ukraine as part of any negotiated settlement. [1]'
    >>> [c.title for c in answer.citations]  # doctest: +SKIP
    ['Vance and Zelenskyy meet in Munich as Washington redraws its Ukraine policy']
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from rag.components import Components, Part
from rag.delegate import forwarded
from rag.errors import NotFoundError
from rag.qa.cached_answers import CachedAnswers
from rag.renamed import renamed_argument
from rag.settings import Settings, load_settings
from rag.summaries.request import DigestRequest

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import Runnable

    from rag.ingest.article import Article, ArticleMeta
    from rag.ingest.pipeline import IngestReport
    from rag.models.warmup import Warmup
    from rag.qa.answer_cache import AnswerCache
    from rag.qa.chain import QAService
    from rag.retrieval.hybrid import HybridRetriever
    from rag.store.articles import ArticleStore
    from rag.store.reports import ArticleInfo, StoreStats
    from rag.summaries.results import Digest, Summary
    from rag.summaries.summarizer import Summarizer

logger = logging.getLogger(__name__)

History = Sequence[tuple[str, str]]


class NewsRAG:
    """Ingest news articles, ask grounded questions, and summarize: the whole library in one.

    Build it with :meth:`from_settings` (or over given :class:`rag.components.Components`).
    Its parts (``store``, ``llm``, ``retriever``, ``chain``, ``qa``, ``summarizer``, ...)
    are those of :attr:`components`, each created on first use.

    Example (loads the embedder and the LLM):
        >>> import tempfile
        >>> rag = NewsRAG.from_settings(load_settings(data_dir=tempfile.mkdtemp()))
        >>> report = rag.ingest(["samples/"])  # doctest: +SKIP
        >>> for piece in rag.stream("What did Hegseth rule out?"):  # doctest: +SKIP
        ...     print(piece if isinstance(piece, str) else "", end="")
        Hegseth ruled out NATO membership for Ukraine as part of any negotiated settlement. [1]
    """

    # its parts: built on first use, and owned, by self.components
    embeddings: Part[Embeddings] = Part()
    store: Part[ArticleStore] = Part()
    llm: Part[BaseChatModel] = Part()
    retriever: Part[HybridRetriever] = Part()
    qa: Part[QAService] = Part()
    answer_cache: Part[AnswerCache] = Part()
    chain: Part[Runnable] = Part()
    summarizer: Part[Summarizer] = Part()
    warmup: Part[Warmup | None] = Part()

    def __init__(self, components: Components) -> None:
        self.components = components
        self.settings = components.settings
        self._answers = CachedAnswers(components)

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        *,
        embeddings: Embeddings | None = None,
        llm: BaseChatModel | None = None,
    ) -> NewsRAG:
        """Build from settings (default: ``RAG_*`` environment and ``.env``).

        ``embeddings`` and ``llm`` replace the configured models (fakes in tests, or
        any LangChain model a developer already has).

        Example:
            >>> from langchain_core.language_models import FakeListChatModel
            >>> rag = NewsRAG.from_settings(llm=FakeListChatModel(responses=["ok"]))
            >>> rag.llm.invoke("Anyone there?").content
            'ok'
        """
        return cls(Components(settings or load_settings(), embeddings=embeddings, llm=llm))

    def warm_up(self, *, background: bool = True) -> Warmup:
        """Load the models now, in the background by default (see :meth:`Components.warm_up`).

        A question asked meanwhile waits for the parts it needs; later calls return the
        same warm-up, also found at :attr:`warmup`.

        Example:
            >>> warmup = rag.warm_up()
            >>> warmup.wait(120), rag.warmup is warmup
            (True, True)
        """
        return self.components.warm_up(background=background)

    # --- library ---------------------------------------------------------------
    def ingest(
        self,
        locations: Iterable[str | Path] | None = None,
        *,
        progress: Callable[..., None] | None = None,
        sources: Iterable[str | Path] | None = None,
    ) -> IngestReport:
        """Load files, folders, URLs and feeds (``locations``), then chunk, embed and store
        them. ``sources`` is the old name of ``locations`` (deprecated).

        Example:
            >>> report = rag.ingest(["samples/", "missing.txt"])
            >>> report.unchanged, report.failed
            (10, [('missing.txt', 'no such file or folder')])
        """
        from rag.ingest.pipeline import ingest_locations

        locations = renamed_argument(locations, sources, "locations", "sources")
        return ingest_locations(list(locations or []), self.store, self.settings, progress=progress)

    def ingest_text(
        self, text: str, title: str, *, source: str | None = None, **meta: Unpack[ArticleMeta]
    ) -> IngestReport:
        """Store one article given as raw text (e.g. pasted in the app).

        ``meta`` holds the :class:`~rag.ingest.article.ArticleMeta` keys: ``outlet``,
        ``url``, ``published`` and ``author``. ``source`` is the old name of ``outlet``
        (deprecated).

        Example:
            >>> report = rag.ingest_text("Body of the story.", "A headline", outlet="Civic Wire")
            >>> report.added, rag.get_article(report.article_ids[0]).outlet
            (1, 'Civic Wire')
        """
        from rag.ingest.pipeline import ingest_text

        meta["outlet"] = renamed_argument(meta.get("outlet"), source, "outlet", "source")
        return ingest_text(self.store, self.settings, text=text, title=title, **meta)

    def list_articles(
        self, outlet: str | None = None, *, source: str | None = None
    ) -> list[ArticleInfo]:
        """All stored articles (optionally of one outlet), newest first.

        ``source`` is the old name of ``outlet`` (deprecated).

        Example:
            >>> articles = rag.list_articles("civic wire")
            >>> len(articles), articles[0].title
            (4, 'Hegseth tells allies in Brussels that Ukraine will not join NATO in a peace deal')
        """
        return self.store.list_articles(renamed_argument(outlet, source, "outlet", "source"))

    def get_article(self, article_id: str) -> Article:
        """One stored article with its full text; :class:`NotFoundError` if unknown.

        Example:
            >>> rag.get_article("8782db0870783fc4").title
            'Flash floods hit the Ardent Valley after record rainfall; thousands evacuated'
        """
        article = self.store.get_article(article_id)
        if article is None:
            raise NotFoundError(
                f"no article with id {article_id!r}", hint="list ids with: news-rag list"
            )
        return article

    def delete(self, article_ids: Iterable[str]) -> int:
        """Delete articles (and all their chunks); returns how many existed.

        Example:
            >>> rag.delete(["8782db0870783fc4", "no-such-id"])
            1
        """
        return self.store.delete(list(article_ids))

    def stats(self) -> StoreStats:
        """Counts of articles and chunks, and where the store lives.

        Example:
            >>> rag.stats().articles
            10
        """
        return self.store.stats()

    def describe(self) -> dict[str, Any]:
        """What is in use (LLM, embedder, store, version), without secrets.

        Example:
            >>> from rag import __version__
            >>> rag.describe()["version"] == __version__
            True
        """
        from rag.assembly import describe_setup

        return describe_setup(self.settings)

    # --- questions ---------------------------------------------------------------
    # answered through the answer cache; signatures and docstrings are CachedAnswers'
    ask = forwarded("_answers", CachedAnswers.ask)
    stream = forwarded("_answers", CachedAnswers.stream)
    stream_events = forwarded("_answers", CachedAnswers.stream_events)
    astream = forwarded("_answers", CachedAnswers.astream)

    # --- summaries -----------------------------------------------------------------
    def summarize(self, article_id: str, *, style: str = "brief", refresh: bool = False) -> Summary:
        """Summarize one article in a style: ``brief``, ``bullets``, ``headline`` or ``quotes``.

        Example (needs the LLM):
            >>> rag.summarize("8782db0870783fc4", style="bullets").text  # doctest: +SKIP
        """
        return self.summarizer.summarize(article_id, style=style, refresh=refresh)

    def stream_summary(
        self, article_id: str, *, style: str = "brief", refresh: bool = False
    ) -> Iterator[str | Summary]:
        """Stream a summary's tokens; the last item is the ``Summary``.

        Example (needs the LLM):
            >>> for piece in rag.stream_summary("8782db0870783fc4"):  # doctest: +SKIP
            ...     pass
        """
        return self.summarizer.stream(article_id, style=style, refresh=refresh)

    def digest(
        self, request: DigestRequest | None = None, *, refresh: bool = False, **selection: Any
    ) -> Digest:
        """A digest across the articles ``request`` chooses (by ids, topic, outlet or dates),
        each point ending with ``[n]`` markers.

        The selection may also be given as keywords, as in earlier versions: ``article_ids``,
        ``topic``, ``outlet`` (or its old name ``source``), ``since``, ``until`` and ``limit``
        build the request. ``refresh`` regenerates the articles' cached brief summaries.

        Example (needs the LLM):
            >>> rag.digest(DigestRequest(topic="war in Ukraine", limit=3)).text  # doctest: +SKIP
            >>> same = rag.digest(topic="war in Ukraine", limit=3)  # doctest: +SKIP
        """
        request = DigestRequest.of(request, **selection)
        return self.summarizer.digest(request, refresh=refresh)

    def stream_digest(
        self,
        request: DigestRequest | None = None,
        *,
        refresh: bool = False,
        progress: Callable[[int, int, str], None] | None = None,
        **selection: Any,
    ) -> Iterator[str | Digest]:
        """Stream a digest's tokens; the last item is the ``Digest``. The request is given as
        in :meth:`digest`.

        ``progress(done, total, title)`` is called before the first article and after each one.

        Example (needs the LLM):
            >>> for piece in rag.stream_digest(DigestRequest(topic="elections")):  # doctest: +SKIP
            ...     pass
        """
        request = DigestRequest.of(request, **selection)
        return self.summarizer.stream_digest(request, refresh=refresh, progress=progress)

    def close(self) -> None:
        """Release resources (the embedded model server stops at process exit)."""
        logger.debug("NewsRAG closed")
