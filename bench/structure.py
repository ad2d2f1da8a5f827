"""Structure step: pages/s of ``build_document`` on the documents the parse section parsed, with and without
the PDF's printed lines.

The step's own work is timed (``build_document``: blocks, headings, sections, chunks, spans), not storage I/O.
Its input is the flash content list of each born-digital PDF the parse section measures (read from the parse
section's cache, parsed here when absent). The baseline is the same call without the PDF: the text-only path
the step falls back to when the original PDF is unreadable, so the ratio is what reading printed lines costs.
Coverage is the share of body characters (all but header/footer/page number) that reach the chunks.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.parse import BORN_DIGITAL, QUICK, content_list_cache
from bench.report import Options, Section, require_shared, section_main
from bench.stats import Sample, rates, ratios

FURNITURE = ("header", "footer", "page_number")


def content_list(pdf: Path, cache: Path) -> list[dict[str, Any]]:
    cached = cache / f"{pdf.stem}.json"
    if not cached.exists():
        from functions.parse.mineru_local import parse_pdf

        cache.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(parse_pdf(pdf, tier="flash").content_list, ensure_ascii=False))
    loaded: list[dict[str, Any]] = json.loads(cached.read_text(encoding="utf-8"))
    return loaded


def body_coverage(blocks: list[dict[str, Any]], document: dict[str, Any]) -> float:
    furniture = {
        fragment["source"]
        for block in document["blocks"]
        if block["type"] in FURNITURE
        for fragment in block["fragments"]
    }
    body: Counter[str] = Counter()
    for index, raw in enumerate(blocks):
        if index in furniture:
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


def measure(options: Options, section: Section) -> None:
    from functions.structure.document import build_document

    pdfs = require_shared("pdfs")
    names = QUICK if options.quick else BORN_DIGITAL
    cache = content_list_cache()
    inputs = {name: (content_list(pdfs / name, cache), (pdfs / name).read_bytes()) for name in names}
    documents = {name: build_document(blocks, pdf=pdf) for name, (blocks, pdf) in inputs.items()}
    with_lines: dict[str, list[float]] = {name: [] for name in names}
    text_only: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(options.repeat):
        for name, (blocks, pdf) in inputs.items():
            started = time.perf_counter()
            build_document(blocks, pdf=pdf)
            with_lines[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            build_document(blocks)
            text_only[name].append(time.perf_counter() - started)

    rounds = range(options.repeat)
    pages = sum(document["metadata"]["page_count"] for document in documents.values())
    lines_total = Sample.of([sum(runs[i] for runs in with_lines.values()) for i in rounds])
    text_total = Sample.of([sum(runs[i] for runs in text_only.values()) for i in rounds])
    cost = ratios(lines_total.values, text_total.values)
    coverage = {name: body_coverage(inputs[name][0], documents[name]) for name in names}
    table = [
        f"{len(names)} documents ({pages} pages), MinerU flash content lists; rounds: {options.repeat}. "
        "Per-document cells are medians; the totals show median (min–max).",
        "",
        "| document | pages | blocks | sections | chunks | with PDF lines ms | text only ms | coverage |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, document in documents.items():
        meta = document["metadata"]
        table.append(
            f"| {name} | {meta['page_count']} | {meta['block_count']} | {meta['section_count']} "
            f"| {meta['chunk_count']} | {Sample.of(with_lines[name]).median * 1000:.1f} "
            f"| {Sample.of(text_only[name]).median * 1000:.1f} | {coverage[name]:.2%} |"
        )
    lines_ms, text_ms = lines_total.scaled(1000), text_total.scaled(1000)
    lines_rate, text_rate = rates(pages, lines_total), rates(pages, text_total)
    table += [
        f"| **all, ms** | {pages} | | | | {lines_ms.show(0)} | {text_ms.show(0)} | |",
        f"| **all, pages/s** | | | | | {lines_rate.show(0)} | {text_rate.show(0)} | |",
    ]
    section.body = "\n".join(table)
    section.headlines = [
        f"Structure: {lines_rate.median:.0f} pages/s reading the PDF's lines "
        f"({text_rate.median:.0f} text-only); every body character reaches a chunk on "
        f"{sum(value == 1.0 for value in coverage.values())} of {len(coverage)} documents.",
    ]
    section.notes = [
        f"Reading the PDF's printed lines (to split headings glued to their paragraph) costs "
        f"{cost.show()}× the text-only path; the step takes that path only when the PDF is unreadable.",
        f"Lowest body coverage: {min(coverage.values()):.2%} ({min(coverage, key=lambda n: coverage[n])}).",
    ]


if __name__ == "__main__":
    title = "Structure step: pages/s with and without the PDF's lines"
    section_main("structure", title, measure, default_repeat=5)
