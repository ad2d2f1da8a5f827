"""Direct uploads: the gateway presigns a PUT to the real S3 server; the client uploads without the API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from core.context import build_context
from core.settings import S3Settings, Settings
from gateway import create_app
from tests.gateway.conftest import Api, make_project
from tests.pdfgen import write_pdf


@pytest.fixture
def s3_app(tmp_path: Path, database_url: str, s3_endpoint: str) -> Iterator[Flask]:
    prefix = uuid.uuid4().hex[:8]
    settings = Settings.from_env(
        {
            "BUCKET_PDF": f"{prefix}-pdf",
            "BUCKET_MINERU": f"{prefix}-mineru",
            "BUCKET_DOCUMENTS": f"{prefix}-documents",
            "BUCKET_EXTRACTION": f"{prefix}-extraction",
        },
        data_dir=tmp_path,
        database_url=database_url,
        s3=S3Settings(endpoint=s3_endpoint, access_key="testing", secret_key="testing", region="us-east-1"),
    )
    context = build_context(settings)
    yield create_app(context=context)
    context.close()


def test_presigned_put_lands_in_the_pdf_bucket(s3_app: Flask, tmp_path: Path) -> None:
    alice = Api(s3_app.test_client(), "alice")
    pid = make_project(alice)
    response = alice.post(f"/api/v1/projects/{pid}/uploads/", json={"filename": "现场/报告.pdf"})
    assert response.status_code == 201, response.json
    grant = response.json["data"]
    assert grant["method"] == "PUT" and grant["key"] == f"{pid}/{grant['file']['id']}.pdf"
    assert grant["file"]["status"] == "pending" and grant["file"]["original_name"] == "报告.pdf"
    pdf = write_pdf(tmp_path / "r.pdf").read_bytes()
    assert requests.put(grant["upload_url"], data=pdf, timeout=10).status_code == 200
    context = s3_app.config["PDFONTO"]
    assert context.store.get(grant["bucket"], grant["key"]) == pdf
    listing = alice.get(f"/api/v1/projects/{pid}/files/").json["data"]
    assert [f["id"] for f in listing["results"]] == [grant["file"]["id"]]
    assert s3_app.test_client().get("/ready").json["data"] == {"database": "ok", "storage": "ok"}
