"""Ontology versions per project over HTTP, and values by field across a project's files."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

from rdflib import OWL, RDF, Graph

from core import extraction_queries, keys, queries
from core.context import AppContext
from core.extraction_queries import UsageRecord, ValueRow
from core.ontology import default_ontology
from core.ontology_project import to_project
from tests.gateway.conftest import Api, make_project
from tests.unit.test_ontology import small_ontology
from tests.unit.test_ontology_formats import project_document


def test_a_new_project_has_the_default_ontology_as_version_1(alice: Api) -> None:
    project = make_project(alice)
    response = alice.get(f"/api/v1/projects/{project}/ontologies/")
    assert response.status_code == 200
    (version,) = response.json["data"]
    assert version["version"] == 1 and version["current"] and not version["immutable"]
    assert version["format"] == "project"
    detail = alice.get(f"/api/v1/projects/{project}/ontologies/1/").json["data"]
    assert detail["content_format"] == "project" and detail["ontology_id"] == "accident_report"
    assert detail["content"] == default_ontology().raw
    original = alice.get(f"/api/v1/projects/{project}/ontologies/1/?format=original").json["data"]
    assert set(original["content"]) == {"ontology_metadata", "ontology_structure", "extraction_strategies"}


def test_versions_are_added_in_either_format_and_become_current(alice: Api) -> None:
    project = make_project(alice)
    response = alice.post(f"/api/v1/projects/{project}/ontologies/", json=small_ontology())
    assert response.status_code == 201, response.json
    assert response.json["data"]["version"] == 2 and response.json["data"]["format"] == "original"
    assert "reprocess" in response.json["message"]
    response = alice.post(f"/api/v1/projects/{project}/ontologies/?name=mini", json=project_document())
    assert response.json["data"]["version"] == 3 and response.json["data"]["format"] == "project"
    assert response.json["data"]["name"] == "mini" and response.json["data"]["relations"] == 1
    versions = alice.get(f"/api/v1/projects/{project}/ontologies/").json["data"]
    assert [(v["version"], v["current"]) for v in versions] == [(3, True), (2, False), (1, False)]
    assert alice.get(f"/api/v1/projects/{project}/").json["data"]["ontology_version"] == 3
    as_project = alice.get(f"/api/v1/projects/{project}/ontologies/2/?format=project").json["data"]["content"]
    assert as_project["format"] == "pdfonto.ontology/1"


def test_invalid_uploads_get_400_with_the_json_path(alice: Api) -> None:
    project = make_project(alice)
    document = project_document()
    document["classes"][0]["attributes"][0]["datatype"] = "int"
    response = alice.post(f"/api/v1/projects/{project}/ontologies/", json=document)
    assert response.status_code == 400
    assert response.json["data"]["error"].startswith(
        "$.classes[0].attributes[0].datatype: 'int' is not one of"
    )
    original = small_ontology()
    original["ontology_structure"]["事故概况"]["fields"]["死亡人数"]["type"] = "int"
    response = alice.post(f"/api/v1/projects/{project}/ontologies/", json=original)
    assert response.status_code == 400
    assert response.json["data"]["error"].startswith("ontology_structure.事故概况.fields.死亡人数:")
    response = alice.post(
        f"/api/v1/projects/{project}/ontologies/", data=b"{nope", content_type="application/json"
    )
    assert response.status_code == 400 and "not valid UTF-8 JSON" in response.json["message"]
    assert len(alice.get(f"/api/v1/projects/{project}/ontologies/").json["data"]) == 1


def test_turtle_export_and_import_round_trip(alice: Api) -> None:
    project = make_project(alice)
    response = alice.get(f"/api/v1/projects/{project}/ontologies/1/ontology.ttl")
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    turtle = response.get_data()
    graph = Graph().parse(data=turtle, format="turtle")
    assert len(list(graph.subjects(RDF.type, OWL.Class))) == len(default_ontology().categories)
    response = alice.post(f"/api/v1/projects/{project}/ontologies/", data=turtle, content_type="text/turtle")
    assert response.status_code == 201, response.json
    content = alice.get(f"/api/v1/projects/{project}/ontologies/2/").json["data"]["content"]
    assert content == to_project(default_ontology())
    upload = {"ontology_file": (io.BytesIO(turtle), "accident.ttl")}
    response = alice.post(
        f"/api/v1/projects/{project}/ontologies/", data=upload, content_type="multipart/form-data"
    )
    assert response.status_code == 201 and response.json["data"]["version"] == 3
    bad = {"ontology_file": (io.BytesIO(b"not turtle at all"), "x.ttl")}
    response = alice.post(
        f"/api/v1/projects/{project}/ontologies/", data=bad, content_type="multipart/form-data"
    )
    assert response.status_code == 400 and "not valid Turtle" in response.json["message"]


def test_other_users_see_nothing(alice: Api, bob: Api) -> None:
    project = make_project(alice)
    assert bob.get(f"/api/v1/projects/{project}/ontologies/").status_code == 404
    assert bob.post(f"/api/v1/projects/{project}/ontologies/", json=small_ontology()).status_code == 404
    assert bob.get(f"/api/v1/projects/{project}/ontologies/1/ontology.ttl").status_code == 404
    assert alice.get(f"/api/v1/projects/{project}/ontologies/9/").status_code == 404


def test_the_schema_is_published(alice: Api) -> None:
    response = alice.get("/api/v1/ontology-schema/")
    assert response.status_code == 200
    assert json.loads(response.get_data())["properties"]["format"] == {"const": "pdfonto.ontology/1"}


def _extracted_file(
    context: AppContext, project_id: str, name: str, value: Any, status: str = "filled"
) -> str:
    with context.db.connect() as conn:
        project = queries.get_project(conn, "alice", project_id)
        assert project is not None
        file_id = str(uuid.uuid4())
        queries.create_file(
            conn,
            file_id=file_id,
            project_id=project["id"],
            owner_id="alice",
            original_name=name,
            object_key=keys.pdf_key(project_id, file_id),
            size_bytes=1,
            sha256=None,
        )
        evidence = [{"quote": str(value), "verified": True, "block_id": "b0009"}]
        extraction_queries.replace_values(
            conn,
            file_id=file_id,
            project_id=project_id,
            ontology_version=1,
            extractor="llm",
            rows=[
                ValueRow(
                    "建设单位",
                    "建设单位名称",
                    "construction_unit.name",
                    value,
                    str(value),
                    status,
                    True,
                    evidence,
                )
            ],
        )
        extraction_queries.record_usage(
            conn,
            file_id,
            "00000000-0000-4000-8000-000000000001",
            1,
            [UsageRecord("建设单位", 1, "deepseek-chat", False, 900, 60, 700, 1200, "valid")],
        )
    return file_id


def test_values_by_field_across_files_and_file_usage(alice: Api, bob: Api, context: AppContext) -> None:
    project = make_project(alice)
    first = _extracted_file(context, project, "a.pdf", "甲置业有限公司")
    _extracted_file(context, project, "b.pdf", "乙置业有限公司")
    _extracted_file(context, project, "c.pdf", "", status="empty")
    url = f"/api/v1/projects/{project}/values/?field_id=construction_unit.name"
    data = alice.get(url).json["data"]
    assert data["count"] == 2
    assert {row["value"] for row in data["results"]} == {"甲置业有限公司", "乙置业有限公司"}
    assert data["results"][0]["evidence"][0]["block_id"] == "b0009"
    assert alice.get(url + "&include_empty=true").json["data"]["count"] == 3
    by_name = alice.get(f"/api/v1/projects/{project}/values/?category=建设单位&field=建设单位名称").json[
        "data"
    ]
    assert by_name["count"] == 2
    assert alice.get(f"/api/v1/projects/{project}/values/").status_code == 400
    assert bob.get(url).status_code == 404
    usage = alice.get(f"/api/v1/files/{first}/usage/").json["data"]
    assert usage["last_run"]["calls"] == 1 and usage["last_run"]["total_tokens"] == 960
    assert usage["last_run"]["cached_prompt_tokens"] == 700
    assert bob.get(f"/api/v1/files/{first}/usage/").status_code == 404
