"""The step runtime and the in-process bus keep at-least-once delivery from duplicating or losing work."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from core.bus import EventBus
from core.db import Database
from core.errors import InvalidInput, StepBusy
from core.events import FINALIZED, StorageEvent
from core.settings import Buckets
from core.steps import Outcome, StepInput, StepResult, StepRuntime, steps_of
from tests.conftest import insert_file


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.close()


@pytest.fixture
def file_id(db: Database) -> str:
    with db.connect() as conn:
        return insert_file(conn).file_id


def _file(db: Database, fid: str) -> dict[str, object]:
    with db.connect() as conn:
        row = conn.execute("SELECT status, error, page_count FROM files WHERE id = %s", (fid,)).fetchone()
    assert row is not None
    return row


def test_same_input_runs_once(db: Database, file_id: str) -> None:
    runtime = StepRuntime(db)
    calls: list[int] = []
    item = StepInput(file_id, "parse", "100", "etag")

    def work() -> StepResult:
        calls.append(1)
        return StepResult(metrics={"pages": 2}, page_count=2)

    assert runtime.run(item, work) is Outcome.DONE
    assert runtime.run(item, work) is Outcome.SKIPPED
    assert calls == [1]
    assert _file(db, file_id) == {"status": "processing", "error": None, "page_count": 2}
    # The same bytes announced under another generation (another producer's numbering) are not new work.
    assert runtime.run(StepInput(file_id, "parse", "1796419825000000", "etag"), work) is Outcome.SKIPPED
    assert calls == [1]
    # A new version of the input object is new work.
    assert runtime.run(StepInput(file_id, "parse", "101", "etag2"), work) is Outcome.DONE
    assert calls == [1, 1]


def test_last_step_completes_the_file(db: Database, file_id: str) -> None:
    runtime = StepRuntime(db)
    for step in ("parse", "structure", "extract"):
        runtime.run(StepInput(file_id, step, "1"), StepResult)
    assert _file(db, file_id)["status"] == "completed"
    with db.connect() as conn:
        assert [s["status"] for s in steps_of(conn, file_id)] == ["completed"] * 3


def test_permanent_error_fails_file_with_reason_and_is_not_retried(db: Database, file_id: str) -> None:
    runtime = StepRuntime(db)
    item = StepInput(file_id, "parse", "1")

    def broken() -> StepResult:
        raise InvalidInput("The PDF is password-protected")

    assert runtime.run(item, broken) is Outcome.FAILED
    assert _file(db, file_id) == {
        "status": "failed",
        "error": "parse: The PDF is password-protected",
        "page_count": None,
    }
    assert runtime.run(item, broken) is Outcome.SKIPPED


def test_unknown_error_propagates_and_the_retry_can_claim(db: Database, file_id: str) -> None:
    runtime = StepRuntime(db)
    item = StepInput(file_id, "parse", "1")

    def flaky() -> StepResult:
        raise ConnectionError("storage hiccup")

    with pytest.raises(ConnectionError):
        runtime.run(item, flaky)
    with db.connect() as conn:
        step = steps_of(conn, file_id)[0]
    assert step["status"] == "pending" and "storage hiccup" in step["error"]
    assert runtime.run(item, StepResult) is Outcome.DONE
    with db.connect() as conn:
        assert steps_of(conn, file_id)[0]["attempts"] == 2


def test_live_lease_makes_a_concurrent_delivery_wait(db: Database, file_id: str) -> None:
    runtime = StepRuntime(db)
    item = StepInput(file_id, "parse", "1")
    inside, release = threading.Event(), threading.Event()

    def slow() -> StepResult:
        inside.set()
        release.wait(10)
        return StepResult()

    worker = threading.Thread(target=runtime.run, args=(item, slow))
    worker.start()
    assert inside.wait(10)
    with pytest.raises(StepBusy):
        runtime.run(item, StepResult)
    release.set()
    worker.join()
    assert runtime.run(item, StepResult) is Outcome.SKIPPED


def test_deleted_file_drops_the_event(db: Database, file_id: str) -> None:
    with db.connect() as conn:
        conn.execute("DELETE FROM files WHERE id = %s", (file_id,))
    assert StepRuntime(db).run(StepInput(file_id, "parse", "1"), StepResult) is Outcome.SKIPPED


def _event(name: str, bucket: str = "pdf") -> StorageEvent:
    return StorageEvent(id="e1", type=FINALIZED, bucket=bucket, name=name, generation="1")


def test_bus_retries_with_backoff_then_dead_letters() -> None:
    dead: list[tuple[str, str]] = []
    bus = EventBus(
        Buckets(),
        max_attempts=3,
        backoff_seconds=0.01,
        dead_letter=lambda fn, ev, exc: dead.append((fn, str(exc))),
    )
    attempts: list[str] = []

    def always_fails(event: StorageEvent) -> None:
        attempts.append(event.name)
        raise RuntimeError("boom")

    bus.register("parse", always_fails)
    bus.publish(_event("p/f.pdf"))
    assert bus.wait_idle(10)
    assert len(attempts) == 3
    assert dead == [("parse", "boom")]
    bus.close()


def test_bus_routes_by_bucket_and_suffix_and_recovers() -> None:
    seen: list[tuple[str, str]] = []
    failures = {"n": 0}
    bus = EventBus(Buckets(), max_attempts=5, backoff_seconds=0.01)

    def structure(event: StorageEvent) -> None:
        failures["n"] += 1
        if failures["n"] < 3:
            raise RuntimeError("transient")
        seen.append(("structure", event.name))

    bus.register("parse", lambda event: seen.append(("parse", event.name)))
    bus.register("structure", structure)
    bus.publish(_event("p/f.pdf"))
    bus.publish(_event("p/f/manifest.json", bucket="mineru"))
    bus.publish(_event("p/f/content_list.json", bucket="mineru"))  # no route: ignored
    bus.publish(_event("p/f.pdf", bucket="mineru"))  # wrong bucket: ignored
    assert bus.wait_idle(10)
    assert sorted(seen) == [("parse", "p/f.pdf"), ("structure", "p/f/manifest.json")]
    bus.close()
