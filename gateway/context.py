"""Access to the process's :class:`AppContext` from request handlers."""

from __future__ import annotations

from flask import current_app

from core.context import AppContext


def ctx() -> AppContext:
    context: AppContext = current_app.config["PDFONTO"]
    return context
