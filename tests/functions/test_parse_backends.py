"""MINERU_BACKEND=api and api-legacy against real HTTP servers on loopback; both give the local output shape.

``api``: MinerU's own ``mineru-api --tier flash``, started here. ``api-legacy``: a small server speaking the
2.x ``POST /file_parse`` protocol that answers with the real 2.x output of the shared 5.14 report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.errors import ConfigurationError, PermanentError, TransientError
from core.settings import MineruSettings, Settings
from functions.parse import mineru_api, mineru_legacy
from functions.parse.backends import parse_document
from functions.parse.isolation import ParseTimeout
from functions.parse.mineru_local import parse_pdf
from functions.parse.pdf_check import inspect_pdf
from tests.conftest import free_port, shared_path
from tests.functions.parse_samples import scan_image, write_pages
from tests.pdfgen import write_pdf


def test_backend_settings_are_checked_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="MINERU_BACKEND must be one of local, api, api-legacy"):
        Settings.from_env({"MINERU_BACKEND": "remote"}, data_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="MINERU_API_URL must be set when MINERU_BACKEND is api"):
        Settings.from_env({"MINERU_BACKEND": "api"}, data_dir=tmp_path)
    settings = Settings.from_env(
        {
            "MINERU_BACKEND": "api-legacy",
            "MINERU_API_URL": "http://mineru:8000",
            "MINERU_MEMORY_LIMIT_MB": "0",
        },
        data_dir=tmp_path,
    )
    assert settings.mineru.memory_limit_mb is None and settings.mineru.legacy_backend == "pipeline"


# --- api: a real mineru-api -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mineru_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    home = tmp_path_factory.mktemp("mineru-home")
    script = Path(sys.executable).with_name("mineru-api")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "mineru.kit.commands.api_server"]
    env = {
        **os.environ,
        "MINERU_MODEL_SOURCE": "local",
        "MINERU_HOME": str(home),
        "MINERU_LOG_LEVEL": "warning",
    }
    # mineru-api keeps its blobs and a lock file in the working directory: keep them out of the checkout.
    server = subprocess.Popen(
        [*command, "--tier", "flash", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            output = server.stderr.read().decode() if server.stderr else ""
            raise RuntimeError(f"mineru-api did not start: {output[-2000:]}")
        time.sleep(0.3)
    yield url
    server.terminate()
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture(scope="module")
def mixed_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pages(
        tmp_path_factory.mktemp("api") / "mixed.pdf",
        [
            "A born-digital cover page about the slope.",
            scan_image(["Inspection record", "", "Anchor missing."]),
        ],
    )


@pytest.mark.slow
def test_api_backend_gives_the_same_output_as_local(mineru_server: str, mixed_pdf: Path) -> None:
    info = inspect_pdf(mixed_pdf, max_pages=10)
    settings = MineruSettings(backend="api", api_url=mineru_server, tier="flash", timeout=120)

    run = parse_document(mixed_pdf, info, settings)
    local = parse_pdf(mixed_pdf, tier="flash", ocr_pages=info.pages_without_text)

    assert run.backend == "api" and run.peak_rss_mb is None
    remote = run.output
    assert remote.content_list == local.content_list
    assert remote.markdown == local.markdown
    assert remote.ocr_pages == (1,) and remote.page_count == 2
    assert remote.tier == "flash" and remote.mineru_version == local.mineru_version
    assert remote.middle_json["pages"] == local.middle_json["pages"]
    assert "Anchor missing." in remote.markdown


@pytest.mark.slow
def test_api_backend_cancels_at_the_time_limit(mineru_server: str, tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "long.pdf", [[(12, f"Page {n} of a long report.")] * 30 for n in range(30)])

    with pytest.raises(ParseTimeout, match=r"within 0.3 s, the time limit \(MINERU_TIMEOUT\); the job was"):
        mineru_api.parse_remote(pdf, base_url=mineru_server, tier="flash", timeout=0.3)


@pytest.mark.slow
def test_api_backend_reports_a_refused_request(mineru_server: str, mixed_pdf: Path) -> None:
    # A flash-only server refuses other tiers: a configuration problem retrying cannot fix.
    with pytest.raises(PermanentError, match=r"HTTP 400.*Tier 'standard' not available"):
        mineru_api.parse_remote(mixed_pdf, base_url=mineru_server, tier="standard", timeout=60)


def test_api_backend_unreachable_is_transient(mixed_pdf: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(TransientError, match="MinerU server unavailable"):
        mineru_api.parse_remote(mixed_pdf, base_url=closed, tier="flash", timeout=60)


# --- api-legacy: a server speaking MinerU 2.x's /file_parse -----------------------------------------------


class LegacyServer:
    """Answers ``POST /file_parse`` like MinerU 2.x, from a saved 2.x output folder; records each request."""

    def __init__(self, outputs: Path, *, fail_first: int = 0) -> None:
        self.outputs = outputs
        self.fail_first = fail_first
        self.requests: list[dict[str, Any]] = []
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path != "/file_parse":
                    self._reply(404, {"detail": "Not Found"})
                    return
                form = message_from_bytes(
                    f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body, policy=HTTP
                )
                fields: dict[str, Any] = {}
                for part in form.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    payload = part.get_payload(decode=True)
                    fields[str(name)] = payload if part.get_filename() else payload.decode()
                    if part.get_filename():
                        fields["filename"] = part.get_filename()
                server.requests.append(fields)
                if len(server.requests) <= server.fail_first:
                    self._reply(503, {"detail": "Server is at maximum capacity: 1. Please try again later."})
                    return
                if not fields.get("files", b"").startswith(b"%PDF-"):
                    self._reply(400, {"error": "Failed to load file: not a PDF"})
                    return
                stem = Path(fields["filename"]).stem
                result = {
                    "md_content": (server.outputs / "document.md").read_text(encoding="utf-8"),
                    "middle_json": (server.outputs / "middle.json").read_text(encoding="utf-8"),
                    "content_list": (server.outputs / "content_list.json").read_text(encoding="utf-8"),
                    "images": {},
                }
                self._reply(
                    200, {"backend": fields["backend"], "version": "2.5.3", "results": {stem: result}}
                )

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> LegacyServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def report_514() -> Path:
    return shared_path("data", "mineru", "report_514")


def test_api_legacy_backend_normalises_the_2x_answer(report_514: Path, tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "report.pdf")
    settings = MineruSettings(
        backend="api-legacy", api_url="", legacy_backend="pipeline", lang="ch", timeout=30
    )

    with LegacyServer(report_514) as server:
        run = parse_document(pdf, inspect_pdf(pdf, max_pages=10), replace_url(settings, server.url))

    (request,) = server.requests
    assert request["files"] == pdf.read_bytes()
    assert {key: request[key] for key in ("backend", "parse_method", "lang_list")} == {
        "backend": "pipeline",
        "parse_method": "auto",
        "lang_list": "ch",
    }
    for flag in ("return_md", "return_middle_json", "return_content_list", "return_images"):
        assert request[flag] == "true", flag
    out = run.output
    expected = json.loads((report_514 / "content_list.json").read_text(encoding="utf-8"))
    assert run.backend == "api-legacy"
    assert out.content_list == expected
    assert out.page_count == 6 and out.mineru_version == "2.5.3" and out.tier == "pipeline"
    assert out.markdown.startswith("# 北京地铁")
    assert out.middle_json["pdf_info"][0]["page_idx"] == 0
    for block in out.content_list:
        assert {"type", "page_idx", "bbox"} <= set(block)
        assert all(isinstance(value, int) and 0 <= value <= 1000 for value in block["bbox"])


def test_api_legacy_retries_a_busy_server(report_514: Path, tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "report.pdf")

    with LegacyServer(report_514, fail_first=2) as server:
        out = mineru_legacy.parse_legacy(pdf, base_url=server.url, backend="pipeline", lang="ch", timeout=30)

    assert len(server.requests) == 3
    assert out.page_count == 6


def test_api_legacy_refusal_is_permanent(report_514: Path, tmp_path: Path) -> None:
    fake = tmp_path / "page.pdf"
    fake.write_bytes(b"<html>login</html>")

    with LegacyServer(report_514) as server, pytest.raises(PermanentError, match=r"HTTP 400.*not a PDF"):
        mineru_legacy.parse_legacy(fake, base_url=server.url, backend="pipeline", lang="ch", timeout=30)


def replace_url(settings: MineruSettings, url: str) -> MineruSettings:
    from dataclasses import replace

    return replace(settings, api_url=url)
