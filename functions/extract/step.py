"""The extract step: ``document.json`` lands → the project's ontology is applied → result and graphs.

Writes ``extraction/{project}/{file}/v{version}/graph.ttl``, ``graph.jsonld`` and, last, ``result.json``;
indexes every value in Postgres; records LLM usage (also when the run fails, e.g. over budget). The LLM
extractor runs when ``DEEPSEEK_API_KEY`` is set, the offline one otherwise. Results are keyed by ontology
version, so re-extracting with a new version never overwrites the old.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from core import extraction_queries, keys, queries
from core.context import AppContext
from core.errors import InvalidInput, NotFound
from core.events import StorageEvent
from core.extraction_queries import UsageRecord
from core.ontology import Ontology, load_ontology
from core.steps import Outcome, StepInput, StepResult
from functions.extract.graph import build_graph, file_iri, serialise
from functions.extract.offline import extract_offline
from functions.extract.result import value_rows

STEP = "extract"
GRAPH_TURTLE = "graph.ttl"
GRAPH_JSONLD = "graph.jsonld"


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
    document = read_document(ctx.store.get(ctx.settings.buckets.documents, event.name))
    if ctx.settings.llm.enabled:
        result = _extract_with_llm(ctx, ref, document, ontology, version)
    else:
        result = extract_offline(document, ontology)
    result["_metadata"].update({"ontology_version": version, "file_id": ref.file_id})
    graph = build_graph(result, ontology, document_iri=file_iri(ref.project_id, ref.file_id))
    turtle, jsonld = serialise(graph)
    prefix = keys.result_prefix(ref, version)
    bucket = ctx.settings.buckets.extraction
    ctx.store.put(bucket, prefix + GRAPH_TURTLE, turtle, "text/turtle")
    ctx.store.put(bucket, prefix + GRAPH_JSONLD, jsonld, "application/ld+json")
    ctx.store.put(
        bucket,
        keys.result_key(ref, version),
        json.dumps(result, ensure_ascii=False, indent=1).encode("utf-8"),
        "application/json",
    )
    meta = result["_metadata"]
    with ctx.db.transaction() as conn:
        extraction_queries.replace_values(
            conn,
            file_id=ref.file_id,
            project_id=ref.project_id,
            ontology_version=version,
            extractor=meta["extractor"],
            rows=value_rows(ontology, result),
        )
        queries.set_file_ontology_version(conn, ref.file_id, version)
        queries.mark_ontology_used(conn, row["project_id"], version)
    metrics: dict[str, Any] = {
        "extractor": meta["extractor"],
        "ontology_version": version,
        "fields": meta["field_count"],
        "filled": meta["filled_count"],
        "empty": meta["empty_count"],
        "invalid": meta["invalid_count"],
        "unverified": meta["unverified_count"],
        "triples": len(graph),
    }
    if "llm" in meta:
        metrics.update({f"llm_{key}": value for key, value in meta["llm"].items()})
    return StepResult(metrics=metrics)


def read_document(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"document.json is not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("blocks"), list):
        raise InvalidInput("document.json has no 'blocks' list; reprocess from 'structure'.")
    return document


def _extract_with_llm(
    ctx: AppContext, ref: keys.FileRef, document: dict[str, Any], ontology: Ontology, version: int
) -> dict[str, Any]:
    # Imported here so that the offline path (and the gateway) never loads the openai SDK.
    from functions.extract.cache import PostgresCache
    from functions.extract.llm import ChatClient
    from functions.extract.llm_extract import LlmExtractor

    usage: list[UsageRecord] = []
    client = ChatClient(ctx.settings.llm)
    try:
        return LlmExtractor(client, PostgresCache(ctx.db), ctx.settings.llm, usage).extract(
            document, ontology
        )
    finally:
        client.close()
        if usage:
            with ctx.db.connect() as conn:
                extraction_queries.record_usage(conn, ref.file_id, str(uuid.uuid4()), version, usage)
