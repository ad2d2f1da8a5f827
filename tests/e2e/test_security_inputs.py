"""Bad input from every side of the cluster: PDFs, uploads, file names, CloudEvents, webhook bodies, tokens.

Each must end in a clear 4xx or a ``failed`` file with a reason, and nothing else may be affected: a good
file uploaded first is checked last. MAX_UPLOAD_SIZE is 1 MiB here so the oversize uploads stay small.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from core import events, keys
from core.storage import ObjectInfo
from gateway.deadletter import PATH as DEAD_LETTER_PATH
from tests.conftest import shared_path
from tests.e2e.harness.cluster import WEBHOOK_TOKEN, Cluster
from tests.e2e.harness.pipeline import report_pdf, running_cluster
from tests.e2e.harness.s3 import minio_body
from tests.pdfgen import write_blank_pdf, write_pdf

pytestmark = pytest.mark.slow

LIMIT = 1_048_576


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, pg_server_url: str, template_db: str, s3_endpoint: str
) -> Iterator[Cluster]:
    with running_cluster(
        tmp_path_factory.mktemp("inputs"),
        pg_server_url,
        template_db,
        s3_endpoint,
        env={"MAX_UPLOAD_SIZE": str(LIMIT)},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def project(cluster: Cluster) -> str:
    return cluster.client("alice").create_project("bad input")


@pytest.fixture(scope="module")
def bystander(cluster: Cluster, project: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A good file uploaded before any bad input; it must complete whatever the rest of the module does."""
    pdf = report_pdf(tmp_path_factory.mktemp("good") / "good.pdf", 7)
    response = cluster.client("alice").upload(project, pdf)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def file_count(cluster: Cluster) -> int:
    return int(cluster.query("SELECT count(*) AS n FROM files")[0]["n"])


# --- bad PDFs ---------------------------------------------------------------------------------------


