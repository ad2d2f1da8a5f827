"""The step runtime: claim a step with a row lock and a lease, skip repeats, record the outcome.

Delivery is at least once, so every handler runs inside :meth:`StepRuntime.run`:

* the same input version (generation + etag) already completed → skipped, nothing rewritten;
* another worker holds a live lease → :class:`StepBusy` (transient) so the event comes back later;
* :class:`PermanentError` → step and file marked failed with the reason, event acknowledged;
* anything else → recorded as the last error and re-raised, so the bus / Broker redelivers it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from psycopg.types.json import Jsonb

from core.db import Connection, Database
from core.errors import PermanentError, StepBusy
from core.routing import STEP_ORDER

log = logging.getLogger(__name__)


class Outcome(str, Enum):
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class StepInput:
    file_id: str
    step: str
    generation: str
    etag: str = ""


@dataclass
class StepResult:
    """What a step handler reports; metrics end up in ``steps.metrics`` and the file detail."""

    metrics: dict[str, Any] = field(default_factory=dict)
    page_count: int | None = None


Listener = Callable[[StepInput, Outcome, str | None], None]


class StepRuntime:
    def __init__(self, db: Database, *, lease_seconds: int = 1800) -> None:
        self.db = db
        self.lease_seconds = lease_seconds
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` after every step outcome (used for CLI progress)."""
        self._listeners.append(listener)

    def run(self, item: StepInput, work: Callable[[], StepResult]) -> Outcome:
        if not self._claim(item):
            self._notify(item, Outcome.SKIPPED, None)
            return Outcome.SKIPPED
        started = time.monotonic()
        try:
            result = work()
        except PermanentError as exc:
            self.fail(item, str(exc))
            return Outcome.FAILED
        except BaseException as exc:
            self._record_retry(item, f"{type(exc).__name__}: {exc}")
            raise
        result.metrics.setdefault("seconds", round(time.monotonic() - started, 3))
        self._complete(item, result)
        self._notify(item, Outcome.DONE, None)
        return Outcome.DONE

    def _claim(self, item: StepInput) -> bool:
        with self.db.transaction() as conn:
            file = conn.execute(
                "SELECT status FROM files WHERE id = %s FOR UPDATE", (item.file_id,)
            ).fetchone()
            if file is None:
                log.info("file %s no longer exists; dropping %s event", item.file_id, item.step)
                return False
            conn.execute(
                "INSERT INTO steps (file_id, step) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (item.file_id, item.step),
            )
            row = conn.execute(
                "SELECT status, input_generation, input_etag, lease_until > now() AS leased"
                " FROM steps WHERE file_id = %s AND step = %s FOR UPDATE",
                (item.file_id, item.step),
            ).fetchone()
            assert row is not None
            # The same bytes are the same input even when two producers number the version differently
            # (MinIO's webhook derives a generation from its sequencer, a re-announcement from Last-Modified).
            same_input = (bool(item.etag) and row["input_etag"] == item.etag) or (
                row["input_generation"] == item.generation and (row["input_etag"] or "") == item.etag
            )
            if same_input and row["status"] in ("completed", "failed"):
                return False
            if row["status"] == "running" and row["leased"]:
                raise StepBusy(f"{item.step} of file {item.file_id} is running elsewhere")
            conn.execute(
                "UPDATE steps SET status = 'running', attempts = attempts + 1,"
                " lease_until = now() + make_interval(secs => %s), input_generation = %s, input_etag = %s,"
                " started_at = now(), finished_at = NULL, error = NULL"
                " WHERE file_id = %s AND step = %s",
                (self.lease_seconds, item.generation, item.etag, item.file_id, item.step),
            )
            # A newer input invalidates whatever later steps did with the older one.
            later = list(STEP_ORDER[STEP_ORDER.index(item.step) + 1 :])
            conn.execute(
                "UPDATE steps SET status = 'pending', error = NULL, finished_at = NULL"
                " WHERE file_id = %s AND step = ANY(%s)",
                (item.file_id, later),
            )
            conn.execute(
                "UPDATE files SET status = 'processing', error = NULL, completed_at = NULL,"
                " updated_at = now()"
                " WHERE id = %s",
                (item.file_id,),
            )
            return True

    def _complete(self, item: StepInput, result: StepResult) -> None:
        last = item.step == STEP_ORDER[-1]
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE steps SET status = 'completed', finished_at = now(), lease_until = NULL,"
                " metrics = %s WHERE file_id = %s AND step = %s",
                (Jsonb(result.metrics), item.file_id, item.step),
            )
            conn.execute(
                "UPDATE files SET page_count = COALESCE(%s, page_count), updated_at = now(),"
                " status = CASE WHEN %s THEN 'completed' ELSE status END,"
                " completed_at = CASE WHEN %s THEN now() ELSE completed_at END"
                " WHERE id = %s",
                (result.page_count, last, last, item.file_id),
            )

    def fail(self, item: StepInput, reason: str) -> None:
        """Mark the step and its file failed with ``reason`` (a sentence for the user)."""
        log.warning("%s failed for file %s: %s", item.step, item.file_id, reason)
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO steps (file_id, step) SELECT id, %s FROM files WHERE id = %s"
                " ON CONFLICT DO NOTHING",
                (item.step, item.file_id),
            )
            conn.execute(
                "UPDATE steps SET status = 'failed', finished_at = now(), lease_until = NULL, error = %s,"
                " input_generation = COALESCE(input_generation, %s), input_etag = COALESCE(input_etag, %s)"
                " WHERE file_id = %s AND step = %s",
                (reason, item.generation, item.etag, item.file_id, item.step),
            )
            conn.execute(
                "UPDATE files SET status = 'failed', error = %s, updated_at = now() WHERE id = %s",
                (f"{item.step}: {reason}", item.file_id),
            )
        self._notify(item, Outcome.FAILED, reason)

    def _record_retry(self, item: StepInput, error: str) -> None:
        # The lease is released so the redelivery can claim it at once; the error stays visible meanwhile.
        try:
            with self.db.transaction() as conn:
                conn.execute(
                    "UPDATE steps SET status = 'pending', lease_until = NULL, error = %s"
                    " WHERE file_id = %s AND step = %s AND status = 'running'",
                    (error[:2000], item.file_id, item.step),
                )
        except Exception:  # the original error matters more than this bookkeeping
            log.exception("could not record retry of %s for %s", item.step, item.file_id)

    def _notify(self, item: StepInput, outcome: Outcome, reason: str | None) -> None:
        for listener in self._listeners:
            listener(item, outcome, reason)


def step_settled_or_leased(conn: Connection, file_id: str, step: str) -> bool:
    """True when the step completed, or is running under a live lease (its worker will record the outcome)."""
    row = conn.execute(
        "SELECT status = 'completed' OR (status = 'running' AND lease_until > now()) AS busy"
        " FROM steps WHERE file_id = %s AND step = %s",
        (file_id, step),
    ).fetchone()
    return bool(row and row["busy"])


def steps_of(conn: Connection, file_id: str) -> list[dict[str, Any]]:
    """Per-step status and timings for the file detail, in pipeline order."""
    rows = conn.execute(
        "SELECT step, status, attempts, started_at, finished_at, metrics, error"
        " FROM steps WHERE file_id = %s",
        (file_id,),
    ).fetchall()
    by_step = {row["step"]: row for row in rows}
    return [by_step[name] for name in STEP_ORDER if name in by_step]
