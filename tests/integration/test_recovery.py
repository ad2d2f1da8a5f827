"""Embedded mode loses in-memory events on restart; recovery announces the stalled step's input again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core import keys
from core.context import AppContext, EmittingStore, build_context
from core.events import StorageEvent
from core.recovery import release_orphaned_leases, resume_unfinished
from core.settings import Settings
from core.steps import StepInput, StepResult
from tests.conftest import insert_file


@pytest.fixture
def ctx(settings: Settings) -> Iterator[AppContext]:
    context = build_context(settings)
    yield context
    context.close()


def _stalled_file(ctx: AppContext) -> keys.FileRef:
    with ctx.db.connect() as conn:
        ref = insert_file(conn, size_bytes=5)
        fid = ref.file_id
    assert isinstance(ctx.store, EmittingStore)
    # Written behind the bus's back: the event is "lost", as after a crash.
    ctx.store.inner.put(ctx.settings.buckets.pdf, keys.pdf_key(ref.project_id, fid), b"%PDF-")
    ctx.store.inner.put(ctx.settings.buckets.mineru, keys.mineru_key(ref, keys.MANIFEST), b"{}")
    return ref


def test_stalled_files_get_their_next_step_announced(ctx: AppContext) -> None:
    seen: list[tuple[str, str]] = []
    assert ctx.bus is not None
    ctx.bus.register("parse", lambda e: seen.append(("parse", e.name)))
    ctx.bus.register("structure", lambda e: seen.append(("structure", e.name)))
    fresh, parsed = _stalled_file(ctx), _stalled_file(ctx)
    ctx.runtime.run(StepInput(parsed.file_id, "parse", "1"), StepResult)

    assert sorted(resume_unfinished(ctx, idle_seconds=0)) == sorted([fresh.file_id, parsed.file_id])
    assert ctx.bus.wait_idle(10)
    assert sorted(seen) == [
        ("parse", keys.pdf_key(fresh.project_id, fresh.file_id)),
        ("structure", keys.mineru_key(parsed, keys.MANIFEST)),
    ]
    # Recently touched files are left alone: their events may still be in flight.
    assert resume_unfinished(ctx, idle_seconds=3600) == []


def test_running_steps_are_not_disturbed_until_their_lease_is_released(ctx: AppContext) -> None:
    ref = _stalled_file(ctx)
    with ctx.db.connect() as conn:
        conn.execute(
            "INSERT INTO steps (file_id, step, status, lease_until) VALUES (%s, 'parse', 'running',"
            " now() + interval '1 hour')",
            (ref.file_id,),
        )
    assert resume_unfinished(ctx, idle_seconds=0) == []
    assert release_orphaned_leases(ctx.db) == 1
    assert resume_unfinished(ctx, idle_seconds=0) == [ref.file_id]
    assert ctx.bus is not None and ctx.bus.wait_idle(10)


def test_failed_and_completed_files_are_left_alone(ctx: AppContext) -> None:
    ref = _stalled_file(ctx)
    ctx.runtime.fail(StepInput(ref.file_id, "parse", "1"), "The PDF is password-protected")
    assert resume_unfinished(ctx, idle_seconds=0) == []


def test_an_event_that_is_not_a_storage_event_is_acknowledged(ctx: AppContext) -> None:
    from functions.delivery import handle_cloud_event

    calls: list[StorageEvent] = []
    outcome = handle_cloud_event(ctx, lambda c, e: calls.append(e), {"type": "com.example.ping", "id": "1"})
    assert outcome is None and calls == []
