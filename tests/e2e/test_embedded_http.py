"""The whole service in one process, used the way the README shows: over HTTP, as two users."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED
from tests.e2e.conftest import Client
from tests.pdfgen import write_blank_pdf, write_pdf

pytestmark = pytest.mark.slow


def _check_processed(client: Client, file_id: str) -> dict[str, object]:
    detail = client.wait(file_id)
    assert detail["status"] == "completed", detail
    assert [s["step"] for s in detail["steps"]] == ["parse", "structure", "extract"]
    assert all(s["status"] == "completed" and s["seconds"] is not None for s in detail["steps"])
    content = client.call("GET", f"/api/v1/files/{file_id}/content/")
    assert content.status_code == 200
    return dict(content.json()["data"])


def test_generated_report_is_processed_and_private(server: str, tmp_path: Path) -> None:
    alice, bob = Client(server, "alice"), Client(server, "bob")
    project = alice.create_project("报告")
    upload = alice.upload(project, write_pdf(tmp_path / "generated.pdf"))
    assert upload.status_code == 201, upload.text
    file_id = upload.json()["data"]["id"]
    content = _check_processed(alice, file_id)
    markdown = str(content["markdown_text"])
    assert "一、基本情况" in markdown and "高处坠落" in markdown
    result = content["ontology_json"]
    assert isinstance(result, dict) and "_metadata" in result
    assert alice.call("GET", f"/api/v1/files/{file_id}/").json()["data"]["page_count"] == 2

    for method, path in (
        ("GET", f"/api/v1/files/{file_id}/"),
        ("GET", f"/api/v1/files/{file_id}/content/"),
        ("DELETE", f"/api/v1/files/{file_id}/"),
        ("POST", f"/api/v1/files/{file_id}/reprocess/"),
        ("GET", f"/api/v1/projects/{project}/"),
        ("GET", f"/api/v1/projects/{project}/files/"),
    ):
        assert bob.call(method, path).status_code == 404, (method, path)
    assert bob.call("GET", "/api/v1/projects/").json()["data"]["count"] == 0

    again = alice.call("POST", f"/api/v1/files/{file_id}/reprocess/", json={"from_step": "structure"})
    assert again.status_code == 202
    assert alice.wait(file_id)["status"] == "completed"


def test_sample_report(server: str) -> None:
    pdf = SHARED / "data" / "pdfs" / "zh_accident_report_514.pdf"
    if not pdf.exists():
        pytest.skip(f"{pdf} is absent (shared test data is not part of a clone)")
    alice = Client(server, "alice")
    project = alice.create_project("5.14")
    file_id = alice.upload(project, pdf).json()["data"]["id"]
    content = _check_processed(alice, file_id)
    assert "北京地铁" in str(content["markdown_text"])
    assert alice.call("GET", f"/api/v1/files/{file_id}/").json()["data"]["page_count"] == 6


def _generated_bad_files(folder: Path) -> dict[str, Path]:
    good = write_pdf(folder / "good.pdf").read_bytes()
    files = {
        "zero_bytes.pdf": b"",
        "html_named.pdf": b"<!DOCTYPE html><html><body>Not found</body></html>",
        "truncated.pdf": good[: len(good) // 2],
    }
    out = {name: folder / name for name in files}
    for name, payload in files.items():
        out[name].write_bytes(payload)
    out["blank.pdf"] = write_blank_pdf(folder / "blank.pdf", 1)
    out["encrypted.pdf"] = write_pdf(folder / "encrypted.pdf", user_password="secret")
    out["too_many_pages.pdf"] = write_blank_pdf(folder / "too_many_pages.pdf", 120)
    return out


def _shared_bad_files() -> dict[str, Path]:
    folder = SHARED / "data" / "pdfs"
    return {path.name: path for path in sorted(folder.glob("bad_*.pdf"))} if folder.is_dir() else {}


def test_bad_inputs_end_in_a_4xx_or_failed_with_a_reason(server: str, tmp_path: Path) -> None:
    alice = Client(server, "alice")
    project = alice.create_project("bad")
    cases = {**_generated_bad_files(tmp_path), **_shared_bad_files()}
    outcomes: dict[str, str] = {}
    accepted: dict[str, str] = {}
    for name, path in cases.items():
        response = alice.upload(project, path)
        assert response.status_code in (201, 400), (name, response.status_code, response.text)
        body = response.json()
        if response.status_code == 400:
            assert len(body["message"]) > 15, name
            outcomes[name] = f"400: {body['message']}"
        else:
            accepted[name] = body["data"]["id"]
    for name, file_id in accepted.items():
        detail = alice.wait(file_id)
        assert detail["status"] == "failed", (name, detail)
        assert detail["error"] and len(detail["error"]) > 15, (name, detail)
        assert "Traceback" not in detail["error"]
        outcomes[name] = f"failed: {detail['error']}"
    for name in ("zero_bytes.pdf", "html_named.pdf"):
        assert outcomes[name].startswith("400"), outcomes[name]
    assert "page" in outcomes["too_many_pages.pdf"] and "100" in outcomes["too_many_pages.pdf"]
    assert "password" in outcomes["encrypted.pdf"]
    files = alice.call("GET", f"/api/v1/projects/{project}/files/?page_size=100").json()["data"]["results"]
    assert all(f["status"] == "failed" for f in files)
    print("\n".join(f"{name}: {outcome}" for name, outcome in sorted(outcomes.items())))


def test_oversized_upload_is_refused_before_it_is_buffered(server: str, tmp_path: Path) -> None:
    alice = Client(server, "alice")
    project = alice.create_project("big")
    big = tmp_path / "big.pdf"
    with big.open("wb") as fh:
        fh.write(b"%PDF-1.7\n")
        fh.truncate(52_428_800 + 1)
    response = alice.upload(project, big)
    assert response.status_code == 413
    assert response.json()["message"].startswith("The upload is larger than the 50 MB limit")
    listing = alice.call("GET", f"/api/v1/projects/{project}/files/").json()["data"]
    assert listing["count"] == 0
