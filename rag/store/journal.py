"""The write journal and crash recovery: a write killed anywhere leaves either the old
version of an article or the new one, complete.

Before a write touches chunks, a ``journal`` record in the registry names what it is
about to do (and who does it: host, pid, time). The write removes the record when it is
done and bumps the store generation. A journal record left behind by a dead writer is
resolved on open and before every write: an add is rolled forward when every new chunk
is present (or the registry already names the new version) and rolled back otherwise; a
delete is completed. A write that failed in this process and could not be undone (the
store was unreachable) is resolved before the next read.

Example:
    >>> journal_id("8782db0870783fc4")
    'journal:8782db0870783fc4'
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Any

from rag.errors import StoreError
from rag.ingest.article import Article
from rag.ingest.chunking import chunk_id
from rag.store.records import GENERATION_ID, PLACEHOLDER_VECTOR, PlannedWrite, record_meta

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from rag.store.failures import StoreFailures

__all__ = ["JOURNAL_PREFIX", "STALE_JOURNAL_SECONDS", "WriteJournal", "journal_id"]

logger = logging.getLogger(__name__)

JOURNAL_PREFIX = "journal:"
STALE_JOURNAL_SECONDS = 600.0  # a journal of another host older than this is abandoned

_HOST = socket.gethostname()
_inflight: set[str] = set()  # journal keys being written by this process
_inflight_lock = threading.Lock()


def journal_id(article_id: str) -> str:
    """The id of the journal record of a write of ``article_id``.

    Example:
        >>> journal_id("a1")
        'journal:a1'
    """
    return JOURNAL_PREFIX + article_id


@dataclass(eq=False)  # identity, as before: one journal per store
class WriteJournal:
    """Journal records of one store's writes, and their recovery.

    ``key`` names the store (mode, location, collection) among the stores this process
    opens; ``lock`` is the store's write lock; ``failures`` translates Chroma errors.

    Example:
        >>> from rag.store.clients import open_collections, persistent_client
        >>> from rag.store.failures import StoreFailures
        >>> import tempfile
        >>> where = tempfile.mkdtemp()
        >>> chunks, registry = open_collections(persistent_client(where), "journal_doc")
        >>> failures = StoreFailures("embedded", where)
        >>> journal = WriteJournal(chunks, registry, key=f"embedded|{where}|journal_doc",
        ...                        lock=threading.RLock(), failures=failures)
        >>> journal.recover()
        0
    """

    chunks: Collection
    registry: Collection
    _: KW_ONLY
    key: str
    lock: threading.RLock
    failures: StoreFailures
    unresolved: bool = field(default=False, init=False)  # a failed write not rolled back yet

    # -- writing -----------------------------------------------------------------------
    def owner(self) -> dict[str, Any]:
        """The metadata naming this process as the writer of a journal record.

        Example:
            >>> journal.owner()["pid"] == os.getpid()
            True
        """
        return {"kind": "journal", "host": _HOST, "pid": os.getpid(), "created": time.time()}

    @contextlib.contextmanager
    def inflight(self, journal_ids: list[str]) -> Iterator[None]:
        """Within this block, recovery in this process leaves ``journal_ids`` alone.

        Example:
            >>> article = Article.create(title="Ferries resume", text="Ferries ran again.")
            >>> chunks = store.chunker.chunk_article(article, 1)
            >>> journal.begin_adds([PlannedWrite(article, 1, chunks, 0, 0)])
            >>> with journal.inflight([journal_id(article.id)]):
            ...     journal.recover()  # the write in progress is left alone
            0
            >>> journal.recover()  # now it counts as interrupted: rolled back
            1
        """
        keys = [f"{self.key}|{j}" for j in journal_ids]
        with _inflight_lock:
            _inflight.update(keys)
        try:
            yield
        finally:
            with _inflight_lock:
                _inflight.difference_update(keys)

    def begin_adds(self, plans: list[PlannedWrite]) -> None:
        """Write the journal records of ``plans`` (the new versions, in full).

        Example:
            >>> article = Article.create(title="Ferries resume", text="Ferries ran again.")
            >>> chunks = store.chunker.chunk_article(article, 1)
            >>> journal.begin_adds([PlannedWrite(article, 1, chunks, 0, 0)])
            >>> journal.recover()  # no writer alive and no chunk written: rolled back
            1
        """
        owner = self.owner()
        self.registry.upsert(
            ids=[journal_id(p.article.id) for p in plans],
            documents=[p.article.model_dump_json() for p in plans],
            metadatas=[_add_meta(p, owner) for p in plans],
            embeddings=[PLACEHOLDER_VECTOR for _ in plans],
        )

    def commit(self, journal_ids: list[str]) -> None:
        """The writes are complete: drop their journal records, bump the generation.

        Example:
            >>> article = Article.create(title="Ferries resume", text="Ferries ran again.")
            >>> chunks = store.chunker.chunk_article(article, 1)
            >>> journal.begin_adds([PlannedWrite(article, 1, chunks, 0, 0)])
            >>> journal.commit([journal_id(article.id)])
            >>> journal.recover()  # nothing left to resolve
            0
        """
        self.registry.delete(ids=journal_ids)
        self.bump_generation()

    def delete(self, article_ids: list[str]) -> None:
        """Delete stored articles (their chunks, then records), journaled like an add.

        A failure leaves the delete to be finished by the next read or write.

        Example:
            >>> journal.delete(["8782db0870783fc4"])
            >>> store.get_article("8782db0870783fc4") is None
            True
        """
        journal_ids = [journal_id(i) for i in article_ids]
        metas = [{**self.owner(), "op": "delete", "article_id": i} for i in article_ids]
        try:
            with self.inflight(journal_ids), self.failures.during("delete articles"):
                self.registry.upsert(
                    ids=journal_ids,
                    metadatas=metas,
                    documents=["" for _ in article_ids],
                    embeddings=[PLACEHOLDER_VECTOR for _ in article_ids],
                )
                self._finish_delete(article_ids)
                self.bump_generation()
        except StoreError:
            self.unresolved = True  # finished by the next read or write
            raise

    def bump_generation(self) -> None:
        """Change the store generation, so readers in any process see that chunks changed.

        Example:
            >>> before = store.generation()
            >>> journal.bump_generation()
            >>> store.generation() != before
            True
        """
        value = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        self.registry.upsert(
            ids=[GENERATION_ID],
            metadatas=[{"kind": "meta", "value": value}],
            documents=[""],
            embeddings=[PLACEHOLDER_VECTOR],
        )

    # -- recovery ----------------------------------------------------------------------
    def recover(self) -> int:
        """Resolve interrupted writes of dead processes; returns how many were resolved.

        Example:
            >>> journal.recover()
            0
        """
        with self.lock, self.failures.during("recover interrupted writes"):
            got = self.registry.get(where={"kind": "journal"}, include=["metadatas", "documents"])
            resolved = 0
            for jid, meta, doc in zip(got["ids"], got["metadatas"], got["documents"], strict=True):
                if not self._is_stale(jid, meta):
                    continue
                self._resolve(jid, meta, doc)
                resolved += 1
            if resolved:
                self.bump_generation()
                logger.warning("Recovered %d interrupted write(s) in the article store", resolved)
            return resolved

    def rollback(self, journal_ids: list[str]) -> None:
        """Undo a failed write (best effort; what is left is resolved by the next recover).

        When the store cannot be reached to undo it (server gone), reads resolve it
        first once the store answers again, so a half-written article is never served.

        Example:
            >>> article = Article.create(title="Ferries resume", text="Ferries ran again.")
            >>> chunks = store.chunker.chunk_article(article, 1)
            >>> journal.begin_adds([PlannedWrite(article, 1, chunks, 0, 0)])
            >>> journal.rollback([journal_id(article.id)])
            >>> journal.unresolved, journal.recover()
            (False, 0)
        """
        self.unresolved = True
        with contextlib.suppress(Exception):
            got = self.registry.get(ids=journal_ids, include=["metadatas", "documents"])
            for jid, meta, doc in zip(got["ids"], got["metadatas"], got["documents"], strict=True):
                self._resolve(jid, meta, doc, prefer_rollback=True)
            self.unresolved = False

    def resolve_failed_writes(self) -> None:
        """Before a read: resolve this process's writes that failed half-way, if any.

        Example:
            >>> journal.resolve_failed_writes()
            >>> journal.unresolved
            False
        """
        if self.unresolved:
            with self.lock:
                if self.unresolved:
                    self.recover()
                    self.unresolved = False

    def _is_stale(self, jid: str, meta: dict[str, Any]) -> bool:
        with _inflight_lock:
            if f"{self.key}|{jid}" in _inflight:
                return False
        if meta.get("host") == _HOST:
            pid = int(meta.get("pid", 0))
            return pid == os.getpid() or not _pid_alive(pid)
        return time.time() - float(meta.get("created", 0)) > STALE_JOURNAL_SECONDS

    def _resolve(
        self,
        jid: str,
        meta: dict[str, Any],
        doc: str | None,
        *,
        prefer_rollback: bool = False,
    ) -> None:
        """Finish or undo one journaled write.

        A write whose registry record already names the new version is always finished.
        Otherwise it is rolled forward when every new chunk is present (unless
        ``prefer_rollback``: the caller was told the write failed) and rolled back if not.
        """
        article_id = str(meta["article_id"])
        if meta.get("op") == "delete":
            self._finish_delete([article_id])
            return
        version, count = int(meta["version"]), int(meta["chunks"])
        expected = [chunk_id(article_id, version, i) for i in range(count)]
        # Chroma refuses an empty id list: a write of no chunks has none to look up.
        present = self.chunks.get(ids=expected, include=[])["ids"] if expected else []
        record = self.registry.get(ids=[article_id], include=["metadatas"])["metadatas"]
        committed = bool(record) and int(record[0].get("version", 0)) == version
        complete = len(present) == count and bool(doc)
        if committed or (complete and not prefer_rollback):
            if doc:
                article = Article.model_validate_json(doc)
                plan = PlannedWrite(article, version, [], int(meta.get("old_version", 0)), 0)
                self.registry.upsert(
                    ids=[article_id],
                    documents=[article.text],
                    metadatas=[{**record_meta(plan), "chunks": count}],
                    embeddings=[PLACEHOLDER_VECTOR],
                )
            self.chunks.delete(
                where={"$and": [{"article_id": article_id}, {"version": {"$ne": version}}]}
            )
            logger.info("Rolled forward interrupted write of article %s", article_id)
        else:
            if present:
                self.chunks.delete(ids=present)
            logger.info("Rolled back interrupted write of article %s", article_id)
        self.registry.delete(ids=[jid])

    def _finish_delete(self, article_ids: list[str]) -> None:
        """Delete chunks, then registry records, then the delete journals."""
        self.chunks.delete(where={"article_id": {"$in": article_ids}})
        self.registry.delete(ids=article_ids)
        self.registry.delete(ids=[journal_id(i) for i in article_ids])


def _add_meta(plan: PlannedWrite, owner: dict[str, Any]) -> dict[str, Any]:
    return {
        **owner,
        "op": "add",
        "article_id": plan.article.id,
        "version": plan.version,
        "chunks": len(plan.chunks),
        "old_version": plan.old_version,
        "old_chunks": plan.old_chunks,
    }


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child not yet reaped is a zombie: it writes nothing any more
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
