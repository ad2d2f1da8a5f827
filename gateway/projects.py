"""Projects: create (optionally with an ontology), list, read, rename, soft-delete."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError

from core import queries
from core.ontology import Ontology, default_ontology, load_ontology
from gateway.auth import current_user
from gateway.context import ctx
from gateway.errors import ApiError
from gateway.schemas import (
    EmptyEnvelope,
    Pagination,
    ProjectCreate,
    ProjectEnvelope,
    ProjectPageEnvelope,
    ProjectUpdate,
)

blp = Blueprint(
    "projects", __name__, url_prefix="/api/v1/projects", description="Projects and their ontology"
)

_CREATE_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": ProjectCreate},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "description": {"type": "string"},
                        "ontology_file": {"type": "string", "format": "binary"},
                    },
                }
            },
        },
    }
}


def project_out(row: dict[str, Any], counts: dict[str, int] | None = None) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "description": row["description"],
        "ontology_version": row["ontology_version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "file_counts": counts,
    }


def _read_create_request() -> tuple[dict[str, Any], Ontology]:
    if request.mimetype == "multipart/form-data":
        raw: dict[str, Any] = {k: v for k, v in request.form.items() if k in ("name", "description")}
        upload = request.files.get("ontology_file")
        ontology_data = None
        if upload is not None and upload.filename:
            try:
                ontology_data = json.loads(upload.read().decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ApiError(400, f"ontology_file is not valid UTF-8 JSON: {exc}") from None
        raw["ontology"] = ontology_data
    else:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ApiError(400, "Send a JSON object (or multipart/form-data) with at least a 'name'.")
        raw = body
    try:
        data = ProjectCreate().load(raw)
    except ValidationError as exc:
        raise ApiError(400, f"Invalid project: {exc.messages}", {"errors": exc.messages}) from None
    ontology = default_ontology() if data.get("ontology") is None else load_ontology(data["ontology"])
    return data, ontology


@blp.route("/")
class Projects(MethodView):
    @blp.arguments(Pagination, location="query")
    @blp.response(200, ProjectPageEnvelope)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the caller's projects, newest first."""
        page, size = args["page"], args["page_size"]
        with ctx().db.connect() as conn:
            total, rows = queries.list_projects(conn, current_user(), size, (page - 1) * size)
        results = [project_out(row) for row in rows]
        return {
            "status": 200,
            "message": "",
            "data": {"count": total, "page": page, "page_size": size, "results": results},
        }

    @blp.doc(**_CREATE_DOC)
    @blp.response(201, ProjectEnvelope)
    def post(self) -> tuple[dict[str, Any], int]:
        """Create a project; without an ontology it uses pdfonto's default accident-report ontology."""
        data, ontology = _read_create_request()
        with ctx().db.connect() as conn:
            row = queries.create_project(conn, current_user(), data["name"], data["description"], ontology)
            counts = queries.file_counts(conn, row["id"])
        return {"status": 201, "message": "Project created.", "data": project_out(row, counts)}, 201


@blp.route("/<uuid:project_id>/")
class ProjectDetail(MethodView):
    @blp.response(200, ProjectEnvelope)
    def get(self, project_id: Any) -> dict[str, Any]:
        """A project with its file counts per status."""
        with ctx().db.connect() as conn:
            row = queries.get_project(conn, current_user(), str(project_id))
            if row is None:
                raise ApiError(404, "Project not found.")
            counts = queries.file_counts(conn, row["id"])
        return {"status": 200, "message": "", "data": project_out(row, counts)}

    @blp.arguments(ProjectUpdate)
    @blp.response(200, ProjectEnvelope)
    def patch(self, changes: dict[str, str], project_id: Any) -> dict[str, Any]:
        """Rename a project or change its description."""
        with ctx().db.connect() as conn:
            row = queries.update_project(conn, current_user(), str(project_id), changes)
            if row is None:
                raise ApiError(404, "Project not found.")
            counts = queries.file_counts(conn, row["id"])
        return {"status": 200, "message": "Project updated.", "data": project_out(row, counts)}

    @blp.response(200, EmptyEnvelope)
    def delete(self, project_id: Any) -> dict[str, Any]:
        """Soft-delete a project: it and its files disappear from the API; stored data is kept."""
        with ctx().db.connect() as conn:
            if not queries.soft_delete_project(conn, current_user(), str(project_id)):
                raise ApiError(404, "Project not found.")
        return {"status": 200, "message": "Project deleted.", "data": None}
