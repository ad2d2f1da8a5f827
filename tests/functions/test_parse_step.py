"""The parse function end to end: CloudEvents through the real functions-framework app, real Postgres, a
LocalStore, MinerU in the isolated worker. Outputs, manifest, redelivery and failures a user can read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from flask.testing import FlaskClient

from core import events, keys
from core.context import AppContext, build_context, set_context
from core.settings import Settings
from core.storage import ObjectInfo
from tests.conftest import ROOT, insert_file, shared_path
from tests.functions.parse_samples import scan_image, write_pages
from tests.pdfgen import REPORT_PAGES, write_pdf


@pytest.fixture(scope="module")
def client() -> FlaskClient:
    app = functions_framework.create_app(
        target="handle", source=str(ROOT / "functions" / "parse" / "main.py"), signature_type="cloudevent"
    )
    return app.test_client()


def make_context(settings: Settings, **mineru: Any) -> AppContext:
    # External events: the manifest landing must not run the structure step inside this test.
    configured = replace(settings, events_mode="external", mineru=replace(settings.mineru, **mineru))
    return build_context(configured)


@pytest.fixture
def ctx(settings: Settings) -> Iterator[AppContext]:
    context = make_context(settings)
    previous = set_context(context)
    yield context
    set_context(previous)
    context.close()


def upload(ctx: AppContext, pdf: Path) -> tuple[keys.FileRef, ObjectInfo]:
    with ctx.db.connect() as conn:
        ref = insert_file(conn, owner="tester", original_name=pdf.name, size_bytes=pdf.stat().st_size)
    info = ctx.store.put_file(
        ctx.settings.buckets.pdf, keys.pdf_key(ref.project_id, ref.file_id), pdf, "application/pdf"
    )
    return ref, info


def deliver(client: FlaskClient, info: ObjectInfo, *, binary: bool) -> None:
    headers, body = events.to_http(events.build(info), binary=binary)
    response = client.post("/", headers=headers, data=body)
    assert response.status_code == 200, response.data
    assert response.data == b""  # the Broker reads a non-empty reply as a failed delivery


def step_row(ctx: AppContext, file_id: str) -> dict[str, Any]:
    with ctx.db.connect() as conn:
        row = conn.execute(
            "SELECT s.status, s.error, s.attempts, s.metrics, f.status AS file_status, f.page_count"
            " FROM steps s JOIN files f ON f.id = s.file_id WHERE s.file_id = %s AND s.step = 'parse'",
            (file_id,),
        ).fetchone()
    assert row is not None
    return dict(row)


def manifest_of(ctx: AppContext, ref: keys.FileRef) -> dict[str, Any]:
    raw = ctx.store.get(ctx.settings.buckets.mineru, keys.mineru_key(ref, keys.MANIFEST))
    manifest: dict[str, Any] = json.loads(raw)
    return manifest


@pytest.mark.slow
def test_structured_event_parses_and_binary_redelivery_is_skipped(
    ctx: AppContext, client: FlaskClient, tmp_path: Path
) -> None:
    pdf = write_pdf(tmp_path / "report.pdf")
    ref, info = upload(ctx, pdf)

    deliver(client, info, binary=False)

    row = step_row(ctx, ref.file_id)
    assert row["status"] == "completed", row
    assert row["page_count"] == 2 and row["metrics"]["backend"] == "local"
    manifest = manifest_of(ctx, ref)
    assert manifest["backend"] == "local" and manifest["tier"] == "flash"
    assert manifest["mineru_version"].startswith("4.")
    assert manifest["page_count"] == 2
    assert [page["ocr"] for page in manifest["pages"]] == [False, False]
    assert all(page["text_layer_chars"] > 50 for page in manifest["pages"])
    assert manifest["ocr_pages"] == [] and manifest["pages_without_text"] == []
    assert manifest["seconds"] > 0 and manifest["peak_rss_mb"] > 100
    assert manifest["source"] == {
        "bucket": "pdf",
        "name": info.key,
        "generation": info.generation,
        "etag": info.etag,
    }
    prefix = ref.prefix
    assert set(manifest["objects"]) >= {
        f"{prefix}content_list.json",
        f"{prefix}middle.json",
        f"{prefix}document.md",
    }
    stored = {obj.key for obj in ctx.store.list(ctx.settings.buckets.mineru, prefix)}
    assert stored == {*manifest["objects"], f"{prefix}manifest.json"}
    content = json.loads(ctx.store.get("mineru", f"{prefix}content_list.json"))
    text = "".join(block.get("text", "") for block in content)
    assert REPORT_PAGES[1][1][1][:10] in text  # Chinese from the second page
    before = ctx.store.stat("mineru", f"{prefix}manifest.json")

    deliver(client, info, binary=True)  # the same object version, delivered again

    after = ctx.store.stat("mineru", f"{prefix}manifest.json")
    assert (after.generation, after.etag) == (before.generation, before.etag)
    assert step_row(ctx, ref.file_id)["attempts"] == 1


@pytest.mark.slow
def test_binary_event_with_a_scanned_page(ctx: AppContext, client: FlaskClient, tmp_path: Path) -> None:
    pdf = write_pages(
        tmp_path / "mixed.pdf",
        [
            "A born-digital cover page.",
            scan_image(["Inspection record", "", "The anchor point was missing."]),
        ],
    )
    ref, info = upload(ctx, pdf)

    deliver(client, info, binary=True)

    assert step_row(ctx, ref.file_id)["status"] == "completed"
    manifest = manifest_of(ctx, ref)
    assert manifest["ocr_pages"] == [1] and manifest["pages_without_text"] == [1]
    assert manifest["pages"][1] == {"page_idx": 1, "text_layer_chars": 0, "ocr": True}
    markdown = ctx.store.get("mineru", keys.mineru_key(ref, "document.md")).decode()
    assert "The anchor point was missing." in markdown


def _assert_failed(ctx: AppContext, ref: keys.FileRef, *fragments: str) -> str:
    row = step_row(ctx, ref.file_id)
    assert row["status"] == "failed" and row["file_status"] == "failed", row
    for fragment in fragments:
        assert fragment in row["error"], row["error"]
    assert list(ctx.store.list("mineru", ref.prefix)) == []
    return str(row["error"])


@pytest.mark.slow
def test_blank_pdf_fails_with_a_no_text_reason(ctx: AppContext, client: FlaskClient, tmp_path: Path) -> None:
    ref, info = upload(ctx, write_pages(tmp_path / "blank.pdf", [None, None]))

    deliver(client, info, binary=False)

    error = _assert_failed(ctx, ref, "No text was found", "OCR found no text", "look blank")
    assert "model" not in error.lower()


@pytest.mark.slow
def test_shared_empty_page_fails_with_a_no_text_reason(ctx: AppContext, client: FlaskClient) -> None:
    ref, info = upload(ctx, shared_path("data", "pdfs", "bad_empty_page.pdf"))

    deliver(client, info, binary=True)

    _assert_failed(ctx, ref, "No text was found", "none of its 1 page(s) has a text layer")


def test_damaged_pdf_fails_before_mineru(ctx: AppContext, client: FlaskClient, tmp_path: Path) -> None:
    whole = write_pdf(tmp_path / "whole.pdf").read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole[: len(whole) // 3])
    ref, info = upload(ctx, cut)

    deliver(client, info, binary=False)

    _assert_failed(ctx, ref, "damaged or incomplete")


@pytest.mark.slow
def test_time_limit_fails_the_file_naming_the_setting(
    settings: Settings, client: FlaskClient, tmp_path: Path
) -> None:
    context = make_context(settings, timeout=0.2)
    previous = set_context(context)
    try:
        pages = [[(12, f"Page {n}: the excavation slope was inspected.")] * 30 for n in range(20)]
        ref, info = upload(context, write_pdf(tmp_path / "long.pdf", pages))
        deliver(client, info, binary=False)
        _assert_failed(context, ref, "time limit (MINERU_TIMEOUT)", "0.2 s")
    finally:
        set_context(previous)
        context.close()


@pytest.mark.slow
def test_memory_ceiling_fails_the_file_naming_the_setting(
    settings: Settings, client: FlaskClient, tmp_path: Path
) -> None:
    # MinerU alone needs more than 60 MB, so the ceiling is hit on any document.
    context = make_context(settings, memory_limit_mb=60)
    previous = set_context(context)
    try:
        ref, info = upload(context, write_pdf(tmp_path / "report.pdf"))
        deliver(client, info, binary=True)
        _assert_failed(context, ref, "more than 60 MB of memory (MINERU_MEMORY_LIMIT_MB")
    finally:
        set_context(previous)
        context.close()
