"""Posting CloudEvents to ``K_SINK`` (the Broker, or the compose router) with retries."""

from __future__ import annotations

import logging

import urllib3
from cloudevents.http import CloudEvent
from urllib3.util import Retry

from core import events
from core.errors import InvalidInput, TransientError

log = logging.getLogger(__name__)

# What a Broker ingress answers while it is starting, overloaded or briefly without a channel.
_RETRY_STATUSES = (404, 408, 429, 500, 502, 503, 504)
# The sink judged the event itself unacceptable. Anything else (401/403 from a misconfigured sink, 5xx…)
# keeps the event with MinIO until the sink is fixed.
_REJECTED = (400, 413, 415, 422)


class SinkUnavailable(TransientError):
    """The sink did not accept the event after the retries; the webhook must answer 5xx."""


class Sink:
    """One sink URL with a pooled connection and a bounded retry budget per event.

    The budget stays well under MinIO's webhook timeout: past it the caller answers 5xx and MinIO,
    which keeps undelivered events in its queue, tries again later.
    """

    def __init__(
        self, url: str, *, retries: int = 3, backoff_factor: float = 0.25, timeout: float = 10.0
    ) -> None:
        self.url = url
        retry = Retry(
            total=retries,
            backoff_factor=backoff_factor,
            backoff_max=2.0,
            status_forcelist=_RETRY_STATUSES,
            allowed_methods=None,  # POSTing the same event twice is safe: its id makes it a duplicate
            raise_on_status=False,
        )
        self._http = urllib3.PoolManager(
            retries=retry, timeout=urllib3.Timeout(connect=min(timeout, 3.0), read=timeout)
        )

    def send(self, event: CloudEvent) -> None:
        """Deliver ``event`` in structured mode.

        Raises :class:`SinkUnavailable` when the sink cannot be reached or keeps failing, and
        :class:`InvalidInput` when it rejects the event itself (4xx): resending it cannot help.
        """
        headers, body = events.to_http(event)
        try:
            response = self._http.request("POST", self.url, body=body, headers=headers)
        except urllib3.exceptions.HTTPError as exc:
            raise SinkUnavailable(f"sink {self.url} unreachable: {exc}") from exc
        status = response.status
        if 200 <= status < 300:
            return
        detail = response.data[:300].decode("utf-8", "replace").strip()
        if status in _REJECTED:
            raise InvalidInput(f"sink {self.url} rejected event {event['id']} with HTTP {status}: {detail}")
        raise SinkUnavailable(f"sink {self.url} answered HTTP {status} after retries: {detail}")
