"""Liveness and readiness probes for Knative and compose."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from gateway.context import ctx

blp = Blueprint("health", __name__)


@blp.get("/health")
def health() -> dict[str, Any]:
    """The process is alive (no dependency is touched)."""
    return {"status": 200, "message": "ok", "data": None}


@blp.get("/ready")
def ready() -> tuple[dict[str, Any], int]:
    """200 when Postgres and object storage both answer, else 503 naming the one that does not."""
    checks: dict[str, str] = {}
    context = ctx()
    for name, probe in (("database", context.db.ping), ("storage", context.store.ping)):
        try:
            probe()
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"unavailable: {exc}"
    healthy = all(value == "ok" for value in checks.values())
    status = 200 if healthy else 503
    return {"status": status, "message": "ready" if healthy else "not ready", "data": checks}, status
