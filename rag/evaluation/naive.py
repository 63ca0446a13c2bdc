"""The peer baseline: LangChain's quick-start RAG over the same articles and models.

``news-rag eval SUITE --pipeline naive`` (or ``--baseline naive``) answers with what a
user builds in ten minutes from the LangChain tutorial, so every eval run can say what
news-rag adds over it. Faithful to the tutorial:

- chunks: ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200,
  add_start_index=True)`` over each stored article's text (no title prefix);
- a separate Chroma collection, ``<collection>-naive``, written through
  ``langchain_chroma.Chroma`` with the project's embedder (never Chroma's default
  embedding function) and Chroma's default distance;
- retrieval: dense similarity search, top 4;
- the tutorial's prompt (``prompts/naive_rag.yaml``) as one user message, the chunks
  joined by blank lines as its context;
- the same chat model and settings as news-rag (temperature from the suite);
- no history handling: a follow-up is asked as it is; no filters, no abstention logic
  beyond the prompt's "say that you don't know".

What the tutorial leaves open is settled like this: the articles are ingested through
the normal :class:`rag.service.NewsRAG` (so article ids and URLs are the same and gold
articles resolve), and the naive collection follows the store: chunk ids are
``<article id>:<content hash>:<index>``, so re-runs add nothing, a changed article gets
new chunks and a removed one loses its chunks. The collection records the splitter and
embedder; when either differs it is rebuilt. An answer counts as an abstention when it
says it does not know (:func:`is_naive_abstention`). Summaries are not part of the
baseline: an eval run with this pipeline skips summary cases.

Example (the embedder and the LLM load on the first ingest and the first question):
    >>> from rag.evaluation.naive import NaiveRAG
    >>> from rag.service import NewsRAG
    >>> naive = NaiveRAG(NewsRAG.from_settings())
    >>> naive.ingest(["samples/"])  # doctest: +SKIP
    >>> answer = naive.ask("What did Hegseth rule out?")  # doctest: +SKIP
    >>> answer.answer, [c.title for c in answer.passages]  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.documents import Document

from rag.errors import RagError
from rag.prompts import load_prompt
from rag.qa.answer import Answer, Citation

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel
    from langchain_core.retrievers import BaseRetriever
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from rag.ingest.article import Article
    from rag.store.articles import ArticleStore

__all__ = [
    "CHUNK_OVERLAP",
    "CHUNK_SIZE",
    "COLLECTION_SUFFIX",
    "PIPELINE_NAME",
    "PROMPT_NAME",
    "TOP_K",
    "NaiveIndex",
    "NaiveRAG",
    "format_docs",
    "is_naive_abstention",
    "make_splitter",
    "split_article",
]

logger = logging.getLogger(__name__)

PIPELINE_NAME = "naive"
CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 4
PROMPT_NAME = "naive_rag"
COLLECTION_SUFFIX = "-naive"
SPLITTER_LABEL = f"RecursiveCharacterTextSplitter({CHUNK_SIZE}, {CHUNK_OVERLAP})"
_ADD_BATCH = 256  # chunks per embedding + upsert call while building the collection

# "I don't know" and the usual ways of saying the context lacks the answer. Kept small on
# purpose: the baseline has no abstention logic of its own beyond the prompt's instruction.
_ABSTENTION = re.compile(
    r"\b(?:do not|don't|dont) know\b"
    r"|\bnot (?:mentioned|provided|stated|specified|given|included|found|available|present)"
    r"\b[^.]{0,60}?\b(?:context|text|passages?|pieces)\b"
    r"|\b(?:context|text|passages?|pieces of (?:retrieved )?context) (?:does not|doesn't|do not"
    r"|don't) (?:mention|provide|say|state|specify|contain|include|give)\b"
    r"|\bno (?:relevant |specific )?information\b[^.]{0,60}?\b(?:context|text|passages?)\b",
    re.IGNORECASE,
)


def is_naive_abstention(text: str) -> bool:
    """True when the answer says it does not know, or that the context lacks the answer.

    Matches "don't know" / "do not know", "not mentioned/provided/stated... in the
    context", "the context does not mention/provide/say...", and "no information ... in
    the context" (any case, straight or curly apostrophes).

    Example:
        >>> is_naive_abstention("I don’t know."), is_naive_abstention("It is 5%.")
        (True, False)
        >>> is_naive_abstention("The population is not mentioned in the provided context.")
        True
    """
    return bool(_ABSTENTION.search((text or "").replace("\u2019", "'")))


def make_splitter() -> RecursiveCharacterTextSplitter:
    """The tutorial's splitter: 1000 characters, 200 overlap, start offsets kept.

    Example:
        >>> make_splitter()._chunk_size, make_splitter()._chunk_overlap
        (1000, 200)
    """
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
    )


def split_article(
    article: Article, splitter: RecursiveCharacterTextSplitter | None = None
) -> tuple[list[Document], list[str]]:
    """The article's chunks as documents (with article metadata) and their stable ids.

    Example:
        >>> from rag.ingest.article import Article
        >>> docs, ids = split_article(Article.create(title="T", text="Rain fell."))
        >>> docs[0].metadata["title"], ids[0].endswith(":0")
        ('T', True)
    """
    splitter = splitter or make_splitter()
    base = {
        "article_id": article.id,
        "title": article.title,
        "source": article.outlet or "",
        "url": article.url or "",
        "published": article.published or "",
    }
    documents = splitter.create_documents([article.text], metadatas=[base])
    prefix = chunk_prefix(article.id, article.content_hash)
    for index, document in enumerate(documents):
        document.metadata["chunk_index"] = index
    return documents, [f"{prefix}:{i}" for i in range(len(documents))]


def chunk_prefix(article_id: str, content_hash: str) -> str:
    """The id prefix of one article version's chunks: ``<article id>:<hash[:16]>``.

    Example:
        >>> chunk_prefix("a1", "0123456789abcdef0123")
        'a1:0123456789abcdef'
    """
    return f"{article_id}:{content_hash[:16]}"


def format_docs(documents: Sequence[Document]) -> str:
    """The tutorial's context: the chunks' text joined by blank lines.

    Example:
        >>> format_docs([Document(page_content="A."), Document(page_content="B.")])
        'A.\\n\\nB.'
    """
    return "\n\n".join(document.page_content for document in documents)


class NaiveIndex:
    """The naive pipeline's own Chroma collection, kept in step with the article store.

    Example:
        >>> index = NaiveIndex(store.client, "news-naive", embeddings)
        >>> index.sync(store)
        {'added': 59, 'removed': 0, 'chunks': 59}
    """

    def __init__(self, client: ClientAPI, name: str, embeddings: Embeddings) -> None:
        from rag.store.embedder import embedder_name

        self.client = client
        self.name = name
        self.embeddings = embeddings
        self.signature = {"naive_splitter": SPLITTER_LABEL, "embedder": embedder_name(embeddings)}
        self._vectorstore: Chroma | None = None

    @property
    def vectorstore(self) -> Chroma:
        """``langchain_chroma.Chroma`` over the collection (rebuilt on a new splitter/embedder)."""
        if self._vectorstore is None:
            from langchain_chroma import Chroma

            self._reset_if_stale()
            self._vectorstore = Chroma(
                client=self.client,
                collection_name=self.name,
                embedding_function=self.embeddings,
                collection_metadata=self.signature,
            )
        return self._vectorstore

    def _reset_if_stale(self) -> None:
        collection = self.client.get_or_create_collection(
            self.name, embedding_function=None, metadata=self.signature
        )
        recorded = dict(collection.metadata or {})
        if any(recorded.get(k) != v for k, v in self.signature.items()):
            logger.info("Rebuilding %s: made with %s, now %s", self.name, recorded, self.signature)
            self.client.delete_collection(self.name)

    def chunk_ids(self) -> list[str]:
        """Ids of every chunk in the collection.

        Example:
            >>> index = NaiveIndex(store.client, "news-naive", embeddings)
            >>> _ = index.sync(store)
            >>> len(index.chunk_ids())
            59
        """
        return list(self.vectorstore.get(include=[])["ids"])

    def sync(self, store: ArticleStore) -> dict[str, int]:
        """Add chunks of new or changed articles, delete those of removed or old versions.

        Example:
            >>> index = NaiveIndex(store.client, "news-naive", embeddings)
            >>> index.sync(store)["chunks"]
            59
        """
        wanted = {chunk_prefix(a.id, a.content_hash): a.id for a in store.list_articles()}
        existing = self.chunk_ids()
        stale = [cid for cid in existing if cid.rsplit(":", 1)[0] not in wanted]
        if stale:
            self.vectorstore.delete(ids=stale)
        present = {cid.rsplit(":", 1)[0] for cid in existing}
        missing = [aid for prefix, aid in wanted.items() if prefix not in present]
        added = self._add(store.get_article(aid) for aid in missing)
        total = len(existing) - len(stale) + added
        if stale or added:
            logger.info("%s: %d chunks added, %d removed", self.name, added, len(stale))
        return {"added": added, "removed": len(stale), "chunks": total}

    def _add(self, articles: Iterable[Article | None]) -> int:
        splitter = make_splitter()
        documents: list[Document] = []
        ids: list[str] = []
        added = 0
        for article in articles:
            if article is None:  # deleted since it was listed
                continue
            docs, doc_ids = split_article(article, splitter)
            documents += docs
            ids += doc_ids
            if len(documents) >= _ADD_BATCH:
                added += self._upsert(documents, ids)
                documents, ids = [], []
        return added + (self._upsert(documents, ids) if documents else 0)

    def _upsert(self, documents: list[Document], ids: list[str]) -> int:
        self.vectorstore.add_documents(documents, ids=ids)  # upserts: re-runs add nothing
        return len(ids)

    def search(self, question: str, k: int = TOP_K) -> list[Document]:
        """The ``k`` chunks nearest to the question (dense similarity, Chroma's default).

        Example:
            >>> index = NaiveIndex(store.client, "news-naive", embeddings)
            >>> _ = index.sync(store)
            >>> len(index.search("floods"))  # the fake vectors here make any 4 chunks nearest
            4
        """
        return self.vectorstore.similarity_search(question, k=k)


class NaiveRAG:
    """The quick-start RAG with the facade's eval methods (ingest, list, ask, ...).

    Wraps a :class:`rag.service.NewsRAG` for the store, the embedder and the chat model;
    ``ask`` returns a :class:`rag.qa.answer.Answer` whose ``passages`` and ``citations`` are the
    four retrieved chunks, numbered 1-4.

    Example (needs the LLM):
        >>> from rag.service import NewsRAG
        >>> naive = NaiveRAG(NewsRAG.from_settings())
        >>> naive.ask("Who won the Westfield election?").abstained  # doctest: +SKIP
        False
    """

    pipeline = PIPELINE_NAME
    summarizes = False  # the tutorial has no summarizer: eval runs skip summary cases
    retrieval_k = TOP_K

    def __init__(self, service: Any, *, collection: str | None = None) -> None:
        self.service = service
        self.settings = service.settings
        self.collection = collection or f"{self.settings.collection}{COLLECTION_SUFFIX}"
        self.prompt = load_prompt(PROMPT_NAME)
        self._index: NaiveIndex | None = None
        self._synced: str | None = None  # store generation the collection matches

    # --- parts ---------------------------------------------------------------------
    @property
    def index(self) -> NaiveIndex:
        """The naive collection (opened on first use)."""
        if self._index is None:
            store = self.service.store
            self._index = NaiveIndex(store.client, self.collection, self.service.embeddings)
        return self._index

    @property
    def llm(self) -> BaseChatModel:
        """The same chat model news-rag uses."""
        return self.service.llm

    @property
    def retriever(self) -> BaseRetriever:
        """The tutorial's retriever: ``vectorstore.as_retriever()`` with k=4 (synced first)."""
        self.sync()
        return self.index.vectorstore.as_retriever(search_kwargs={"k": TOP_K})

    # --- library (delegated, then the naive collection follows) -----------------------
    def ingest(self, locations: Iterable[str | Path], *, progress: Callable | None = None) -> Any:
        """Ingest through news-rag's store, then bring the naive collection up to date.

        Example:
            >>> naive = NaiveRAG(service)
            >>> naive.ingest(["samples/"]).unchanged
            10
            >>> len(naive.index.chunk_ids())
            59
        """
        report = self.service.ingest(locations, progress=progress)
        self.sync()
        return report

    def list_articles(self, outlet: str | None = None) -> list[Any]:
        """The stored articles (the same store as news-rag)."""
        return self.service.list_articles(outlet)

    def get_article(self, article_id: str) -> Article:
        """One stored article with its text."""
        return self.service.get_article(article_id)

    def delete(self, article_ids: Iterable[str]) -> int:
        """Delete articles from the store and their chunks from the naive collection."""
        removed = self.service.delete(list(article_ids))
        self.sync()
        return removed

    def sync(self) -> dict[str, int] | None:
        """Update the naive collection when the store changed since the last sync.

        Example:
            >>> naive = NaiveRAG(service)
            >>> naive.sync()
            {'added': 59, 'removed': 0, 'chunks': 59}
            >>> naive.sync() is None  # the store has not changed since
            True
        """
        store = self.service.store
        generation = store.generation()
        if generation == self._synced:
            return None
        report = self.index.sync(store)
        self._synced = generation
        return report

    def describe(self) -> dict[str, Any]:
        """news-rag's description with the baseline's retrieval and collection.

        Example:
            >>> NaiveRAG(service).describe()["pipeline"]
            'naive'
        """
        info = dict(self.service.describe())
        info.update(
            pipeline=PIPELINE_NAME,
            collection=self.collection,
            retrieval=f"dense, k={TOP_K}; chunks: {SPLITTER_LABEL} characters",
            prompt=f"{PROMPT_NAME} v{self.prompt.version}",
        )
        return info

    # --- questions ---------------------------------------------------------------------
    def ask(self, question: str, *, history: Any = None, filters: Any = None) -> Answer:
        """Retrieve 4 chunks, fill the tutorial prompt, ask the model once.

        ``history`` and ``filters`` are accepted and ignored, as in the tutorial.

        Example:
            >>> naive.ask("What did Hegseth rule out?").passages[0].number  # doctest: +SKIP
            1
        """
        from rag.models.llm_errors import translate_llm_errors

        started = time.perf_counter()
        self.sync()
        documents = self.index.search(question, TOP_K)
        retrieved = time.perf_counter()
        messages = self.prompt.messages(question=question, context=format_docs(documents))
        with translate_llm_errors():
            reply = self.llm.invoke(messages)
        text = _reply_text(reply).strip()
        done = time.perf_counter()
        passages = [_citation(n, d) for n, d in enumerate(documents, start=1)]
        abstained = is_naive_abstention(text)
        usage = getattr(reply, "usage_metadata", None) or {}
        return Answer(
            question=question,
            answer=text,
            citations=passages,
            passages=passages,
            standalone_question=question,
            abstained=abstained,
            abstain_reason="model" if abstained else None,
            timings={
                "retrieve": retrieved - started,
                "generate": done - retrieved,
                "total": done - started,
            },
            prompt_tokens=usage.get("input_tokens"),
            completion_tokens=usage.get("output_tokens"),
        )

    def summarize(self, article_id: str, *, style: str = "brief", refresh: bool = False) -> Any:
        """Not part of the baseline.

        Example:
            >>> NaiveRAG(service).summarize("a1")
            Traceback (most recent call last):
            rag.errors.RagError: the naive baseline does not summarize
            Hint: summaries are measured with --pipeline news-rag (beside lead-3)
        """
        raise RagError(
            "the naive baseline does not summarize",
            hint="summaries are measured with --pipeline news-rag (beside lead-3)",
        )


def _reply_text(reply: Any) -> str:
    content = getattr(reply, "content", reply)
    if isinstance(content, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text", "")) for part in content
        )
    return str(content)


def _citation(number: int, document: Document) -> Citation:
    meta = document.metadata
    start = meta.get("start_index")
    return Citation(
        number=number,
        article_id=str(meta.get("article_id", "")),
        title=str(meta.get("title", "")),
        outlet=str(meta.get("source", "")),
        url=str(meta.get("url", "")),
        published=str(meta.get("published", "")),
        text=document.page_content,
        start=start,
        end=start + len(document.page_content) if isinstance(start, int) else None,
        chunk_index=meta.get("chunk_index"),
    )
