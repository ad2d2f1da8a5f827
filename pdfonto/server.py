"""``pdfonto serve``: gunicorn with one threaded worker that holds the gateway and every function.

gunicorn hands the request body to Flask as a stream, so an upload over ``MAX_UPLOAD_SIZE`` is refused
from its Content-Length (or while being read) with the JSON envelope, before it is buffered anywhere.
One worker, because the in-process bus and the embedded database belong to a single process.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from core.settings import Settings


class _EmbeddedServer(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        # Runs in the worker after the fork: threads, pools and the database belong to that process.
        from gateway import create_app
        from pdfonto.embedded import start

        return create_app(context=start(self.settings, resume=True))


def serve(settings: Settings, *, host: str, port: int, threads: int) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": threads,
        # Requests are short; MinerU runs on the bus's own threads, not in a request.
        "timeout": 120,
        "graceful_timeout": 30,
        "accesslog": None,
        "loglevel": settings.log_level.lower(),
        # The control socket lives in ~/.gunicorn and would clash between two servers of one user.
        "control_socket_disable": True,
    }
    _EmbeddedServer(settings, options).run()
