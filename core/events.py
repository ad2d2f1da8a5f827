"""Google Cloud Storage object CloudEvents: build them from an object, read them back from HTTP.

Events are pointers (bucket, name, generation, etag), never payloads. The same shape is produced by
the in-process bus, by ``functions/source`` from MinIO notifications, and by GCS itself, so the functions
run unchanged on Knative and on Cloud Run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent, from_http

from core.errors import InvalidInput
from core.storage import ObjectInfo

FINALIZED = "google.cloud.storage.object.v1.finalized"
DELETED = "google.cloud.storage.object.v1.deleted"
SOURCE_PREFIX = "//storage.googleapis.com/projects/_/buckets/"


@dataclass(frozen=True)
class StorageEvent:
    """The parts of a storage CloudEvent that a step acts on."""

    id: str
    type: str
    bucket: str
    name: str
    generation: str
    etag: str = ""
    size: int = 0
    content_type: str = ""

    @property
    def finalized(self) -> bool:
        return self.type == FINALIZED


def event_id(bucket: str, name: str, generation: str, kind: str = FINALIZED) -> str:
    """Stable id for one object version, so a duplicate delivery carries the same id."""
    raw = f"{kind}\n{bucket}\n{name}\n{generation}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def build(info: ObjectInfo, kind: str = FINALIZED) -> CloudEvent:
    """A GCS-shaped CloudEvent for ``info`` (data = StorageObjectData, int64 fields as strings)."""
    updated = (info.updated or datetime.now(timezone.utc)).astimezone(timezone.utc)
    stamp = updated.isoformat().replace("+00:00", "Z")
    attributes = {
        "id": event_id(info.bucket, info.key, info.generation, kind),
        "type": kind,
        "source": SOURCE_PREFIX + info.bucket,
        "subject": "objects/" + info.key,
        "time": stamp,
        "datacontenttype": "application/json",
        "bucket": info.bucket,
    }
    data = {
        "kind": "storage#object",
        "id": f"{info.bucket}/{info.key}/{info.generation}",
        "bucket": info.bucket,
        "name": info.key,
        "generation": info.generation,
        "metageneration": "1",
        "size": str(info.size),
        "etag": info.etag,
        "contentType": info.content_type,
        "timeCreated": stamp,
        "updated": stamp,
    }
    return CloudEvent(attributes, data)


def parse(event: CloudEvent | Mapping[str, Any]) -> StorageEvent:
    """Read a storage CloudEvent (SDK object or the structured-mode JSON dict).

    Raises :class:`InvalidInput` when it is not a storage object event: such an event can never be
    processed, so it must be acknowledged rather than retried.
    """
    if isinstance(event, CloudEvent):
        attrs: Mapping[str, Any] = event.get_attributes()
        data = event.get_data()
    else:
        attrs, data = event, event.get("data")
    kind = str(attrs.get("type", ""))
    if not kind.startswith("google.cloud.storage.object.v1."):
        raise InvalidInput(f"not a storage object event: type {kind!r}")
    if not isinstance(data, Mapping):
        raise InvalidInput("storage event has no StorageObjectData body")
    bucket = str(
        data.get("bucket") or attrs.get("bucket") or _bucket_from_source(str(attrs.get("source", "")))
    )
    name = data.get("name") or _name_from_subject(str(attrs.get("subject", "")))
    if not bucket or not name:
        raise InvalidInput("storage event names no bucket/object")
    return StorageEvent(
        id=str(attrs.get("id", "")),
        type=kind,
        bucket=bucket,
        name=str(name),
        # int64 fields arrive as JSON strings (proto3 mapping) or numbers depending on the producer.
        generation=str(data.get("generation", "") or ""),
        etag=str(data.get("etag", "") or ""),
        size=int(data.get("size", 0) or 0),
        content_type=str(data.get("contentType", "") or ""),
    )


def from_request(headers: Mapping[str, str], body: bytes) -> StorageEvent:
    """Decode an HTTP delivery in structured or binary mode."""
    try:
        event = from_http(dict(headers), body)
    except Exception as exc:  # the SDK raises several unrelated types for malformed input
        raise InvalidInput(f"not a CloudEvent: {exc}") from exc
    return parse(event)


def to_http(event: CloudEvent, *, binary: bool = False) -> tuple[dict[str, str], bytes]:
    headers, body = to_binary(event) if binary else to_structured(event)
    return dict(headers), body if isinstance(body, bytes) else str(body).encode()


def _bucket_from_source(source: str) -> str:
    return source[len(SOURCE_PREFIX) :] if source.startswith(SOURCE_PREFIX) else ""


def _name_from_subject(subject: str) -> str:
    return subject[len("objects/") :] if subject.startswith("objects/") else ""
