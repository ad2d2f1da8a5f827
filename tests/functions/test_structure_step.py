"""The structure function through functions-framework's test client: real Postgres, real object store,
the real ``main.handle`` entry point, GCS-shaped CloudEvents in structured mode."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from flask.testing import FlaskClient
from functions_framework import create_app

from core import events, keys
from core.context import AppContext, build_context, set_context
from core.settings import Settings
from tests.conftest import insert_file
from tests.functions.test_structure import SCHEMA, glued_input

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ctx(settings: Settings) -> Iterator[AppContext]:
    # External events: the test posts each event itself, as the Broker would.
    context = build_context(replace(settings, events_mode="external", structure_chunk_tokens=60))
    previous = set_context(context)
    yield context
    set_context(previous)
    context.close()


@pytest.fixture
def client(ctx: AppContext) -> FlaskClient:
    app = create_app(
        target="handle", source=str(ROOT / "functions" / "structure" / "main.py"), signature_type="cloudevent"
    )
    return app.test_client()


def new_file(ctx: AppContext) -> keys.FileRef:
    with ctx.db.connect() as conn:
        return insert_file(conn, owner="alice", original_name="report.pdf")


def put_mineru_output(ctx: AppContext, ref: keys.FileRef, tmp_path: Path, content_list: Any = None) -> Any:
    """What the parse step leaves behind: the PDF, MinerU's content list and the manifest written last.

    ``content_list`` defaults to flash-style output of the generated PDF (all its lines glued in one block).
    """
    buckets = ctx.settings.buckets
    pdf, glued = glued_input(tmp_path)
    ctx.store.put(buckets.pdf, keys.pdf_key(ref.project_id, ref.file_id), pdf, "application/pdf")
    content_list = glued if content_list is None else content_list
    body = (
        content_list
        if isinstance(content_list, bytes)
        else json.dumps(content_list, ensure_ascii=False).encode()
    )
    ctx.store.put(buckets.mineru, keys.mineru_key(ref, "content_list.json"), body, "application/json")
    manifest = {"tier": "flash", "mineru_version": "4.0.12", "page_count": 1}
    info = ctx.store.put(
        buckets.mineru, keys.mineru_key(ref, keys.MANIFEST), json.dumps(manifest).encode(), "application/json"
    )
    return events.build(info)


def post(client: FlaskClient, event: Any) -> Any:
    headers, body = events.to_http(event)
    return client.post("/", headers=headers, data=body)


def step_row(ctx: AppContext, ref: keys.FileRef) -> dict[str, Any]:
    with ctx.db.connect() as conn:
        row = conn.execute(
            "SELECT status, error, attempts, metrics FROM steps WHERE file_id = %s AND step = 'structure'",
            (ref.file_id,),
        ).fetchone()
    assert row is not None
    return dict(row)


def test_manifest_event_writes_document_and_markdown_once(
    ctx: AppContext, client: FlaskClient, tmp_path: Path
) -> None:
    ref = new_file(ctx)
    event = put_mineru_output(ctx, ref, tmp_path)
    response = post(client, event)
    assert response.status_code == 200 and response.data == b""

    buckets = ctx.settings.buckets
    document = json.loads(ctx.store.get(buckets.documents, keys.document_key(ref)))
    jsonschema.validate(document, SCHEMA)
    assert document["metadata"]["heading_evidence"] == "pdf_lines"
    assert document["metadata"]["chunk_tokens"] == 60
    assert document["metadata"]["source"]["tier"] == "flash"
    assert [(s["numbering"], s["level"]) for s in document["sections"]] == [
        ("一、", 1),
        ("（一）", 2),
        ("（二）", 2),
    ]
    markdown = ctx.store.get(buckets.documents, ref.prefix + "document.md").decode()
    assert "# 一、基本情况\n" in markdown and "## （一）事故单位情况\n" in markdown
    row = step_row(ctx, ref)
    assert row["status"] == "completed" and row["attempts"] == 1
    assert row["metrics"]["sections"] == 3 and row["metrics"]["chunks"] == len(document["chunks"])

    # A redelivered event is acknowledged without running again.
    assert post(client, event).status_code == 200
    assert step_row(ctx, ref)["attempts"] == 1


def test_without_the_original_pdf_the_step_still_runs(
    ctx: AppContext, client: FlaskClient, tmp_path: Path
) -> None:
    ref = new_file(ctx)
    event = put_mineru_output(ctx, ref, tmp_path)
    ctx.store.delete(ctx.settings.buckets.pdf, keys.pdf_key(ref.project_id, ref.file_id))
    assert post(client, event).status_code == 200
    document = json.loads(ctx.store.get(ctx.settings.buckets.documents, keys.document_key(ref)))
    assert document["metadata"]["heading_evidence"] == "text"
    assert [s["numbering"] for s in document["sections"]] == ["一、"]


@pytest.mark.parametrize(
    ("content_list", "reason"),
    [
        (b"{not json", "not valid JSON"),
        ({"type": "text"}, "must be a JSON array"),
        ([1, 2], "must be an object"),
    ],
)
def test_bad_mineru_output_fails_the_step_with_a_reason(
    ctx: AppContext, client: FlaskClient, tmp_path: Path, content_list: Any, reason: str
) -> None:
    ref = new_file(ctx)
    event = put_mineru_output(ctx, ref, tmp_path, content_list)
    response = post(client, event)
    assert response.status_code == 200  # acknowledged: retrying cannot help
    row = step_row(ctx, ref)
    assert row["status"] == "failed" and reason in row["error"]
    with ctx.db.connect() as conn:
        file_row = conn.execute("SELECT status, error FROM files WHERE id = %s", (ref.file_id,)).fetchone()
    assert file_row is not None and file_row["status"] == "failed" and reason in file_row["error"]
