"""The gateway's dead-letter sink, fed the CloudEvent a Knative Broker posts when retries run out."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import CloudEvent
from flask import Flask
from flask.testing import FlaskClient

from core import events, keys
from core.context import AppContext
from core.steps import StepInput, StepResult
from core.storage import ObjectInfo
from gateway.deadletter import PATH
from tests.pdfgen import write_pdf


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def uploaded_file(client: FlaskClient, tmp_path: Path) -> tuple[str, str]:
    user = {"X-User-ID": "alice"}
    project = client.post("/api/v1/projects/", json={"name": "dl"}, headers=user).json["data"]["id"]
    data = {"pdf_file": (io.BytesIO(write_pdf(tmp_path / "a.pdf").read_bytes()), "a.pdf")}
    response = client.post(
        f"/api/v1/projects/{project}/files/", data=data, headers=user, content_type="multipart/form-data"
    )
    assert response.status_code == 201, response.json
    return str(project), str(response.json["data"]["id"])


def dead_lettered(bucket: str, key: str, **extensions: str) -> tuple[dict[str, str], bytes]:
    event = events.build(ObjectInfo(bucket=bucket, key=key, size=5, etag="e1", generation="42"))
    for name, value in extensions.items():
        event[name] = value
    return events.to_http(event)


def file_detail(client: FlaskClient, file_id: str) -> dict[str, Any]:
    data: dict[str, Any] = client.get(f"/api/v1/files/{file_id}/", headers={"X-User-ID": "alice"}).json[
        "data"
    ]
    return data


def test_exhausted_parse_marks_the_step_and_file_failed_with_the_reason(
    client: FlaskClient, tmp_path: Path
) -> None:
    project, file_id = uploaded_file(client, tmp_path)
    reply = base64.b64encode(b"MemoryError: MinerU ran out of memory").decode()
    headers, body = dead_lettered(
        "pdf",
        keys.pdf_key(project, file_id),
        knativeerrordest="http://parse.pdfonto.svc.cluster.local",
        knativeerrorcode="500",
        knativeerrordata=reply,
    )
    response = client.post(PATH, data=body, headers=headers)
    assert response.status_code == 202 and response.data == b""
    detail = file_detail(client, file_id)
    assert detail["status"] == "failed"
    assert "parse" in detail["error"] and "HTTP 500" in detail["error"]
    assert "MinerU ran out of memory" in detail["error"]
    [step] = [s for s in detail["steps"] if s["step"] == "parse"]
    assert step["status"] == "failed"


def test_binary_mode_and_later_steps_are_understood(client: FlaskClient, tmp_path: Path) -> None:
    project, file_id = uploaded_file(client, tmp_path)
    ref = keys.FileRef(project, file_id)
    event = events.build(ObjectInfo("documents", keys.document_key(ref), 5, "e", "7"))
    event["knativeerrorcode"] = "503"
    headers, body = events.to_http(event, binary=True)
    assert client.post(PATH, data=body, headers=headers).status_code == 202
    detail = file_detail(client, file_id)
    assert detail["status"] == "failed" and detail["error"].startswith("extract:")


def test_a_step_that_completed_meanwhile_is_not_failed(
    client: FlaskClient, context: AppContext, tmp_path: Path
) -> None:
    project, file_id = uploaded_file(client, tmp_path)
    item = StepInput(file_id, "parse", "42", "e1")
    context.runtime.run(item, lambda: StepResult(page_count=1))
    headers, body = dead_lettered("pdf", keys.pdf_key(project, file_id), knativeerrorcode="504")
    assert client.post(PATH, data=body, headers=headers).status_code == 202
    [step] = [s for s in file_detail(client, file_id)["steps"] if s["step"] == "parse"]
    assert step["status"] == "completed"


def test_requests_from_the_user_ingress_are_refused(client: FlaskClient, tmp_path: Path) -> None:
    project, file_id = uploaded_file(client, tmp_path)
    headers, body = dead_lettered("pdf", keys.pdf_key(project, file_id))
    for extra in ({"X-User-ID": "mallory"}, {"X-Auth-Proxy-Secret": "x"}):
        response = client.post(PATH, data=body, headers={**headers, **extra})
        assert response.status_code == 403
        assert "Broker" in response.json["message"]
    assert file_detail(client, file_id)["status"] != "failed"


@pytest.mark.parametrize(
    "body, headers",
    [
        (b"{}", {"Content-Type": "application/json"}),
        (b"not json", {"Content-Type": "application/cloudevents+json"}),
    ],
)
def test_non_cloudevents_are_a_400(client: FlaskClient, body: bytes, headers: dict[str, str]) -> None:
    response = client.post(PATH, data=body, headers=headers)
    assert response.status_code == 400
    assert "CloudEvent" in response.json["message"]


def test_events_no_step_owns_are_logged_and_accepted(client: FlaskClient) -> None:
    headers, body = dead_lettered("extraction", "a/b/v1/result.json")
    assert client.post(PATH, data=body, headers=headers).status_code == 202
    other = CloudEvent({"type": "dev.example.ping", "source": "tests"}, {"x": 1})
    headers, body = events.to_http(other)
    response = client.post(PATH, data=body, headers=headers)
    assert response.status_code == 400 and "storage" in response.json["message"]


def test_a_duplicate_dead_lettered_while_the_step_runs_leaves_it_running(
    client: FlaskClient, context: AppContext, tmp_path: Path
) -> None:
    project, file_id = uploaded_file(client, tmp_path)
    with context.db.connect() as conn:
        conn.execute(
            "INSERT INTO steps (file_id, step, status, lease_until) VALUES (%s, 'parse', 'running',"
            " now() + interval '10 minutes')",
            (file_id,),
        )
    headers, body = dead_lettered("pdf", keys.pdf_key(project, file_id), knativeerrorcode="500")
    assert client.post(PATH, data=body, headers=headers).status_code == 202
    detail = file_detail(client, file_id)
    assert detail["status"] != "failed" and detail["steps"][0]["status"] == "running"
    # Once the lease has expired the worker is presumed dead, and the dead letter does fail the step.
    with context.db.connect() as conn:
        conn.execute(
            "UPDATE steps SET lease_until = now() - interval '1 second' WHERE file_id = %s", (file_id,)
        )
    assert client.post(PATH, data=body, headers=headers).status_code == 202
    assert file_detail(client, file_id)["status"] == "failed"
