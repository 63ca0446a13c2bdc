"""How well HTML ingest reads real pages: body and headline against reference texts.

Each page ``NAME.html`` in RAW_DIR is read by the product's HTML parser and compared
with ``NAME.txt`` in TEXT_DIR, whose first line is the headline and whose body follows
its first blank line (header lines such as ``Date:`` before it are skipped). Reported per
page and as means: **body recall** (share of the reference's words the extraction holds,
counted with repeats), **body precision** (share of the extraction's words that are in
the reference: menus, teasers and captions lower it) and **title recall** (share of the
headline's words in the extracted title). No model is used.

Usage:
    .venv/bin/python evals/html_extraction.py RAW_DIR TEXT_DIR [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from rag.errors import IngestError
from rag.ingest.formats import parse_html

_WORD = re.compile(r"\w+")


def overlap(reference: str, extracted: str) -> tuple[float, float]:
    """(recall, precision) of ``extracted`` against ``reference``, over words with repeats.

    Example:
        >>> overlap("the council met", "the council met today")
        (1.0, 0.75)
    """
    ref, got = Counter(_WORD.findall(reference.lower())), Counter(_WORD.findall(extracted.lower()))
    shared = sum((ref & got).values())
    return shared / max(1, sum(ref.values())), shared / max(1, sum(got.values()))


def reference_parts(text: str) -> tuple[str, str]:
    """The headline (first line) and body (after the first blank line) of a reference text.

    Example:
        >>> reference_parts("Storm hits\\nDate: 2024-05-02\\n\\nHeavy snow fell.")
        ('Storm hits', 'Heavy snow fell.')
    """
    head, _, body = text.partition("\n\n")
    return head.split("\n", 1)[0].strip(), body.strip()


def measure_page(page: Path, reference: Path) -> dict[str, object]:
    """The three scores of one page (all 0 with the error when it cannot be read)."""
    title, body = reference_parts(reference.read_text(encoding="utf-8"))
    try:
        article = parse_html(page.read_bytes(), origin=str(page))
    except IngestError as exc:
        return {"page": page.name, "error": str(exc), "recall": 0.0, "precision": 0.0, "title": 0.0}
    recall, precision = overlap(body, article.text)
    return {
        "page": page.name,
        "recall": round(recall, 3),
        "precision": round(precision, 3),
        "title": round(overlap(title, article.title)[0], 3),
        "extracted_title": article.title,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw_dir", type=Path, help="folder of NAME.html pages")
    parser.add_argument("text_dir", type=Path, help="folder of NAME.txt reference texts")
    parser.add_argument("--out", type=Path, help="write the scores as JSON here")
    args = parser.parse_args(argv)
    pairs = [(p, args.text_dir / f"{p.stem}.txt") for p in sorted(args.raw_dir.glob("*.html"))]
    rows = [measure_page(page, ref) for page, ref in pairs if ref.is_file()]
    if not rows:
        print("no NAME.html with a NAME.txt reference found", file=sys.stderr)
        return 1
    for row in rows:
        print(
            f"{row['page']:<16} recall {row['recall']:.3f}  precision {row['precision']:.3f}"
            f"  title {row['title']:.3f}  {row.get('error') or ''}"
        )
    means = {
        k: round(sum(float(r[k]) for r in rows) / len(rows), 3)  # type: ignore[arg-type]
        for k in ("recall", "precision", "title")
    }
    print(
        f"{len(rows)} pages: body recall {means['recall']:.3f}, precision "
        f"{means['precision']:.3f}, title recall {means['title']:.3f}"
    )
    if args.out:
        args.out.write_text(json.dumps({"pages": rows, "means": means}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
