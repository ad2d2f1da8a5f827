"""A real ``pdfonto serve`` process on loopback, driven over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import free_port

TERMINAL = ("completed", "failed")


class Client:
    def __init__(self, base: str, user: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["X-User-ID"] = user

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=60, **kw)

    def create_project(self, name: str = "e2e") -> str:
        response = self.call("POST", "/api/v1/projects/", json={"name": name})
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["id"])

    def upload(self, project_id: str, path: Path) -> requests.Response:
        with path.open("rb") as fh:
            return self.call(
                "POST",
                f"/api/v1/projects/{project_id}/files/",
                files={"pdf_file": (path.name, fh, "application/pdf")},
            )

    def wait(self, file_id: str, timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            data: dict[str, Any] = self.call("GET", f"/api/v1/files/{file_id}/").json()["data"]
            if data["status"] in TERMINAL:
                return data
            if time.monotonic() > deadline:
                pytest.fail(f"file {file_id} still {data['status']} after {timeout}s: {data}")
            time.sleep(0.5)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pg_server_url: str, template_db: str) -> Iterator[str]:
    import uuid

    import psycopg
    from psycopg import sql

    from tests.conftest import _with_database

    name = f"pdfonto_e2e_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template_db)
            )
        )
    data_dir = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _with_database(pg_server_url, name),
        "PDFONTO_DATA_DIR": str(data_dir),
        "MAX_PAGES": "100",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DEEPSEEK_API_KEY", None)
    log = (data_dir / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "pdfonto.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "/health", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.close()
            pytest.fail("pdfonto serve did not start:\n" + (data_dir / "serve.log").read_text())
        time.sleep(0.3)
    yield base
    process.terminate()
    process.wait(30)
    log.close()
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
