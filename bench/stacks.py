"""The whole pipeline to send files through: the embedded stack and the multi-process e2e harness.

:class:`EmbeddedStack` is what ``pdfonto serve`` runs (``pdfonto.embedded.start`` with resume, the gateway on
that context), built in this process on a throw-away data dir and embedded Postgres; uploads go through the
gateway's own upload endpoint in-process (Flask's test client: no socket, no gunicorn).
:class:`HarnessStack` is ``tests/e2e/harness/cluster.py``: every service its own process, uploads over HTTP.
Both read each file's :class:`Timeline` back from their Postgres, whose ``now()`` stamps every row.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from core.routing import STEP_ORDER
from core.steps import Outcome, StepInput
from tests.pdfgen import REPORT_PAGES, write_pdf

USER = "bench"
_TERMINAL = ("completed", "failed")


def distinct_pdfs(folder: Path, tag: str, count: int) -> list[Path]:
    """``count`` two-page reports whose bytes all differ, so no step can treat one as a repeat of another."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        first, second = REPORT_PAGES
        pages = [
            [(12, f"编号 {tag}-{index:03d}"), *first],
            [*second, (12, f"直接经济损失约{100 + index}万元（{tag}）。")],
        ]
        paths.append(write_pdf(folder / f"{tag}-{index:03d}.pdf", pages))
    return paths


@dataclass(frozen=True)
class StepTimes:
    started: datetime  # Postgres now() of the claim transaction
    finished: datetime  # Postgres now() of the completion transaction
    seconds: float  # the handler's own time (StepRuntime: claim done → work returned), a monotonic clock
    attempts: int


@dataclass(frozen=True)
class Timeline:
    """One completed file, on the Postgres clock except for the handlers' own seconds.

    ``files.completed_at`` is stamped in the same transaction as the last step's ``finished_at``, so
    upload → first claim, each step's span and the handoffs between steps add up to the wall exactly.
    """

    file_id: str
    created: datetime  # the upload's INSERT of the file row (body already received and spooled)
    completed: datetime
    pages: int
    steps: dict[str, StepTimes]

    @property
    def wall(self) -> float:
        return (self.completed - self.created).total_seconds()

    @property
    def work(self) -> float:
        return sum(step.seconds for step in self.steps.values())

    @property
    def overhead(self) -> float:
        return self.wall - self.work

    @property
    def to_first_step(self) -> float:
        return (self.steps[STEP_ORDER[0]].started - self.created).total_seconds()

    def handoff(self, before: str, after: str) -> float:
        """Previous step's completion recorded → next step's claim began (negative when they overlap)."""
        return (self.steps[after].started - self.steps[before].finished).total_seconds()

    @property
    def bookkeeping(self) -> float:
        """Time inside each step's span that is not its handler: the claim and completion transactions."""
        return sum(
            (step.finished - step.started).total_seconds() - step.seconds for step in self.steps.values()
        )

    @property
    def retries(self) -> int:
        return sum(step.attempts - 1 for step in self.steps.values())


def read_timelines(conn: psycopg.Connection[dict[str, Any]], file_ids: Iterable[str]) -> list[Timeline]:
    """The files' timelines, in the order given; a file that did not complete every step is an error."""
    ids = list(file_ids)
    rows = conn.execute(
        "SELECT f.id::text AS id, f.status, f.error, f.created_at, f.completed_at, f.page_count,"
        " s.step, s.status AS step_status, s.started_at, s.finished_at, s.attempts,"
        " (s.metrics->>'seconds')::float AS seconds"
        " FROM files f LEFT JOIN steps s ON s.file_id = f.id WHERE f.id = ANY(%s::uuid[])",
        (ids,),
    ).fetchall()
    by_file: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_file.setdefault(row["id"], []).append(row)
    timelines = []
    for file_id in ids:
        found = by_file.get(file_id, [])
        steps = {
            row["step"]: StepTimes(row["started_at"], row["finished_at"], row["seconds"], row["attempts"])
            for row in found
            if row["step_status"] == "completed"
        }
        if not found or found[0]["status"] != "completed" or set(steps) != set(STEP_ORDER):
            state = {row["step"]: row["step_status"] for row in found}
            error = found[0]["error"] if found else "no file row"
            raise RuntimeError(f"file {file_id} did not complete: {error} (steps {state})")
        first = found[0]
        timelines.append(
            Timeline(file_id, first["created_at"], first["completed_at"], first["page_count"] or 0, steps)
        )
    return timelines


