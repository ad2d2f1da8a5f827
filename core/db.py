"""Postgres access: a lazily created connection pool, the embedded server, and the migration runner.

All SQL lives in ``core/sql`` (migrations) and ``core/queries.py`` (named statements).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from core.errors import ConfigurationError, TransientError

log = logging.getLogger(__name__)

Connection = psycopg.Connection[dict[str, Any]]

# Any two processes migrating the same database serialise on this advisory lock.
_MIGRATION_LOCK_ID = 0x7064666F6E746F  # "pdfonto"


class Database:
    """A pool created on first use, so importing or constructing this does no I/O."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.url = url
        self._min_size = min_size
        self._max_size = max_size
        self._pool: ConnectionPool[Connection] | None = None
        self._lock = threading.Lock()

    @property
    def pool(self) -> ConnectionPool[Connection]:
        with self._lock:
            if self._pool is None:
                self._pool = ConnectionPool(
                    self.url,
                    min_size=self._min_size,
                    max_size=self._max_size,
                    kwargs={"row_factory": dict_row, "autocommit": True},
                    open=True,
                    name="pdfonto",
                )
            return self._pool

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        try:
            with self.pool.connection(timeout=30) as conn:
                yield conn
        except psycopg.OperationalError as exc:
            raise TransientError(f"database unavailable: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.connect() as conn, conn.transaction():
            yield conn

    def ping(self) -> None:
        with self.connect() as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) a Postgres server under ``data_dir/postgres`` and return its URL.

    The server keeps running after this process exits so the next ``pdfonto`` run starts instantly;
    ``pgserver`` shares one server between every process that points at the same directory.
    """
    import warnings

    # platformdirs warns on every start when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - pgserver is a core dependency
        raise ConfigurationError("DATABASE_URL is unset and pgserver is not installed") from exc
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir / "postgres", cleanup_mode=None)
    _embedded[data_dir] = server
    url: str = server.get_uri()
    log.info("embedded Postgres at %s", data_dir / "postgres")
    return url


def stop_embedded(data_dir: Path) -> None:
    """Stop the embedded server started under ``data_dir`` by this process (for throw-away data dirs)."""
    server = _embedded.pop(data_dir, None)
    if server is not None:
        server.cleanup_mode = "stop"
        server.cleanup()


_embedded: dict[Path, Any] = {}


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) for every migration, in the order they must be applied."""
    folder = resources.files("core") / "sql" / "migrations"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), (folder / name).read_text(encoding="utf-8")) for name in names]


def migrate(conn: Connection) -> list[str]:
    """Apply the migrations not yet recorded in ``schema_migrations``; return the versions applied."""
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_ID,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row["version"] for row in conn.execute("SELECT version FROM schema_migrations")}
        for version, sql in migration_files():
            if version in done:
                continue
            conn.execute(sql)  # a trusted file shipped with the package
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
            applied_now.append(version)
            log.info("applied migration %s", version)
    return applied_now
