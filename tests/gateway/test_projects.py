from __future__ import annotations

import io
import json

from flask import Flask

from tests.gateway.conftest import Api, make_project


def test_create_project_uses_default_ontology_and_envelope(alice: Api) -> None:
    response = alice.post("/api/v1/projects/", json={"name": "事故报告", "description": "2021 batch"})
    assert response.status_code == 201
    body = response.json
    assert list(body) == ["status", "message", "data"]
    assert body["status"] == 201
    project = body["data"]
    assert project["name"] == "事故报告"
    assert project["ontology_version"] == 1
    assert project["file_counts"] == {"pending": 0, "processing": 0, "completed": 0, "failed": 0, "total": 0}


def test_create_project_with_ontology_file_multipart(alice: Api) -> None:
    ontology = {
        "ontology_metadata": {"name": "mini", "version": "v1"},
        "ontology_structure": {
            "时间": {
                "description": "事故时间",
                "keywords": ["时间"],
                "fields": {
                    "发生时间": {
                        "type": "string",
                        "extraction_strategy": "copy_exact",
                        "description": "事故发生时间",
                    }
                },
            },
        },
    }
    data = {"name": "custom", "ontology_file": (io.BytesIO(json.dumps(ontology).encode()), "onto.json")}
    response = alice.post("/api/v1/projects/", data=data, content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    assert response.json["data"]["name"] == "custom"


def test_invalid_ontology_is_a_400_naming_the_problem(alice: Api) -> None:
    bad = {
        "ontology_structure": {
            "时间": {"fields": {"发生时间": {"type": "string", "extraction_strategy": "guess"}}}
        }
    }
    response = alice.post("/api/v1/projects/", json={"name": "x", "ontology": bad})
    assert response.status_code == 400
    assert "extraction_strategy" in response.json["message"]
    assert "发生时间" in response.json["message"]


def test_missing_name_is_a_400(alice: Api) -> None:
    response = alice.post("/api/v1/projects/", json={"description": "no name"})
    assert response.status_code == 400
    assert "name" in response.json["message"]
    response = alice.post("/api/v1/projects/", data="not json", content_type="text/plain")
    assert response.status_code == 400


def test_list_is_newest_first_paginated_and_own_only(alice: Api, bob: Api) -> None:
    ids = [make_project(alice, f"p{i}") for i in range(12)]
    make_project(bob, "bob's")
    page1 = alice.get("/api/v1/projects/").json["data"]
    assert page1["count"] == 12 and page1["page"] == 1 and page1["page_size"] == 10
    assert [p["id"] for p in page1["results"]] == ids[::-1][:10]
    page2 = alice.get("/api/v1/projects/?page=2&page_size=10").json["data"]
    assert [p["id"] for p in page2["results"]] == ids[::-1][10:]
    assert alice.get("/api/v1/projects/?page_size=101").status_code == 400
    assert alice.get("/api/v1/projects/?page=0").status_code == 400


def test_patch_and_soft_delete(alice: Api) -> None:
    pid = make_project(alice)
    response = alice.patch(f"/api/v1/projects/{pid}/", json={"name": "renamed"})
    assert response.status_code == 200 and response.json["data"]["name"] == "renamed"
    assert alice.delete(f"/api/v1/projects/{pid}/").status_code == 200
    assert alice.get(f"/api/v1/projects/{pid}/").status_code == 404
    assert alice.get("/api/v1/projects/").json["data"]["count"] == 0
    assert alice.delete(f"/api/v1/projects/{pid}/").status_code == 404


def test_other_users_project_is_not_found(alice: Api, bob: Api) -> None:
    pid = make_project(alice)
    for call in (bob.get, bob.delete):
        response = call(f"/api/v1/projects/{pid}/")
        assert response.status_code == 404
        assert response.json["message"] == "Project not found."
    assert bob.patch(f"/api/v1/projects/{pid}/", json={"name": "mine"}).status_code == 404
    assert alice.get(f"/api/v1/projects/{pid}/").json["data"]["name"] == "reports"


def test_identity_is_required(app: Flask) -> None:
    response = app.test_client().get("/api/v1/projects/")
    assert response.status_code == 401
    assert "X-User-ID" in response.json["message"]


def test_proxy_secret_fails_closed(app: Flask) -> None:
    context = app.config["PDFONTO"]
    from dataclasses import replace

    context.settings = replace(context.settings, auth_proxy_secret="s3cret")
    client = app.test_client()
    assert client.get("/api/v1/projects/", headers={"X-User-ID": "alice"}).status_code == 401
    wrong = {"X-User-ID": "alice", "X-Auth-Proxy-Secret": "guess"}
    assert client.get("/api/v1/projects/", headers=wrong).status_code == 401
    right = {"X-User-ID": "alice", "X-Auth-Proxy-Secret": "s3cret"}
    assert client.get("/api/v1/projects/", headers=right).status_code == 200
    assert client.get("/health").status_code == 200


def test_unknown_routes_and_bad_ids_are_json_404(alice: Api) -> None:
    for url in ("/api/v1/nothing/", "/api/v1/projects/not-a-uuid/", "/api/v1/files/123/"):
        response = alice.get(url)
        assert response.status_code == 404
        assert response.is_json and response.json["status"] == 404


def test_openapi_and_docs(app: Flask) -> None:
    client = app.test_client()
    spec = client.get("/api/schema/").json
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in (
        "/api/v1/projects/",
        "/api/v1/projects/{project_id}/",
        "/api/v1/projects/{project_id}/files/",
        "/api/v1/files/{file_id}/",
        "/api/v1/files/{file_id}/content/",
        "/api/v1/files/{file_id}/reprocess/",
        "/api/v1/projects/{project_id}/uploads/",
    ):
        assert path in paths, path
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.data
    asset = client.get("/api/docs-assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000


def test_health_and_ready(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/health").json["message"] == "ok"
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json["data"] == {"database": "ok", "storage": "ok"}
