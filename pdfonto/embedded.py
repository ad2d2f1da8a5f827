"""Wiring for embedded mode: one process runs the gateway's context and all three functions."""

from __future__ import annotations

from functools import partial

from core.context import AppContext, build_context
from core.events import StorageEvent
from core.recovery import Sweeper, release_orphaned_leases, resume_unfinished
from core.settings import Settings
from functions.delivery import StepHandler, dead_letter, deliver
from functions.extract import step as extract_step
from functions.parse import step as parse_step
from functions.structure import step as structure_step

HANDLERS: dict[str, StepHandler] = {
    "parse": parse_step.handle,
    "structure": structure_step.handle,
    "extract": extract_step.handle,
}


def start(settings: Settings, *, resume: bool = False) -> AppContext:
    """Build the context with in-process events and register every function on the bus.

    With ``resume`` (``pdfonto serve``), files left unfinished by a previous run are picked up again,
    now and then every minute, because in-process events do not survive a restart.
    """
    if settings.events_mode != "inprocess":
        settings = Settings(**{**settings.__dict__, "events_mode": "inprocess"})
    ctx = build_context(settings)
    assert ctx.bus is not None
    for name, handler in HANDLERS.items():
        ctx.bus.register(name, partial(_run, ctx, handler))
    ctx.bus.dead_letter = partial(dead_letter, ctx)
    if resume:
        if settings.database_url is None:
            # Only this process uses the embedded database, so any running step is an orphan of a crash.
            release_orphaned_leases(ctx.db)
        resume_unfinished(ctx, idle_seconds=0)
        if settings.resume_interval_seconds > 0:
            sweeper = Sweeper(ctx, settings.resume_interval_seconds)
            sweeper.start()
            ctx.on_close(sweeper.stop)
    return ctx


def _run(ctx: AppContext, handler: StepHandler, event: StorageEvent) -> None:
    deliver(ctx, handler, event)
