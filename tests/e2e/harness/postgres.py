"""Databases for the harness: a fresh one per cluster, or a Postgres server of its own to restart."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from core.db import migrate
from tests.conftest import _with_database


@contextmanager
def fresh_database(server_url: str, template: str) -> Iterator[str]:
    """A new database cloned from the migrated template; dropped afterwards."""
    name = f"pdfonto_e2e_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        )
    try:
        yield _with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class PostgresServer:
    """A Postgres server of the harness's own (pgserver's binaries) that a test may stop and start again.

    The session's shared server cannot be stopped under the other tests (and may be an outside one),
    so the restart scenario gets this one. It listens on a Unix socket in its data directory, so its
    URL is the same after every restart.
    """

    def __init__(self) -> None:
        import pgserver

        # Short path: socket paths are limited to ~100 bytes.
        self.folder = Path(tempfile.mkdtemp(prefix="pdfonto-e2e-pg-"))
        self._server = pgserver.get_server(self.folder, cleanup_mode="delete")
        with psycopg.connect(self._server.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE pdfonto")
        with psycopg.connect(self.url(), autocommit=True) as conn:
            migrate(conn)  # type: ignore[arg-type]

    def url(self) -> str:
        return str(self._server.get_uri("pdfonto"))

    def stop(self, mode: str = "fast") -> None:
        """``immediate`` is a crash to clients: no goodbye, crash recovery on the next start."""
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "-m", mode, "stop"], pgdata=self.folder, user=self._server.system_user)

    def start(self) -> None:
        self._server.ensure_postgres_running()

    def remove(self) -> None:
        self._server.cleanup()
