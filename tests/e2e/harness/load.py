"""Many users at once: concurrent uploads, status polling while the pipeline drains, and the figures."""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.conftest import Client

TERMINAL = ("completed", "failed")


@dataclass
class LoadFigures:
    uploads: int
    upload_statuses: dict[int, int]
    upload_seconds: list[float] = field(repr=False)
    status_seconds: list[float] = field(repr=False)
    status_errors: int
    burst_seconds: float  # first upload sent → last upload answered
    drain_seconds: float  # first upload sent → every file completed or failed
    outcomes: dict[str, int]
    file_ids: list[str] = field(repr=False)

    @staticmethod
    def _pct(values: list[float], q: int) -> float:
        if len(values) < 2:
            return values[0] if values else 0.0
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

    def summary(self) -> dict[str, float | int | str]:
        ms = 1000
        return {
            "uploads": self.uploads,
            "upload_p50_ms": round(self._pct(self.upload_seconds, 50) * ms),
            "upload_p95_ms": round(self._pct(self.upload_seconds, 95) * ms),
            "upload_throughput_per_s": round(self.uploads / self.burst_seconds, 1),
            "status_calls": len(self.status_seconds),
            "status_p50_ms": round(self._pct(self.status_seconds, 50) * ms, 1),
            "status_p95_ms": round(self._pct(self.status_seconds, 95) * ms, 1),
            "status_errors": self.status_errors,
            "all_settled_s": round(self.drain_seconds, 1),
            "files_per_minute": round(self.uploads / self.drain_seconds * 60, 1),
            "outcomes": ", ".join(f"{k}={v}" for k, v in sorted(self.outcomes.items())),
        }


def run_load(
    base: str,
    user: str,
    project: str,
    pdf: Path,
    *,
    uploads: int = 100,
    pollers: int = 8,
    timeout: float = 600,
) -> LoadFigures:
    """``uploads`` concurrent uploads of ``pdf``; ``pollers`` users watch statuses until all settle."""
    data = pdf.read_bytes()
    upload_seconds: list[float] = []
    statuses: dict[int, int] = {}
    ids: list[str] = []
    lock = threading.Lock()
    gate = threading.Barrier(uploads)

    def upload(index: int) -> None:
        client = Client(base, user)
        gate.wait()  # all at once
        started = time.monotonic()
        response = client.call(
            "POST", f"/api/v1/projects/{project}/files/", files={"pdf_file": (f"load-{index}.pdf", data)}
        )
        elapsed = time.monotonic() - started
        with lock:
            upload_seconds.append(elapsed)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 201:
                ids.append(response.json()["data"]["id"])

    status_seconds: list[float] = []
    errors = 0
    settled: dict[str, str] = {}
    done = threading.Event()

    def poll(offset: int) -> None:
        nonlocal errors
        client = Client(base, user)
        position = offset
        while not done.is_set():
            with lock:
                pending = [file_id for file_id in ids if file_id not in settled]
            if not pending:
                time.sleep(0.05)
                continue
            file_id = pending[position % len(pending)]
            position += 1
            started = time.monotonic()
            response = client.call("GET", f"/api/v1/files/{file_id}/")
            elapsed = time.monotonic() - started
            with lock:
                status_seconds.append(elapsed)
                if response.status_code != 200:
                    errors += 1
                elif response.json()["data"]["status"] in TERMINAL:
                    settled[file_id] = response.json()["data"]["status"]
            time.sleep(0.05)  # a person refreshing a page, not a tight loop

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=pollers, thread_name_prefix="poll") as watchers:
        for offset in range(pollers):
            watchers.submit(poll, offset)
        with ThreadPoolExecutor(max_workers=uploads, thread_name_prefix="upload") as pool:
            list(pool.map(upload, range(uploads)))
        burst = time.monotonic() - started
        while True:
            with lock:
                finished = len(settled) == len(ids)
            if finished or time.monotonic() - started > timeout:
                break
            time.sleep(0.1)
        drain = time.monotonic() - started
        done.set()
    outcomes: dict[str, int] = {}
    for state in settled.values():
        outcomes[state] = outcomes.get(state, 0) + 1
    outcomes["unsettled"] = len(ids) - len(settled)
    return LoadFigures(
        uploads=uploads,
        upload_statuses=statuses,
        upload_seconds=upload_seconds,
        status_seconds=status_seconds,
        status_errors=errors,
        burst_seconds=burst,
        drain_seconds=drain,
        outcomes=outcomes,
        file_ids=ids,
    )
