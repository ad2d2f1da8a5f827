"""functions/source over real HTTP: MinIO webhook bodies in, GCS-shaped CloudEvents out to a real sink."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
import requests

from core import events
from tests.conftest import shared_path
from tests.deploy.services import RecordingSink, service

TOKEN = "s3cr3t-webhook-token"
PROJECT = "0b7f3f3e-6a51-4c35-9d8e-4a0c1f1f2a10"
FILE = "5d0e8a4c-93b2-4d6e-8f0a-1c2b3d4e5f60"


@pytest.fixture(scope="module")
def sink() -> Iterator[RecordingSink]:
    with RecordingSink() as recording:
        yield recording


@pytest.fixture(scope="module")
def source(sink: RecordingSink, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {"MINIO_WEBHOOK_TOKEN": TOKEN, "K_SINK": sink.url + "/broker", "BUCKET_PDF": "uploads"}
    with service("source", env, tmp_path_factory.mktemp("source")) as url:
        yield url


@pytest.fixture(autouse=True)
def clean_sink(sink: RecordingSink) -> None:
    sink.reset()


def post(url: str, body: Any, token: str | None = TOKEN) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(url, data=data, headers=headers, timeout=30)


def record(event_name: str, bucket: str, key: str, **obj: Any) -> dict[str, Any]:
    """A record as current MinIO writes it: the key query-escaped, sizes as numbers."""
    return {
        "eventVersion": "2.0",
        "eventSource": "minio:s3",
        "eventTime": "2026-03-01T08:15:30.123Z",
        "eventName": event_name,
        "responseElements": {"x-amz-id-2": "dd9025bab4ad464b", "content-length": "0"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": quote_plus(key), "sequencer": "189A1B2C3D4E5F60", **obj},
        },
    }


def webhook(*records: dict[str, Any]) -> dict[str, Any]:
    first = records[0]
    key = f"{first['s3']['bucket']['name']}/{first['s3']['object']['key']}"
    return {"EventName": first["eventName"], "Key": key, "Records": list(records)}


def test_real_minio_body_becomes_one_finalized_storage_event(source: str, sink: RecordingSink) -> None:
    body = json.loads(shared_path("data", "events", "minio_webhook_put.json").read_text())
    # The sample's bucket is "images": make it a pipeline bucket by renaming it to this source's pdf bucket.
    body["Records"][0]["s3"]["bucket"]["name"] = "uploads"
    response = post(source, body)
    assert response.status_code == 200 and response.content == b""
    [got] = sink.wait_for(1)
    assert got.path == "/broker"
    assert got.headers["content-type"].startswith("application/cloudevents+json")
    event = got.event()
    obj = body["Records"][0]["s3"]["object"]
    generation = str(int(obj["sequencer"], 16) // 1000)
    assert event["type"] == events.FINALIZED
    assert event["source"] == "//storage.googleapis.com/projects/_/buckets/uploads"
    assert event["subject"] == "objects/myphoto.jpg"
    assert event["bucket"] == "uploads"
    assert event["time"].startswith("2019-09-10T17:41:54")
    assert event["id"] == events.event_id("uploads", "myphoto.jpg", generation)
    data = event.get_data()
    assert data["size"] == "6474" and data["etag"] == obj["eTag"] and data["contentType"] == "image/jpeg"
    assert data["generation"] == generation and data["name"] == "myphoto.jpg"
    parsed = events.parse(event)
    assert (parsed.bucket, parsed.name, parsed.size) == ("uploads", "myphoto.jpg", 6474)


def test_real_minio_body_for_an_unknown_bucket_is_acknowledged(source: str, sink: RecordingSink) -> None:
    body = json.loads(shared_path("data", "events", "minio_webhook_put.json").read_text())
    response = post(source, body)
    assert response.status_code == 200 and response.content == b""
    assert sink.attempts == 0


def test_escaped_keys_come_out_as_written_and_ids_are_stable(source: str, sink: RecordingSink) -> None:
    key = f"{PROJECT}/{FILE}/事故 报告+附件 (1).pdf"
    body = webhook(
        record("s3:ObjectCreated:Put", "uploads", key, size=1234, eTag="abc", contentType="application/pdf")
    )
    assert "%2F" in body["Records"][0]["s3"]["object"]["key"]
    assert post(source, body).status_code == 200
    assert post(source, body).status_code == 200  # MinIO redelivering the same notification
    first, second = (item.event() for item in sink.wait_for(2))
    assert first["subject"] == f"objects/{key}"
    assert first.get_data()["name"] == key
    assert first["id"] == second["id"]


def test_removed_object_becomes_a_deleted_event(source: str, sink: RecordingSink) -> None:
    key = f"{PROJECT}/{FILE}.pdf"
    put = webhook(record("s3:ObjectCreated:CompleteMultipartUpload", "uploads", key, size=9, eTag="e-2"))
    removed = webhook(record("s3:ObjectRemoved:Delete", "uploads", key))
    assert post(source, put).status_code == 200
    assert post(source, removed).status_code == 200
    created, deleted = (item.event() for item in sink.wait_for(2))
    assert created["type"] == events.FINALIZED
    assert deleted["type"] == events.DELETED and deleted["subject"] == f"objects/{key}"
    assert deleted["id"] != created["id"]


def test_several_records_in_one_body_each_become_an_event(source: str, sink: RecordingSink) -> None:
    keys = [f"{PROJECT}/{FILE}/manifest.json", f"{PROJECT}/{FILE}/document.json"]
    body = webhook(
        record("s3:ObjectCreated:Put", "mineru", keys[0], size=10),
        record("s3:ObjectAccessed:Get", "mineru", keys[0]),
        record("s3:ObjectCreated:PutTagging", "mineru", keys[0]),
        record("s3:ObjectCreated:Copy", "documents", keys[1], size=20),
    )
    assert post(source, body).status_code == 200
    got = [item.event() for item in sink.wait_for(2)]
    assert [(e["bucket"], e.get_data()["name"]) for e in got] == [("mineru", keys[0]), ("documents", keys[1])]
    assert sink.attempts == 2


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong", f"Bearer {TOKEN}x", f"bearer  {TOKEN}", TOKEN],
    ids=["missing", "wrong", "longer", "mangled", "no-scheme"],
)
def test_requests_without_the_token_are_refused(source: str, sink: RecordingSink, header: str | None) -> None:
    body = webhook(record("s3:ObjectCreated:Put", "uploads", f"{PROJECT}/{FILE}.pdf", size=1))
    headers = {"Content-Type": "application/json"} | ({"Authorization": header} if header else {})
    response = requests.post(source, data=json.dumps(body), headers=headers, timeout=30)
    assert response.status_code == 401
    assert sink.attempts == 0


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b"\xff\xfe",
        {"EventName": "s3:ObjectCreated:Put"},
        {"Records": [{"eventName": "s3:ObjectCreated:Put", "s3": {"bucket": {"name": "uploads"}}}]},
        {"Records": ["a string"]},
        {"Records": [record("s3:ObjectCreated:Put", "uploads", "x.pdf", size="big")]},
    ],
    ids=["text", "binary", "no-records", "no-object", "record-not-object", "bad-size"],
)
def test_bodies_that_can_never_succeed_are_acknowledged(source: str, sink: RecordingSink, body: Any) -> None:
    response = post(source, body)
    assert response.status_code == 200 and response.content == b""
    assert sink.attempts == 0


def test_sink_outage_answers_5xx_so_minio_keeps_the_event(source: str, sink: RecordingSink) -> None:
    sink.outage = True
    body = webhook(record("s3:ObjectCreated:Put", "uploads", f"{PROJECT}/{FILE}.pdf", size=1))
    response = post(source, body)
    assert response.status_code == 503
    assert sink.attempts == 4  # the first try and three retries
    sink.outage = False
    assert post(source, body).status_code == 200  # MinIO's later retry goes through
    assert len(sink.wait_for(1)) == 1


def test_a_briefly_unavailable_sink_is_retried(source: str, sink: RecordingSink) -> None:
    sink.fail_next = 2
    body = webhook(record("s3:ObjectCreated:Put", "uploads", f"{PROJECT}/{FILE}.pdf", size=1))
    response = post(source, body)
    assert response.status_code == 200
    assert sink.attempts == 3 and len(sink.received) == 1


def test_a_sink_that_rejects_the_event_does_not_block_the_queue(source: str, sink: RecordingSink) -> None:
    sink.replies["/broker"] = (400, b"bad event")
    body = webhook(record("s3:ObjectCreated:Put", "uploads", f"{PROJECT}/{FILE}.pdf", size=1))
    assert post(source, body).status_code == 200
    assert sink.attempts == 1


def test_probes_answer_empty(source: str) -> None:
    for method in ("GET", "HEAD"):
        response = requests.request(method, source, timeout=10)
        assert response.status_code == 200 and response.content == b""


def test_unreachable_or_unset_sink_answers_5xx(tmp_path: Path) -> None:
    body = webhook(record("s3:ObjectCreated:Put", "pdf", f"{PROJECT}/{FILE}.pdf", size=1))
    closed = RecordingSink()  # bound but never serving, then closed: nothing listens on its port
    closed.server.server_close()
    with service("source", {"MINIO_WEBHOOK_TOKEN": TOKEN, "K_SINK": closed.url}, tmp_path) as url:
        assert post(url, body).status_code == 503
    env = {"MINIO_WEBHOOK_TOKEN": TOKEN, "K_SINK": "", "EVENT_SINK_URL": ""}
    with service("source", env, tmp_path) as url:
        assert post(url, body).status_code == 503


def test_unset_token_refuses_everything(tmp_path: Path, sink: RecordingSink) -> None:
    body = webhook(record("s3:ObjectCreated:Put", "pdf", f"{PROJECT}/{FILE}.pdf", size=1))
    with service("source", {"MINIO_WEBHOOK_TOKEN": "", "K_SINK": sink.url}, tmp_path) as url:
        assert post(url, copy.deepcopy(body), token="").status_code == 503
        assert post(url, body, token="anything").status_code == 503
    assert sink.attempts == 0


def test_token_of_two_words_is_sent_verbatim(tmp_path: Path, sink: RecordingSink) -> None:
    body = webhook(record("s3:ObjectCreated:Put", "pdf", f"{PROJECT}/{FILE}.pdf", size=1))
    with service("source", {"MINIO_WEBHOOK_TOKEN": "Token abc123", "K_SINK": sink.url}, tmp_path) as url:
        verbatim = {"Authorization": "Token abc123", "Content-Type": "application/json"}
        assert requests.post(url, data=json.dumps(body), headers=verbatim, timeout=30).status_code == 200
        assert post(url, body, token="Token abc123").status_code == 401  # "Bearer Token abc123"
    assert len(sink.wait_for(1)) == 1
