"""Object storage behind one small interface: S3 (the ``minio`` SDK) or a local directory per bucket.

Both report a *generation* per object version (GCS's term): S3 has no such number, so the S3 store
derives it from the last-modified time in microseconds, which is what changes when an object is rewritten.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from core.errors import InvalidInput, NotFound, TransientError
from core.settings import S3Settings


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    etag: str
    generation: str
    content_type: str = "application/octet-stream"
    updated: datetime | None = None


class ObjectStore(Protocol):
    def ensure_buckets(self, names: tuple[str, ...]) -> None: ...
    def put(self, bucket: str, key: str, data: bytes, content_type: str = ...) -> ObjectInfo: ...
    def put_file(self, bucket: str, key: str, path: Path, content_type: str = ...) -> ObjectInfo: ...
    def get(self, bucket: str, key: str) -> bytes: ...
    def download(self, bucket: str, key: str, path: Path) -> None: ...
    def stat(self, bucket: str, key: str) -> ObjectInfo: ...
    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]: ...
    def delete(self, bucket: str, key: str) -> None: ...
    def presigned_put(self, bucket: str, key: str, expires: timedelta) -> str: ...
    def ping(self) -> None: ...


def delete_prefix(store: ObjectStore, bucket: str, prefix: str) -> int:
    """Delete every object under ``prefix``; returns how many were removed."""
    keys = [info.key for info in store.list(bucket, prefix)]
    for key in keys:
        store.delete(bucket, key)
    return len(keys)


def _check_key(key: str) -> PurePosixPath:
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key or "\x00" in key:
        raise InvalidInput(f"unsafe object key {key!r}")
    return path


class LocalStore:
    """One folder per bucket under ``root``; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, bucket: str, key: str) -> Path:
        _check_key(bucket)
        return self.root / bucket / _check_key(key)

    def ensure_buckets(self, names: tuple[str, ...]) -> None:
        for name in names:
            (self.root / name).mkdir(parents=True, exist_ok=True)

    def put(
        self, bucket: str, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        target = self._path(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
        return self.stat(bucket, key)

    def put_file(
        self, bucket: str, key: str, path: Path, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        target = self._path(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        os.close(fd)
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)
        return self.stat(bucket, key)

    def get(self, bucket: str, key: str) -> bytes:
        try:
            return self._path(bucket, key).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"object {bucket}/{key} does not exist") from None

    def download(self, bucket: str, key: str, path: Path) -> None:
        try:
            shutil.copyfile(self._path(bucket, key), path)
        except FileNotFoundError:
            raise NotFound(f"object {bucket}/{key} does not exist") from None

    def stat(self, bucket: str, key: str) -> ObjectInfo:
        path = self._path(bucket, key)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise NotFound(f"object {bucket}/{key} does not exist") from None
        digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
        return ObjectInfo(
            bucket=bucket,
            key=key,
            size=st.st_size,
            etag=digest,
            generation=str(st.st_mtime_ns // 1000),
            content_type=_guess_type(key),
            updated=datetime.fromtimestamp(st.st_mtime, tz=timezone.utc),
        )

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        base = self.root / bucket
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith(".tmp-"):
                key = path.relative_to(base).as_posix()
                if key.startswith(prefix):
                    yield self.stat(bucket, key)

    def delete(self, bucket: str, key: str) -> None:
        path = self._path(bucket, key)
        path.unlink(missing_ok=True)
        # Drop now-empty folders so a deleted file leaves nothing behind.
        parent = path.parent
        while parent != self.root / bucket and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent

    def presigned_put(self, bucket: str, key: str, expires: timedelta) -> str:
        raise InvalidInput("direct uploads need S3 storage (set S3_ENDPOINT); upload through the API instead")

    def ping(self) -> None:
        if not self.root.is_dir():
            raise TransientError(f"storage directory {self.root} is missing")


class S3Store:
    """S3 / MinIO through the ``minio`` SDK. Every response is closed and its connection released."""

    def __init__(self, settings: S3Settings) -> None:
        import certifi
        import urllib3
        from minio import Minio

        # The SDK's own pool, except for the timeouts (S3_TIMEOUT): it retries 5xx and dropped connections.
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=settings.timeout, read=settings.timeout),
            maxsize=10,
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
            retries=urllib3.Retry(total=5, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        )
        self._client = Minio(
            endpoint=settings.endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key,
            secure=settings.secure,
            region=settings.region,
            http_client=http,
        )
        # Presigning is pure computation, but it must sign for the host the client will use.
        self._public = self._client
        if settings.public_endpoint:
            public = settings.public_endpoint
            self._public = Minio(
                endpoint=public.split("://", 1)[-1].rstrip("/"),
                access_key=settings.access_key,
                secret_key=settings.secret_key,
                secure=public.startswith("https://"),
                region=settings.region or "us-east-1",
            )

    def ensure_buckets(self, names: tuple[str, ...]) -> None:
        for name in names:
            if not self._client.bucket_exists(bucket_name=name):
                self._client.make_bucket(bucket_name=name)

    def put(
        self, bucket: str, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        import io

        return self._put_stream(bucket, key, io.BytesIO(data), len(data), content_type)

    def put_file(
        self, bucket: str, key: str, path: Path, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        with path.open("rb") as fh:
            return self._put_stream(bucket, key, fh, path.stat().st_size, content_type)

    def _put_stream(
        self, bucket: str, key: str, stream: BinaryIO, length: int, content_type: str
    ) -> ObjectInfo:
        _check_key(key)
        self._client.put_object(
            bucket_name=bucket, object_name=key, data=stream, length=length, content_type=content_type
        )
        return self.stat(bucket, key)

    def get(self, bucket: str, key: str) -> bytes:
        from minio.error import S3Error

        try:
            response = self._client.get_object(bucket_name=bucket, object_name=key)
        except S3Error as exc:
            raise self._translate(exc, bucket, key) from exc
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def download(self, bucket: str, key: str, path: Path) -> None:
        from minio.error import S3Error

        try:
            self._client.fget_object(bucket_name=bucket, object_name=key, file_path=str(path))
        except S3Error as exc:
            raise self._translate(exc, bucket, key) from exc

    def stat(self, bucket: str, key: str) -> ObjectInfo:
        from minio.error import S3Error

        try:
            st = self._client.stat_object(bucket_name=bucket, object_name=key)
        except S3Error as exc:
            raise self._translate(exc, bucket, key) from exc
        updated = st.last_modified
        generation = str(int(updated.timestamp() * 1_000_000)) if updated else str(time.time_ns() // 1000)
        return ObjectInfo(
            bucket=bucket,
            key=key,
            size=st.size or 0,
            etag=(st.etag or "").strip('"'),
            generation=generation,
            content_type=st.content_type or "application/octet-stream",
            updated=updated,
        )

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        for obj in self._client.list_objects(bucket_name=bucket, prefix=prefix, recursive=True):
            if obj.object_name is None or obj.is_dir:
                continue
            updated = obj.last_modified
            yield ObjectInfo(
                bucket=bucket,
                key=obj.object_name,
                size=obj.size or 0,
                etag=(obj.etag or "").strip('"'),
                generation=str(int(updated.timestamp() * 1_000_000)) if updated else "0",
                updated=updated,
            )

    def delete(self, bucket: str, key: str) -> None:
        self._client.remove_object(bucket_name=bucket, object_name=key)

    def presigned_put(self, bucket: str, key: str, expires: timedelta) -> str:
        _check_key(key)
        url: str = self._public.presigned_put_object(bucket_name=bucket, object_name=key, expires=expires)
        return url

    def ping(self) -> None:
        try:
            self._client.list_buckets()
        except Exception as exc:
            raise TransientError(f"object storage unreachable: {exc}") from exc

    @staticmethod
    def _translate(exc: Exception, bucket: str, key: str) -> Exception:
        code = getattr(exc, "code", "")
        if code in ("NoSuchKey", "NoSuchBucket", "NoSuchObject"):
            return NotFound(f"object {bucket}/{key} does not exist")
        return TransientError(f"object storage error on {bucket}/{key}: {code or exc}")


_TYPES = {
    ".pdf": "application/pdf",
    ".json": "application/json",
    ".md": "text/markdown; charset=utf-8",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".ttl": "text/turtle",
    ".jsonld": "application/ld+json",
}


def _guess_type(key: str) -> str:
    return _TYPES.get(PurePosixPath(key).suffix.lower(), "application/octet-stream")
