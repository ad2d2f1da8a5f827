"""The parse step: a PDF in the ``pdf`` bucket becomes MinerU output in the ``mineru`` bucket.

Outputs go to deterministic keys under ``{project}/{file}/`` and ``manifest.json`` is written last:
its arrival is what triggers the structure step, so a half-written parse is never consumed.
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from core import keys
from core.context import AppContext
from core.errors import PermanentError
from core.events import StorageEvent
from core.steps import Outcome, StepInput, StepResult
from functions.parse.mineru_local import MineruOutput, parse_pdf
from functions.parse.pdf_check import inspect_pdf

STEP = "parse"


def handle(ctx: AppContext, event: StorageEvent) -> Outcome:
    ref = keys.parse_pdf_key(event.name)
    item = StepInput(ref.file_id, STEP, event.generation, event.etag)
    return ctx.runtime.run(item, lambda: run(ctx, ref, event))


def run(ctx: AppContext, ref: keys.FileRef, event: StorageEvent) -> StepResult:
    settings = ctx.settings
    with tempfile.TemporaryDirectory(prefix="pdfonto-parse-") as tmp:
        pdf = Path(tmp) / "input.pdf"
        ctx.store.download(settings.buckets.pdf, event.name, pdf)
        info = inspect_pdf(pdf, max_pages=settings.mineru.max_pages)
        started = time.monotonic()
        output = parse_pdf(
            pdf,
            tier=settings.mineru.tier,
            mineru_home=settings.mineru.home,
            log_level=settings.log_level.lower() if settings.log_level == "DEBUG" else None,
        )
        seconds = round(time.monotonic() - started, 3)
    if not any(_has_text(block) for block in output.content_list):
        raise PermanentError(
            f"No text was found on any of the {info.page_count} page(s). If the PDF is a scan, it needs OCR "
            "models; otherwise check that the file is not blank."
        )
    written = write_outputs(ctx, ref, output)
    manifest = {
        "backend": "local",
        "tier": output.tier,
        "mineru_version": output.mineru_version,
        "page_count": output.page_count,
        "text_layer_pages": info.text_pages,
        "pages_without_text": info.pages_without_text,
        "seconds": seconds,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "source": {
            "bucket": event.bucket,
            "name": event.name,
            "generation": event.generation,
            "etag": event.etag,
        },
        "objects": written,
    }
    _put_json(ctx, settings.buckets.mineru, keys.mineru_key(ref, keys.MANIFEST), manifest)
    return StepResult(
        metrics={
            "pages": output.page_count,
            "blocks": len(output.content_list),
            "mineru_seconds": seconds,
            "tier": output.tier,
        },
        page_count=output.page_count,
    )


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
