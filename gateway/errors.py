"""Every error leaves the gateway as the JSON envelope with a sentence a person can act on."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, has_app_context
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from core.errors import InvalidInput, NotFound, TransientError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Raised by handlers; rendered as ``{"status": code, "message": message, "data": data}``."""

    def __init__(self, status: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.data = data


def envelope(status: int, message: str = "", data: Any = None) -> tuple[dict[str, Any], int]:
    return {"status": status, "message": message, "data": data}, status


_HTTP_MESSAGES = {
    404: "Not found.",
    405: "This method is not allowed on this URL.",
    413: "The request body is too large.",
}


def http_error(error: HTTPException) -> tuple[dict[str, Any], int]:
    status = error.code or 500
    data = None
    message = _HTTP_MESSAGES.get(status, error.description or error.name)
    if status == 413 and has_app_context():
        limit = current_app.config["PDFONTO"].settings.max_upload_size
        message = f"The upload is larger than the {limit / 1048576:g} MB limit (MAX_UPLOAD_SIZE)."
    # webargs reports schema violations as 422 with field messages; for the client that is bad input.
    messages = getattr(error, "data", {}).get("messages") if hasattr(error, "data") else None
    if messages:
        status = 400
        data = {"errors": messages}
        message = "Invalid request: " + _flatten(messages)
    return envelope(status, message, data)


def _flatten(messages: Any, path: str = "") -> str:
    if isinstance(messages, dict):
        parts = [
            _flatten(value, f"{path}.{key}" if path else str(key))
            for key, value in messages.items()
            if key not in ("json", "form", "files", "query") or not path
        ]
        return "; ".join(part for part in parts if part)
    if isinstance(messages, list):
        text = " ".join(str(m) for m in messages)
        return f"{path}: {text}" if path and path not in ("json", "form", "files", "query") else text
    return f"{path}: {messages}" if path else str(messages)


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> ResponseReturnValue:
        return envelope(error.status, error.message, error.data)

    @app.errorhandler(InvalidInput)
    def _invalid(error: InvalidInput) -> ResponseReturnValue:
        return envelope(400, str(error))

    @app.errorhandler(NotFound)
    def _not_found(error: NotFound) -> ResponseReturnValue:
        return envelope(404, "Not found.")

    @app.errorhandler(TransientError)
    def _unavailable(error: TransientError) -> ResponseReturnValue:
        log.warning("dependency unavailable: %s", error)
        return envelope(503, "A backing service is briefly unavailable; please retry in a few seconds.")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        if isinstance(error, HTTPException):
            return http_error(error)
        log.exception("unhandled error")
        return envelope(500, "Internal error; it has been logged.")
