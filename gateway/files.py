"""Files: upload (multipart or presigned S3 PUT), list, detail with per-step status, content, reprocess."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from core import extraction_queries, keys, queries
from core.errors import NotFound
from core.publish import announce
from core.routing import STEP_ORDER, step_input
from core.steps import steps_of
from gateway.auth import current_user
from gateway.context import ctx
from gateway.errors import ApiError
from gateway.schemas import (
    ContentEnvelope,
    EmptyEnvelope,
    FileEnvelope,
    FileListQuery,
    FilePageEnvelope,
    PresignEnvelope,
    PresignRequest,
    ReprocessRequest,
    UploadForm,
)
from gateway.uploads import safe_name, save_upload

blp = Blueprint("files", __name__, url_prefix="/api/v1", description="PDF files and their processing")

PRESIGN_EXPIRY = timedelta(hours=1)


def file_out(row: dict[str, Any], steps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out = {
        key: row.get(key)
        for key in (
            "original_name",
            "status",
            "error",
            "size_bytes",
            "sha256",
            "page_count",
            "ontology_version",
            "created_at",
            "updated_at",
            "completed_at",
        )
    }
    out["id"] = str(row["id"])
    out["project_id"] = str(row["project_id"])
    if steps is not None:
        out["steps"] = [_step_out(step) for step in steps]
    return out


def _step_out(step: dict[str, Any]) -> dict[str, Any]:
    seconds = None
    if step["started_at"] and step["finished_at"]:
        seconds = round((step["finished_at"] - step["started_at"]).total_seconds(), 3)
    return {**step, "seconds": seconds}


def _project_or_404(conn: Any, project_id: Any) -> dict[str, Any]:
    project = queries.get_project(conn, current_user(), str(project_id))
    if project is None:
        raise ApiError(404, "Project not found.")
    return project


def _file_or_404(conn: Any, file_id: Any) -> dict[str, Any]:
    row = queries.get_file(conn, current_user(), str(file_id))
    if row is None:
        raise ApiError(404, "File not found.")
    return row


@blp.route("/projects/<uuid:project_id>/files/")
class ProjectFiles(MethodView):
    @blp.arguments(FileListQuery, location="query")
    @blp.response(200, FilePageEnvelope)
    def get(self, args: dict[str, Any], project_id: Any) -> dict[str, Any]:
        """Files of a project, newest first, optionally filtered by status."""
        page, size = args["page"], args["page_size"]
        with ctx().db.connect() as conn:
            _project_or_404(conn, project_id)
            total, rows = queries.list_files(
                conn, current_user(), str(project_id), args["status"], size, (page - 1) * size
            )
        return {
            "status": 200,
            "message": "",
            "data": {"count": total, "page": page, "page_size": size, "results": [file_out(r) for r in rows]},
        }

    @blp.arguments(UploadForm, location="files")
    @blp.response(201, FileEnvelope)
    def post(self, form: dict[str, Any], project_id: Any) -> tuple[dict[str, Any], int]:
        """Upload a PDF (multipart field ``pdf_file``); processing starts by itself."""
        context = ctx()
        upload = form["pdf_file"]
        with ctx().db.connect() as conn:
            project = _project_or_404(conn, project_id)
        tmpdir = context.settings.data_dir / "tmp"
        tmpdir.mkdir(parents=True, exist_ok=True)
        saved = save_upload(upload.stream, max_size=context.settings.max_upload_size, directory=tmpdir)
        file_id = str(uuid.uuid4())
        key = keys.pdf_key(str(project["id"]), file_id)
        try:
            with context.db.connect() as conn:
                row = queries.create_file(
                    conn,
                    file_id=file_id,
                    project_id=project["id"],
                    owner_id=current_user(),
                    original_name=safe_name(upload.filename),
                    object_key=key,
                    size_bytes=saved.size,
                    sha256=saved.sha256,
                )
            try:
                # The row exists before the object, so the parse step always finds what it is working on.
                context.store.put_file(context.settings.buckets.pdf, key, saved.path, "application/pdf")
            except BaseException:
                with context.db.connect() as conn:
                    queries.delete_file(conn, current_user(), file_id)
                raise
        finally:
            saved.path.unlink(missing_ok=True)
        with context.db.connect() as conn:
            current = queries.get_file(conn, current_user(), file_id) or row
        return {
            "status": 201,
            "message": "File uploaded; processing has started.",
            "data": file_out(current),
        }, 201


@blp.route("/projects/<uuid:project_id>/uploads/")
class DirectUploads(MethodView):
    @blp.arguments(PresignRequest)
    @blp.response(201, PresignEnvelope)
    def post(self, args: dict[str, Any], project_id: Any) -> tuple[dict[str, Any], int]:
        """A presigned PUT URL for uploading a PDF straight to S3; processing starts when it lands."""
        context = ctx()
        file_id = str(uuid.uuid4())
        with context.db.connect() as conn:
            project = _project_or_404(conn, project_id)
            key = keys.pdf_key(str(project["id"]), file_id)
            url = context.store.presigned_put(context.settings.buckets.pdf, key, PRESIGN_EXPIRY)
            row = queries.create_file(
                conn,
                file_id=file_id,
                project_id=project["id"],
                owner_id=current_user(),
                original_name=safe_name(args["filename"]),
                object_key=key,
                size_bytes=None,
                sha256=None,
            )
        return {
            "status": 201,
            "message": "PUT the PDF to upload_url.",
            "data": {
                "file": file_out(row),
                "upload_url": url,
                "method": "PUT",
                "bucket": context.settings.buckets.pdf,
                "key": key,
                "expires_in": int(PRESIGN_EXPIRY.total_seconds()),
            },
        }, 201


@blp.route("/files/<uuid:file_id>/")
class FileDetail(MethodView):
    @blp.response(200, FileEnvelope)
    def get(self, file_id: Any) -> dict[str, Any]:
        """Status, error, per-step status and timings, and LLM token usage (null without LLM calls)."""
        with ctx().db.connect() as conn:
            row = _file_or_404(conn, file_id)
            steps = steps_of(conn, str(file_id))
            usage = extraction_queries.usage_for_file(conn, str(file_id))
        return {"status": 200, "message": "", "data": {**file_out(row, steps), "usage": usage}}

    @blp.response(200, EmptyEnvelope)
    def delete(self, file_id: Any) -> dict[str, Any]:
        """Delete the file record and every object derived from it."""
        context = ctx()
        with context.db.connect() as conn:
            row = _file_or_404(conn, file_id)
            queries.delete_file(conn, current_user(), str(file_id))
        ref = keys.FileRef(str(row["project_id"]), str(row["id"]))
        buckets = context.settings.buckets
        context.store.delete(buckets.pdf, row["object_key"])
        for bucket in (buckets.mineru, buckets.documents, buckets.extraction):
            for info in list(context.store.list(bucket, ref.prefix)):
                context.store.delete(bucket, info.key)
        return {"status": 200, "message": "File deleted.", "data": None}


@blp.route("/files/<uuid:file_id>/content/")
class FileContent(MethodView):
    @blp.response(200, ContentEnvelope)
    def get(self, file_id: Any) -> dict[str, Any]:
        """The document as markdown and the extracted ontology JSON; 400 until processing completed."""
        context = ctx()
        with context.db.connect() as conn:
            row = _file_or_404(conn, file_id)
        if row["status"] != "completed":
            reason = f": {row['error']}" if row["error"] else ""
            raise ApiError(
                400,
                f"The file is not processed yet (status: {row['status']}){reason}.",
                {"status": row["status"]},
            )
        ref = keys.FileRef(str(row["project_id"]), str(row["id"]))
        buckets = context.settings.buckets
        try:
            markdown = context.store.get(buckets.documents, ref.prefix + "document.md").decode("utf-8")
            result = json.loads(
                context.store.get(buckets.extraction, keys.result_key(ref, row["ontology_version"]))
            )
        except NotFound:
            raise ApiError(409, "The file's outputs are missing; reprocess it.") from None
        return {"status": 200, "message": "", "data": {"markdown_text": markdown, "ontology_json": result}}


@blp.route("/files/<uuid:file_id>/reprocess/")
class FileReprocess(MethodView):
    @blp.arguments(ReprocessRequest, required=False)
    @blp.response(202, FileEnvelope)
    def post(self, args: dict[str, Any] | None, file_id: Any) -> tuple[dict[str, Any], int]:
        """Run the pipeline again from ``from_step`` (default ``parse``), e.g. after an ontology change."""
        context = ctx()
        from_step = (args or {}).get("from_step", "parse")
        with context.db.connect() as conn:
            row = _file_or_404(conn, file_id)
        if row["status"] == "processing":
            raise ApiError(409, "The file is being processed; wait until it completes or fails.")
        ref = keys.FileRef(str(row["project_id"]), str(row["id"]))
        buckets = context.settings.buckets
        try:
            info = context.store.stat(*step_input(from_step, ref, buckets))
        except NotFound:
            earlier = STEP_ORDER[max(STEP_ORDER.index(from_step) - 1, 0)]
            raise ApiError(
                409,
                f"Nothing to reprocess from '{from_step}': its input does not exist yet; "
                f"reprocess from '{earlier}'.",
            ) from None
        with context.db.connect() as conn:
            queries.reset_steps(conn, str(file_id), list(STEP_ORDER[STEP_ORDER.index(from_step) :]))
        announce(context, info)
        with context.db.connect() as conn:
            current = _file_or_404(conn, file_id)
            steps = steps_of(conn, str(file_id))
        return {
            "status": 202,
            "message": f"Reprocessing from {from_step}.",
            "data": file_out(current, steps),
        }, 202
