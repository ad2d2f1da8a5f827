"""Both object stores honour one contract; the S3 one is exercised against a real S3 HTTP server (moto)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import requests

from core.errors import InvalidInput, NotFound
from core.settings import S3Settings
from core.storage import LocalStore, ObjectStore, S3Store, delete_prefix


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalStore(tmp_path / "objects")
    endpoint = request.getfixturevalue("s3_endpoint")
    return S3Store(
        S3Settings(endpoint=endpoint, access_key="testing", secret_key="testing", region="us-east-1")
    )


def test_put_get_stat_list_delete(store: ObjectStore, tmp_path: Path) -> None:
    bucket = f"b{tmp_path.name[-8:].lower().replace('_', '')}x"
    store.ensure_buckets((bucket,))
    store.ensure_buckets((bucket,))  # idempotent
    info = store.put(bucket, "p/f/content_list.json", b'[{"type": "text"}]', "application/json")
    assert info.size == 18 and info.etag and info.generation.isdigit()
    assert store.get(bucket, "p/f/content_list.json") == b'[{"type": "text"}]'
    stat = store.stat(bucket, "p/f/content_list.json")
    assert (stat.size, stat.etag, stat.content_type) == (18, info.etag, "application/json")
    source = tmp_path / "doc.pdf"
    source.write_bytes(b"%PDF-1.7 body")
    store.put_file(bucket, "p/f.pdf", source, "application/pdf")
    target = tmp_path / "copy.pdf"
    store.download(bucket, "p/f.pdf", target)
    assert target.read_bytes() == b"%PDF-1.7 body"
    assert sorted(o.key for o in store.list(bucket, "p/")) == ["p/f.pdf", "p/f/content_list.json"]
    assert [o.key for o in store.list(bucket, "p/f/")] == ["p/f/content_list.json"]
    assert delete_prefix(store, bucket, "p/") == 2
    assert list(store.list(bucket)) == []
    with pytest.raises(NotFound):
        store.get(bucket, "p/f.pdf")
    with pytest.raises(NotFound):
        store.stat(bucket, "p/f.pdf")
    store.ping()


def test_rewrite_changes_etag(store: ObjectStore) -> None:
    store.ensure_buckets(("rewrite",))
    first = store.put("rewrite", "k.json", b"1")
    second = store.put("rewrite", "k.json", b"2")
    assert first.etag != second.etag


@pytest.mark.parametrize("key", ["../escape", "/abs", "a/../../b", "a\\b"])
def test_unsafe_keys_are_refused(store: ObjectStore, key: str) -> None:
    store.ensure_buckets(("safe",))
    with pytest.raises(InvalidInput):
        store.put("safe", key, b"x")


def test_presigned_put_over_plain_http(s3_endpoint: str) -> None:
    store = S3Store(
        S3Settings(endpoint=s3_endpoint, access_key="testing", secret_key="testing", region="us-east-1")
    )
    store.ensure_buckets(("pdf",))
    url = store.presigned_put("pdf", "p/f.pdf", timedelta(minutes=5))
    assert url.startswith(f"http://{s3_endpoint}/pdf/p/f.pdf?")
    response = requests.put(url, data=b"%PDF-1.7 direct", timeout=10)
    assert response.status_code == 200
    assert store.get("pdf", "p/f.pdf") == b"%PDF-1.7 direct"


def test_local_store_refuses_presigning(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="S3_ENDPOINT"):
        LocalStore(tmp_path).presigned_put("pdf", "a.pdf", timedelta(minutes=1))
