"""Prompt templates stored as YAML files in ``prompts/``, rendered strictly with Jinja2.

A prompt file declares its variables; rendering with a missing or an unknown
variable, or a template that uses an undeclared one, raises :class:`PromptError`
naming it. File format::

    name: qa_answer
    version: 3                # bump when the wording changes (keys caches)
    description: Answer from numbered sources.
    variables: [question, sources, abstain]
    messages:
      - role: system
        content: |
          You answer questions about news articles...
      - role: user
        content: "{{ question }}"

Example:
    >>> from rag.prompts import load_prompt
    >>> prompt = load_prompt("qa_answer")
    >>> prompt.variables
    ('question', 'sources', 'abstain')
    >>> messages = prompt.messages(question="Who?", sources="[1] ...", abstain="Not found.")
    >>> messages[0].type
    'system'
    >>> print(messages[-1].content)
    [1] ...
    <BLANKLINE>
    Question: Who?
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2
import jinja2.meta
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from rag.errors import RagError
from rag.files import read_yaml_mapping

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"

_MESSAGE_TYPES: dict[str, type[BaseMessage]] = {
    "system": SystemMessage,
    "user": HumanMessage,
    "assistant": AIMessage,
}
_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
)


class PromptError(RagError):
    """A prompt file is missing or malformed, or was rendered with wrong variables."""


@dataclass(frozen=True)
class Prompt:
    """A loaded prompt: named, versioned, with declared variables and message templates.

    Example:
        >>> p = Prompt.from_dict({"name": "t", "version": 1, "variables": ["x"],
        ...     "messages": [{"role": "user", "content": "x={{ x }}"}]})
        >>> p.messages(x=2)[0].content
        'x=2'
    """

    name: str
    version: int
    description: str
    variables: tuple[str, ...]
    templates: tuple[tuple[str, jinja2.Template], ...]

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "<dict>") -> Prompt:
        """Validate a parsed prompt file and compile its templates."""
        try:
            name = str(data["name"])
            version = int(data["version"])
            variables = tuple(str(v) for v in data.get("variables") or ())
            raw_messages = list(data["messages"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PromptError(f"prompt {source}: missing or invalid field {exc}") from None
        templates = []
        for raw in raw_messages:
            role, content = raw.get("role"), raw.get("content")
            if role not in _MESSAGE_TYPES or not isinstance(content, str):
                raise PromptError(f"prompt {source}: each message needs a role and content")
            used = jinja2.meta.find_undeclared_variables(_ENV.parse(content))
            undeclared = sorted(used - set(variables))
            if undeclared:
                raise PromptError(
                    f"prompt {source} uses undeclared variable(s): {', '.join(undeclared)}"
                )
            templates.append((role, _ENV.from_string(content)))
        return cls(name, version, str(data.get("description", "")), variables, tuple(templates))

    def messages(self, **values: object) -> list[BaseMessage]:
        """Render to chat messages; missing or unknown variables raise :class:`PromptError`."""
        missing = [v for v in self.variables if v not in values]
        unknown = [v for v in values if v not in self.variables]
        if missing:
            raise PromptError(f"prompt {self.name}: missing variable(s): {', '.join(missing)}")
        if unknown:
            raise PromptError(f"prompt {self.name}: unknown variable(s): {', '.join(unknown)}")
        return [
            _MESSAGE_TYPES[role](content=template.render(**values).strip())
            for role, template in self.templates
        ]

    def text(self, **values: object) -> str:
        """Render all messages joined as plain text (for token counting and logs)."""
        return "\n\n".join(str(m.content) for m in self.messages(**values))


def prompt_names(directory: Path = PROMPTS_DIR) -> list[str]:
    """Names of all prompt files in ``directory``.

    Example:
        >>> "qa_answer" in prompt_names()
        True
    """
    return sorted(p.stem for p in directory.glob("*.yaml"))


@lru_cache(maxsize=64)
def load_prompt(name: str, directory: Path = PROMPTS_DIR) -> Prompt:
    """Load ``prompts/<name>.yaml`` (cached; files are read once per process).

    Example:
        >>> load_prompt("qa_answer").name
        'qa_answer'
    """
    path = directory / f"{name}.yaml"
    data = read_yaml_mapping(path, "prompt file", PromptError, hint="check the prompts/ folder")
    return Prompt.from_dict(data, source=str(path))
