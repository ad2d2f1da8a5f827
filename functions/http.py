"""Replies every function service sends: an empty body on success.

functions-framework answers a CloudEvent with ``200 "OK"``. A Knative Broker reads a non-empty reply
as an event the subscriber wants published, and counts one that is not a CloudEvent as a failed delivery
(knative/eventing#6394), so every success would be retried and finally dead-lettered.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, has_app_context


def strip_success_body(response: Response) -> Response:
    """Drop the body of a 2xx reply, keeping its status; errors keep their text for the logs."""
    if 200 <= response.status_code < 300 and not response.is_streamed:
        response.set_data(b"")
        response.headers.pop("Content-Type", None)
    return response


def reply_empty(app: Flask | None = None) -> None:
    """Install :func:`strip_success_body` on ``app``, by default the app functions-framework is building.

    functions-framework executes a function's module inside its new app's context, so a ``main.py``
    calls this at import and the standard ``functions-framework --target … --source …`` command serves
    the empty replies. Imported anywhere else (a test importing ``handle``) there is no app and nothing
    to do.
    """
    if app is None:
        if not has_app_context():
            return
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    if strip_success_body not in app.after_request_funcs.get(None, []):
        app.after_request(strip_success_body)
