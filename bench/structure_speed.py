"""Speed and coverage of the structure step on the shared corpus (MinerU 4 flash output of ../shared PDFs).

    python bench/structure_speed.py [--cache DIR] [--repeat N] [--chunk-tokens N]

Parses every shared PDF that the flash tier can read (once; content lists are cached in DIR, default
/tmp/pdfonto-bench-structure) and then times ``build_document`` alone — the step's pure-Python work, without
storage I/O — with the PDF's lines (what the step does) and without. Prints pages/s and the share of body
characters that reached the chunks.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from core.errors import PermanentError
from functions.structure.document import build_document

SHARED_PDFS = Path(__file__).resolve().parents[2] / "shared" / "data" / "pdfs"
FURNITURE = ("header", "footer", "page_number")


def flash_outputs(cache: Path) -> dict[str, tuple[list[dict[str, Any]], bytes]]:
    from functions.parse.mineru_local import parse_pdf

    cache.mkdir(parents=True, exist_ok=True)
    found: dict[str, tuple[list[dict[str, Any]], bytes]] = {}
    for pdf in sorted(SHARED_PDFS.glob("*.pdf")):
        if pdf.name.startswith("bad_"):
            continue
        cached = cache / f"{pdf.stem}.json"
        if not cached.exists():
            try:
                output = parse_pdf(pdf, tier="flash")
            except PermanentError as exc:
                print(f"skip {pdf.name}: {str(exc)[:80]}…")
                continue
            cached.write_text(json.dumps(output.content_list, ensure_ascii=False), encoding="utf-8")
        found[pdf.stem] = (json.loads(cached.read_text(encoding="utf-8")), pdf.read_bytes())
    return found


def body_coverage(content_list: list[dict[str, Any]], document: dict[str, Any]) -> float:
    furniture_sources = {
        frag["source"]
        for block in document["blocks"]
        if block["type"] in FURNITURE
        for frag in block["fragments"]
    }
    body: Counter[str] = Counter()
    for index, raw in enumerate(content_list):
        if index in furniture_sources:
            continue
        for key in ("text", "table_caption", "table_footnote", "image_caption", "image_footnote"):
            value = raw.get(key)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    body.update(char for char in item if not char.isspace())
    chunked: Counter[str] = Counter()
    for chunk in document["chunks"]:
        chunked.update(char for char in chunk["text"] if not char.isspace())
    total = sum(body.values())
    return sum((body & chunked).values()) / total if total else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/pdfonto-bench-structure"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--chunk-tokens", type=int, default=800)
    args = parser.parse_args()

    outputs = flash_outputs(args.cache)
    pages = 0
    timings: dict[str, list[float]] = {"with PDF lines": [], "text only": []}
    print(
        f"{'document':32} {'pages':>5} {'blocks':>6} {'sections':>8} {'chunks':>6} {'ms':>8} {'coverage':>9}"
    )
    for name, (content_list, pdf) in outputs.items():
        document = build_document(content_list, pdf=pdf, chunk_tokens=args.chunk_tokens)
        metadata = document["metadata"]
        pages += metadata["page_count"]
        runs = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            build_document(content_list, pdf=pdf, chunk_tokens=args.chunk_tokens)
            runs.append(time.perf_counter() - started)
        timings["with PDF lines"].append(statistics.median(runs))
        plain = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            build_document(content_list, chunk_tokens=args.chunk_tokens)
            plain.append(time.perf_counter() - started)
        timings["text only"].append(statistics.median(plain))
        print(
            f"{name:32} {metadata['page_count']:5} {metadata['block_count']:6} {metadata['section_count']:8}"
            f" {metadata['chunk_count']:6} {statistics.median(runs) * 1000:8.1f}"
            f" {body_coverage(content_list, document):9.4%}"
        )
    for label, values in timings.items():
        total = sum(values)
        rate = pages / total
        print(
            f"{label}: {pages} pages in {total * 1000:.1f} ms (median of {args.repeat}): {rate:.0f} pages/s"
        )


if __name__ == "__main__":
    main()
