"""Receiving a PDF: copy the upload to a temporary file while hashing and checking it."""

from __future__ import annotations

import hashlib
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from gateway.errors import ApiError

PDF_MAGIC = b"%PDF-"
_CHUNK = 1 << 20
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


@dataclass(frozen=True)
class SavedUpload:
    path: Path
    size: int
    sha256: str


def safe_name(name: str | None) -> str:
    """A display name that cannot act as a path or inject control characters; keeps CJK text."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name:
        return "upload.pdf"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:190] + dot + ext[:9]) if dot else name[:200]
    return name


def save_upload(stream: BinaryIO, *, max_size: int, directory: Path) -> SavedUpload:
    """Copy ``stream`` into ``directory``, refusing empty, oversize and non-PDF uploads with a 4xx."""
    digest = hashlib.sha256()
    size = 0
    fd, name = tempfile.mkstemp(dir=directory, suffix=".pdf")
    path = Path(name)
    try:
        with open(fd, "wb") as out:
            while chunk := stream.read(_CHUNK):
                if size == 0 and not chunk.startswith(PDF_MAGIC[: len(chunk)]):
                    raise ApiError(400, "The file is not a PDF (it does not start with '%PDF-').")
                size += len(chunk)
                if size > max_size:
                    raise ApiError(
                        413,
                        f"The upload is larger than the {max_size / 1048576:g} MB limit (MAX_UPLOAD_SIZE).",
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ApiError(400, "The file is empty (0 bytes).")
        if size < len(PDF_MAGIC):
            raise ApiError(400, "The file is not a PDF (it does not start with '%PDF-').")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return SavedUpload(path=path, size=size, sha256=digest.hexdigest())
