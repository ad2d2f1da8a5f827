"""The structure step: MinerU's manifest lands → ``document.json`` + ``document.md`` in ``documents``.

``document.md`` is written before ``document.json`` because only the latter triggers extraction.
"""

from __future__ import annotations

import json

from core import keys
from core.context import AppContext
from core.errors import InvalidInput
from core.events import StorageEvent
from core.steps import Outcome, StepInput, StepResult
from functions.structure.document import build_document, render_markdown

STEP = "structure"


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
    document = build_document(
        content_list,
        source={
            "manifest": event.name,
            "generation": event.generation,
            "mineru_version": manifest.get("mineru_version"),
            "tier": manifest.get("tier"),
            "page_count": manifest.get("page_count"),
        },
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
    return StepResult(metrics={"blocks": len(document["blocks"]), "sections": len(document["sections"])})
