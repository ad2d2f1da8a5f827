"""Identity from the ingress: ``X-User-ID`` after ``auth_request``, optionally pinned by a shared secret.

When ``AUTH_PROXY_SECRET`` is set, a request without the matching ``X-Auth-Proxy-Secret`` is refused,
so a pod reached without the ingress cannot be spoofed by simply sending ``X-User-ID``.
"""

from __future__ import annotations

import hmac
import re

from flask import Flask, current_app, g, request

from core import queries
from gateway.errors import ApiError

_PUBLIC_PREFIXES = ("/health", "/ready", "/api/docs", "/api/schema", "/api/docs-assets")
_USER_ID = re.compile(r"^[\w.@:+-]{1,200}$")


def current_user() -> str:
    user: str = g.user_id
    return user


def init_app(app: Flask) -> None:
    @app.before_request
    def _authenticate() -> None:
        if request.path.startswith(_PUBLIC_PREFIXES) or not request.path.startswith("/api/"):
            return
        secret = current_app.config["PDFONTO"].settings.auth_proxy_secret
        if secret is not None:
            given = request.headers.get("X-Auth-Proxy-Secret", "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                raise ApiError(401, "Request did not come through the authenticating proxy.")
        user_id = request.headers.get("X-User-ID", "").strip()
        if not user_id:
            raise ApiError(
                401, "Missing X-User-ID header: requests must come through the authenticating proxy."
            )
        if not _USER_ID.match(user_id):
            raise ApiError(401, "Malformed X-User-ID header.")
        g.user_id = user_id
        with current_app.config["PDFONTO"].db.connect() as conn:
            queries.ensure_user(conn, user_id)
