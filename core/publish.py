"""Announcing an existing object again (reprocess): the same CloudEvent a fresh write would produce."""

from __future__ import annotations

import urllib.request

from core import events
from core.context import AppContext
from core.errors import ConfigurationError, TransientError
from core.storage import ObjectInfo


def announce(ctx: AppContext, info: ObjectInfo) -> None:
    """Deliver the finalized event for ``info`` to the bus (embedded) or to ``K_SINK`` (Knative)."""
    headers, body = events.to_http(events.build(info))
    if ctx.bus is not None:
        ctx.bus.publish(events.from_request(headers, body))
        return
    sink = ctx.settings.event_sink_url
    if not sink:
        raise ConfigurationError("cannot re-emit events: set K_SINK (or EVENT_SINK_URL) to the Broker URL")
    request = urllib.request.Request(sink, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    except OSError as exc:
        raise TransientError(f"event sink unreachable: {exc}") from exc
