"""Summaries of one article (four styles) and digests across many, grounded and cached.

* **Styles**: ``brief`` (3-4 sentences), ``bullets`` (3-6 points), ``headline`` (one
  line, at most 15 words), ``quotes`` (key direct quotes with speakers, verbatim). Limits
  are enforced in code (:mod:`rag.summaries.styles`); streaming stops once passed.
* **Long articles**: if the article plus prompt does not fit the model's context
  (``RAG_LLM_CTX_SIZE`` minus the answer budget and a safety margin), it is split into
  even sections at paragraph boundaries, each section is noted (map), and the notes are
  summarized with the style's prompt (reduce).
* **Grounding**: numbers, quotes and names are checked against the article
  (:mod:`rag.summaries.faithfulness`); on failure the summary is regenerated once with the
  problems named, then flagged (``faithful=False``, ``issues``).
* **Cache**: JSON files keyed by content hash, style, model and prompt version
  (:mod:`rag.summaries.cache`). A hit touches neither the LLM nor its server.
* **Digest**: brief summaries of the articles a :class:`~rag.summaries.request.DigestRequest`
  chooses (ids, a topic query, an outlet or dates), reduced into points with ``[n]``
  markers mapping to the articles.

Token counting uses :func:`rag.text.estimate_llm_tokens` (characters / 3.8, a character
beyond the Latin alphabets counted as one token), the same estimate as the QA prompt
budget: no tokenizer to load, works for any endpoint, and errs on the high side (for a
709-word English article the server counted 1,031 prompt tokens where characters / 3.5
estimated 1,342; / 3.8 estimates about 8% less), a margin a non-English text eats into.

The work is shared out: :mod:`~rag.summaries.article_summary` writes one article's summary,
:mod:`~rag.summaries.long_articles` notes long articles section by section,
:mod:`~rag.summaries.digest` and :mod:`~rag.summaries.selection` make digests, and
:mod:`~rag.summaries.model_calls` holds the prompts and streamed model calls they share.

Example (needs the LLM):
    >>> summarizer = Summarizer(store, lambda: llm, retriever, settings)  # doctest: +SKIP
    >>> summary = summarizer.summarize(article_id, style="bullets")  # doctest: +SKIP
    >>> print(summary.text, summary.faithful, summary.cached)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rag.errors import NotFoundError
from rag.prompts import load_prompt
from rag.summaries.article_summary import generate_summary
from rag.summaries.cache import SummaryCache
from rag.summaries.digest import stream_digest_of
from rag.summaries.long_articles import MAP_PROMPT, split_sections
from rag.summaries.model_calls import CHAT_TEMPLATE_TOKENS, ModelCalls, drain, style_messages
from rag.summaries.opening import text_to_summarize
from rag.summaries.request import DigestRequest
from rag.summaries.results import Digest, DigestArticle, Method, Summary
from rag.summaries.selection import recent_article_ids, topic_article_ids
from rag.summaries.styles import STYLES, StyleSpec, get_style
from rag.text import estimate_llm_tokens

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

__all__ = [
    "STYLES",
    "Digest",
    "DigestArticle",
    "Summarizer",
    "Summary",
    "split_sections",
]

logger = logging.getLogger(__name__)

PIPELINE_VERSION = 1  # bump when post-processing changes what a cached summary would hold


class Summarizer:
    """Summaries and digests over an article store, with a file cache.

    ``llm_factory`` is called on the first LLM request only, so a cache hit never starts
    the model. ``token_counter`` defaults to :func:`rag.text.estimate_llm_tokens`.

    Example (the LLM starts on the first summary):
        >>> from rag.models.llm import build_chat_model
        >>> make_llm = lambda: build_chat_model(settings)
        >>> s = Summarizer(store, make_llm, retriever, settings)
        >>> for piece in s.stream("8782db0870783fc4", style="headline"):  # doctest: +SKIP
        ...     print(piece if isinstance(piece, str) else "", end="")
    """

    def __init__(
        self,
        store: Any,
        llm_factory: Callable[[], BaseChatModel],
        retriever: Any,
        settings: Any,
        *,
        token_counter: Callable[[str], int] | None = None,
        cache: SummaryCache | None = None,
    ) -> None:
        self.store = store
        self.retriever = retriever
        self.settings = settings
        self.count_tokens = token_counter or estimate_llm_tokens
        self.cache = cache or SummaryCache.from_settings(settings)
        self._llm_factory = llm_factory
        self._llm: BaseChatModel | None = None
        self._lock = threading.Lock()
        self.calls = ModelCalls(lambda: self.llm, self.count_tokens)  # the model starts on a call

    # --- model -------------------------------------------------------------------------
    @property
    def llm(self) -> BaseChatModel:
        """The chat model, built by ``llm_factory`` on first use."""
        with self._lock:
            if self._llm is None:
                self._llm = self._llm_factory()
            return self._llm

    @property
    def model_name(self) -> str:
        """The model identity used in cache keys (from settings: no model start needed)."""
        name = str(self.settings.llm_model)
        gguf = getattr(self.settings, "llm_gguf", None)
        if gguf and self.settings.uses_embedded_llm:
            name = f"{name}@{gguf.name}"
        return name

    def prompt_version(self, style: str) -> str:
        """Versions of every prompt (and of the post-processing) behind ``style``.

        Example:
            >>> summarizer.prompt_version("bullets")
            'summary_bullets:v2+summary_map:v1+pipeline:v1'
        """
        spec = get_style(style)
        version = (
            f"{spec.prompt}:v{load_prompt(spec.prompt).version}"
            f"+{MAP_PROMPT}:v{load_prompt(MAP_PROMPT).version}+pipeline:v{PIPELINE_VERSION}"
        )
        if spec.name == "brief" and self.settings.summary_brief_words:
            version += f"+opening:{self.settings.summary_brief_words}"
        if spec.name == "brief" and self.settings.summary_brief_figures:
            version += "+figures"
        return version

    def cache_key(self, article: Any, style: str) -> str:
        """The cache key of ``article`` in ``style`` (content hash, style, model, prompts)."""
        return SummaryCache.make_key(
            str(article.content_hash), style, self.model_name, self.prompt_version(style)
        )

    # --- routing -----------------------------------------------------------------------
    def answer_budget(self, spec: StyleSpec) -> int:
        """Tokens reserved for the generated summary."""
        return min(spec.max_tokens, int(self.settings.llm_max_tokens))

    def input_budget(self, answer_tokens: int) -> int:
        """Prompt tokens allowed: context minus the answer and a 10% safety margin."""
        ctx = int(self.settings.llm_ctx_size)
        return ctx - answer_tokens - ctx // 10 - CHAT_TEMPLATE_TOKENS

    def route(self, article: Any, style: str = "brief") -> Method:
        """``stuff`` when what the style reads (the whole article; a brief summary, its
        opening) fits in one prompt, else ``map_reduce``.

        Example:
            >>> summarizer.route(store.get_article("8782db0870783fc4"))
            'stuff'
            >>> from rag.ingest.article import Article
            >>> long_article = Article.create(title="Budget", text="Fares rose. " * 5000)
            >>> summarizer.route(long_article, "bullets")
            'map_reduce'
        """
        spec = get_style(style)
        prompt = self.messages_for(article, style)
        fits = self.calls.count_messages(prompt) <= self.input_budget(self.answer_budget(spec))
        return "stuff" if fits else "map_reduce"

    def messages_for(self, article: Any, style: str = "brief") -> list[BaseMessage]:
        """The chat messages a one-call (``stuff``) summary of ``article`` sends.

        Example:
            >>> article = store.get_article("8782db0870783fc4")
            >>> [m.type for m in summarizer.messages_for(article, "headline")]
            ['system', 'human']
        """
        text = text_to_summarize(article.text, style, self.settings.summary_brief_words)
        return style_messages(get_style(style), article, text, notes=False)

    # --- single article ----------------------------------------------------------------
    def summarize(self, article_id: str, style: str = "brief", refresh: bool = False) -> Summary:
        """Summarize one article; served from the cache unless ``refresh``.

        Example (needs the LLM):
            >>> summarizer.summarize("8782db0870783fc4", style="headline").text  # doctest: +SKIP
            'Vance rebukes European allies at Munich security conference'
        """
        summary = None
        for item in self.stream(article_id, style=style, refresh=refresh):
            if isinstance(item, Summary):
                summary = item
        assert summary is not None
        return summary

    def stream(
        self, article_id: str, style: str = "brief", refresh: bool = False
    ) -> Iterator[str | Summary]:
        """Yield summary text as it is generated, then the final :class:`Summary`.

        The streamed text stops at the style's limit. The final ``Summary.text`` is
        authoritative: it may differ from the streamed text after clean-up, dropped
        quotes or a regeneration for faithfulness. A cache hit yields the text once.

        Example (needs the LLM):
            >>> for piece in summarizer.stream("8782db0870783fc4"):  # doctest: +SKIP
            ...     print(piece if isinstance(piece, str) else f"\\n{piece.method}", end="")
        """
        spec = get_style(style)
        article = self._article(article_id)
        return self._stream_article(article, spec, refresh)

    def _stream_article(
        self, article: Any, spec: StyleSpec, refresh: bool
    ) -> Generator[str | Summary, None, Summary]:
        started = time.perf_counter()
        key = self.cache_key(article, spec.name)
        if not refresh:
            hit = self.cache.get(article.id, spec.name, key)
            if hit is not None:
                summary = Summary.model_validate(
                    {**hit, "cached": True, "seconds": time.perf_counter() - started}
                )
                yield summary.text
                yield summary
                return summary
        summary = yield from generate_summary(self, article, spec, started)
        if summary.text:
            self._cache_put(article, spec, key, summary)
        yield summary
        return summary

    def _cache_put(self, article: Any, spec: StyleSpec, key: str, summary: Summary) -> None:
        """Cache a finished summary; a failed write (disk full, read-only) only loses the cache."""
        try:
            self.cache.put(
                article.id,
                spec.name,
                key,
                {
                    **summary.model_dump(exclude={"cached"}),
                    "content_hash": article.content_hash,
                    "prompt_version": self.prompt_version(spec.name),
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                },
            )
        except OSError as exc:
            logger.warning(
                "Summary of %s not cached (%s): it will be generated again next time",
                article.id,
                exc.strerror or exc,
            )

    # --- digest --------------------------------------------------------------------------
    def digest(self, request: DigestRequest, *, refresh: bool = False) -> Digest:
        """A digest across the articles ``request`` chooses (see :meth:`select_articles`).

        Example (needs the LLM):
            >>> request = DigestRequest(topic="war in Ukraine", limit=3)
            >>> d = summarizer.digest(request)  # doctest: +SKIP
            >>> d.text, [(a.n, a.title) for a in d.articles]  # doctest: +SKIP
        """
        result = None
        for item in self.stream_digest(request, refresh=refresh):
            if isinstance(item, Digest):
                result = item
        assert result is not None
        return result

    def stream_digest(
        self,
        request: DigestRequest,
        *,
        refresh: bool = False,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> Iterator[str | Digest]:
        """Summarize each selected article (cached briefs), then stream the reduce step.

        Yields the digest's tokens, then the :class:`Digest`. ``progress(done, total,
        title)`` is called once before the first article (``done`` 0, ``title`` '') and after
        each article's brief summary.

        Example (needs the LLM):
            >>> request = DigestRequest(outlet="Civic Wire")
            >>> for piece in summarizer.stream_digest(request):  # doctest: +SKIP
            ...     print(piece if isinstance(piece, str) else "", end="")
        """
        articles = self.select_articles(request)
        brief = get_style("brief")
        return stream_digest_of(
            self,
            articles,
            request.topic,
            progress,
            summarize=lambda article: drain(self._stream_article(article, brief, refresh)),
        )

    # --- selection -----------------------------------------------------------------------
    def select_articles(self, request: DigestRequest) -> list[Any]:
        """The articles a digest covers.

        Explicit ``article_ids`` win (all of them, in order). Otherwise a ``topic`` ranks
        articles with the retriever (the outlet and dates as filters, time words in the
        topic honoured); without a topic, the newest articles of the outlet within the
        dates. At most ``limit`` articles when selecting automatically.

        Example:
            >>> request = DigestRequest(outlet="Civic Wire")
            >>> [a.title[:40] for a in summarizer.select_articles(request)]
            ['Hegseth tells allies in Brussels that Uk', 'Lakeport approves $1.42 billion transit ',
             "Ana Ruiz elected Westfield's first Latin", 'Flash floods hit the Ardent Valley after']
        """
        if request.article_ids:
            return [self._article(article_id) for article_id in request.article_ids]
        if request.topic:
            ids = topic_article_ids(self.retriever, self.settings, request)
        else:
            ids = recent_article_ids(self.store, request)
        if not ids:
            raise NotFoundError(
                f"no articles match the digest selection ({request.describe()})",
                hint="list what is stored with: news-rag list",
            )
        return [self._article(article_id) for article_id in ids]

    # --- plumbing ------------------------------------------------------------------------
    def _article(self, article_id: str) -> Any:
        article = self.store.get_article(article_id)
        if article is None:
            raise NotFoundError(
                f"no article with id {article_id!r}", hint="list ids with: news-rag list"
            )
        return article
