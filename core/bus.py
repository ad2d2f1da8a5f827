"""In-process event bus for embedded mode, with the delivery semantics of a Knative Broker.

Events are routed by :mod:`core.routing` to the registered handler on that function's own worker
pool. A handler that raises is redelivered with exponential backoff up to ``max_attempts`` times,
then handed to the dead-letter callback — exactly what the Broker's ``delivery`` spec does, so code
that is correct here is correct on Knative.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from core.events import StorageEvent
from core.routing import ROUTES, route_for
from core.settings import Buckets

log = logging.getLogger(__name__)

Handler = Callable[[StorageEvent], None]
DeadLetter = Callable[[str, StorageEvent, BaseException], None]


class EventBus:
    def __init__(
        self,
        buckets: Buckets,
        *,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        concurrency: dict[str, int] | None = None,
        dead_letter: DeadLetter | None = None,
    ) -> None:
        self.buckets = buckets
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.dead_letter = dead_letter
        self._handlers: dict[str, Handler] = {}
        # MinerU is memory-hungry: like its Knative service (containerConcurrency 1) it runs one at a time.
        limits = {"parse": 1, **(concurrency or {})}
        self._pools = {
            route.function: ThreadPoolExecutor(
                max_workers=limits.get(route.function, 2), thread_name_prefix=f"fn-{route.function}"
            )
            for route in ROUTES
        }
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._closed = threading.Event()

    def register(self, function: str, handler: Handler) -> None:
        self._handlers[function] = handler

    def publish(self, event: StorageEvent) -> None:
        route = route_for(event.bucket, event.name, self.buckets)
        if route is None or not event.finalized or route.function not in self._handlers:
            return
        self._submit(route.function, event, attempt=1)

    def _submit(self, function: str, event: StorageEvent, attempt: int) -> None:
        if self._closed.is_set():
            return
        with self._lock:
            future = self._pools[function].submit(self._deliver, function, event, attempt)
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)
            self._idle.notify_all()

    def _deliver(self, function: str, event: StorageEvent, attempt: int) -> None:
        try:
            self._handlers[function](event)
        except Exception as exc:
            if attempt >= self.max_attempts:
                log.error(
                    "%s gave up on %s/%s after %d attempts: %s",
                    function,
                    event.bucket,
                    event.name,
                    attempt,
                    exc,
                )
                if self.dead_letter is not None:
                    self.dead_letter(function, event, exc)
                return
            delay = self.backoff_seconds * 2 ** (attempt - 1)
            log.warning(
                "%s failed on %s/%s (attempt %d, retry in %.1fs): %s",
                function,
                event.bucket,
                event.name,
                attempt,
                delay,
                exc,
            )
            self._schedule_retry(function, event, attempt + 1, delay)

    def _schedule_retry(self, function: str, event: StorageEvent, attempt: int, delay: float) -> None:
        # A timer keeps the retry counted as pending, so wait_idle() does not return in the gap.
        placeholder: Future[None] = Future()
        with self._lock:
            self._pending.add(placeholder)

        def fire() -> None:
            try:
                self._submit(function, event, attempt)
            finally:
                placeholder.set_result(None)
                self._done(placeholder)

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        timer.start()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no delivery is queued, running or waiting to retry; False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._pending, timeout=timeout)

    def close(self) -> None:
        self._closed.set()
        for pool in self._pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
