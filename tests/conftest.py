"""Shared fixtures: a real Postgres (embedded unless DATABASE_URL is set), settings, the gateway app.

Each test that touches the database gets its own database cloned from a migrated template, so tests
are isolated without re-running migrations.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from psycopg import sql

from core import keys, queries
from core.context import AppContext, build_context
from core.db import Connection, migrate
from core.ontology import default_ontology
from core.settings import Settings
from gateway import create_app

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def insert_file(
    conn: Connection,
    *,
    owner: str = "u",
    original_name: str = "a.pdf",
    size_bytes: int = 1,
    file_id: str | None = None,
) -> keys.FileRef:
    """A user, a project with the default ontology and a pending file row (its PDF is not stored)."""
    file_id = file_id or str(uuid.uuid4())
    queries.ensure_user(conn, owner)
    project = queries.create_project(conn, owner, "tests", "", default_ontology())
    queries.create_file(
        conn,
        file_id=file_id,
        project_id=project["id"],
        owner_id=owner,
        original_name=original_name,
        object_key=keys.pdf_key(str(project["id"]), file_id),
        size_bytes=size_bytes,
        sha256=None,
    )
    return keys.FileRef(str(project["id"]), file_id)


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or skip the test with the reason when it is absent (a fresh clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (shared test data is not part of a clone)")
    return path


def _with_database(url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """host:port of a real S3 HTTP server (moto's server mode) for the whole session."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of the server's maintenance database."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    import pgserver

    # Short path: the Unix socket lives in this folder and socket paths are limited to ~100 bytes.
    folder = Path(tempfile.mkdtemp(prefix="pdfonto-pg-"))
    server = pgserver.get_server(folder, cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="session")
def template_db(pg_server_url: str) -> str:
    name = f"pdfonto_tmpl_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(_with_database(pg_server_url, name), autocommit=True) as conn:
        migrate(conn)  # type: ignore[arg-type]
    return name


@pytest.fixture
def database_url(pg_server_url: str, template_db: str) -> Iterator[str]:
    name = f"pdfonto_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template_db)
            )
        )
    yield _with_database(pg_server_url, name)
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings.from_env({}, data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
def context(settings: Settings) -> Iterator[AppContext]:
    """A context on the test database and a local store. No function is registered on its bus: tests
    using it look at the API or one step, not at the pipeline."""
    ctx = build_context(settings)
    yield ctx
    ctx.close()


@pytest.fixture
def app(context: AppContext) -> Flask:
    return create_app(context=context)
