"""The cluster end to end: both upload paths, duplicate and reordered events, S3 and LLM faults, dead letters.

One cluster (gateway under gunicorn, source, router, parse/structure/extract under functions-framework,
S3 behind a MinIO-style notifier, the extract step talking to a local OpenAI-compatible server) serves
every test of this module.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.harness.cluster import Cluster
from tests.e2e.harness.pipeline import (
    CATEGORIES,
    ONTOLOGY,
    expected_objects,
    good_answer,
    objects_of,
    report_pdf,
    running_cluster,
    wait_quiet,
)
from tests.e2e.harness.s3 import Fault
from tests.functions.extract_llm_server import API_KEY, ChatServer, Reply, category_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llm() -> Iterator[ChatServer]:
    server = ChatServer(good_answer).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
    pg_server_url: str,
    template_db: str,
    s3_endpoint: str,
    llm: ChatServer,
) -> Iterator[Cluster]:
    extract = {
        "DEEPSEEK_API_KEY": API_KEY,
        "DEEPSEEK_API_BASE": llm.url,
        "LLM_TIMEOUT": "1",
        "LLM_MAX_ATTEMPTS": "3",
        "LLM_REPAIR_ATTEMPTS": "1",
    }
    with running_cluster(
        tmp_path_factory.mktemp("pipeline"),
        pg_server_url,
        template_db,
        s3_endpoint,
        env={"MAX_DELIVERY_ATTEMPTS": "4"},
        service_env={"extract": extract},
    ) as running:
        yield running


@pytest.fixture
def project(cluster: Cluster) -> str:
    response = cluster.client("alice").call(
        "POST", "/api/v1/projects/", json={"name": "e2e", "ontology": ONTOLOGY}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


@pytest.fixture(autouse=True)
def calm(cluster: Cluster, llm: ChatServer) -> Iterator[None]:
    yield
    cluster.notifier.duplicate = 0
    cluster.s3.faults.clear()
    llm.responder = good_answer
    wait_quiet(cluster)


def upload(cluster: Cluster, project: str, pdf: Path) -> str:
    response = cluster.client("alice").upload(project, pdf)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def steps(cluster: Cluster, file_id: str) -> dict[str, dict[str, Any]]:
    rows = cluster.query("SELECT * FROM steps WHERE file_id = %s", file_id)
    return {row["step"]: row for row in rows}


def assert_processed_once(cluster: Cluster, project: str, file_id: str) -> None:
    by_step = steps(cluster, file_id)
    assert sorted(by_step) == ["extract", "parse", "structure"]
    assert all(row["status"] == "completed" for row in by_step.values()), by_step
    found = objects_of(cluster, project, file_id)
    for bucket, names in expected_objects(cluster, project, file_id).items():
        assert set(names) <= set(found[bucket]), (bucket, names, found[bucket])


def test_api_and_presigned_uploads_complete_with_outputs_in_every_bucket(
    cluster: Cluster, project: str, llm: ChatServer, tmp_path: Path
) -> None:
    alice = cluster.client("alice")
    before = len(llm.requests)
    via_api = upload(cluster, project, report_pdf(tmp_path / "api.pdf", 11))
    presign = alice.call("POST", f"/api/v1/projects/{project}/uploads/", json={"filename": "direct 直传.pdf"})
    assert presign.status_code == 201, presign.text
    direct = presign.json()["data"]
    put = requests.put(
        direct["upload_url"], data=report_pdf(tmp_path / "direct.pdf", 12).read_bytes(), timeout=30
    )
    assert put.status_code == 200, put.text
    via_s3 = direct["file"]["id"]

    settled = cluster.wait_settled([via_api, via_s3])
    assert {row["status"] for row in settled.values()} == {"completed"}, settled
    for file_id, deaths in ((via_api, 11), (via_s3, 12)):
        assert_processed_once(cluster, project, file_id)
        content = alice.call("GET", f"/api/v1/files/{file_id}/content/").json()["data"]
        assert "一、基本情况" in content["markdown_text"]
        facts = content["ontology_json"]["概况"]["死亡人数"]
        assert facts["value"] == deaths and facts["status"] == "filled", facts
        assert content["ontology_json"]["参建单位"]["建设单位名称"]["value"] == f"第{deaths}置业有限公司"
    assert len(llm.requests) - before == 2 * CATEGORIES
    detail = alice.call("GET", f"/api/v1/files/{via_s3}/").json()["data"]
    assert detail["original_name"] == "direct 直传.pdf" and detail["usage"]


def test_every_event_twice_and_out_of_order_changes_nothing(
    cluster: Cluster, project: str, llm: ChatServer, tmp_path: Path
) -> None:
    cluster.notifier.duplicate = 2.0  # each notification again, up to 2 s later, after newer ones
    sent_before, requests_before = cluster.notifier.sent, len(llm.requests)
    files = [upload(cluster, project, report_pdf(tmp_path / f"d{n}.pdf", 20 + n)) for n in range(3)]
    cluster.wait_settled(files)
    wait_quiet(cluster, seconds=2.5)
    time.sleep(1.0)  # the last duplicates pass through the router and the functions
    cluster.wait_settled(files)

    notifications = cluster.notifier.sent - sent_before
    objects = sum(len(names) for f in files for names in objects_of(cluster, project, f).values())
    assert notifications >= 2 * objects  # every object event really was delivered (at least) twice
    for file_id in files:
        assert_processed_once(cluster, project, file_id)
        by_step = steps(cluster, file_id)
        assert {name: row["attempts"] for name, row in by_step.items()} == {
            "parse": 1,
            "structure": 1,
            "extract": 1,
        }
    values = cluster.query(
        "SELECT file_id, count(*) AS n FROM extracted_values"
        " WHERE file_id = ANY(%s::uuid[]) GROUP BY file_id",
        files,
    )
    assert len(values) == 3 and len({row["n"] for row in values}) == 1
    usage = cluster.query(
        "SELECT count(*) AS n, count(DISTINCT run_id) AS runs FROM llm_usage WHERE file_id = ANY(%s::uuid[])",
        files,
    )[0]
    assert usage == {"n": 3 * CATEGORIES, "runs": 3}
    assert len(llm.requests) - requests_before == 3 * CATEGORIES  # no LLM call twice


def test_s3_errors_dropped_connections_and_timeouts_are_retried(
    cluster: Cluster, project: str, tmp_path: Path
) -> None:
    buckets = cluster.buckets
    # More consecutive errors than the S3 client retries by itself: the parse step fails once and the
    # router redelivers it. A dropped connection and a read that outlasts S3_TIMEOUT (3 s) are retried.
    errors = cluster.s3.inject(Fault("GET", buckets.pdf, ".pdf", kind="error", times=8))
    dropped = cluster.s3.inject(Fault("PUT", buckets.mineru, "content_list.json", kind="drop", times=2))
    stalled = cluster.s3.inject(Fault("GET", buckets.documents, "document.json", kind="stall", seconds=5))
    file_id = upload(cluster, project, report_pdf(tmp_path / "s3.pdf", 31))
    settled = cluster.wait_settled([file_id])
    assert settled[file_id]["status"] == "completed", settled
    assert (errors.hits, dropped.hits, stalled.hits) == (8, 2, 1)
    by_step = steps(cluster, file_id)
    assert by_step["parse"]["attempts"] >= 2  # the step itself was redelivered after the S3 errors
    assert_processed_once(cluster, project, file_id)


def test_llm_429_500_timeouts_and_malformed_json_are_retried_then_reported(
    cluster: Cluster, project: str, llm: ChatServer, tmp_path: Path
) -> None:
    script = {
        "概况": [
            Reply(status=429, headers={"Retry-After": "0"}),
            Reply(status=500),
            Reply(content="{}", delay=1.5),
        ],
        "参建单位": ['{"建设单位名称": {"value": "某置业', "not json at all"],
    }

    def faulty(request: dict[str, Any], index: int) -> Reply:
        queue = script[category_of(request)]
        if queue:
            item = queue.pop(0)
            return item if isinstance(item, Reply) else Reply(content=item)
        if category_of(request) == "参建单位":
            return Reply(content="still not JSON")  # the repair fails too: the field must say so
        return good_answer(request, index)

    llm.responder = faulty
    file_id = upload(cluster, project, report_pdf(tmp_path / "llm.pdf", 41))
    settled = cluster.wait_settled([file_id])
    assert settled[file_id]["status"] == "completed", settled
    result = (
        cluster.client("alice")
        .call("GET", f"/api/v1/files/{file_id}/content/")
        .json()["data"]["ontology_json"]
    )
    assert result["概况"]["死亡人数"]["value"] == 41  # after a 429, a 500 and a timeout
    client = result["参建单位"]["建设单位名称"]
    assert client["status"] == "invalid" and client["value"] is None
    assert "unusable" in client["note"] and "JSON" in client["note"]  # partial, with the reason, not empty


def test_llm_down_for_good_is_dead_lettered_and_the_file_fails_with_the_reason(
    cluster: Cluster, project: str, llm: ChatServer, tmp_path: Path
) -> None:
    llm.responder = lambda request, index: Reply(status=500)
    before = len(llm.requests)
    file_id = upload(cluster, project, report_pdf(tmp_path / "down.pdf", 51))
    settled = cluster.wait_settled([file_id], timeout=120)
    assert settled[file_id]["status"] == "failed", settled
    by_step = steps(cluster, file_id)
    assert by_step["parse"]["status"] == by_step["structure"]["status"] == "completed"
    extract = by_step["extract"]
    assert extract["status"] == "failed" and extract["attempts"] == 4  # MAX_DELIVERY_ATTEMPTS
    error = settled[file_id]["error"]
    assert error.startswith("extract: gave up after repeated errors") and "HTTP 500" in error, error
    # Every delivery made LLM_MAX_ATTEMPTS (3) requests per category, then gave up; nothing more after.
    assert len(llm.requests) - before == 4 * 3 * CATEGORIES
    detail = cluster.client("alice").call("GET", f"/api/v1/files/{file_id}/").json()["data"]
    assert detail["status"] == "failed" and detail["error"] == error