def quiet_logs() -> None:
    """Warnings only: per-request and per-step INFO lines would bury the section's output."""
    logging.basicConfig(level=logging.WARNING)
    for name in ("pgserver", "werkzeug", "botocore", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


class EmbeddedStack:
    """``pdfonto serve``'s process: gateway, bus and the three steps sharing one context and Postgres."""

    def __init__(self, root: Path) -> None:
        from core.db import stop_embedded
        from core.settings import Settings
        from gateway import create_app
        from pdfonto.embedded import start

        self.root = root
        self._stop_embedded = stop_embedded
        # An empty environment: the operator's DATABASE_URL, S3 or LLM key must not leak into the figures.
        self.settings = Settings.from_env({}, data_dir=root / "data", log_level="WARNING")
        self.ctx = start(self.settings, resume=True)
        self.app = create_app(context=self.ctx)
        self.outcomes: list[tuple[StepInput, Outcome]] = []
        # (file id, the local parse worker's pid right after its parse), in order; None: the worker was
        # stopped after that document, having reached MINERU_WORKER_MAX_JOBS.
        self.parses: list[tuple[str, int | None]] = []
        self._lock = threading.Lock()
        self.ctx.runtime.subscribe(self._record)
        response = self._client().post("/api/v1/projects/", json={"name": "bench"})
        assert response.status_code == 201, response.get_data(as_text=True)
        self.project = str(response.get_json()["data"]["id"])

    def _client(self) -> Any:
        client = self.app.test_client()
        client.environ_base["HTTP_X_USER_ID"] = USER
        return client

    def _record(self, item: StepInput, outcome: Outcome, reason: str | None) -> None:
        pid = None
        if item.step == "parse" and self.settings.mineru.backend == "local":
            from functions.parse.backends import local_worker

            pid = local_worker(self.settings.mineru.worker_max_jobs).pid
        with self._lock:
            self.outcomes.append((item, outcome))
            if item.step == "parse":
                self.parses.append((item.file_id, pid))

    def upload(self, pdf: Path) -> str:
        """POST the PDF to the gateway's upload endpoint; returns the new file's id."""
        with pdf.open("rb") as fh:
            response = self._client().post(
                f"/api/v1/projects/{self.project}/files/",
                data={"pdf_file": (fh, pdf.name, "application/pdf")},
                content_type="multipart/form-data",
            )
        if response.status_code != 201:
            raise RuntimeError(f"upload answered {response.status_code}: {response.get_data(as_text=True)}")
        return str(response.get_json()["data"]["id"])

    def upload_all(self, pdfs: list[Path], threads: int = 8) -> list[str]:
        """Upload concurrently, as many at a time as ``pdfonto serve`` has request threads (8)."""
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bench-upload") as pool:
            return list(pool.map(self.upload, pdfs))

    def wait_idle(self, timeout: float = 600) -> None:
        """Until no delivery is queued, running or waiting to retry: every uploaded file has settled."""
        assert self.ctx.bus is not None
        if not self.ctx.bus.wait_idle(timeout):
            raise RuntimeError(f"the embedded pipeline was still busy after {timeout:g} s")

    def wait_settled(self, file_id: str, timeout: float = 300) -> None:
        """One file at a time: it has settled when the bus has nothing left to do."""
        self.wait_idle(timeout)

    def timelines(self, file_ids: Iterable[str]) -> list[Timeline]:
        with self.ctx.db.connect() as conn:
            return read_timelines(conn, file_ids)

    def close(self) -> None:
        self.ctx.close()
        self._stop_embedded(self.settings.data_dir)


class HarnessStack:
    """The e2e cluster (``tests/e2e/harness/cluster.py``): one process per service, HTTP between them."""

    def __init__(self, root: Path) -> None:
        from moto.server import ThreadedMotoServer

        from tests.conftest import free_port
        from tests.e2e.harness.cluster import Cluster
        from tests.e2e.harness.postgres import PostgresServer

        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.postgres = PostgresServer()
        self.url: str = self.postgres.url()
        port = free_port()
        self.s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.s3.start()
        try:
            self.cluster = Cluster(root, self.url, f"127.0.0.1:{port}", env={"LOG_LEVEL": "WARNING"})
        except BaseException:
            self.s3.stop()
            self.postgres.remove()
            raise
        self.client = self.cluster.client(USER)
        self.project = self.client.create_project("bench")
        self.conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row)

    def upload(self, pdf: Path) -> str:
        response = self.client.upload(self.project, pdf)
        if response.status_code != 201:
            raise RuntimeError(f"upload answered {response.status_code}: {response.text}")
        return str(response.json()["data"]["id"])

    def wait_settled(self, file_id: str, timeout: float = 300, poll: float = 0.01) -> None:
        """Poll the file's status every ``poll`` seconds until it completed or failed."""
        deadline = time.monotonic() + timeout
        while True:
            row = self.conn.execute("SELECT status FROM files WHERE id = %s", (file_id,)).fetchone()
            if row is not None and row["status"] in _TERMINAL:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"file {file_id} did not settle in {timeout:g} s")
            time.sleep(poll)

    def timelines(self, file_ids: Iterable[str]) -> list[Timeline]:
        return read_timelines(self.conn, file_ids)

    def close(self) -> None:
        self.conn.close()
        try:
            self.cluster.stop()
        finally:
            self.s3.stop()
            self.postgres.remove()
