from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask

from core import keys
from core.context import AppContext
from tests.gateway.conftest import Api, make_project
from tests.pdfgen import write_pdf


@pytest.fixture
def pdf_bytes(tmp_path: Path) -> bytes:
    return write_pdf(tmp_path / "report.pdf").read_bytes()


def upload(api: Api, project_id: str, payload: bytes, name: str = "report.pdf") -> object:
    data = {"pdf_file": (io.BytesIO(payload), name)}
    return api.post(f"/api/v1/projects/{project_id}/files/", data=data, content_type="multipart/form-data")


def test_upload_stores_the_pdf_and_records_it(alice: Api, context: AppContext, pdf_bytes: bytes) -> None:
    pid = make_project(alice)
    response = upload(alice, pid, pdf_bytes, "../../etc/事故报告\x07.pdf")
    assert response.status_code == 201, response.json
    record = response.json["data"]
    assert record["status"] == "pending"
    assert record["size_bytes"] == len(pdf_bytes)
    assert record["original_name"] == "事故报告_.pdf"
    import hashlib

    assert record["sha256"] == hashlib.sha256(pdf_bytes).hexdigest()
    stored = context.store.get(context.settings.buckets.pdf, keys.pdf_key(pid, record["id"]))
    assert stored == pdf_bytes
    detail = alice.get(f"/api/v1/files/{record['id']}/").json["data"]
    assert detail["steps"] == [] and detail["id"] == record["id"] and detail["usage"] is None


@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        (b"", 400, "empty"),
        (b"<!DOCTYPE html><html><body>nope</body></html>", 400, "not a PDF"),
        (b"%PD", 400, "not a PDF"),
    ],
)
def test_bad_uploads_are_refused(alice: Api, payload: bytes, status: int, fragment: str) -> None:
    pid = make_project(alice)
    response = upload(alice, pid, payload)
    assert response.status_code == status
    assert fragment in response.json["message"]
    assert alice.get(f"/api/v1/projects/{pid}/files/").json["data"]["count"] == 0


def test_missing_field_is_a_400(alice: Api) -> None:
    pid = make_project(alice)
    response = alice.post(
        f"/api/v1/projects/{pid}/files/", data={"other": "x"}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "pdf_file" in response.json["message"]


def test_upload_size_limit_is_enforced(app: Flask, alice: Api, context: AppContext) -> None:
    from dataclasses import replace

    context.settings = replace(context.settings, max_upload_size=200_000)
    app.config["MAX_CONTENT_LENGTH"] = 200_000 + 64 * 1024
    pid = make_project(alice)
    just_over = b"%PDF-1.7\n" + b"0" * 200_000
    response = upload(alice, pid, just_over)
    assert response.status_code == 413 and "limit" in response.json["message"]
    way_over = b"%PDF-1.7\n" + b"0" * 1_000_000
    response = upload(alice, pid, way_over)
    assert response.status_code == 413
    assert response.json["status"] == 413
    assert alice.get(f"/api/v1/projects/{pid}/files/").json["data"]["count"] == 0


def test_list_filters_and_paginates(alice: Api, pdf_bytes: bytes, context: AppContext) -> None:
    pid = make_project(alice)
    ids = [upload(alice, pid, pdf_bytes).json["data"]["id"] for _ in range(3)]
    with context.db.connect() as conn:
        conn.execute("UPDATE files SET status = 'failed', error = 'x' WHERE id = %s", (ids[0],))
    listing = alice.get(f"/api/v1/projects/{pid}/files/?page_size=2").json["data"]
    assert listing["count"] == 3 and len(listing["results"]) == 2
    assert [f["id"] for f in listing["results"]] == ids[::-1][:2]
    failed = alice.get(f"/api/v1/projects/{pid}/files/?status=failed").json["data"]
    assert [f["id"] for f in failed["results"]] == [ids[0]]
    assert alice.get(f"/api/v1/projects/{pid}/files/?status=bogus").status_code == 400
    counts = alice.get(f"/api/v1/projects/{pid}/").json["data"]["file_counts"]
    assert counts == {"pending": 2, "processing": 0, "completed": 0, "failed": 1, "total": 3}


def test_content_is_400_until_completed(alice: Api, pdf_bytes: bytes) -> None:
    pid = make_project(alice)
    fid = upload(alice, pid, pdf_bytes).json["data"]["id"]
    response = alice.get(f"/api/v1/files/{fid}/content/")
    assert response.status_code == 400
    assert "pending" in response.json["message"]


def test_other_user_cannot_see_or_touch_files(alice: Api, bob: Api, pdf_bytes: bytes) -> None:
    pid = make_project(alice)
    fid = upload(alice, pid, pdf_bytes).json["data"]["id"]
    assert upload(bob, pid, pdf_bytes).status_code == 404
    assert bob.get(f"/api/v1/projects/{pid}/files/").status_code == 404
    for call, url in (
        (bob.get, f"/api/v1/files/{fid}/"),
        (bob.get, f"/api/v1/files/{fid}/content/"),
        (bob.delete, f"/api/v1/files/{fid}/"),
        (bob.post, f"/api/v1/files/{fid}/reprocess/"),
    ):
        response = call(url)
        assert response.status_code == 404, url
    assert alice.get(f"/api/v1/files/{fid}/").status_code == 200


def test_delete_removes_record_and_objects(alice: Api, pdf_bytes: bytes, context: AppContext) -> None:
    pid = make_project(alice)
    fid = upload(alice, pid, pdf_bytes).json["data"]["id"]
    ref = keys.FileRef(pid, fid)
    context.store.put(context.settings.buckets.mineru, ref.prefix + "content_list.json", b"[]")
    assert alice.delete(f"/api/v1/files/{fid}/").status_code == 200
    assert alice.get(f"/api/v1/files/{fid}/").status_code == 404
    assert list(context.store.list(context.settings.buckets.pdf, pid)) == []
    assert list(context.store.list(context.settings.buckets.mineru, ref.prefix)) == []


def test_files_of_a_deleted_project_disappear(alice: Api, pdf_bytes: bytes) -> None:
    pid = make_project(alice)
    fid = upload(alice, pid, pdf_bytes).json["data"]["id"]
    alice.delete(f"/api/v1/projects/{pid}/")
    assert alice.get(f"/api/v1/files/{fid}/").status_code == 404
    assert upload(alice, pid, pdf_bytes).status_code == 404


def test_reprocess_needs_the_step_input(alice: Api, pdf_bytes: bytes) -> None:
    pid = make_project(alice)
    fid = upload(alice, pid, pdf_bytes).json["data"]["id"]
    response = alice.post(f"/api/v1/files/{fid}/reprocess/", json={"from_step": "extract"})
    assert response.status_code == 409 and "structure" in response.json["message"]
    assert alice.post(f"/api/v1/files/{fid}/reprocess/", json={"from_step": "nope"}).status_code == 400
    response = alice.post(f"/api/v1/files/{fid}/reprocess/", json={"from_step": "parse"})
    assert response.status_code == 202 and response.json["data"]["status"] == "pending"


def test_presigned_upload_needs_s3(alice: Api) -> None:
    pid = make_project(alice)
    response = alice.post(f"/api/v1/projects/{pid}/uploads/", json={"filename": "a.pdf"})
    assert response.status_code == 400
    assert "S3" in response.json["message"]
