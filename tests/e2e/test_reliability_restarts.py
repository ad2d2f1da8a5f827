"""Processes dying under the pipeline: a function SIGKILLed mid-step, Postgres restarted, MinerU too slow.

The cluster runs on a Postgres server of its own (so it can be restarted) with a short step lease
(STEP_LEASE_SECONDS=4) and a router that retries long enough (7 attempts, 0.5 s doubling) to outlast it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.harness.cluster import Cluster
from tests.e2e.harness.pipeline import objects_of, report_pdf
from tests.e2e.harness.postgres import PostgresServer
from tests.pdfgen import REPORT_PAGES, write_pdf

pytestmark = pytest.mark.slow

LEASE_SECONDS = 4


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    yield server
    server.remove()


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer, s3_endpoint: str
) -> Iterator[Cluster]:
    env = {"STEP_LEASE_SECONDS": str(LEASE_SECONDS), "MAX_DELIVERY_ATTEMPTS": "7"}
    running = Cluster(tmp_path_factory.mktemp("restarts"), postgres.url(), s3_endpoint, env=env)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def project(cluster: Cluster) -> str:
    return cluster.client("alice").create_project("restarts")


def wait_for_step(cluster: Cluster, file_id: str, step: str, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cluster.query(
            "SELECT 1 FROM steps WHERE file_id = %s AND step = %s AND status = %s", file_id, step, status
        ):
            return
        time.sleep(0.02)
    raise AssertionError(f"{step} of {file_id} never became {status}")


def test_a_function_sigkilled_mid_step_finishes_the_file_once_the_lease_expires(
    cluster: Cluster, project: str, tmp_path: Path
) -> None:
    pdf = write_pdf(tmp_path / "thirty.pdf", REPORT_PAGES * 15)
    file_id = cluster.client("alice").upload(project, pdf).json()["data"]["id"]
    wait_for_step(cluster, file_id, "parse", "running")
    parse = cluster.services["parse"]
    parse.kill()  # the pod dies with MinerU half-way: no error recorded, the lease stays
    parse_step = "SELECT status, attempts, started_at, lease_until > now() AS leased FROM steps"
    parse_step += " WHERE file_id = %s AND step = 'parse'"
    [killed] = cluster.query(parse_step, file_id)
    assert (killed["status"], killed["attempts"], killed["leased"]) == ("running", 1, True)
    parse.start()
    parse.wait_listening()

    settled = cluster.wait_settled([file_id], timeout=120)
    assert settled[file_id]["status"] == "completed", settled
    [done] = cluster.query(parse_step, file_id)
    assert done["attempts"] == 2  # the killed run, then one redelivery: no other run ever overlapped
    # The redelivered event waited for the dead run's lease rather than racing it.
    assert (done["started_at"] - killed["started_at"]).total_seconds() >= LEASE_SECONDS
    found = objects_of(cluster, project, file_id)
    assert len(found[cluster.buckets.pdf]) == 1 and len(found[cluster.buckets.documents]) >= 1
    assert sum(key.endswith("manifest.json") for key in found[cluster.buckets.mineru]) == 1


def test_postgres_restarted_mid_run_resumes_and_leaves_nothing_processing(
    cluster: Cluster, postgres: PostgresServer, project: str, tmp_path: Path
) -> None:
    alice = cluster.client("alice")
    files = [
        alice.upload(project, report_pdf(tmp_path / f"pg{n}.pdf", n)).json()["data"]["id"] for n in range(4)
    ]
    wait_for_step(cluster, files[0], "parse", "running")

    answers: list[int] = []
    stop = threading.Event()

    def poll() -> None:  # a user watching the status page through the outage
        while not stop.is_set():
            try:
                answers.append(alice.call("GET", f"/api/v1/files/{files[-1]}/").status_code)
            except requests.RequestException:
                answers.append(0)
            time.sleep(0.1)

    watcher = threading.Thread(target=poll)
    watcher.start()
    try:
        postgres.stop("immediate")  # as a crash: connections drop, no checkpoint
        time.sleep(2)
        postgres.start()
        settled = cluster.wait_settled(files, timeout=180)
    finally:
        stop.set()
        watcher.join()
    assert {row["status"] for row in settled.values()} == {"completed"}, settled
    assert not cluster.query(
        "SELECT * FROM steps WHERE file_id = ANY(%s::uuid[]) AND status <> 'completed'", files
    )
    assert 0 not in answers  # the gateway always answered
    assert set(answers) <= {200, 503}, answers  # during the outage a clear 503, never a 500
    assert answers[-1] == 200 and 503 in answers


def test_mineru_over_its_time_limit_fails_the_file_with_the_reason(
    cluster: Cluster, project: str, tmp_path: Path
) -> None:
    parse = cluster.services["parse"]
    parse.restart(MINERU_TIMEOUT="1")
    try:
        pdf = write_pdf(tmp_path / "long.pdf", REPORT_PAGES * 45)
        file_id = cluster.client("alice").upload(project, pdf).json()["data"]["id"]
        settled = cluster.wait_settled([file_id], timeout=120)
    finally:
        parse.restart(MINERU_TIMEOUT="1800")
    assert settled[file_id]["status"] == "failed"
    error = settled[file_id]["error"]
    assert error.startswith("parse: Parsing was stopped after 1 s, the time limit (MINERU_TIMEOUT)"), error
    [row] = cluster.query("SELECT status, attempts FROM steps WHERE file_id = %s AND step = 'parse'", file_id)
    assert row == {"status": "failed", "attempts": 1}  # permanent: not retried
