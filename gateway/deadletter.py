"""The Broker's dead-letter sink: an event whose retries are exhausted marks its step ``failed``.

Knative posts the original CloudEvent here with ``knativeerrordest``/``knativeerrorcode``/
``knativeerrordata`` extensions (the compose router adds the same). Without this endpoint a step whose
function keeps crashing would stay ``processing`` forever.

The path lies outside ``/api/``: the user-facing ingress routes only ``/api``, the gateway's Knative
Service is cluster-local, and a request that carries the ingress's identity headers is refused, so a
user cannot fail someone else's file through it.
"""

from __future__ import annotations

import base64
import binascii
import logging

from cloudevents.http import CloudEvent, from_http
from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from core import events, keys
from core.errors import InvalidInput, TransientError
from core.routing import route_for
from core.steps import step_settled_or_leased
from functions.delivery import dead_letter
from gateway.context import ctx
from gateway.errors import ApiError

log = logging.getLogger(__name__)

PATH = "/internal/dead-letter"

blp = Blueprint("deadletter", __name__)


@blp.post(PATH)
def receive() -> ResponseReturnValue:
    if request.headers.get("X-User-ID") or request.headers.get("X-Auth-Proxy-Secret"):
        raise ApiError(403, "The dead-letter sink only accepts events from the Broker inside the cluster.")
    try:
        cloud_event = from_http(dict(request.headers), request.get_data())
    except Exception as exc:  # the SDK raises several unrelated types for malformed input
        raise ApiError(400, f"The dead-letter sink expects a CloudEvent: {exc}") from None
    event = events.parse(cloud_event)
    context = ctx()
    route = route_for(event.bucket, event.name, context.settings.buckets)
    if route is None or not event.finalized:
        log.error("dead-lettered event %s for %s/%s matches no step", event.id, event.bucket, event.name)
        return "", 202
    if _settled_or_running(event.name, route.function):
        # The step completed after the Broker stopped waiting, or a duplicate gave up while the original
        # delivery is still working under its lease: that worker records the outcome. Should it die, the
        # gateway's sweeper announces the step again once the lease has expired.
        log.warning("dead-lettered %s of %s: completed or still running", route.function, event.name)
        return "", 202
    reason = _delivery_error(cloud_event)
    log.error("dead letter: %s of %s/%s: %s", route.function, event.bucket, event.name, reason)
    dead_letter(context, route.function, event, TransientError(reason))
    return "", 202


def _settled_or_running(name: str, step: str) -> bool:
    try:
        file_id = keys.file_ref_of(name).file_id
    except InvalidInput:
        return False
    with ctx().db.connect() as conn:
        return step_settled_or_leased(conn, file_id, step)


def _delivery_error(cloud_event: CloudEvent) -> str:
    """A sentence from the Broker's error extensions: where it failed, the status, the reply."""
    attributes = cloud_event.get_attributes()
    destination = attributes.get("knativeerrordest") or "the function"
    code = attributes.get("knativeerrorcode")
    reply = ""
    raw = attributes.get("knativeerrordata")
    if raw:
        try:
            reply = base64.b64decode(str(raw), validate=True).decode("utf-8", "replace").strip()
        except (binascii.Error, ValueError):
            reply = str(raw)
    status = f" with HTTP {code}" if code else ""
    return f"delivery to {destination} failed{status}" + (f": {reply[:500]}" if reply else "")
