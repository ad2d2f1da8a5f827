"""Named SQL of the extract step: LLM usage, the LLM response cache and the extracted-values index."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from core.db import Connection

Row = dict[str, Any]


@dataclass(frozen=True)
class UsageRecord:
    """One LLM request (or response-cache hit) made while extracting a file."""

    category: str
    attempt: int
    model: str
    cache_hit: bool
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int
    latency_ms: int | None
    outcome: str  # valid | invalid | error


# --- usage ----------------------------------------------------------------------------------------------


def record_usage(
    conn: Connection, file_id: str, run_id: str, ontology_version: int, records: Iterable[UsageRecord]
) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO llm_usage (file_id, run_id, ontology_version, category, attempt, model, cache_hit,"
            " prompt_tokens, completion_tokens, cached_prompt_tokens, latency_ms, outcome)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    file_id,
                    run_id,
                    ontology_version,
                    r.category,
                    r.attempt,
                    r.model,
                    r.cache_hit,
                    r.prompt_tokens,
                    r.completion_tokens,
                    r.cached_prompt_tokens,
                    r.latency_ms,
                    r.outcome,
                )
                for r in records
            ],
        )


_USAGE_TOTALS = (
    "count(*) FILTER (WHERE NOT cache_hit) AS calls,"
    " count(*) FILTER (WHERE cache_hit) AS cache_hits,"
    " COALESCE(sum(prompt_tokens), 0) AS prompt_tokens,"
    " COALESCE(sum(completion_tokens), 0) AS completion_tokens,"
    " COALESCE(sum(cached_prompt_tokens), 0) AS cached_prompt_tokens"
)


def usage_for_file(conn: Connection, file_id: str) -> dict[str, Any] | None:
    """Token usage of a file for the file detail: the latest extraction run and all runs together.

    None when the file was never extracted with an LLM. Token counts are what the API billed; cache hits
    cost nothing.
    """
    total = conn.execute(f"SELECT {_USAGE_TOTALS} FROM llm_usage WHERE file_id = %s", (file_id,)).fetchone()
    if total is None or (total["calls"] == 0 and total["cache_hits"] == 0):
        return None
    latest = conn.execute(
        "SELECT run_id, ontology_version, min(model) AS model, min(created_at) AS started_at,"
        f" {_USAGE_TOTALS} FROM llm_usage WHERE file_id = %s AND run_id = ("
        "   SELECT run_id FROM llm_usage WHERE file_id = %s ORDER BY created_at DESC, id DESC LIMIT 1)"
        " GROUP BY run_id, ontology_version",
        (file_id, file_id),
    ).fetchone()
    assert latest is not None
    return {"last_run": _usage_out(latest), "all_runs": _usage_out(total)}


def _usage_out(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {
        key: int(row[key]) for key in ("calls", "cache_hits", "prompt_tokens", "completion_tokens")
    }
    out["cached_prompt_tokens"] = int(row["cached_prompt_tokens"])
    out["total_tokens"] = out["prompt_tokens"] + out["completion_tokens"]
    for key in ("run_id", "ontology_version", "model", "started_at"):
        if key in row:
            out[key] = str(row[key]) if key == "run_id" else row[key]
    return out


# --- response cache --------------------------------------------------------------------------------------


def cached_response(conn: Connection, key: str) -> str | None:
    row = conn.execute(
        "UPDATE llm_cache SET last_hit_at = now() WHERE key = %s RETURNING response", (key,)
    ).fetchone()
    return None if row is None else str(row["response"])


def store_response(conn: Connection, key: str, model: str, response: str, usage: dict[str, int]) -> None:
    conn.execute(
        "INSERT INTO llm_cache (key, model, response, usage) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (key) DO NOTHING",
        (key, model, response, Jsonb(usage)),
    )


# --- extracted values -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueRow:
    category: str
    field: str
    field_id: str
    value: Any
    value_text: str
    status: str  # filled | empty | invalid
    verified: bool
    evidence: list[dict[str, Any]]


def replace_values(
    conn: Connection,
    *,
    file_id: str,
    project_id: str,
    ontology_version: int,
    extractor: str,
    rows: Iterable[ValueRow],
) -> None:
    """Make the index hold exactly ``rows`` for this file and ontology version (idempotent)."""
    with conn.transaction():
        conn.execute(
            "DELETE FROM extracted_values WHERE file_id = %s AND ontology_version = %s",
            (file_id, ontology_version),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO extracted_values (file_id, project_id, ontology_version, category, field,"
                " field_id, value, value_text, status, verified, evidence, extractor)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        file_id,
                        project_id,
                        ontology_version,
                        r.category,
                        r.field,
                        r.field_id,
                        Jsonb(r.value),
                        r.value_text,
                        r.status,
                        r.verified,
                        Jsonb(r.evidence),
                        extractor,
                    )
                    for r in rows
                ],
            )


def values_by_field(
    conn: Connection,
    owner_id: str,
    project_id: str,
    *,
    field_id: str | None,
    category: str | None,
    field: str | None,
    ontology_version: int | None,
    include_empty: bool,
    limit: int,
    offset: int,
) -> tuple[int, list[Row]]:
    """Values of one field across a project's files (ownership checked in the WHERE clause)."""
    where = (
        "v.project_id = %(project)s AND f.owner_id = %(owner)s AND p.deleted_at IS NULL"
        " AND (%(field_id)s::text IS NULL OR v.field_id = %(field_id)s)"
        " AND (%(category)s::text IS NULL OR v.category = %(category)s)"
        " AND (%(field)s::text IS NULL OR v.field = %(field)s)"
        " AND (%(version)s::int IS NULL OR v.ontology_version = %(version)s)"
        " AND (%(empty)s OR v.status <> 'empty')"
    )
    params = {
        "project": project_id,
        "owner": owner_id,
        "field_id": field_id,
        "category": category,
        "field": field,
        "version": ontology_version,
        "empty": include_empty,
        "limit": limit,
        "offset": offset,
    }
    joins = " FROM extracted_values v JOIN files f ON f.id = v.file_id JOIN projects p ON p.id = v.project_id"
    total = conn.execute(f"SELECT count(*) AS n{joins} WHERE {where}", params).fetchone()
    rows = conn.execute(
        "SELECT v.file_id, f.original_name, v.ontology_version, v.category, v.field, v.field_id, v.value,"
        f" v.value_text, v.status, v.verified, v.evidence, v.extractor, v.created_at{joins} WHERE {where}"
        " ORDER BY f.created_at DESC, v.file_id, v.category, v.field LIMIT %(limit)s OFFSET %(offset)s",
        params,
    ).fetchall()
    return (int(total["n"]) if total else 0), rows
