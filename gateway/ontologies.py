"""Ontology versions per project: list, read (either format), add a version, export Turtle, the schema.

A project's ontology versions are immutable; adding one makes it current for the next extraction (reprocess
from ``extract`` to apply it to existing files). Uploads may be JSON in the original or pdfonto's format
(``application/json`` body or multipart ``ontology_file``) or OWL in Turtle (``text/turtle`` body, or an
``ontology_file`` ending in ``.ttl``). An invalid upload gets 400 naming the JSON path and the reason.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from core import ontology_queries, queries
from core.errors import InvalidInput
from core.ontology import Ontology, load_ontology
from core.ontology_project import json_schema, to_original, to_project
from gateway.auth import current_user
from gateway.context import ctx
from gateway.errors import ApiError

blp = Blueprint("ontologies", __name__, url_prefix="/api/v1", description="Ontology versions of a project")

MAX_ONTOLOGY_BYTES = 5 * 1024 * 1024
_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object", "description": "Original or pdfonto format"}},
            "text/turtle": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "ontology_file": {"type": "string", "format": "binary"},
                        "name": {"type": "string"},
                    },
                }
            },
        },
    }
}


class FormatQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    format = fields.String(load_default=None, validate=validate.OneOf(("original", "project")))


def version_out(row: dict[str, Any], ontology: Ontology | None = None) -> dict[str, Any]:
    out = {
        key: row[key] for key in ("version", "name", "format", "sha256", "created_at", "used_at", "current")
    }
    out["immutable"] = row["used_at"] is not None
    if ontology is not None:
        out.update(
            ontology_id=ontology.id,
            categories=len(ontology.categories),
            fields=ontology.field_count,
            relations=len(ontology.relations),
        )
    return out


def _project_or_404(conn: Any, project_id: Any) -> dict[str, Any]:
    project = queries.get_project(conn, current_user(), str(project_id))
    if project is None:
        raise ApiError(404, "Project not found.")
    return project


def _version_or_404(conn: Any, project_id: Any, version: int) -> dict[str, Any]:
    row = ontology_queries.get_version(conn, str(project_id), version)
    if row is None:
        raise ApiError(404, f"The project has no ontology version {version}.")
    return row


@blp.route("/ontology-schema/")
class OntologySchema(MethodView):
    @blp.response(200)
    def get(self) -> Response:
        """The JSON Schema of pdfonto's ontology format (``pdfonto.ontology/1``)."""
        body = json.dumps(json_schema(), ensure_ascii=False, indent=1)
        return Response(body, mimetype="application/schema+json")


@blp.route("/projects/<uuid:project_id>/ontologies/")
class OntologyVersions(MethodView):
    @blp.response(200)
    def get(self, project_id: Any) -> dict[str, Any]:
        """Every ontology version of the project, newest first; ``current`` marks the one in use."""
        with ctx().db.connect() as conn:
            _project_or_404(conn, project_id)
            rows = ontology_queries.list_versions(conn, str(project_id))
        return {"status": 200, "message": "", "data": [version_out(row) for row in rows]}

    @blp.doc(**_UPLOAD_DOC)
    @blp.response(201)
    def post(self, project_id: Any) -> tuple[dict[str, Any], int]:
        """Add a new ontology version (original or pdfonto format, or Turtle) and make it current."""
        content, name = _read_upload()
        try:
            ontology = load_ontology(content)
        except InvalidInput as exc:
            raise ApiError(400, f"Invalid ontology: {exc}", {"error": str(exc)}) from None
        with ctx().db.connect() as conn:
            _project_or_404(conn, project_id)
            row = ontology_queries.create_version(
                conn, str(project_id), ontology.raw, name or ontology.name, ontology.format
            )
        message = f"Ontology version {row['version']} created; reprocess files from 'extract' to apply it."
        return {"status": 201, "message": message, "data": version_out(row, ontology)}, 201


@blp.route("/projects/<uuid:project_id>/ontologies/<int:version>/")
class OntologyVersion(MethodView):
    @blp.arguments(FormatQuery, location="query")
    @blp.response(200)
    def get(self, args: dict[str, Any], project_id: Any, version: int) -> dict[str, Any]:
        """One version with its content, as stored or converted (``?format=original|project``)."""
        with ctx().db.connect() as conn:
            _project_or_404(conn, project_id)
            row = _version_or_404(conn, project_id, version)
        ontology = load_ontology(row["content"])
        wanted = args["format"] or ontology.format
        content = to_project(ontology) if wanted == "project" else to_original(ontology)
        data = {**version_out(row, ontology), "content_format": wanted, "content": content}
        return {"status": 200, "message": "", "data": data}


@blp.route("/projects/<uuid:project_id>/ontologies/<int:version>/ontology.ttl")
class OntologyTurtle(MethodView):
    @blp.response(200)
    def get(self, project_id: Any, version: int) -> Response:
        """The version as OWL in Turtle (classes, datatype and object properties, labels, synonyms)."""
        with ctx().db.connect() as conn:
            _project_or_404(conn, project_id)
            row = _version_or_404(conn, project_id, version)
        # rdflib is imported on first use: few requests need Turtle, every gateway worker boot would pay it.
        from core.ontology_rdf import to_turtle

        turtle = to_turtle(load_ontology(row["content"]))
        return Response(
            turtle,
            mimetype="text/turtle",
            headers={"Content-Disposition": f"inline; filename=v{version}.ttl"},
        )


def _read_upload() -> tuple[Any, str | None]:
    if request.content_length is not None and request.content_length > MAX_ONTOLOGY_BYTES:
        raise ApiError(413, f"An ontology may be at most {MAX_ONTOLOGY_BYTES // (1024 * 1024)} MB.")
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("ontology_file")
        if upload is None or not upload.filename:
            raise ApiError(400, "Send the ontology as the multipart field 'ontology_file'.")
        data = upload.read(MAX_ONTOLOGY_BYTES + 1)
        name = request.form.get("name") or None
        if upload.filename.lower().endswith((".ttl", ".turtle")) or upload.mimetype == "text/turtle":
            return _turtle(data), name
        return _json(data), name
    if request.mimetype in ("text/turtle", "application/x-turtle"):
        return _turtle(request.get_data()), request.args.get("name")
    return _json(request.get_data()), request.args.get("name")


def _json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(
            400, f"Invalid ontology: $: not valid UTF-8 JSON ({exc})", {"error": f"$: {exc}"}
        ) from None


def _turtle(data: bytes) -> dict[str, Any]:
    from core.ontology_rdf import from_turtle

    try:
        return from_turtle(data)
    except InvalidInput as exc:
        raise ApiError(400, f"Invalid ontology: {exc}", {"error": str(exc)}) from None
