"""Storage CloudEvents round-trip in both HTTP modes and accept every real producer's shape."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from core import events
from core.errors import InvalidInput
from core.storage import ObjectInfo
from tests.conftest import shared_path

INFO = ObjectInfo(
    bucket="pdf",
    key="p/报告 1.pdf",
    size=1234,
    etag="abc",
    generation="1700000000123456",
    content_type="application/pdf",
    updated=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
)


@pytest.mark.parametrize("binary", [False, True])
def test_round_trip(binary: bool) -> None:
    headers, body = events.to_http(events.build(INFO), binary=binary)
    event = events.from_request(headers, body)
    assert (event.bucket, event.name, event.generation, event.etag, event.size) == (
        "pdf",
        "p/报告 1.pdf",
        "1700000000123456",
        "abc",
        1234,
    )
    assert event.finalized and event.content_type == "application/pdf"


def test_gcs_shape() -> None:
    _headers, body = events.to_http(events.build(INFO))
    payload = json.loads(body)
    assert payload["type"] == "google.cloud.storage.object.v1.finalized"
    assert payload["source"] == "//storage.googleapis.com/projects/_/buckets/pdf"
    assert payload["subject"] == "objects/p/报告 1.pdf"
    assert payload["bucket"] == "pdf"
    assert payload["data"]["size"] == "1234"  # int64 as a string, as GCS sends it


def test_event_id_is_stable_per_object_version() -> None:
    first = events.build(INFO)["id"]
    assert events.build(INFO)["id"] == first
    newer = ObjectInfo(**{**INFO.__dict__, "generation": "1700000000999999"})
    assert events.build(newer)["id"] != first


def test_real_gcs_structured_sample() -> None:
    sample = json.loads(shared_path("data", "events", "gcs_object_finalized.json").read_text())
    event = events.parse(sample)
    assert (event.bucket, event.name, event.generation, event.size) == (
        "sample-bucket",
        "MyFile",
        "96883251",
        0,
    )


def test_real_gcs_binary_sample_with_string_int64() -> None:
    data = shared_path("data", "events", "gcs_object_finalized_data_binary.json").read_bytes()
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-type": events.FINALIZED,
        "content-type": "application/json",
        "ce-source": "//storage.googleapis.com/projects/_/buckets/sample-bucket",
        "ce-subject": "objects/folder/Test.cs",
    }
    event = events.from_request(headers, data)
    assert (event.name, event.generation, event.size) == ("folder/Test.cs", "1587627537231057", 352)


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"content-type": "application/json"}, b"{not json"),
        (
            {"content-type": "application/cloudevents+json"},
            json.dumps(
                {"specversion": "1.0", "id": "1", "source": "x", "type": "com.example.other"}
            ).encode(),
        ),
        (
            {"content-type": "application/cloudevents+json"},
            json.dumps({"specversion": "1.0", "id": "1", "source": "x", "type": events.FINALIZED}).encode(),
        ),
    ],
)
def test_malformed_events_are_invalid_input(headers: dict[str, str], body: bytes) -> None:
    with pytest.raises(InvalidInput):
        events.from_request(headers, body)
