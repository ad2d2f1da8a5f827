"""MinIO bucket notifications → the storage events the pipeline understands.

MinIO's webhook posts ``{EventName, Key, Records[]}`` (the S3 event shape). This is the only module that
knows it. Each record names one object version; what matters downstream is which bucket, which key and
which version, so that is all that is kept.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote_plus

from core import events
from core.errors import InvalidInput
from core.settings import Buckets
from core.storage import ObjectInfo

log = logging.getLogger(__name__)

# New content under a key. PutTagging/PutRetention/PutLegalHold are also "ObjectCreated" in MinIO but
# leave the bytes alone, so they must not start the pipeline again.
_CREATED = {
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
}
_REMOVED_PREFIX = "s3:ObjectRemoved:"


@dataclass(frozen=True)
class Notification:
    """One object version that changed: ``kind`` is the CloudEvent type to emit for it."""

    kind: str
    info: ObjectInfo


def read_body(body: bytes, buckets: Buckets) -> list[Notification]:
    """The notifications in a webhook body that concern the pipeline's buckets.

    Raises :class:`InvalidInput` when the body is not a MinIO notification at all. Records of other
    event types or of other buckets are left out (and logged): they are valid, just not ours.
    """
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"webhook body is not JSON: {exc}") from None
    except RecursionError:  # thousands of nested brackets: no notification looks like that
        raise InvalidInput("webhook body nests too deeply to be a MinIO notification") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("Records"), list):
        raise InvalidInput("webhook body has no Records list; is this a MinIO bucket notification?")
    known = set(buckets.all())
    found = []
    for index, record in enumerate(payload["Records"]):
        if not isinstance(record, dict):
            raise InvalidInput(f"Records[{index}] is not an object")
        name = str(record.get("eventName", ""))
        kind = _kind_of(name)
        if kind is None:
            log.info("ignoring MinIO event %s: it does not change an object's content", name)
            continue
        info = _object_of(record, index)
        if info.bucket not in known:
            log.warning(
                "ignoring %s on bucket %r: not one of the pipeline's buckets %s",
                name,
                info.bucket,
                sorted(known),
            )
            continue
        found.append(Notification(kind, info))
    return found


def _kind_of(event_name: str) -> str | None:
    if event_name in _CREATED:
        return events.FINALIZED
    if event_name.startswith(_REMOVED_PREFIX):
        return events.DELETED
    return None


def _object_of(record: dict[str, Any], index: int) -> ObjectInfo:
    try:
        s3 = record["s3"]
        bucket = str(s3["bucket"]["name"])
        obj = s3["object"]
        # MinIO query-escapes the key in Records (space → '+', '/' → '%2F'), as S3 does.
        key = unquote_plus(str(obj["key"]))
    except (KeyError, TypeError) as exc:
        raise InvalidInput(f"Records[{index}] names no bucket/object ({exc!r} missing)") from None
    if not bucket or not key:
        raise InvalidInput(f"Records[{index}] has an empty bucket or object name")
    updated = _event_time(record.get("eventTime"))
    return ObjectInfo(
        bucket=bucket,
        key=key,
        size=_int(obj.get("size"), f"Records[{index}].s3.object.size"),
        etag=str(obj.get("eTag") or ""),
        generation=_generation(obj.get("sequencer"), updated, index),
        content_type=str(obj.get("contentType") or ""),
        updated=updated,
    )


def _generation(sequencer: Any, updated: datetime | None, index: int) -> str:
    """A GCS-style generation (microseconds) that is the same every time this version is reported.

    MinIO's sequencer is the event time in nanoseconds, in hex; redeliveries of one event carry the same
    one, so the CloudEvent id derived from it lets consumers spot duplicates.
    """
    if sequencer:
        try:
            return str(int(str(sequencer), 16) // 1000)
        except ValueError:
            raise InvalidInput(f"Records[{index}] has a malformed sequencer {sequencer!r}") from None
    if updated is not None:
        return str(int(updated.timestamp() * 1_000_000))
    raise InvalidInput(f"Records[{index}] has neither a sequencer nor an eventTime to version the object")


def _event_time(raw: Any) -> datetime | None:
    if not raw:
        return None
    try:
        stamp = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def _int(raw: Any, where: str) -> int:
    if raw is None or raw == "":
        return 0
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise InvalidInput(f"{where} is not a number: {raw!r}") from None
