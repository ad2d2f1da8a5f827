"""Everything a handler needs, built once per process from :class:`Settings`.

Function services call :func:`get_context` on first event (not at import: functions-framework imports
the module before gunicorn forks). Embedded mode builds one context and shares it with the gateway.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from core import events
from core.bus import EventBus
from core.db import Database, migrate, start_embedded
from core.settings import Settings
from core.steps import StepRuntime
from core.storage import LocalStore, ObjectInfo, ObjectStore, S3Store

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    settings: Settings
    db: Database
    store: ObjectStore
    runtime: StepRuntime
    bus: EventBus | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def on_close(self, closer: Callable[[], None]) -> None:
        self._closers.append(closer)

    def close(self) -> None:
        for closer in self._closers:
            closer()
        if self.bus is not None:
            self.bus.close()
        self.db.close()


class EmittingStore:
    """Wraps a store so every put emits the storage CloudEvent, as MinIO's webhook does in a cluster.

    The event goes through the real structured-mode encoding and decoding, so embedded mode exercises
    the same wire format the functions receive on Knative.
    """

    def __init__(self, inner: ObjectStore, bus: EventBus) -> None:
        self.inner = inner
        self.bus = bus

    def _emit(self, info: ObjectInfo, kind: str = events.FINALIZED) -> None:
        headers, body = events.to_http(events.build(info, kind))
        self.bus.publish(events.from_request(headers, body))

    def ensure_buckets(self, names: tuple[str, ...]) -> None:
        self.inner.ensure_buckets(names)

    def put(
        self, bucket: str, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        info = self.inner.put(bucket, key, data, content_type)
        self._emit(info)
        return info

    def put_file(
        self, bucket: str, key: str, path: Path, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        info = self.inner.put_file(bucket, key, path, content_type)
        self._emit(info)
        return info

    def get(self, bucket: str, key: str) -> bytes:
        return self.inner.get(bucket, key)

    def download(self, bucket: str, key: str, path: Path) -> None:
        self.inner.download(bucket, key, path)

    def stat(self, bucket: str, key: str) -> ObjectInfo:
        return self.inner.stat(bucket, key)

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        return self.inner.list(bucket, prefix)

    def delete(self, bucket: str, key: str) -> None:
        self.inner.delete(bucket, key)

    def presigned_put(self, bucket: str, key: str, expires: timedelta) -> str:
        return self.inner.presigned_put(bucket, key, expires)

    def ping(self) -> None:
        self.inner.ping()


def build_context(settings: Settings, *, run_migrations: bool = True) -> AppContext:
    """Connect to (or start) Postgres and storage; with in-process events, also create the bus."""
    url = settings.database_url or start_embedded(settings.data_dir)
    db = Database(url)
    if run_migrations:
        with db.connect() as conn:
            migrate(conn)
    store: ObjectStore = S3Store(settings.s3) if settings.s3 else LocalStore(settings.data_dir / "objects")
    store.ensure_buckets(settings.buckets.all())
    runtime = StepRuntime(db, lease_seconds=settings.step_lease_seconds)
    bus = None
    if settings.events_mode == "inprocess":
        bus = EventBus(settings.buckets, max_attempts=settings.max_delivery_attempts)
        store = EmittingStore(store, bus)
    return AppContext(settings=settings, db=db, store=store, runtime=runtime, bus=bus)


_context: AppContext | None = None
_context_lock = threading.Lock()


def set_context(ctx: AppContext | None) -> AppContext | None:
    """Make ``ctx`` the process-wide context (None: build from the environment on next use).

    For hosts that build their context themselves, and for tests that drive a function's real entry point
    against their own database and store. Returns the context it replaces.
    """
    global _context
    with _context_lock:
        previous, _context = _context, ctx
        return previous


def get_context() -> AppContext:
    """The process-wide context of a function service, created on first use."""
    global _context
    with _context_lock:
        if _context is None:
            settings = Settings.from_env()
            logging.basicConfig(level=settings.log_level)
            _context = build_context(settings, run_migrations=False)
        return _context
