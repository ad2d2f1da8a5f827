"""Client of a MinerU 4 server (``mineru-api``), speaking its ``/v1`` jobs protocol.

The exchange, as ``mineru.parser.api_server`` serves it: create an upload (``POST /v1/uploads``), ``PUT`` the
bytes to the URL it returns and complete it, which yields a file id; submit a job for that file
(``POST /v1/parse/jobs``, output ``zip``); poll ``GET /v1/parse/jobs/{id}`` until it is terminal; download
the zip (``GET /v1/files/{id}/content``). The zip holds exactly what ``ParseResult.save`` writes locally, so
it is normalised by the same code as a local parse.

Transient HTTP failures (connection errors, 429, 502–504) are retried with exponential backoff; when they
persist the event is retried later (:class:`TransientError`). The whole exchange is bounded by
``MINERU_TIMEOUT``: a job still running then is cancelled and the step fails with the limit in the reason.
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from core.errors import PermanentError, TransientError
from functions.parse.isolation import ParseTimeout
from functions.parse.mineru_local import MineruOutput, output_from_saved
from functions.parse.ocr import ocr_pages as ocr_pages_of

log = logging.getLogger(__name__)

_TERMINAL = frozenset({"completed", "partial", "failed", "canceled"})
_RETRY_STATUS = frozenset({429, 502, 503, 504})
_FIRST_POLL_SECONDS = 0.5
_MAX_POLL_SECONDS = 5.0


class _RetryableHttp(Exception):
    """A response or transport failure worth repeating the request for."""


def parse_remote(
    pdf: Path,
    *,
    base_url: str,
    tier: str,
    timeout: float,
    ocr_pages: Sequence[int] = (),
) -> MineruOutput:
    """Parse ``pdf`` on the MinerU server at ``base_url`` and return the normalised output.

    With the ``flash`` tier the server only reads text layers (``ocr_mode=txt``) and the 0-based
    ``ocr_pages`` are OCRed here, exactly as with the local backend.
    """
    deadline = time.monotonic() + timeout
    flash = tier == "flash"
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=httpx.Timeout(60.0, connect=10.0)) as client:
        file_id = _upload(client, pdf)
        body: dict[str, Any] = {
            "files": [{"source": {"type": "file_id", "file_id": file_id}}],
            "tier": tier,
            "output_formats": ["zip"],
        }
        if flash:
            body["ocr_mode"] = "txt"
        job = _json(_request(client, "POST", "/v1/parse/jobs", json=body))
        job = _wait(client, job, deadline, timeout)
        archive = _request(client, "GET", f"/v1/files/{_zip_id(job)}/content").content
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
            files = {name: bundle.read(name) for name in bundle.namelist() if not name.endswith("/")}
    except zipfile.BadZipFile as exc:
        raise TransientError(f"the MinerU server at {base_url} returned a damaged result archive") from exc
    ocr = ocr_pages_of(pdf, sorted(set(ocr_pages))) if flash else {}
    return output_from_saved(files, tier=str(job.get("tier") or tier), ocr=ocr)


def _upload(client: httpx.Client, pdf: Path) -> str:
    data = pdf.read_bytes()
    created = _json(
        _request(
            client,
            "POST",
            "/v1/uploads",
            json={
                "filename": pdf.name,
                "bytes": len(data),
                "mime_type": "application/pdf",
                "purpose": "parse",
                "sha256sum": hashlib.sha256(data).hexdigest(),
            },
        )
    )
    if created.get("status") != "completed":  # "completed" already: the server knew these bytes
        headers = created.get("upload_headers") or {}
        _request(client, "PUT", created["upload_url"], content=data, headers=headers)
        created = _json(_request(client, "POST", f"/v1/uploads/{created['id']}/complete", json={}))
    return str(created["file"]["id"])


def _wait(client: httpx.Client, job: dict[str, Any], deadline: float, timeout: float) -> dict[str, Any]:
    delay = _FIRST_POLL_SECONDS
    while job.get("status") not in _TERMINAL:
        if time.monotonic() + delay > deadline:
            _cancel(client, str(job["job_id"]))
            raise ParseTimeout(
                f"The MinerU server did not finish within {timeout:g} s, the time limit (MINERU_TIMEOUT); "
                "the job was cancelled. Split the PDF into smaller files, or ask the administrator to raise "
                "MINERU_TIMEOUT."
            )
        time.sleep(delay)
        delay = min(delay * 2, _MAX_POLL_SECONDS)
        job = _json(_request(client, "GET", f"/v1/parse/jobs/{job['job_id']}"))
    files = job.get("files") or [{}]
    if job["status"] in ("failed", "canceled") or files[0].get("status") != "completed":
        error = files[0].get("error") or job.get("error") or {}
        raise PermanentError(
            f"The MinerU server could not parse this PDF (job {job['status']}): "
            f"[{error.get('code', 'unknown')}] {error.get('message', 'no reason given')}"
        )
    return job


def _zip_id(job: dict[str, Any]) -> str:
    outputs = job["files"][0].get("output_files") or {}
    ref = outputs.get("zip") or {}
    if not ref.get("file_id"):
        raise TransientError(f"the MinerU job {job['job_id']} completed without a result archive")
    return str(ref["file_id"])


def _cancel(client: httpx.Client, job_id: str) -> None:
    try:
        client.delete(f"/v1/parse/jobs/{job_id}")
    except httpx.HTTPError as exc:  # the timeout is the error that matters to the user
        log.warning("could not cancel MinerU job %s: %s", job_id, exc)


def _request(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request with retries for transient failures; other 4xx/5xx become pdfonto errors."""
    try:
        response = _send(client, method, url, **kwargs)
    except _RetryableHttp as exc:
        raise TransientError(f"MinerU server unavailable: {exc}") from exc
    if response.status_code >= 500:
        raise TransientError(f"MinerU server error on {method} {url}: HTTP {response.status_code}")
    if response.status_code >= 400:
        raise PermanentError(
            f"The MinerU server refused the request ({method} {url}, HTTP {response.status_code}): "
            f"{_error_text(response)}"
        )
    return response


@retry(
    retry=retry_if_exception_type(_RetryableHttp),
    wait=wait_exponential(multiplier=0.5, max=8),
    stop=stop_after_attempt(5),
    reraise=True,
)
def _send(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        raise _RetryableHttp(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code in _RETRY_STATUS:
        raise _RetryableHttp(f"{method} {url}: HTTP {response.status_code}")
    return response


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError as exc:
        raise TransientError(f"the MinerU server answered {response.request.url} with non-JSON") from exc
    if not isinstance(value, dict):
        raise TransientError(f"the MinerU server answered {response.request.url} with unexpected JSON")
    return value


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except ValueError:
        return response.text[:300]
    if isinstance(error, dict):
        return f"[{error.get('code', 'unknown')}] {error.get('message', '')}"
    return str(error or response.text[:300])
