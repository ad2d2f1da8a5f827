"""The parse step: a PDF in the ``pdf`` bucket becomes MinerU output in the ``mineru`` bucket.

Outputs go to deterministic keys under ``{project}/{file}/`` and ``manifest.json`` is written last:
its arrival is what triggers the structure step, so a half-written parse is never consumed.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from core import keys
from core.context import AppContext
from core.errors import PermanentError
from core.events import StorageEvent
from core.steps import Outcome, StepInput, StepResult
from functions.parse.backends import ParseRun, parse_document
from functions.parse.mineru_local import MineruOutput
from functions.parse.pdf_check import PdfInfo, inspect_pdf

STEP = "parse"


def handle(ctx: AppContext, event: StorageEvent) -> Outcome:
    ref = keys.parse_pdf_key(event.name)
    item = StepInput(ref.file_id, STEP, event.generation, event.etag)
    return ctx.runtime.run(item, lambda: run(ctx, ref, event))


def run(ctx: AppContext, ref: keys.FileRef, event: StorageEvent) -> StepResult:
    settings = ctx.settings
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pdfonto-parse-") as tmp:
        pdf = Path(tmp) / "input.pdf"
        ctx.store.download(settings.buckets.pdf, event.name, pdf)
        info = inspect_pdf(pdf, max_pages=settings.mineru.max_pages)
        parsed = parse_document(
            pdf,
            info,
            settings.mineru,
            log_level=settings.log_level.lower() if settings.log_level == "DEBUG" else None,
        )
    output = parsed.output
    if not any(_has_text(block) for block in output.content_list):
        raise PermanentError(_no_text_reason(info, output))
    written = write_outputs(ctx, ref, output)
    manifest = build_manifest(event, info, parsed, written, seconds=round(time.monotonic() - started, 3))
    _put_json(ctx, settings.buckets.mineru, keys.mineru_key(ref, keys.MANIFEST), manifest)
    return StepResult(
        metrics={
            "pages": output.page_count,
            "blocks": len(output.content_list),
            "backend": parsed.backend,
            "tier": output.tier,
            "ocr_pages": len(output.ocr_pages),
            "mineru_seconds": parsed.seconds,
            "peak_rss_mb": parsed.peak_rss_mb,
        },
        page_count=output.page_count,
    )


def build_manifest(
    event: StorageEvent, info: PdfInfo, parsed: ParseRun, written: list[str], *, seconds: float
) -> dict[str, Any]:
    """What was parsed, how, and what it produced; written last, as the signal that the output is whole."""
    output = parsed.output
    ocr = set(output.ocr_pages)
    chars = info.text_chars or tuple(0 for _ in range(info.page_count))
    return {
        "backend": parsed.backend,
        "tier": output.tier,
        "mineru_version": output.mineru_version,
        "page_count": output.page_count,
        # Per page: how many characters its text layer has, and whether its text came from OCR instead.
        "pages": [
            {"page_idx": index, "text_layer_chars": count, "ocr": index in ocr}
            for index, count in enumerate(chars)
        ],
        "text_layer_pages": info.text_pages,
        "pages_without_text": info.pages_without_text,
        "ocr_pages": sorted(ocr),
        "seconds": seconds,
        "mineru_seconds": parsed.seconds,
        "peak_rss_mb": parsed.peak_rss_mb,
        "source": {
            "bucket": event.bucket,
            "name": event.name,
            "generation": event.generation,
            "etag": event.etag,
        },
        "objects": written,
    }


def write_outputs(ctx: AppContext, ref: keys.FileRef, output: MineruOutput) -> list[str]:
    """Write everything but the manifest; returns the keys written."""
    bucket = ctx.settings.buckets.mineru
    written = []
    for name, payload in sorted(output.images.items()):
        key = keys.mineru_key(ref, name)
        ctx.store.put(bucket, key, payload, "image/jpeg" if name.endswith((".jpg", ".jpeg")) else "image/png")
        written.append(key)
    for name, value in (("content_list.json", output.content_list), ("middle.json", output.middle_json)):
        written.append(_put_json(ctx, bucket, keys.mineru_key(ref, name), value))
    key = keys.mineru_key(ref, "document.md")
    ctx.store.put(bucket, key, output.markdown.encode("utf-8"), "text/markdown; charset=utf-8")
    written.append(key)
    return written


def _put_json(ctx: AppContext, bucket: str, key: str, value: Any) -> str:
    ctx.store.put(
        bucket, key, json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8"), "application/json"
    )
    return key


def _has_text(block: dict[str, Any]) -> bool:
    if block.get("type") in ("header", "footer", "page_number"):
        return False
    return bool(str(block.get("text") or block.get("table_body") or "").strip())


def _no_text_reason(info: PdfInfo, output: MineruOutput) -> str:
    pages = f"{info.page_count} page(s)"
    if not info.text_pages and output.ocr_pages:
        return (
            f"No text was found in this PDF: none of its {pages} has a text layer and OCR found no text on "
            "them, so the pages look blank (or the scan is unreadable). Upload a PDF with readable content."
        )
    return (
        f"No text was found on any of the {pages}. Check that the file is not blank; if it is a scan, "
        "upload a clearer scan."
    )
