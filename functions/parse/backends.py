"""Where MinerU runs (``MINERU_BACKEND``): in a local isolated worker, or on a MinerU server over HTTP.

- ``local``: MinerU 4 in :class:`functions.parse.isolation.IsolatedWorker`, under ``MINERU_TIMEOUT`` and
  ``MINERU_MEMORY_LIMIT_MB``; flash-tier scans are OCRed in the same worker.
- ``api``: a MinerU 4 ``mineru-api`` server (``/v1`` jobs protocol) at ``MINERU_API_URL``; with the flash
  tier, scans are OCRed here as with ``local``.
- ``api-legacy``: a MinerU 2.x/3.x server (``POST /file_parse``) at ``MINERU_API_URL``.

Every backend returns the same :class:`MineruOutput`, so nothing after this point knows which one ran.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from core.settings import MineruSettings
from functions.parse.isolation import IsolatedWorker, Limits
from functions.parse.mineru_local import MineruOutput, parse_pdf
from functions.parse.pdf_check import PdfInfo


@dataclass(frozen=True)
class ParseRun:
    """One document's parse: the output and what it cost.

    ``peak_rss_mb`` is the peak resident memory of the local worker's process tree during the job; remote
    backends spend their memory on the server, so it is None for them.
    """

    output: MineruOutput
    backend: str
    seconds: float
    peak_rss_mb: float | None


_worker: IsolatedWorker | None = None
_worker_lock = threading.Lock()


def local_worker(max_jobs: int) -> IsolatedWorker:
    """The process-wide parse worker, created on first use (never at import: gunicorn forks after it)."""
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = IsolatedWorker(max_jobs=max_jobs)
        return _worker


def parse_document(
    pdf: Path, info: PdfInfo, settings: MineruSettings, *, log_level: str | None = None
) -> ParseRun:
    """Parse the validated PDF at ``pdf`` (described by ``info``) with the configured backend."""
    if settings.backend == "local":
        output, usage = local_worker(settings.worker_max_jobs).run(
            parse_pdf,
            pdf,
            tier=settings.tier,
            ocr_pages=info.pages_without_text,
            mineru_home=settings.home,
            log_level=log_level,
            limits=Limits(timeout=settings.timeout, memory_mb=settings.memory_limit_mb),
        )
        return ParseRun(output, "local", usage.seconds, usage.peak_rss_mb)

    assert settings.api_url is not None  # Settings.validate guarantees it for remote backends
    # Only the remote backends use httpx: imported here, it stays off the local backend's start path.
    from functions.parse import mineru_api, mineru_legacy

    started = time.monotonic()
    if settings.backend == "api":
        output = mineru_api.parse_remote(
            pdf,
            base_url=settings.api_url,
            tier=settings.tier,
            timeout=settings.timeout,
            ocr_pages=info.pages_without_text,
        )
    else:
        output = mineru_legacy.parse_legacy(
            pdf,
            base_url=settings.api_url,
            backend=settings.legacy_backend,
            lang=settings.lang,
            timeout=settings.timeout,
        )
    return ParseRun(output, settings.backend, round(time.monotonic() - started, 3), None)