def _generated(folder: Path, name: str) -> Path:
    path = folder / name
    good = write_pdf(folder / "source.pdf").read_bytes()
    payloads = {
        "zero_bytes.pdf": b"",
        "html_named.pdf": b"<!DOCTYPE html><html><body>Not found</body></html>",
        "truncated.pdf": good[: len(good) // 2],
        "corrupted.pdf": b"%PDF-1.7\n" + bytes(range(256)) * 4,
    }
    if name in payloads:
        path.write_bytes(payloads[name])
    elif name == "blank.pdf":
        write_blank_pdf(path, 1)
    elif name == "encrypted.pdf":
        write_pdf(path, user_password="secret")
    elif name == "too_many_pages.pdf":
        write_blank_pdf(path, 150)
    return path


GENERATED = [
    "zero_bytes.pdf",
    "html_named.pdf",
    "truncated.pdf",
    "corrupted.pdf",
    "blank.pdf",
    "encrypted.pdf",
]
GENERATED += ["too_many_pages.pdf"]
SHARED = [
    "bad_3000_blank_pages.pdf",
    "bad_corrupted.pdf",
    "bad_empty_page.pdf",
    "bad_encrypted_user_password.pdf",
]
SHARED += ["bad_html_named_pdf.pdf", "bad_truncated.pdf", "bad_zero_bytes.pdf"]


@pytest.mark.parametrize("name", GENERATED + SHARED)
def test_bad_pdf_ends_in_a_4xx_or_failed_with_a_reason(
    cluster: Cluster, project: str, bystander: str, name: str, tmp_path: Path
) -> None:
    pdf = shared_path("data", "pdfs", name) if name.startswith("bad_") else _generated(tmp_path, name)
    response = cluster.client("alice").upload(project, pdf)
    assert response.status_code in (201, 400), (response.status_code, response.text)
    body = response.json()
    if response.status_code == 400:
        assert len(body["message"]) > 15 and body["data"] is None, body
        print(f"{name}: 400 {body['message']}")
        return
    file_id = body["data"]["id"]
    row = cluster.wait_settled([file_id])[file_id]
    assert row["status"] == "failed", row
    assert row["error"] and len(row["error"]) > 25 and "Traceback" not in row["error"], row
    print(f"{name}: failed: {row['error']}")
    if "too_many" in name or "3000" in name:
        assert "100" in row["error"] and "page" in row["error"]
    if "encrypted" in name:
        assert "password" in row["error"]


# --- uploads: size, type, names ------------------------------------------------------------------------


def _raw_upload(cluster: Cluster, project: str, head: dict[str, str], chunks: Iterator[bytes]) -> str:
    """Send an upload over a raw socket and return the reply that comes back while still sending."""
    port = cluster.services["gateway"].port
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        lines = [f"POST /api/v1/projects/{project}/files/ HTTP/1.1", "Host: 127.0.0.1", "X-User-ID: alice"]
        lines += [f"{name}: {value}" for name, value in head.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        reply = b""
        sock.settimeout(0.05)
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                reply += sock.recv(65536)
            except TimeoutError:
                continue
            if reply:
                break
        sock.settimeout(20)
        while not _complete(reply):
            data = sock.recv(65536)
            if not data:
                break
            reply += data
    return reply.decode("utf-8", "replace")


def _complete(reply: bytes) -> bool:
    head, found, body = reply.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return True


def _multipart_start(boundary: str) -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="pdf_file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    ).encode()


def test_oversize_upload_is_refused_while_it_is_still_streaming(cluster: Cluster, project: str) -> None:
    before = file_count(cluster)
    boundary = uuid.uuid4().hex
    sent = {"declared": 0, "chunked": 0}

    def body(mode: str, total: int) -> Iterator[bytes]:
        yield _chunk(mode, _multipart_start(boundary))
        for _ in range(total // 65536):
            sent[mode] += 65536
            yield _chunk(mode, b"0" * 65536)

    # A declared length over the limit: refused before the body is read.
    declared = 20 * LIMIT
    head = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(declared)}
    reply = _raw_upload(cluster, project, head, body("declared", declared))
    assert reply.startswith("HTTP/1.1 413"), reply[:300]
    assert "larger than the 1 MB limit (MAX_UPLOAD_SIZE)" in reply
    assert sent["declared"] < declared // 4
    # No length at all (chunked): refused once the bytes read pass the limit, long before the end.
    head = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Transfer-Encoding": "chunked"}
    reply = _raw_upload(cluster, project, head, body("chunked", 20 * LIMIT))
    assert reply.split("\r\n", 1)[0] in (
        "HTTP/1.1 413 REQUEST ENTITY TOO LARGE",
        "HTTP/1.1 413 Request Entity Too Large",
    )
    assert sent["chunked"] < 10 * LIMIT
    assert file_count(cluster) == before


def _chunk(mode: str, data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n" if mode == "chunked" else data


def test_wrong_content_types_are_refused(cluster: Cluster, project: str, tmp_path: Path) -> None:
    alice = cluster.client("alice")
    before = file_count(cluster)
    url = f"/api/v1/projects/{project}/files/"
    pdf = write_pdf(tmp_path / "real.pdf").read_bytes()
    cases = {
        "json body": alice.call("POST", url, json={"pdf_file": "JVBERi0xLjcK"}),
        "form field, no file": alice.call("POST", url, data={"pdf_file": "%PDF-1.7"}),
        "wrong field name": alice.call("POST", url, files={"file": ("a.pdf", pdf, "application/pdf")}),
        "text file": alice.call(
            "POST", url, files={"pdf_file": ("a.pdf", b"just some text\n", "text/plain")}
        ),
        "png named pdf": alice.call(
            "POST", url, files={"pdf_file": ("a.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")}
        ),
        "raw pdf body": alice.call("POST", url, data=pdf, headers={"Content-Type": "application/pdf"}),
    }
    for case, response in cases.items():
        assert response.status_code in (400, 415), (case, response.status_code, response.text)
        assert response.json()["message"], case
    assert file_count(cluster) == before


NAMES = [
    "../../../../etc/passwd.pdf",
    "..\\..\\windows\\system32\\config.pdf",
    "/absolute/path/report.pdf",
    "reports/../../../escape.pdf",
    "%2e%2e%2f%2e%2e%2fsecret.pdf",
    "nul\x00byte.pdf",
    "控制\x07字符\u202eгодовой отчёт.pdf",
    "事故调查报告" * 300 + ".pdf",
    "😀" * 500 + ".pdf",
]


def test_path_traversal_and_very_long_unicode_names_stay_names(
    cluster: Cluster, project: str, tmp_path: Path
) -> None:
    alice = cluster.client("alice")
    pdf = write_pdf(tmp_path / "n.pdf").read_bytes()
    stored: dict[str, str] = {}
    for name in NAMES:
        response = alice.call("POST", f"/api/v1/projects/{project}/files/", files={"pdf_file": (name, pdf)})
        assert response.status_code == 201, (name, response.text)
        data = response.json()["data"]
        stored[data["id"]] = data["original_name"]
        direct = alice.call("POST", f"/api/v1/projects/{project}/uploads/", json={"filename": name[:255]})
        assert direct.status_code in (201, 400), (name, direct.text)
        if direct.status_code == 201:
            assert direct.json()["data"]["key"] == keys.pdf_key(project, direct.json()["data"]["file"]["id"])
            stored[direct.json()["data"]["file"]["id"]] = direct.json()["data"]["file"]["original_name"]
    for name in stored.values():
        assert (
            "/" not in name
            and "\\" not in name
            and "\x00" not in name
            and ".." not in name.split(".pdf")[0][:2]
        )
        assert 0 < len(name) <= 200, name
    pdf_keys = cluster.objects(cluster.buckets.pdf, f"{project}/")
    assert all(key.startswith(f"{project}/") and key.count("/") == 1 for key in pdf_keys)
    uploaded = [file_id for file_id in stored if f"{project}/{file_id}.pdf" in pdf_keys]
    settled = cluster.wait_settled(uploaded)
    assert {row["status"] for row in settled.values()} == {"completed"}, settled


# --- events ------------------------------------------------------------------------------------------


def _storage_event(bucket: str, key: str) -> tuple[dict[str, str], bytes]:
    return events.to_http(events.build(ObjectInfo(bucket=bucket, key=key, size=3, etag="e", generation="9")))


def test_malformed_cloud_events_are_refused_or_acknowledged_never_crash(
    cluster: Cluster, project: str
) -> None:
    buckets = cluster.buckets
    missing = f"{uuid.uuid4()}/{uuid.uuid4()}"
    # What each service is sent: its own kind of object, so only the event itself is wrong.
    own = {
        "parse": (buckets.pdf, f"{missing}.pdf", "../../etc/passwd.pdf"),
        "structure": (buckets.mineru, f"{missing}/manifest.json", f"../../{missing}/manifest.json"),
        "extract": (buckets.documents, f"{missing}/document.json", f"{missing}/../../document.json"),
        "router": (buckets.pdf, f"{missing}.pdf", "../../etc/passwd.pdf"),
    }
    structured = {"Content-Type": "application/cloudevents+json"}
    finalized = events.FINALIZED.encode()
    outcomes: dict[str, int] = {}
    for target, (bucket, unknown, traversal) in own.items():
        bad: list[tuple[str, dict[str, str], bytes]] = [
            ("not json", structured, b"{{{"),
            ("json, not an event", {"Content-Type": "application/json"}, b'{"hello": "world"}'),
            ("no specversion", structured, json.dumps({"id": "1", "type": "t", "source": "s"}).encode()),
            (
                "binary, no id",
                {"ce-specversion": "1.0", "ce-type": events.FINALIZED, "ce-source": "x"},
                b"{}",
            ),
            ("other type", structured, b'{"specversion":"1.0","id":"1","type":"x.y","source":"s"}'),
            ("no data", *_without_data(bucket, unknown)),
            (
                "garbage data",
                structured,
                b'{"specversion":"1.0","id":"1","type":"%s","source":"s","data":[1]}' % finalized,
            ),
            ("traversal key", *_storage_event(bucket, traversal)),
            ("unknown file", *_storage_event(bucket, unknown)),
            ("unknown bucket", *_storage_event("not-ours", unknown)),
        ]
        for case, headers, body in bad:
            response = requests.post(cluster.services[target].url, data=body, headers=headers, timeout=30)
            outcomes[f"{target}: {case}"] = response.status_code
            assert response.status_code < 500, (target, case, response.status_code, response.text[:300])
            assert response.status_code in (200, 202, 204, 400, 415), (target, case, response.status_code)
    assert outcomes["router: not json"] == 400 and outcomes["parse: not json"] == 400
    assert not cluster.query("SELECT 1 FROM files WHERE object_key LIKE %s", f"%{missing}%")
    # The dead-letter sink: CloudEvents only, and never from a user's request.
    dead = cluster.gateway + DEAD_LETTER_PATH
    assert (
        requests.post(dead, data=b"{}", headers={"Content-Type": "application/json"}, timeout=30).status_code
        == 400
    )
    headers, body = _storage_event(buckets.pdf, f"{project}/{uuid.uuid4()}.pdf")
    spoof = requests.post(dead, data=body, headers={**headers, "X-User-ID": "alice"}, timeout=30)
    assert spoof.status_code == 403


def _without_data(bucket: str, key: str) -> tuple[dict[str, str], bytes]:
    headers, body = _storage_event(bucket, key)
    event: dict[str, Any] = json.loads(body)
    event.pop("data")
    return headers, json.dumps(event).encode()


def test_malformed_webhook_bodies_are_acknowledged_and_a_wrong_token_is_refused(
    cluster: Cluster, project: str, bystander: str
) -> None:
    source = cluster.services["source"].url
    auth = {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"}
    pdf_key = keys.pdf_key(project, bystander)
    good = minio_body("s3:ObjectCreated:Put", cluster.buckets.pdf, pdf_key, 10, "e", "application/pdf")
    for token in (
        None,
        "",
        "Bearer wrong",
        WEBHOOK_TOKEN,
        f"Basic {WEBHOOK_TOKEN}",
        f"bearer {WEBHOOK_TOKEN}x",
    ):
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = token
        response = requests.post(source, data=good, headers=headers, timeout=30)
        assert response.status_code == 401, (token, response.status_code)
        assert "token" in response.text
    steps_before = cluster.query("SELECT file_id, step, attempts FROM steps ORDER BY 1, 2")
    record: dict[str, Any] = json.loads(good)["Records"][0]
    bodies = [
        b"",
        b"not json",
        b"[]",
        json.dumps({"EventName": "s3:ObjectCreated:Put"}).encode(),
        json.dumps({"Records": "nope"}).encode(),
        json.dumps({"Records": [1, 2]}).encode(),
        json.dumps({"Records": [{"eventName": "s3:ObjectCreated:Put"}]}).encode(),
        json.dumps(
            {
                "Records": [
                    {
                        **record,
                        "s3": {**record["s3"], "object": {**record["s3"]["object"], "sequencer": "zz"}},
                    }
                ]
            }
        ).encode(),
        json.dumps(
            {
                "Records": [
                    {**record, "s3": {**record["s3"], "object": {**record["s3"]["object"], "size": "big"}}}
                ]
            }
        ).encode(),
        json.dumps(
            {"Records": [{**record, "s3": {**record["s3"], "bucket": {"name": "someone-elses"}}}]}
        ).encode(),
        b'{"Records": [' + b"[" * 5000 + b"]" * 5000 + b"]}",
    ]
    for body in bodies:
        response = requests.post(source, data=body, headers=auth, timeout=30)
        # Acknowledged: MinIO would otherwise retry a body that can never succeed forever, in order,
        # holding every later notification behind it.
        assert response.status_code == 200 and response.content == b"", (body[:80], response.status_code)
    assert cluster.query("SELECT file_id, step, attempts FROM steps ORDER BY 1, 2") == steps_before


def test_the_good_file_beside_all_the_bad_input_completed(cluster: Cluster, bystander: str) -> None:
    row = cluster.wait_settled([bystander])[bystander]
    assert row["status"] == "completed", row
    [parse] = cluster.query("SELECT attempts FROM steps WHERE file_id = %s AND step = 'parse'", bystander)
    assert parse["attempts"] == 1
