"""Named SQL for a project's immutable ontology versions (listing, reading, adding)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from psycopg.types.json import Jsonb

from core.db import Connection

Row = dict[str, Any]

# The format is read from the content, so rows written without the column (project creation) are right too.
_VERSION_COLUMNS = (
    "o.version, o.name, o.sha256, o.created_at, o.used_at, (p.ontology_version = o.version) AS current,"
    " CASE WHEN o.content->>'format' = 'pdfonto.ontology/1' THEN 'project' ELSE 'original' END AS format"
)


def content_digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def list_versions(conn: Connection, project_id: str) -> list[Row]:
    return conn.execute(
        f"SELECT {_VERSION_COLUMNS} FROM ontologies o JOIN projects p ON p.id = o.project_id"
        " WHERE o.project_id = %s ORDER BY o.version DESC",
        (project_id,),
    ).fetchall()


def get_version(conn: Connection, project_id: str, version: int) -> Row | None:
    return conn.execute(
        f"SELECT {_VERSION_COLUMNS}, o.content FROM ontologies o JOIN projects p ON p.id = o.project_id"
        " WHERE o.project_id = %s AND o.version = %s",
        (project_id, version),
    ).fetchone()


def create_version(conn: Connection, project_id: str, content: dict[str, Any], name: str, fmt: str) -> Row:
    """Store ``content`` as the project's next version and make it current; returns the new row.

    The project row is locked first, so two concurrent uploads get consecutive numbers instead of a
    primary-key conflict.
    """
    with conn.transaction():
        conn.execute("SELECT id FROM projects WHERE id = %s FOR UPDATE", (project_id,))
        row = conn.execute(
            "SELECT COALESCE(max(version), 0) + 1 AS next FROM ontologies WHERE project_id = %s",
            (project_id,),
        ).fetchone()
        assert row is not None
        version = int(row["next"])
        conn.execute(
            "INSERT INTO ontologies (project_id, version, name, format, content, sha256)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (project_id, version, name, fmt, Jsonb(content), content_digest(content)),
        )
        conn.execute(
            "UPDATE projects SET ontology_version = %s, updated_at = now() WHERE id = %s",
            (version, project_id),
        )
    created = get_version(conn, project_id, version)
    assert created is not None
    return created
