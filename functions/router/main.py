"""The compose stand-in for a Knative Broker and its Triggers (functions-framework, HTTP signature).

Run with: functions-framework --source functions/router/main.py --target handle --signature-type http

It accepts CloudEvents from functions/source (its ``K_SINK``), answers 202 at once like a Broker ingress,
and delivers each one to the function that :mod:`core.routing` names — through the same
:class:`core.bus.EventBus` embedded mode uses, so routing, retries with exponential backoff and the
dead-letter hand-off are the ones the Broker's ``delivery`` spec gives on Knative. Events wait in memory:
a router restart loses what was queued, which is acceptable for a developer's compose stack only.
"""

from __future__ import annotations

import logging
import threading

import flask
import functions_framework
from cloudevents.http import from_http
from flask.typing import ResponseReturnValue

from core import events
from core.bus import EventBus
from core.errors import InvalidInput
from core.routing import ROUTES
from core.settings import Settings
from functions.http import reply_empty
from functions.router.delivery import Delivery, Forwarder, RouterConfig

log = logging.getLogger(__name__)

reply_empty()

_bus: EventBus | None = None
_bus_lock = threading.Lock()


def _started() -> EventBus:
    global _bus
    with _bus_lock:
        if _bus is None:
            settings = Settings.from_env()
            logging.basicConfig(level=settings.log_level)
            config = RouterConfig.from_env()
            forwarder = Forwarder(config)
            bus = EventBus(
                settings.buckets,
                max_attempts=settings.max_delivery_attempts,
                backoff_seconds=config.backoff_seconds,
                dead_letter=forwarder.dead_letter,
            )
            for route in ROUTES:
                bus.register(route.function, forwarder.handler_for(route.function))
            _bus = bus
        return _bus


@functions_framework.http
def handle(request: flask.Request) -> ResponseReturnValue:
    if request.method in ("GET", "HEAD"):
        return "", 200
    bus = _started()
    body = request.get_data()
    headers = dict(request.headers)
    try:
        cloud_event = from_http(headers, body)
    except Exception as exc:  # the SDK raises several unrelated types for malformed input
        return f"not a CloudEvent: {exc}\n", 400
    try:
        event = events.parse(cloud_event)
    except InvalidInput as exc:
        # A Broker accepts any CloudEvent and simply matches no Trigger with it.
        log.info("no route for event %s: %s", cloud_event["id"], exc)
        return "", 202
    bus.publish(Delivery.of(event, headers, body))
    return "", 202
