"""Vectors for chunks and queries, from the embedder the collection was built with.

The first write records the embedder's name and dimensions in the registry; from then
on a different embedder is refused (its vectors would not be comparable), with a hint.

Example:
    >>> from langchain_core.embeddings import DeterministicFakeEmbedding
    >>> embedder_name(DeterministicFakeEmbedding(size=8))
    'DeterministicFakeEmbedding'
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING

from rag.errors import ModelError, RagError, StoreError
from rag.store.records import EMBEDDER_ID, PLACEHOLDER_VECTOR

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection
    from langchain_core.embeddings import Embeddings

    from rag.store.failures import StoreFailures

__all__ = ["CheckedEmbedder", "embedder_name"]


def embedder_name(embeddings: Embeddings) -> str:
    """A name for the embedding model, recorded in the store to catch mix-ups.

    Example:
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> embedder_name(DeterministicFakeEmbedding(size=8))
        'DeterministicFakeEmbedding'
    """
    if type(embeddings).__name__ == "LocalEmbeddings":
        from rag.models.embeddings import MODEL_ID

        return MODEL_ID
    model = getattr(embeddings, "model", None) or getattr(embeddings, "model_name", None)
    return (
        f"{type(embeddings).__name__}:{model}"
        if isinstance(model, str)
        else type(embeddings).__name__
    )


@dataclass(eq=False)  # identity, as before: one embedder per store
class CheckedEmbedder:
    """Embeds chunks and queries, refusing an embedder other than the collection's own.

    Embedding errors become :class:`ModelError`; the last query's vector is kept, since
    a filtered search may ask twice for the same question.

    Example:
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> from rag.store.clients import open_collections, persistent_client
        >>> from rag.store.failures import StoreFailures
        >>> import tempfile
        >>> where = tempfile.mkdtemp()
        >>> _, registry = open_collections(persistent_client(where), "embedder_doc")
        >>> embedder = CheckedEmbedder(DeterministicFakeEmbedding(size=8), registry,
        ...                            collection="embedder_doc",
        ...                            failures=StoreFailures("embedded", where))
        >>> len(embedder.embed_query("floods"))
        8
    """

    embeddings: Embeddings
    registry: Collection
    _: KW_ONLY
    collection: str
    failures: StoreFailures
    _checked: bool = field(default=False, init=False, repr=False)
    _last_query: tuple[str, list[float]] | None = field(default=None, init=False, repr=False)

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector per text (chunks to store); the first call records the embedder.

        Example:
            >>> [len(v) for v in embedder.embed(["Rain fell.", "Ferries ran."])]
            [384, 384]
        """
        try:
            vectors = self.embeddings.embed_documents(texts)
        except RagError:
            raise
        except Exception as exc:
            raise ModelError(
                f"embedding failed: {exc}",
                hint="check the embedding settings (RAG_EMBEDDING_PROVIDER, "
                "RAG_EMBEDDING_BASE_URL) and that the endpoint is up",
            ) from exc
        if len(vectors) != len(texts):
            raise ModelError(f"the embedder returned {len(vectors)} vectors for {len(texts)} texts")
        if vectors:
            self._check(len(vectors[0]))
        return vectors

    def embed_query(self, query: str) -> list[float]:
        """The vector of a question (never recorded: an empty store has nothing to match).

        Example:
            >>> len(embedder.embed_query("Did the ferries run?"))
            384
        """
        last = self._last_query
        if last is not None and last[0] == query:
            return last[1]
        try:
            vector = self.embeddings.embed_query(query)
        except RagError:
            raise
        except Exception as exc:
            raise ModelError(f"embedding the query failed: {exc}") from exc
        self._check(len(vector), record=False)
        self._last_query = (query, vector)
        return vector

    def _check(self, dimensions: int, *, record: bool = True) -> None:
        """Refuse an embedder other than the one the collection was built with."""
        if self._checked:
            return
        name = embedder_name(self.embeddings)
        with self.failures.during("check the embedder"):
            got = self.registry.get(ids=[EMBEDDER_ID], include=["metadatas"])
            if not got["ids"]:
                if not record:
                    return  # an empty store: nothing to compare with yet
                self.registry.upsert(
                    ids=[EMBEDDER_ID],
                    metadatas=[{"kind": "meta", "embedder": name, "dimensions": dimensions}],
                    documents=[""],
                    embeddings=[PLACEHOLDER_VECTOR],
                )
                self._checked = True
                return
        meta = got["metadatas"][0]
        if int(meta.get("dimensions", dimensions)) != dimensions or meta.get("embedder") != name:
            raise StoreError(
                f"collection {self.collection!r} was built with the embedder "
                f"{meta.get('embedder')} ({meta.get('dimensions')} dimensions), but "
                f"{name} ({dimensions} dimensions) is configured",
                hint="use the original embedding settings, or a new RAG_COLLECTION "
                "(then ingest the articles again)",
            )
        self._checked = True
