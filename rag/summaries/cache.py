"""A file cache of summaries, keyed by what determines a summary's text.

The key is a hash of the article's content hash, the style, the model and the
prompt version, so editing an article, switching models or rewording a prompt
misses the cache. One JSON file per (article, style) version under
``<cache_dir>/summaries/<article>/<style>-<key>.json``; writing a new version
removes the stale ones. Writes are atomic (temporary file + rename), so readers
never see half a file, even across processes.

Example:
    >>> import tempfile, pathlib
    >>> cache = SummaryCache(pathlib.Path(tempfile.mkdtemp()))
    >>> key = SummaryCache.make_key("sha-of-text", "brief", "qwen", "summary_brief:v1")
    >>> cache.put("a1", "brief", key, {"text": "Vance spoke."})["text"]
    'Vance spoke.'
    >>> cache.get("a1", "brief", key)["text"]
    'Vance spoke.'
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def _safe_name(value: str) -> str:
    """A file-system-safe folder name for an article id (hashed if it needs changing)."""
    if re.fullmatch(r"[\w.-]{1,100}", value) and value not in {".", ".."}:
        return value
    return "id-" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


class SummaryCache:
    """Summaries persisted as JSON files in ``directory``.

    Example:
        >>> from rag.settings import load_settings
        >>> cache = SummaryCache.from_settings(load_settings())
        >>> cache.directory.name
        'summaries'
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @classmethod
    def from_settings(cls, settings: Any) -> SummaryCache:
        """The cache under ``settings.cache_dir / "summaries"``."""
        return cls(Path(settings.cache_dir) / "summaries")

    @staticmethod
    def make_key(content_hash: str, style: str, model: str, prompt_version: str) -> str:
        """A hex digest of every part that changes a summary's text.

        Example:
            >>> a = SummaryCache.make_key("h", "brief", "m", "v1")
            >>> a == SummaryCache.make_key("h", "brief", "m", "v2")
            False
        """
        raw = json.dumps([content_hash, style, model, prompt_version])
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]

    def path(self, article_id: str, style: str, key: str) -> Path:
        """Where the entry for ``(article_id, style, key)`` lives."""
        return self.directory / _safe_name(article_id) / f"{style}-{key}.json"

    def get(self, article_id: str, style: str, key: str) -> dict[str, Any] | None:
        """The stored entry, or None (missing, unreadable or written for another key)."""
        path = self.path(article_id, style, key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning("ignoring unreadable summary cache file %s: %s", path, exc)
            return None
        if not isinstance(data, dict) or data.get("cache_key") != key:
            return None
        return data

    def put(self, article_id: str, style: str, key: str, entry: dict[str, Any]) -> dict[str, Any]:
        """Store ``entry`` atomically and remove older versions for this article and style."""
        path = self.path(article_id, style, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {**entry, "cache_key": key}
        handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as tmp:
                json.dump(data, tmp, ensure_ascii=False, indent=1)
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        for stale in path.parent.glob(f"{style}-*.json"):
            if stale != path:
                stale.unlink(missing_ok=True)
        return data

    def clear(self, article_id: str | None = None) -> int:
        """Delete the entries of one article (or all); returns how many files went."""
        folders = (
            [self.directory / _safe_name(article_id)]
            if article_id
            else [p for p in self.directory.glob("*") if p.is_dir()]
        )
        removed = 0
        for folder in folders:
            for file in folder.glob("*.json"):
                file.unlink(missing_ok=True)
                removed += 1
        return removed
