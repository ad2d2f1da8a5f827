"""Client of a MinerU 2.x/3.x server: one synchronous ``POST /file_parse`` per document.

This is the call the original service made, so existing MinerU deployments keep working. The server answers
``{"backend", "version", "results": {<file stem>: {"md_content", "middle_json", "content_list",
"images"}}}`` where ``middle_json`` and ``content_list`` are JSON documents in strings and ``images`` maps
file names to ``data:`` URIs. The content list is already content list V1 (bbox 0–1000, ``page_idx``), so
normalising means decoding, putting images under ``images/`` and checking the shape. The middle JSON stays
in the server's 2.x schema (``pdf_info``): MinerU 4 cannot read 2.x files that contain discarded blocks.

``MINERU_TIMEOUT`` bounds the wait for the answer; connection failures and 429/502–504 are retried with
backoff, other server errors retry the event later.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from core.errors import PermanentError, TransientError
from functions.parse.isolation import ParseTimeout
from functions.parse.mineru_local import MineruOutput

_RETRY_STATUS = frozenset({429, 502, 503, 504})


class _RetryableHttp(Exception):
    """A response or transport failure worth repeating the request for."""


def parse_legacy(pdf: Path, *, base_url: str, backend: str, lang: str, timeout: float) -> MineruOutput:
    """Parse ``pdf`` on the 2.x/3.x server at ``base_url`` with its ``backend`` and OCR language ``lang``."""
    form = {
        "backend": backend,
        "parse_method": "auto",
        "lang_list": lang,
        "return_md": "true",
        "return_middle_json": "true",
        "return_content_list": "true",
        "return_images": "true",
        "return_model_output": "false",
        "response_format_zip": "false",
    }
    url = base_url.rstrip("/") + "/file_parse"
    try:
        response = _post(url, pdf, form, timeout)
    except httpx.TimeoutException as exc:
        raise ParseTimeout(
            f"The MinerU server did not answer within {timeout:g} s, the time limit (MINERU_TIMEOUT). Split "
            "the PDF into smaller files, or ask the administrator to raise MINERU_TIMEOUT."
        ) from exc
    except _RetryableHttp as exc:
        raise TransientError(f"MinerU server unavailable: {exc}") from exc
    if response.status_code >= 500:
        raise TransientError(f"MinerU server error: HTTP {response.status_code}: {response.text[:300]}")
    if response.status_code >= 400:
        raise PermanentError(
            f"The MinerU server refused this PDF (HTTP {response.status_code}): {_error_text(response)}"
        )
    return normalise(response.json(), tier=backend)


def normalise(body: Any, *, tier: str) -> MineruOutput:
    """Turn a 2.x ``/file_parse`` JSON answer into a :class:`MineruOutput`."""
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, dict) or not results:
        raise TransientError("the MinerU server's answer has no results")
    result = next(iter(results.values()))
    content_list = _decoded(result.get("content_list"), "content_list")
    middle_json = _decoded(result.get("middle_json"), "middle_json")
    if not isinstance(content_list, list) or not isinstance(middle_json, dict):
        raise TransientError("the MinerU server's content_list/middle_json have an unexpected shape")
    images = {
        name if name.startswith("images/") else f"images/{name}": _data_uri_bytes(uri)
        for name, uri in (result.get("images") or {}).items()
    }
    blocks = []
    for block in content_list:
        block = dict(block)
        if block.get("img_path") and not str(block["img_path"]).startswith("images/"):
            block["img_path"] = f"images/{block['img_path']}"
        block["page_idx"] = int(block.get("page_idx", 0))
        if "bbox" in block:
            block["bbox"] = [round(float(value)) for value in block["bbox"]]
        blocks.append(block)
    pages = middle_json.get("pdf_info") or middle_json.get("pages") or []
    return MineruOutput(
        content_list=blocks,
        middle_json=middle_json,
        markdown=str(result.get("md_content") or ""),
        images=images,
        page_count=len(pages) if pages else 1 + max((block["page_idx"] for block in blocks), default=0),
        mineru_version=str(body.get("version") or middle_json.get("_version_name") or "unknown"),
        tier=tier,
    )


@retry(
    retry=retry_if_exception_type(_RetryableHttp),
    wait=wait_exponential(multiplier=0.5, max=8),
    stop=stop_after_attempt(5),
    reraise=True,
)
def _post(url: str, pdf: Path, form: dict[str, str], timeout: float) -> httpx.Response:
    try:
        with pdf.open("rb") as handle:
            response = httpx.post(
                url,
                data=form,
                files={"files": (pdf.name, handle, "application/pdf")},
                timeout=httpx.Timeout(timeout, connect=10.0),
            )
    except (httpx.ConnectError, httpx.RemoteProtocolError) as exc:
        raise _RetryableHttp(f"POST {url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code in _RETRY_STATUS:
        raise _RetryableHttp(f"POST {url}: HTTP {response.status_code}")
    return response


def _decoded(value: Any, name: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise TransientError(f"the MinerU server's {name} is not valid JSON") from exc
    return value


def _data_uri_bytes(uri: str) -> bytes:
    _, _, payload = uri.partition("base64,")
    return base64.b64decode(payload or uri)


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    return str(body.get("error") or body.get("detail") or body)[:300] if isinstance(body, dict) else str(body)
