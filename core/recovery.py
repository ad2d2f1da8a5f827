"""Resuming work whose event was lost: embedded mode keeps events in memory, so a restart drops them.

A Knative Broker or MinIO's queue persists events; the in-process bus cannot. On start-up and then
periodically, every file still ``pending``/``processing`` whose next step is not running under a live
lease gets that step's input announced again. The step runtime makes the repeat harmless.
"""

from __future__ import annotations

import logging
import threading

from core import keys
from core.context import AppContext
from core.db import Database
from core.errors import NotFound
from core.publish import announce
from core.routing import STEP_ORDER, step_input

log = logging.getLogger(__name__)

_UNFINISHED = """
SELECT f.id, f.project_id, f.object_key,
       COALESCE(jsonb_object_agg(s.step, s.status) FILTER (WHERE s.step IS NOT NULL), '{}') AS steps,
       bool_or(s.status = 'running' AND s.lease_until > now()) AS leased
FROM files f LEFT JOIN steps s ON s.file_id = f.id
WHERE f.status IN ('pending', 'processing') AND f.updated_at < now() - make_interval(secs => %s)
GROUP BY f.id
"""


def release_orphaned_leases(db: Database) -> int:
    """Forget leases held by a previous run of this single-process service; returns how many."""
    with db.connect() as conn:
        cursor = conn.execute(
            "UPDATE steps SET status = 'pending', lease_until = NULL WHERE status = 'running'"
        )
        return cursor.rowcount


def resume_unfinished(ctx: AppContext, *, idle_seconds: float = 30) -> list[str]:
    """Re-announce the next step's input of every stalled file; returns the file ids resumed."""
    buckets = ctx.settings.buckets
    with ctx.db.connect() as conn:
        rows = conn.execute(_UNFINISHED, (idle_seconds,)).fetchall()
    resumed = []
    for row in rows:
        if row["leased"]:
            continue
        step = next((name for name in STEP_ORDER if row["steps"].get(name) != "completed"), None)
        if step is None or row["steps"].get(step) == "failed":
            continue
        ref = keys.FileRef(str(row["project_id"]), str(row["id"]))
        try:
            info = ctx.store.stat(*step_input(step, ref, buckets))
        except NotFound:
            continue  # e.g. a presigned upload that has not arrived yet
        log.info("resuming %s of file %s", step, ref.file_id)
        announce(ctx, info)
        resumed.append(ref.file_id)
    return resumed


class Sweeper:
    """Runs :func:`resume_unfinished` every ``interval`` seconds on a daemon thread.

    Only files idle for ``idle_seconds`` are resumed: a file merely waiting in a long queue still has its
    event, and re-announcing it would only add duplicates to that queue.
    """

    def __init__(self, ctx: AppContext, interval: float = 60, idle_seconds: float = 600) -> None:
        self.ctx = ctx
        self.interval = interval
        self.idle_seconds = idle_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                resume_unfinished(self.ctx, idle_seconds=self.idle_seconds)
            except Exception:  # a sweep that fails is retried at the next interval
                log.exception("resuming unfinished files failed")
