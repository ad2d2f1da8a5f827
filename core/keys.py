"""Deterministic object keys: every stage writes to a key derived only from (project, file, version).

Rewriting the same key on a retry replaces the object instead of adding another, which is half of
what makes the steps idempotent.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from core.errors import InvalidInput

MANIFEST = "manifest.json"
DOCUMENT = "document.json"
RESULT = "result.json"

_PDF_KEY = re.compile(r"^(?P<project>[0-9a-f-]{36})/(?P<file>[0-9a-f-]{36})\.pdf$")
_FILE_PREFIX = re.compile(r"^(?P<project>[0-9a-f-]{36})/(?P<file>[0-9a-f-]{36})/")


@dataclass(frozen=True)
class FileRef:
    project_id: str
    file_id: str

    @property
    def prefix(self) -> str:
        return f"{self.project_id}/{self.file_id}/"


def pdf_key(project_id: str, file_id: str) -> str:
    return f"{project_id}/{file_id}.pdf"


def mineru_key(ref: FileRef, name: str) -> str:
    return ref.prefix + name


def document_key(ref: FileRef) -> str:
    return ref.prefix + DOCUMENT


def result_prefix(ref: FileRef, ontology_version: int) -> str:
    return f"{ref.prefix}v{ontology_version}/"


def result_key(ref: FileRef, ontology_version: int) -> str:
    return result_prefix(ref, ontology_version) + RESULT


def parse_pdf_key(key: str) -> FileRef:
    match = _PDF_KEY.match(key)
    if not match or not _valid_uuids(match["project"], match["file"]):
        raise InvalidInput(f"{key!r} is not a '<project-id>/<file-id>.pdf' key")
    return FileRef(match["project"], match["file"])


def parse_file_prefix(key: str) -> FileRef:
    match = _FILE_PREFIX.match(key)
    if not match or not _valid_uuids(match["project"], match["file"]):
        raise InvalidInput(f"{key!r} is not under a '<project-id>/<file-id>/' prefix")
    return FileRef(match["project"], match["file"])


def _valid_uuids(*values: str) -> bool:
    try:
        for value in values:
            uuid.UUID(value)
    except ValueError:
        return False
    return True


def file_ref_of(key: str) -> FileRef:
    """The file a pipeline object belongs to, whichever stage's bucket it sits in."""
    try:
        return parse_pdf_key(key)
    except InvalidInput:
        return parse_file_prefix(key)
