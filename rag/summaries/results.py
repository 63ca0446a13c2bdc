"""What a summary or a digest produced: the text, how it was made, what its checks found.

Example:
    >>> Summary(article_id="a1", style="brief", text="Vance spoke.").method
    'stuff'
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from rag.renamed import KeepsOldNames, OldName, renamed_field

__all__ = ["Digest", "DigestArticle", "Method", "Summary"]

Method = Literal["stuff", "map_reduce"]


class Summary(BaseModel):
    """One article's summary in one style, with how it was made.

    ``issues`` lists faithfulness problems still in ``text`` (then ``faithful`` is
    False); ``notes`` lists what was changed to enforce the style (trims, dropped quotes).

    Example:
        >>> Summary(article_id="a1", style="brief", text="Vance spoke.").faithful
        True
    """

    article_id: str
    style: str
    text: str
    title: str = ""
    faithful: bool = True
    issues: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    cached: bool = False
    method: Method = "stuff"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_calls: int = 0
    seconds: float = 0.0
    model: str = ""


class DigestArticle(KeepsOldNames):
    """An article cited in a digest as ``[n]``.

    Example:
        >>> DigestArticle(n=1, article_id="a1", title="Munich").n
        1
    """

    n: int
    article_id: str
    title: str
    outlet: str | None = renamed_field("outlet", "source", default=None)
    url: str | None = None
    published: str | None = None

    source = OldName("outlet")  # the field's old name, for older callers


class Digest(BaseModel):
    """A digest across articles; each point ends with ``[n]`` markers into ``articles``.

    ``invalid_markers`` are numbers the model cited that match no article (removed from
    the text); ``uncited`` are articles the model left out (a point from their brief
    summary is appended, noted in ``issues``). ``prompt_tokens`` counts this run's LLM
    calls only (cached brief summaries cost nothing).

    Example:
        >>> Digest(text="- Talks [1]", articles=[]).faithful
        True
    """

    text: str
    articles: list[DigestArticle]
    invalid_markers: list[int] = Field(default_factory=list)
    uncited: list[int] = Field(default_factory=list)
    faithful: bool = True
    issues: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    summaries: list[Summary] = Field(default_factory=list)
    topic: str | None = None
    prompt_tokens: int = 0
    seconds: float = 0.0
    model: str = ""
