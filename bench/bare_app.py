"""The gateway benchmark's baseline: a bare Flask app served by the gateway's own gunicorn command line.

What the gateway costs beyond it is the gateway's own doing (auth, the database, validation, S3), not
gunicorn's or Flask's.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

_CHUNK = 1 << 20


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/ping")
    def ping() -> dict[str, Any]:
        # The gateway's envelope, so both sides serialise a JSON object of the same shape.
        return {"status": 200, "message": "", "data": {"ok": True}}

    @app.post("/upload")
    def upload() -> tuple[dict[str, Any], int]:
        # Parsed by werkzeug exactly as the gateway's upload is, then read through once and dropped.
        stream = request.files["pdf_file"].stream
        size = 0
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
        return {"status": 201, "message": "", "data": {"size_bytes": size}}, 201

    return app
