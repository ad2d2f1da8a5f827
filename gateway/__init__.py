"""The Flask gateway: the authenticated project/file API, OpenAPI docs and health probes."""

from __future__ import annotations

from typing import Any

from flask import Flask, send_from_directory
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from core.context import AppContext, build_context
from core.recovery import Sweeper
from core.settings import Settings
from gateway import auth, deadletter, errors, files, health, ontologies, projects, values
from gateway.schemas import ErrorEnvelope

# Room for the multipart envelope around a file of exactly MAX_UPLOAD_SIZE bytes.
_MULTIPART_OVERHEAD = 64 * 1024


class _Api(Api):
    """flask-smorest's Api with errors rendered (and documented) in the original service's envelope."""

    ERROR_SCHEMA = ErrorEnvelope

    def handle_http_exception(self, error: HTTPException) -> ResponseReturnValue:
        return errors.http_error(error)


def create_app(settings: Settings | None = None, context: AppContext | None = None) -> Flask:
    """Build the gateway. ``context`` shares an existing one (embedded mode and tests)."""
    if context is None:
        context = build_context(settings or Settings.from_env())
        _start_sweeper(context)
    app = Flask(__name__)
    app.config.update(
        PDFONTO=context,
        MAX_CONTENT_LENGTH=context.settings.max_upload_size + _MULTIPART_OVERHEAD,
        API_TITLE="pdfonto",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="schema/",
        OPENAPI_SWAGGER_UI_PATH="docs/",
        # Served from the swagger-ui-bundle wheel, so the docs work without internet access.
        OPENAPI_SWAGGER_UI_URL="/api/docs-assets/",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Turn PDFs into ontology-structured knowledge. Every /api/v1 route needs "
                "the X-User-ID header set by the authenticating ingress."
            },
            "components": {
                "securitySchemes": {"userId": {"type": "apiKey", "in": "header", "name": "X-User-ID"}}
            },
            "security": [{"userId": []}],
        },
    )
    # Chinese text stays readable in responses, and the envelope keeps its documented key order.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    errors.init_app(app)
    auth.init_app(app)
    api = _Api(app)
    api.register_blueprint(projects.blp)
    api.register_blueprint(files.blp)
    api.register_blueprint(ontologies.blp)
    api.register_blueprint(values.blp)
    app.register_blueprint(health.blp)
    app.register_blueprint(deadletter.blp)

    @app.get("/api/docs-assets/<path:name>")
    def _swagger_assets(name: str) -> Any:
        from swagger_ui_bundle import swagger_ui_path

        return send_from_directory(swagger_ui_path, name)

    return app


def _start_sweeper(context: AppContext) -> None:
    """In a cluster, the gateway re-announces steps whose events were lost (see core/recovery.py).

    The Broker gives up after its retries; a step whose worker died after that, or whose duplicate was
    dead-lettered while it ran, would otherwise stay ``processing`` forever.
    """
    settings = context.settings
    if (
        settings.events_mode == "external"
        and settings.event_sink_url
        and settings.resume_interval_seconds > 0
    ):
        sweeper = Sweeper(context, settings.resume_interval_seconds)
        sweeper.start()
        context.on_close(sweeper.stop)
