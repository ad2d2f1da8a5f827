"""Who gets in, on the real gunicorn gateway: every route refuses another user's ids, the auth-proxy secret
closes every route, and schemathesis finds no 5xx and no undocumented response over HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis

from tests.e2e.conftest import Client
from tests.e2e.harness.cluster import Cluster, ServiceProcess
from tests.e2e.harness.pipeline import ONTOLOGY, running_cluster
from tests.fuzzing import fuzz_operation, schema_operations
from tests.pdfgen import write_pdf

pytestmark = pytest.mark.slow

SECRET = "e2e-proxy-secret"


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, pg_server_url: str, template_db: str, s3_endpoint: str
) -> Iterator[Cluster]:
    with running_cluster(
        tmp_path_factory.mktemp("access"), pg_server_url, template_db, s3_endpoint
    ) as running:
        yield running


@pytest.fixture(scope="module")
def owned(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Alice's project and processed file: the ids every other request tries to reach."""
    alice = cluster.client("alice")
    project = alice.create_project("private")
    pdf = write_pdf(tmp_path_factory.mktemp("owned") / "private.pdf")
    file_id = alice.upload(project, pdf).json()["data"]["id"]
    assert cluster.wait_settled([file_id])[file_id]["status"] == "completed"
    return {"project_id": project, "file_id": file_id, "version": "1"}


def operations(base: str) -> list[tuple[str, str]]:
    spec: dict[str, Any] = requests.get(base + "/api/schema/", timeout=30).json()
    found = [
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(found) >= 15, found
    return found


def call(client: Client, method: str, template: str, ids: dict[str, str], pdf: bytes) -> requests.Response:
    path = re.sub(r"\{(\w+)\}", lambda match: ids[match.group(1)], template)
    kw: dict[str, Any] = {}
    if template.endswith("/files/") and method == "POST":
        kw["files"] = {"pdf_file": ("x.pdf", pdf, "application/pdf")}
    elif template.endswith("/values/"):
        kw["params"] = {"field": "事故等级"}
    elif template.endswith("/uploads/"):
        kw["json"] = {"filename": "x.pdf"}
    elif template.endswith("/reprocess/"):
        kw["json"] = {"from_step": "extract"}
    elif template.endswith("/ontologies/") and method == "POST":
        kw["json"] = ONTOLOGY  # valid, so only ownership can refuse it
    elif method in ("POST", "PATCH", "PUT"):
        kw["json"] = {"name": "taken over"}
    return client.call(method, path, **kw)


def test_every_route_answers_404_to_another_user(
    cluster: Cluster, owned: dict[str, str], tmp_path: Path
) -> None:
    bob = cluster.client("bob")
    pdf = write_pdf(tmp_path / "bob.pdf").read_bytes()
    tried = []
    for method, template in operations(cluster.gateway):
        if "{" not in template:
            continue
        response = call(bob, method, template, owned, pdf)
        assert response.status_code == 404, (method, template, response.status_code, response.text[:200])
        assert response.json()["message"], (method, template)
        tried.append(f"{method} {template}")
    assert len(tried) >= 12
    listing = bob.call("GET", "/api/v1/projects/").json()["data"]
    assert listing["count"] == 0
    # Nothing bob tried changed anything of alice's.
    alice = cluster.client("alice")
    project = alice.call("GET", f"/api/v1/projects/{owned['project_id']}/").json()["data"]
    assert project["name"] == "private"
    detail = alice.call("GET", f"/api/v1/files/{owned['file_id']}/").json()["data"]
    assert detail["status"] == "completed"
    assert alice.call("GET", f"/api/v1/projects/{owned['project_id']}/files/").json()["data"]["count"] == 1
    print(f"{len(tried)} routes refused bob: " + ", ".join(tried))


def test_with_auth_proxy_secret_every_route_needs_it_whatever_x_user_id_says(
    cluster: Cluster, owned: dict[str, str], tmp_path: Path
) -> None:
    guarded = ServiceProcess(
        "gateway", {**cluster.services["gateway"].env, "AUTH_PROXY_SECRET": SECRET}, tmp_path
    )
    guarded.start()
    try:
        guarded.wait_listening()
        pdf = write_pdf(tmp_path / "a.pdf").read_bytes()
        refused = 0
        for secret in (None, "", "wrong", SECRET + "x", SECRET.upper()):
            client = Client(guarded.url, "alice")
            if secret is not None:
                client.session.headers["X-Auth-Proxy-Secret"] = secret
            for method, template in operations(cluster.gateway):
                response = call(client, method, template, owned, pdf)
                assert response.status_code == 401, (secret, method, template, response.status_code)
                assert "authenticating proxy" in response.json()["message"]
                refused += 1
        through = Client(guarded.url, "alice")
        through.session.headers["X-Auth-Proxy-Secret"] = SECRET
        assert through.call("GET", f"/api/v1/files/{owned['file_id']}/").status_code == 200
        assert requests.get(guarded.url + "/health", timeout=10).status_code == 200
        no_user = requests.get(
            f"{guarded.url}/api/v1/projects/", headers={"X-Auth-Proxy-Secret": SECRET}, timeout=10
        )
        assert no_user.status_code == 401
        print(f"{refused} requests without the right secret refused")
    finally:
        guarded.stop()


def test_openapi_fuzzed_over_http_no_5xx_and_every_response_documented(
    cluster: Cluster, owned: dict[str, str]
) -> None:
    ops = schema_operations(schemathesis.openapi.from_url(cluster.gateway + "/api/schema/"))
    assert len(ops) >= 15
    for operation in ops:
        fuzz_operation(operation, "alice", max_examples=12)
