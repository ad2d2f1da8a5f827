"""Turning one CloudEvent delivery into one step run, the same way on every runtime.

A delivery that can never succeed (not a storage event, a key no step understands) is logged and
acknowledged; anything else a handler raises propagates so the Broker or the bus redelivers it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from core import keys
from core.context import AppContext
from core.errors import InvalidInput, StepBusy
from core.events import StorageEvent
from core.steps import Outcome, StepInput

log = logging.getLogger(__name__)

StepHandler = Callable[[AppContext, StorageEvent], Outcome]


def deliver(ctx: AppContext, handler: StepHandler, event: StorageEvent) -> Outcome | None:
    if not event.finalized:
        return None
    try:
        return handler(ctx, event)
    except InvalidInput as exc:
        if _names_a_file(event.name):
            raise
        log.warning("acknowledging an event no step can use (%s/%s): %s", event.bucket, event.name, exc)
        return None


def dead_letter(ctx: AppContext, step: str, event: StorageEvent, error: BaseException) -> None:
    """Retries are exhausted: the step and its file become ``failed`` with the last error."""
    if isinstance(error, StepBusy):
        # Another worker still holds the lease and will record the outcome itself.
        log.info(
            "%s of %s/%s is still running elsewhere; dropping the duplicate", step, event.bucket, event.name
        )
        return
    try:
        ref = keys.file_ref_of(event.name)
    except InvalidInput:
        log.error("dead-lettered event for unknown object %s/%s: %s", event.bucket, event.name, error)
        return
    item = StepInput(ref.file_id, step, event.generation, event.etag)
    ctx.runtime.fail(item, f"gave up after repeated errors; last error: {error}")


def _names_a_file(name: str) -> bool:
    try:
        keys.file_ref_of(name)
    except InvalidInput:
        return False
    return True


def handle_cloud_event(ctx: AppContext, handler: StepHandler, cloud_event: object) -> Outcome | None:
    """Entry point of every function service: decode the storage event, then :func:`deliver` it.

    An event that is not a storage object event can never be processed: it is logged and acknowledged.
    """
    from core import events

    try:
        event = events.parse(cloud_event)  # type: ignore[arg-type]
    except InvalidInput as exc:
        log.warning("acknowledging an undecodable event: %s", exc)
        return None
    return deliver(ctx, handler, event)
