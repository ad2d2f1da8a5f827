"""Named SQL statements for projects, files and ontologies. Plain, parameterised SQL in one place.

Every query that reads a project or file takes the caller's ``owner_id``: ownership is part of the
WHERE clause, so another user's resource is simply not found.
"""

from __future__ import annotations

from typing import Any

from core import ontology_queries
from core.db import Connection
from core.ontology import Ontology

Row = dict[str, Any]

_FILE_COLUMNS = (
    "f.id, f.project_id, f.original_name, f.status, f.error, f.size_bytes, f.sha256, f.page_count,"
    " f.ontology_version, f.created_at, f.updated_at, f.completed_at"
)


def ensure_user(conn: Connection, user_id: str) -> None:
    conn.execute("INSERT INTO users (id) VALUES (%s) ON CONFLICT DO NOTHING", (user_id,))


# --- projects -------------------------------------------------------------------------------------


def create_project(conn: Connection, owner_id: str, name: str, description: str, ontology: Ontology) -> Row:
    """A new project whose ontology version 1 is ``ontology``."""
    with conn.transaction():
        project = conn.execute(
            "INSERT INTO projects (owner_id, name, description) VALUES (%s, %s, %s) RETURNING *",
            (owner_id, name, description),
        ).fetchone()
        assert project is not None
        ontology_queries.create_version(
            conn, str(project["id"]), ontology.raw, ontology.name, ontology.format
        )
    return project


def list_projects(conn: Connection, owner_id: str, limit: int, offset: int) -> tuple[int, list[Row]]:
    total = conn.execute(
        "SELECT count(*) AS n FROM projects WHERE owner_id = %s AND deleted_at IS NULL", (owner_id,)
    ).fetchone()
    rows = conn.execute(
        "SELECT * FROM projects WHERE owner_id = %s AND deleted_at IS NULL"
        " ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s",
        (owner_id, limit, offset),
    ).fetchall()
    return (int(total["n"]) if total else 0), rows


def get_project(conn: Connection, owner_id: str, project_id: str) -> Row | None:
    return conn.execute(
        "SELECT * FROM projects WHERE id = %s AND owner_id = %s AND deleted_at IS NULL",
        (project_id, owner_id),
    ).fetchone()


def file_counts(conn: Connection, project_id: Any) -> dict[str, int]:
    counts = {"pending": 0, "processing": 0, "completed": 0, "failed": 0}
    for row in conn.execute(
        "SELECT status, count(*) AS n FROM files WHERE project_id = %s GROUP BY status", (project_id,)
    ):
        counts[row["status"]] = int(row["n"])
    counts["total"] = sum(counts.values())
    return counts


def update_project(conn: Connection, owner_id: str, project_id: str, changes: dict[str, str]) -> Row | None:
    allowed = {key: value for key, value in changes.items() if key in ("name", "description")}
    if not allowed:
        return get_project(conn, owner_id, project_id)
    # Column names come from the fixed allow-list above, never from the request.
    assignments = ", ".join(f"{column} = %s" for column in allowed)
    return conn.execute(
        f"UPDATE projects SET {assignments}, updated_at = now()"
        " WHERE id = %s AND owner_id = %s AND deleted_at IS NULL RETURNING *",
        (*allowed.values(), project_id, owner_id),
    ).fetchone()


def soft_delete_project(conn: Connection, owner_id: str, project_id: str) -> bool:
    row = conn.execute(
        "UPDATE projects SET deleted_at = now() WHERE id = %s AND owner_id = %s AND deleted_at IS NULL"
        " RETURNING id",
        (project_id, owner_id),
    ).fetchone()
    return row is not None


def current_ontology(conn: Connection, project_id: Any) -> Row | None:
    return conn.execute(
        "SELECT o.* FROM ontologies o"
        " JOIN projects p ON p.id = o.project_id AND p.ontology_version = o.version"
        " WHERE o.project_id = %s",
        (project_id,),
    ).fetchone()


def mark_ontology_used(conn: Connection, project_id: Any, version: int) -> None:
    conn.execute(
        "UPDATE ontologies SET used_at = COALESCE(used_at, now()) WHERE project_id = %s AND version = %s",
        (project_id, version),
    )


# --- files ----------------------------------------------------------------------------------------


def create_file(
    conn: Connection,
    *,
    file_id: str,
    project_id: Any,
    owner_id: str,
    original_name: str,
    object_key: str,
    size_bytes: int | None,
    sha256: str | None,
) -> Row:
    row = conn.execute(
        "INSERT INTO files (id, project_id, owner_id, original_name, object_key, size_bytes, sha256)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING *",
        (file_id, project_id, owner_id, original_name, object_key, size_bytes, sha256),
    ).fetchone()
    assert row is not None
    return row


def list_files(
    conn: Connection, owner_id: str, project_id: str, status: str | None, limit: int, offset: int
) -> tuple[int, list[Row]]:
    where = "f.project_id = %s AND f.owner_id = %s AND (%s::text IS NULL OR f.status = %s)"
    params = (project_id, owner_id, status, status)
    total = conn.execute(f"SELECT count(*) AS n FROM files f WHERE {where}", params).fetchone()
    rows = conn.execute(
        f"SELECT {_FILE_COLUMNS} FROM files f WHERE {where}"
        " ORDER BY f.created_at DESC, f.id DESC LIMIT %s OFFSET %s",
        (*params, limit, offset),
    ).fetchall()
    return (int(total["n"]) if total else 0), rows


def get_file(conn: Connection, owner_id: str, file_id: str) -> Row | None:
    """A file of a live project owned by ``owner_id``, with its object key."""
    return conn.execute(
        f"SELECT {_FILE_COLUMNS}, f.object_key FROM files f JOIN projects p ON p.id = f.project_id"
        " WHERE f.id = %s AND f.owner_id = %s AND p.deleted_at IS NULL",
        (file_id, owner_id),
    ).fetchone()


def file_for_step(conn: Connection, file_id: str) -> Row | None:
    return conn.execute(
        "SELECT f.*, p.ontology_version AS project_ontology_version FROM files f"
        " JOIN projects p ON p.id = f.project_id WHERE f.id = %s",
        (file_id,),
    ).fetchone()


def delete_file(conn: Connection, owner_id: str, file_id: str) -> bool:
    row = conn.execute(
        "DELETE FROM files WHERE id = %s AND owner_id = %s RETURNING id", (file_id, owner_id)
    ).fetchone()
    return row is not None


def reset_steps(conn: Connection, file_id: str, steps: list[str]) -> None:
    """Forget the given steps' state so the next event for them runs again; the file goes back to pending."""
    with conn.transaction():
        conn.execute("DELETE FROM steps WHERE file_id = %s AND step = ANY(%s)", (file_id, steps))
        conn.execute(
            "UPDATE files SET status = 'pending', error = NULL, completed_at = NULL, updated_at = now()"
            " WHERE id = %s",
            (file_id,),
        )


def set_file_ontology_version(conn: Connection, file_id: str, version: int) -> None:
    conn.execute("UPDATE files SET ontology_version = %s WHERE id = %s", (version, file_id))
