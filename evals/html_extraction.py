"""How well HTML ingest reads real pages: body and headline against reference texts.

Each page ``NAME.html`` in RAW_DIR is read by the product's HTML parser and compared
with ``NAME.txt`` in TEXT_DIR, whose first line is the headline, whose header may hold a
``Date: YYYY-MM-DD`` line, and whose body follows its first blank line. Reported per page
and as means: **body recall** (share of the reference's words the extraction holds,
counted with repeats), **body precision** (share of the extraction's words that are in
the reference: menus, teasers and captions lower it), **title recall** (share of the
headline's words in the extracted title) and **date** (1 when the publication date is
the reference's). No model is used.

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
SCORES = ("recall", "precision", "title", "date")


def overlap(reference: str, extracted: str) -> tuple[float, float]:
    """(recall, precision) of ``extracted`` against ``reference``, over words with repeats.

    Example:
        >>> overlap("the council met", "the council met today")
        (1.0, 0.75)
    """
    ref, got = Counter(_WORD.findall(reference.lower())), Counter(_WORD.findall(extracted.lower()))
    shared = sum((ref & got).values())
    return shared / max(1, sum(ref.values())), shared / max(1, sum(got.values()))


def reference_parts(text: str) -> tuple[str, str, str]:
    """The headline (first line), date (``Date:`` line) and body (after the first blank
    line) of a reference text.

    Example:
        >>> reference_parts("Storm hits\\nDate: 2024-05-02\\n\\nHeavy snow fell.")
        ('Storm hits', '2024-05-02', 'Heavy snow fell.')
    """
    head, _, body = text.partition("\n\n")
    day = re.search(r"^Date:\s*(\d{4}-\d{2}-\d{2})", head, re.MULTILINE)
    return head.split("\n", 1)[0].strip(), day.group(1) if day else "", body.strip()


def measure_page(page: Path, reference: Path) -> dict[str, object]:
    """The scores of one page (all 0 with the error when it cannot be read)."""
    title, day, body = reference_parts(reference.read_text(encoding="utf-8"))
    try:
        article = parse_html(page.read_bytes(), origin=str(page))
    except IngestError as exc:
        return {"page": page.name, "error": str(exc)} | dict.fromkeys(SCORES, 0.0)
    recall, precision = overlap(body, article.text)
    return {
        "page": page.name,
        "recall": round(recall, 3),
        "precision": round(precision, 3),
        "title": round(overlap(title, article.title)[0], 3),
        "date": float(bool(day) and article.published == day),
        "extracted_title": article.title,
        "extracted_date": article.published,
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
        scores = "  ".join(f"{k} {float(row[k]):.3f}" for k in SCORES)  # type: ignore[arg-type]
        print(f"{row['page']:<16} {scores}  {row.get('error') or row.get('extracted_date')}")
    means = {k: round(sum(float(r[k]) for r in rows) / len(rows), 3) for k in SCORES}  # type: ignore[arg-type]
    print(f"{len(rows)} pages, means: " + ", ".join(f"{k} {v:.3f}" for k, v in means.items()))
    if args.out:
        args.out.write_text(json.dumps({"pages": rows, "means": means}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
