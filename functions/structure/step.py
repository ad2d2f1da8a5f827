"""The structure step: MinerU's manifest lands → ``document.json`` + ``document.md`` in ``documents``.

The original PDF is read too when it is still in the ``pdf`` bucket: its printed lines tell where a heading
glued to a paragraph ends (see :mod:`functions.structure.pdf_lines`). Without it the step still runs, with
text-only heading splitting (``metadata.heading_evidence`` says which). ``document.md`` is written before
``document.json`` because only the latter triggers extraction.
"""

from __future__ import annotations

import json
import logging

from core import keys
from core.context import AppContext
from core.errors import InvalidInput, NotFound
from core.events import StorageEvent
from core.steps import Outcome, StepInput, StepResult
from functions.structure.document import build_document, render_markdown

STEP = "structure"

log = logging.getLogger(__name__)


def handle(ctx: AppContext, event: StorageEvent) -> Outcome:
    ref = keys.parse_file_prefix(event.name)
    item = StepInput(ref.file_id, STEP, event.generation, event.etag)
    return ctx.runtime.run(item, lambda: run(ctx, ref, event))


def run(ctx: AppContext, ref: keys.FileRef, event: StorageEvent) -> StepResult:
    buckets = ctx.settings.buckets
    try:
        manifest = json.loads(ctx.store.get(buckets.mineru, event.name))
        content_list = json.loads(ctx.store.get(buckets.mineru, keys.mineru_key(ref, "content_list.json")))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"MinerU output is not valid JSON: {exc}") from exc
    except NotFound as exc:
        raise InvalidInput(f"MinerU output is incomplete: {exc}") from exc
    if not isinstance(manifest, dict):
        raise InvalidInput("MinerU manifest.json must be a JSON object")
    document = build_document(
        content_list,
        source={
            "manifest": event.name,
            "generation": event.generation,
            "mineru_version": manifest.get("mineru_version"),
            "tier": manifest.get("tier"),
            "page_count": manifest.get("page_count"),
        },
        pdf=_original_pdf(ctx, ref),
        chunk_tokens=ctx.settings.structure_chunk_tokens,
    )
    ctx.store.put(
        buckets.documents,
        ref.prefix + "document.md",
        render_markdown(document).encode("utf-8"),
        "text/markdown; charset=utf-8",
    )
    ctx.store.put(
        buckets.documents,
        keys.document_key(ref),
        json.dumps(document, ensure_ascii=False).encode("utf-8"),
        "application/json",
    )
    metadata = document["metadata"]
    return StepResult(
        metrics={
            "blocks": metadata["block_count"],
            "sections": metadata["section_count"],
            "chunks": metadata["chunk_count"],
            "heading_evidence": metadata["heading_evidence"],
        }
    )


def _original_pdf(ctx: AppContext, ref: keys.FileRef) -> bytes | None:
    """The PDF MinerU parsed, or None when it has been deleted since."""
    name = keys.pdf_key(ref.project_id, ref.file_id)
    try:
        return ctx.store.get(ctx.settings.buckets.pdf, name)
    except NotFound:
        log.info("original PDF %s is gone; splitting headings from text alone", name)
        return None
