"""The migrations and the checked-in ``core/sql/schema.sql`` describe the same database."""

from __future__ import annotations

import uuid
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from core.db import migrate, migration_files
from tests.conftest import _with_database

CATALOG = {
    "columns": """SELECT table_name, column_name, data_type, is_nullable, column_default
                  FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2""",
    "constraints": """SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def
                      FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2""",
    "indexes": """SELECT tablename, indexname, indexdef FROM pg_indexes
                  WHERE schemaname = 'public' ORDER BY 1, 2""",
}


def _snapshot(url: str) -> dict[str, list[dict[str, Any]]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return {name: conn.execute(query).fetchall() for name, query in CATALOG.items()}  # type: ignore[arg-type]


def _fresh_db(server_url: str) -> str:
    name = f"pdfonto_m_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return _with_database(server_url, name)


def test_migrations_produce_the_checked_in_schema(pg_server_url: str) -> None:
    migrated, declared = _fresh_db(pg_server_url), _fresh_db(pg_server_url)
    with psycopg.connect(migrated, autocommit=True, row_factory=dict_row) as conn:
        assert migrate(conn) == [version for version, _ in migration_files()]  # type: ignore[arg-type]
    schema = (resources.files("core") / "sql" / "schema.sql").read_text(encoding="utf-8")
    with psycopg.connect(declared, autocommit=True) as conn:
        conn.execute(schema)  # type: ignore[arg-type]
    assert _snapshot(migrated) == _snapshot(declared)


def test_migrate_is_idempotent_and_recorded(pg_server_url: str) -> None:
    url = _fresh_db(pg_server_url)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        first = migrate(conn)  # type: ignore[arg-type]
        assert first and migrate(conn) == []  # type: ignore[arg-type]
        recorded = [
            row["version"] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")
        ]
    assert recorded == first
