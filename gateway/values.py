"""Extracted values across a project's files, by field; token usage of a file's extraction."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from core import extraction_queries, queries
from gateway.auth import current_user
from gateway.context import ctx
from gateway.errors import ApiError

blp = Blueprint("values", __name__, url_prefix="/api/v1", description="Extracted values and LLM usage")


class ValuesQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    field_id = fields.String(
        load_default=None,
        metadata={"description": "'<class id>.<attribute id>', e.g. construction_unit.name"},
    )
    category = fields.String(load_default=None, metadata={"description": "category name, e.g. 建设单位"})
    field = fields.String(load_default=None, metadata={"description": "field name, e.g. 建设单位名称"})
    ontology_version = fields.Integer(load_default=None, validate=validate.Range(min=1))
    include_empty = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))

    @validates_schema
    def _one_field(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("field_id") and not data.get("field"):
            raise SchemaError("name the field with field_id, or with field (and optionally category)")


def value_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "file_id": str(row["file_id"]),
        "file_name": row["original_name"],
        "ontology_version": row["ontology_version"],
        "category": row["category"],
        "field": row["field"],
        "field_id": row["field_id"],
        "value": row["value"],
        "status": row["status"],
        "verified": row["verified"],
        "evidence": row["evidence"],
        "extractor": row["extractor"],
        "extracted_at": row["created_at"],
    }


@blp.route("/projects/<uuid:project_id>/values/")
class ProjectValues(MethodView):
    @blp.arguments(ValuesQuery, location="query")
    @blp.response(200)
    def get(self, args: dict[str, Any], project_id: Any) -> dict[str, Any]:
        """One field's values in every file of the project, with their evidence, newest files first."""
        page, size = args["page"], args["page_size"]
        with ctx().db.connect() as conn:
            if queries.get_project(conn, current_user(), str(project_id)) is None:
                raise ApiError(404, "Project not found.")
            total, rows = extraction_queries.values_by_field(
                conn,
                current_user(),
                str(project_id),
                field_id=args["field_id"],
                category=args["category"],
                field=args["field"],
                ontology_version=args["ontology_version"],
                include_empty=args["include_empty"],
                limit=size,
                offset=(page - 1) * size,
            )
        data = {"count": total, "page": page, "page_size": size, "results": [value_out(row) for row in rows]}
        return {"status": 200, "message": "", "data": data}


@blp.route("/files/<uuid:file_id>/usage/")
class FileUsage(MethodView):
    @blp.response(200)
    def get(self, file_id: Any) -> dict[str, Any]:
        """LLM requests, cache hits and tokens of the file's latest extraction and of all of them
        (``null`` when the file was extracted offline)."""
        with ctx().db.connect() as conn:
            if queries.get_file(conn, current_user(), str(file_id)) is None:
                raise ApiError(404, "File not found.")
            usage = extraction_queries.usage_for_file(conn, str(file_id))
        return {"status": 200, "message": "", "data": usage}
