"""HTTP delivery for the compose router: subscriber calls and the Broker-style dead-letter post."""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

import urllib3
from cloudevents.conversion import to_structured
from cloudevents.http import from_http

from core.bus import Handler
from core.errors import ConfigurationError, TransientError
from core.events import StorageEvent
from core.routing import ROUTES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RouterConfig:
    """Where the router sends events; read once from ``ROUTE_<FUNCTION>_URL`` and ``DEAD_LETTER_URL``."""

    targets: Mapping[str, str]
    dead_letter_url: str | None = None
    backoff_seconds: float = 1.0
    # A parse of a long PDF takes minutes; the call must outlive it, as the Trigger's timeout does.
    timeout_seconds: float = 1900.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RouterConfig:
        env = os.environ if env is None else env
        names = {route.function: f"ROUTE_{route.function.upper()}_URL" for route in ROUTES}
        missing = [name for name in names.values() if not env.get(name)]
        if missing:
            raise ConfigurationError(f"the router needs a URL per function; set {', '.join(missing)}")
        try:
            backoff = float(env.get("ROUTER_BACKOFF_SECONDS", "1.0"))
            timeout = float(env.get("ROUTER_TIMEOUT_SECONDS", "1900"))
        except ValueError as exc:
            raise ConfigurationError(f"ROUTER_BACKOFF_SECONDS/ROUTER_TIMEOUT_SECONDS: {exc}") from None
        return cls(
            targets={function: env[name] for function, name in names.items()},
            dead_letter_url=env.get("DEAD_LETTER_URL") or None,
            backoff_seconds=backoff,
            timeout_seconds=timeout,
        )


@dataclass(frozen=True)
class Delivery(StorageEvent):
    """A routed event together with the exact request it arrived in, forwarded unchanged."""

    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @classmethod
    def of(cls, event: StorageEvent, headers: Mapping[str, str], body: bytes) -> Delivery:
        # Hop-by-hop and length headers belong to the incoming connection, not to the event.
        kept = tuple(
            (name, value)
            for name, value in headers.items()
            if name.lower() == "content-type" or name.lower().startswith("ce-")
        )
        values = {f.name: getattr(event, f.name) for f in fields(StorageEvent)}
        return cls(**values, headers=kept, body=body)


class DeliveryFailed(TransientError):
    """The subscriber did not take the event; kept for the dead-letter extensions."""

    def __init__(self, destination: str, status: int, data: bytes, reason: str) -> None:
        super().__init__(f"{destination} answered HTTP {status}: {reason}")
        self.destination = destination
        self.status = status
        self.data = data


class Forwarder:
    def __init__(self, config: RouterConfig) -> None:
        self.config = config
        self._http = urllib3.PoolManager(retries=False)

    def handler_for(self, function: str) -> Handler:
        url = self.config.targets[function]

        def deliver(event: StorageEvent) -> None:
            assert isinstance(event, Delivery)
            self._post(url, event)

        return deliver

    def _post(self, url: str, event: Delivery) -> None:
        try:
            response = self._http.request(
                "POST",
                url,
                body=event.body,
                headers=dict(event.headers),
                timeout=urllib3.Timeout(connect=5.0, read=self.config.timeout_seconds),
            )
        except urllib3.exceptions.HTTPError as exc:
            raise DeliveryFailed(url, 0, b"", f"unreachable: {exc}") from exc
        data = response.data
        if not 200 <= response.status < 300:
            raise DeliveryFailed(url, response.status, data, data[:200].decode("utf-8", "replace"))
        if data and not _is_cloud_event(response.headers, data):
            # What a Broker does with such a reply (knative/eventing#6394): the delivery failed.
            raise DeliveryFailed(url, response.status, data, "non-empty reply that is not a CloudEvent")

    def dead_letter(self, function: str, event: StorageEvent, error: BaseException) -> None:
        """Post the event to ``DEAD_LETTER_URL`` with the extensions a Knative Broker adds."""
        url = self.config.dead_letter_url
        if url is None or not isinstance(event, Delivery):
            log.error(
                "no dead-letter sink; %s gave up on %s/%s: %s", function, event.bucket, event.name, error
            )
            return
        cloud_event = from_http(dict(event.headers), event.body)
        if isinstance(error, DeliveryFailed):
            cloud_event["knativeerrordest"] = error.destination
            cloud_event["knativeerrorcode"] = str(error.status)
            cloud_event["knativeerrordata"] = base64.b64encode(error.data[:1024]).decode()
        else:
            cloud_event["knativeerrordest"] = self.config.targets[function]
            cloud_event["knativeerrordata"] = base64.b64encode(str(error).encode()).decode()
        headers, body = to_structured(cloud_event)
        try:
            response = self._http.request("POST", url, body=body, headers=dict(headers), timeout=30.0)
        except urllib3.exceptions.HTTPError as exc:
            log.error("dead-letter sink %s unreachable for %s: %s", url, event.name, exc)
            return
        if not 200 <= response.status < 300:
            log.error("dead-letter sink %s answered HTTP %d for %s", url, response.status, event.name)


def _is_cloud_event(headers: Mapping[str, str], data: bytes) -> bool:
    try:
        from_http(dict(headers), data)
    except Exception:
        return False
    return True
