"""Request and response schemas: they validate input and generate the OpenAPI document."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

STEP_NAMES = ("parse", "structure", "extract")
FILE_STATUSES = ("pending", "processing", "completed", "failed")


class _Input(Schema):
    class Meta:
        unknown = EXCLUDE


class ProjectCreate(_Input):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    ontology = fields.Dict(
        load_default=None,
        allow_none=True,
        metadata={"description": "Ontology JSON (alternative to the multipart ontology_file)"},
    )


class ProjectCreateForm(_Input):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))


class OntologyFileForm(_Input):
    ontology_file = fields.Raw(metadata={"type": "string", "format": "binary"})


class ProjectUpdate(_Input):
    name = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=5000))


class Pagination(_Input):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))


class FileListQuery(Pagination):
    status = fields.String(load_default=None, validate=validate.OneOf(FILE_STATUSES))


class UploadForm(_Input):
    pdf_file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class PresignRequest(_Input):
    filename = fields.String(load_default="upload.pdf", validate=validate.Length(min=1, max=255))


class ReprocessRequest(_Input):
    from_step = fields.String(load_default="parse", validate=validate.OneOf(STEP_NAMES))


class StepOut(Schema):
    step = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    seconds = fields.Float(allow_none=True)
    metrics = fields.Dict()
    error = fields.String(allow_none=True)


class FileOut(Schema):
    id = fields.String()
    project_id = fields.String()
    original_name = fields.String()
    status = fields.String(metadata={"enum": list(FILE_STATUSES)})
    error = fields.String(allow_none=True)
    size_bytes = fields.Integer(allow_none=True)
    sha256 = fields.String(allow_none=True)
    page_count = fields.Integer(allow_none=True)
    ontology_version = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    steps = fields.List(fields.Nested(StepOut), allow_none=True)
    usage = fields.Dict(allow_none=True, metadata={"description": "LLM calls and tokens of the extraction"})


class ProjectOut(Schema):
    id = fields.String()
    name = fields.String()
    description = fields.String()
    ontology_version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    file_counts = fields.Dict(keys=fields.String(), values=fields.Integer(), allow_none=True)


class ContentOut(Schema):
    markdown_text = fields.String()
    ontology_json = fields.Dict()


class PresignOut(Schema):
    file = fields.Nested(FileOut)
    upload_url = fields.String()
    method = fields.String()
    bucket = fields.String()
    key = fields.String()
    expires_in = fields.Integer()


def envelope_of(data: Any, name: str) -> type[Schema]:
    """``{"status", "message", "data": <data>}``, the original service's response envelope."""
    return Schema.from_dict({"status": fields.Integer(), "message": fields.String(), "data": data}, name=name)


def page_of(item: type[Schema], name: str) -> type[Schema]:
    page = Schema.from_dict(
        {
            "count": fields.Integer(),
            "page": fields.Integer(),
            "page_size": fields.Integer(),
            "results": fields.List(fields.Nested(item)),
        },
        name=f"{name}Page",
    )
    return envelope_of(fields.Nested(page), name)


ProjectEnvelope = envelope_of(fields.Nested(ProjectOut), "ProjectEnvelope")
ProjectPageEnvelope = page_of(ProjectOut, "ProjectPageEnvelope")
FileEnvelope = envelope_of(fields.Nested(FileOut), "FileEnvelope")
FilePageEnvelope = page_of(FileOut, "FilePageEnvelope")
ContentEnvelope = envelope_of(fields.Nested(ContentOut), "ContentEnvelope")
PresignEnvelope = envelope_of(fields.Nested(PresignOut), "PresignEnvelope")
EmptyEnvelope = envelope_of(fields.Raw(allow_none=True), "EmptyEnvelope")
ErrorEnvelope = envelope_of(fields.Dict(allow_none=True), "ErrorEnvelope")
