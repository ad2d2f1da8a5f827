"""The extract step: ``document.json`` lands → the project's ontology is applied → ``result.json``.

Results are keyed by ontology version, so re-extracting with a new version never overwrites the old.
"""

from __future__ import annotations

import json

from core import keys, queries
from core.context import AppContext
from core.errors import InvalidInput, NotFound
from core.events import StorageEvent
from core.ontology import load_ontology
from core.steps import Outcome, StepInput, StepResult
from functions.extract.offline import extract_offline

STEP = "extract"


def handle(ctx: AppContext, event: StorageEvent) -> Outcome:
    ref = keys.parse_file_prefix(event.name)
    item = StepInput(ref.file_id, STEP, event.generation, event.etag)
    return ctx.runtime.run(item, lambda: run(ctx, ref, event))


def run(ctx: AppContext, ref: keys.FileRef, event: StorageEvent) -> StepResult:
    with ctx.db.connect() as conn:
        row = queries.file_for_step(conn, ref.file_id)
        if row is None:
            raise NotFound(f"file {ref.file_id} disappeared during extraction")
        ontology_row = queries.current_ontology(conn, row["project_id"])
    if ontology_row is None:
        raise InvalidInput("The project has no ontology; create a new version and reprocess from 'extract'.")
    ontology = load_ontology(ontology_row["content"])
    version = int(ontology_row["version"])
    try:
        document = json.loads(ctx.store.get(ctx.settings.buckets.documents, event.name))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"document.json is not valid JSON: {exc}") from exc
    result = extract_offline(document, ontology)
    result.setdefault("_metadata", {}).update({"ontology_version": version, "file_id": ref.file_id})
    ctx.store.put(
        ctx.settings.buckets.extraction,
        keys.result_key(ref, version),
        json.dumps(result, ensure_ascii=False, indent=1).encode("utf-8"),
        "application/json",
    )
    with ctx.db.transaction() as conn:
        queries.set_file_ontology_version(conn, ref.file_id, version)
        queries.mark_ontology_used(conn, row["project_id"], version)
    meta = result.get("_metadata", {})
    return StepResult(
        metrics={
            "extractor": "offline",
            "ontology_version": version,
            "fields": meta.get("field_count"),
            "filled": meta.get("filled_count"),
        }
    )
