"""Pytest setup for the docstring examples of ``rag/``, ``benchmarks/`` and ``app.py``.

``--doctest-modules`` (pyproject.toml) collects every ``>>>`` example as a test; each one
gets the ``unit`` marker here, so ``pytest -m unit`` (and ``make test``) runs them.

Every example runs from the repository root (``samples/``, ``evals/``, ``prompts/`` are
found by relative paths), without the developer's ``RAG_*`` variables, with
``RAG_DATA_DIR`` in a fresh temporary folder, and with the models locked away: an example
that would start the embedded LLM or load the MiniLM embedder fails instead (mark such
examples ``# doctest: +SKIP``).

Examples of methods may use these names without building them (each built fresh, only
for the examples that use it, all over the same temporary data folder):

- ``settings``: :class:`rag.settings.Settings` for that folder;
- ``embeddings``: a deterministic fake embedder (no model loaded);
- ``store``: an :class:`rag.store.articles.ArticleStore` holding the articles of ``samples/``;
- ``rag`` and ``service``: a :class:`rag.service.NewsRAG` over that store, with no chat model;
- ``retriever``, ``qa`` and ``summarizer``: its retriever, answer service and summarizer;
- ``journal`` and ``embedder``: the store's write journal and checked embedder;
- ``squad_file``: a SQuAD 2.0 file of one paragraph and one answerable question.
"""

from __future__ import annotations

import ast
import doctest
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _pytest.doctest import DoctestItem

# No telemetry, no hub downloads, ever (tests/conftest.py does the same for the tests).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO_ROOT = Path(__file__).resolve().parent
SAMPLES_DIR = REPO_ROOT / "samples"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Docstring examples belong to the unit layer."""
    for item in items:
        if isinstance(item, DoctestItem):
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def _sample_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose store holds ``samples/`` (fake vectors), built once and copied."""
    data_dir = tmp_path_factory.mktemp("doctest-samples") / "data"
    service = _service(data_dir)
    report = service.ingest([SAMPLES_DIR])
    assert report.added and not report.failed, report
    service.close()
    return data_dir


@pytest.fixture(autouse=True)
def _doctest_context(request: pytest.FixtureRequest) -> None:
    """Isolate each docstring example and give it the names it uses (see the module doc)."""
    if not isinstance(request.node, DoctestItem):
        return
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    data_dir = request.getfixturevalue("tmp_path") / "data"
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RAG_DATA_DIR", str(data_dir))
    monkeypatch.chdir(REPO_ROOT)
    # tempfile.mkdtemp() in an example makes its folder here, removed with the test's.
    monkeypatch.setattr(tempfile, "tempdir", str(request.getfixturevalue("tmp_path")))
    _lock_away_the_models(monkeypatch)

    test = request.node.dtest
    for name in _free_names(test) & EXAMPLE_FILES.keys():
        test.globs[name] = EXAMPLE_FILES[name](data_dir)
    wanted = _free_names(test) & EXAMPLE_NAMES.keys()
    if not wanted:
        return
    if wanted - {"settings", "embeddings"}:
        shutil.copytree(request.getfixturevalue("_sample_data"), data_dir)
    made: dict[str, Any] = {}
    for name in EXAMPLE_NAMES:  # in dependency order
        made[name] = EXAMPLE_NAMES[name](data_dir, made)
        if name in wanted:
            test.globs[name] = made[name]
        if wanted <= made.keys():
            break


def _free_names(test: doctest.DocTest) -> set[str]:
    """Names the examples read but neither the module nor the examples define."""
    read: set[str] = set()
    written: set[str] = set()
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    for example in test.examples:
        if example.options.get(doctest.SKIP):
            continue
        try:
            tree = compile(example.source, "<example>", "exec", flags=flags)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                (read if isinstance(node.ctx, ast.Load) else written).add(node.id)
    return read - written - test.globs.keys()


def _lock_away_the_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any attempt to start the embedded LLM or load the embedder fail at once."""
    from rag.models import embeddings, llm_server

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("docstring examples load no model: mark this one +SKIP")

    monkeypatch.setattr(llm_server, "prepare_model", refuse)
    monkeypatch.setattr(llm_server.EmbeddedServer, "start", refuse)
    monkeypatch.setattr(embeddings, "_load_runtime", refuse)


def _settings(data_dir: Path, made: dict[str, Any] | None = None) -> Any:
    from rag.settings import load_settings

    return load_settings(data_dir=data_dir)


def _embeddings(data_dir: Path, made: dict[str, Any] | None = None) -> Any:
    from langchain_core.embeddings import DeterministicFakeEmbedding

    return DeterministicFakeEmbedding(size=384)


def _service(data_dir: Path, made: dict[str, Any] | None = None) -> Any:
    from langchain_core.language_models import FakeListChatModel

    from rag.service import NewsRAG

    made = made or {}
    settings = made.get("settings") or _settings(data_dir)
    embeddings = made.get("embeddings") or _embeddings(data_dir)
    # A chat model that must not be asked: examples that need answers are marked +SKIP.
    no_model = FakeListChatModel(responses=[])
    return NewsRAG.from_settings(settings, embeddings=embeddings, llm=no_model)


def _squad_file(data_dir: Path) -> Path:
    import json

    qa = {
        "id": "q1",
        "question": "When did the ferries run?",
        "is_impossible": False,
        "answers": [{"text": "on Monday", "answer_start": 15}],
    }
    paragraph = {"context": "The ferries ran on Monday.", "qas": [qa]}
    data = {"data": [{"title": "Ferries", "paragraphs": [paragraph]}]}
    path = data_dir.parent / "squad-input" / "tiny.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


EXAMPLE_NAMES: dict[str, Callable[[Path, dict[str, Any]], Any]] = {
    "settings": _settings,
    "embeddings": _embeddings,
    "rag": _service,
    "service": lambda data_dir, made: made["rag"],
    "store": lambda data_dir, made: made["rag"].store,
    "retriever": lambda data_dir, made: made["rag"].retriever,
    "qa": lambda data_dir, made: made["rag"].qa,
    "summarizer": lambda data_dir, made: made["rag"].summarizer,
    "journal": lambda data_dir, made: made["store"]._journal,
    "embedder": lambda data_dir, made: made["store"]._embedder,
}

# Input files some examples read (none depends on the names above).
EXAMPLE_FILES: dict[str, Callable[[Path], Path]] = {"squad_file": _squad_file}
