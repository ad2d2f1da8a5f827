"""MinIO webhook → GCS-shaped CloudEvents posted to ``K_SINK`` (functions-framework, HTTP signature).

Run with: functions-framework --source functions/source/main.py --target handle --signature-type http

MinIO retries a failed delivery forever and in order, so the reply decides what happens to its queue:
a body that can never succeed is logged and acknowledged (2xx) so it cannot block the events behind it;
a sink outage answers 5xx so MinIO keeps the event and tries again.
"""

from __future__ import annotations

import hmac
import logging
import threading

import flask
import functions_framework
from flask.typing import ResponseReturnValue

from core import events
from core.errors import InvalidInput
from core.settings import Settings
from functions.http import reply_empty
from functions.source.minio import read_body
from functions.source.sink import Sink, SinkUnavailable

log = logging.getLogger(__name__)

reply_empty()

_state: tuple[Settings, Sink | None] | None = None
_state_lock = threading.Lock()


def _configured() -> tuple[Settings, Sink | None]:
    global _state
    with _state_lock:
        if _state is None:
            settings = Settings.from_env()
            logging.basicConfig(level=settings.log_level)
            sink = Sink(settings.event_sink_url) if settings.event_sink_url else None
            _state = (settings, sink)
        return _state


def authorized(header: str | None, token: str) -> bool:
    """MinIO sends ``Bearer <token>``, or the token verbatim when it already is two words."""
    expected = token if len(token.split()) == 2 else f"Bearer {token}"
    return hmac.compare_digest((header or "").encode(), expected.encode())


@functions_framework.http
def handle(request: flask.Request) -> ResponseReturnValue:
    if request.method in ("GET", "HEAD"):
        # MinIO probes its webhook target with HEAD before it starts delivering; compose probes health.
        return "", 200
    settings, sink = _configured()
    if not settings.minio_webhook_token:
        log.error("MINIO_WEBHOOK_TOKEN is not set: refusing every notification until it is")
        return "MINIO_WEBHOOK_TOKEN is not configured\n", 503
    if not authorized(request.headers.get("Authorization"), settings.minio_webhook_token):
        return "missing or wrong bearer token\n", 401
    try:
        notifications = read_body(request.get_data(), settings.buckets)
    except InvalidInput as exc:
        log.warning("acknowledging a webhook body that can never be delivered: %s", exc)
        return "", 200
    if not notifications:
        return "", 200
    if sink is None:
        log.error("K_SINK is not set (no SinkBinding?): keeping %d event(s) with MinIO", len(notifications))
        return "K_SINK is not configured\n", 503
    for note in notifications:
        event = events.build(note.info, note.kind)
        try:
            sink.send(event)
        except InvalidInput as exc:
            log.error("dropping %s for %s/%s: %s", note.kind, note.info.bucket, note.info.key, exc)
            continue
        except SinkUnavailable as exc:
            # Events already sent before this one are sent again on MinIO's retry; their ids are stable.
            log.warning("sink unavailable, MinIO will retry: %s", exc)
            return "event sink unavailable\n", 503
        log.info("emitted %s %s for %s/%s", note.kind, event["id"], note.info.bucket, note.info.key)
    return "", 200
