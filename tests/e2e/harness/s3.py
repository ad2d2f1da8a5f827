"""An S3 front for moto's server that sends MinIO's bucket notifications, and can misbehave on request.

No MinIO binary exists here, so :class:`NotifyingS3` stands where MinIO stands: every S3 request is
forwarded unchanged to a real S3 server (moto's), and every object it creates or removes is announced
to the webhook with the body MinIO posts (``{EventName, Key, Records[]}``, the record's key
``url.QueryEscape``'d, ``Authorization: Bearer <token>``), from a queue that keeps retrying an event
until the webhook takes it, in order, as MinIO's ``queue_dir`` does.

Faults are injected per request (:class:`Fault`): an S3 error reply, a dropped connection, a stall.
The notifier can deliver every event twice, the copy after later events (:attr:`Notifier.duplicate`).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote_plus, unquote, urlsplit

import urllib3

# Query parameters that address a sub-resource of an object: writing them leaves its bytes alone.
_SUBRESOURCES = {"tagging", "acl", "retention", "legal-hold", "partNumber", "uploadId", "uploads"}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


S3_KEY, S3_SECRET = "e2e-access", "e2e-secret-key"


def s3_client(endpoint: str) -> Any:
    """A boto3 client straight to the S3 server, for the harness's own reads (no faults, no events)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint if "://" in endpoint else f"http://{endpoint}",
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_SECRET,
        region_name="us-east-1",
    )


def minio_body(event_name: str, bucket: str, key: str, size: int, etag: str, content_type: str) -> bytes:
    """The JSON body MinIO's webhook target posts for one object event (shape of MinIO's event.Log)."""
    now = datetime.now(timezone.utc)
    record: dict[str, Any] = {
        "eventVersion": "2.0",
        "eventSource": "minio:s3",
        "awsRegion": "",
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "pdfonto"},
        "requestParameters": {"principalId": "pdfonto", "region": "", "sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-id-2": "dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8",
            "x-amz-request-id": f"{time.time_ns():X}",
            "x-minio-deployment-id": "5a1c2d3e-0000-4000-8000-000000000001",
            "x-minio-origin-endpoint": "http://127.0.0.1:9000",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "Config",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "pdfonto"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {
                # Go's url.QueryEscape: space → '+', '/' → '%2F', only [A-Za-z0-9-_.~] left as they are.
                "key": quote_plus(key, safe=""),
                "size": size,
                "eTag": etag,
                "contentType": content_type,
                "userMetadata": {"content-type": content_type},
                # MinIO's sequencer: the event time in nanoseconds, in hex.
                "sequencer": f"{time.time_ns():X}",
            },
        },
        "source": {"host": "127.0.0.1", "port": "", "userAgent": "MinIO (linux; amd64) minio-go/v7"},
    }
    if event_name.startswith("s3:ObjectRemoved:"):
        record["s3"]["object"] = {"key": quote_plus(key, safe=""), "sequencer": f"{time.time_ns():X}"}
    return json.dumps({"EventName": event_name, "Key": f"{bucket}/{key}", "Records": [record]}).encode()


@dataclass
class Fault:
    """Misbehave on the next ``times`` requests that match ``method``, ``bucket`` and ``key_part``.

    ``kind``: ``"error"`` answers 503 SlowDown; ``"drop"`` closes the connection without an answer;
    ``"stall"`` waits ``seconds`` before forwarding (longer than the client's S3_TIMEOUT: a timeout).
    """

    method: str
    bucket: str
    key_part: str = ""
    kind: str = "error"
    times: int = 1
    seconds: float = 0.0
    hits: int = 0

    def matches(self, method: str, bucket: str, key: str) -> bool:
        return (
            self.hits < self.times
            and method == self.method
            and bucket == self.bucket
            and bool(key)
            and self.key_part in key
        )


@dataclass
class Notifier:
    """MinIO's webhook target with a persistent queue: in order, retried until taken."""

    url: str
    token: str
    retry_seconds: float = 0.2
    # Every event is also delivered a second time, between 0 and this many seconds later (so after
    # events that happened in between): at-least-once delivery, out of order.
    duplicate: float = 0.0
    sent: int = 0
    failed_posts: int = 0
    bodies: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: deque[bytes] = deque()
        self._cond = threading.Condition()
        self._stop = False
        self._busy = False
        self._random = random.Random(7)
        self._http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2, read=30))
        self._thread = threading.Thread(target=self._run, name="minio-notifier", daemon=True)
        self._thread.start()

    def enqueue(self, body: bytes) -> None:
        with self._cond:
            self._queue.append(body)
            self.bodies.append(body)
            self._cond.notify_all()
        if self.duplicate > 0:
            timer = threading.Timer(self._random.uniform(0, self.duplicate), self._requeue, (body,))
            timer.daemon = True
            timer.start()

    def _requeue(self, body: bytes) -> None:
        with self._cond:
            self._queue.append(body)
            self._cond.notify_all()

    def idle(self) -> bool:
        with self._cond:
            return not self._queue and not self._busy

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(10)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                body = self._queue[0]
                self._busy = True
            delivered = self._post(body)
            with self._cond:
                if delivered:
                    self._queue.popleft()
                    self.sent += 1
                self._busy = False
            if not delivered:
                time.sleep(self.retry_seconds)

    def _post(self, body: bytes) -> bool:
        try:
            response = self._http.request(
                "POST",
                self.url,
                body=body,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
            )
        except urllib3.exceptions.HTTPError:
            self.failed_posts += 1
            return False
        if 200 <= response.status < 300:
            return True
        self.failed_posts += 1
        return False


class NotifyingS3:
    """A loopback HTTP server forwarding S3 requests to ``upstream`` and announcing object changes."""

    def __init__(self, upstream: str, notifier: Notifier) -> None:
        self.upstream = upstream.rstrip("/")
        self.notifier = notifier
        self.faults: list[Fault] = []
        self.requests = 0
        self._lock = threading.Lock()
        self._http = urllib3.PoolManager(maxsize=32, retries=False, timeout=urllib3.Timeout(60))
        self._client = s3_client(self.upstream)
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                front._handle(self)

            do_PUT = do_POST = do_DELETE = do_HEAD = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="s3-front", daemon=True)

    def start(self) -> NotifyingS3:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.notifier.stop()

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def _take_fault(self, method: str, bucket: str, key: str) -> Fault | None:
        with self._lock:
            self.requests += 1
            for fault in self.faults:
                if fault.matches(method, bucket, key):
                    fault.hits += 1
                    return fault
        return None

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        method = request.command
        parts = urlsplit(request.path)
        bucket, _, key = unquote(parts.path).lstrip("/").partition("/")
        body = _read_body(request)
        fault = self._take_fault(method, bucket, key)
        if fault is not None and fault.kind == "drop":
            request.close_connection = True
            return
        if fault is not None and fault.kind == "error":
            _reply(request, 503, {"Content-Type": "application/xml"}, _slow_down(bucket, key), method)
            return
        if fault is not None and fault.kind == "stall":
            time.sleep(fault.seconds)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        try:
            response = self._http.request(
                method,
                self.upstream + request.path,
                body=body if method in ("PUT", "POST") else None,
                headers=headers,
                preload_content=True,
                decode_content=False,
                redirect=False,
            )
        except urllib3.exceptions.HTTPError:
            _reply(request, 502, {}, b"", method)
            return
        out = {k: v for k, v in response.headers.items() if k.lower() not in (*_HOP_BY_HOP, "content-length")}
        if method == "HEAD":
            out["Content-Length"] = response.headers.get("Content-Length", "0")
        _reply(request, response.status, out, response.data, method)
        if 200 <= response.status < 300 and key:
            self._announce(method, bucket, key, parse_qs(parts.query), request.headers)

    def _announce(self, method: str, bucket: str, key: str, query: dict[str, Any], headers: Any) -> None:
        if method == "PUT" and not _SUBRESOURCES & set(query):
            name = "s3:ObjectCreated:Copy" if headers.get("x-amz-copy-source") else "s3:ObjectCreated:Put"
        elif method == "POST" and "uploadId" in query:
            name = "s3:ObjectCreated:CompleteMultipartUpload"
        elif method == "DELETE" and "uploadId" not in query:
            self.notifier.enqueue(minio_body("s3:ObjectRemoved:Delete", bucket, key, 0, "", ""))
            return
        else:
            return
        head = self._client.head_object(Bucket=bucket, Key=key)
        etag = str(head.get("ETag", "")).strip('"')
        content_type = str(head.get("ContentType") or "application/octet-stream")
        self.notifier.enqueue(minio_body(name, bucket, key, int(head["ContentLength"]), etag, content_type))


def _read_body(request: BaseHTTPRequestHandler) -> bytes:
    if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(request.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                request.rfile.readline()
                return b"".join(chunks)
            chunks.append(request.rfile.read(size))
            request.rfile.readline()
    length = int(request.headers.get("Content-Length") or 0)
    return request.rfile.read(length) if length else b""


def _reply(
    request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes, method: str
) -> None:
    try:
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        if "Content-Length" not in headers:
            request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if method != "HEAD":
            request.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        request.close_connection = True


def _slow_down(bucket: str, key: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
        "<Message>Please reduce your request rate.</Message>"
        f"<Resource>/{bucket}/{key}</Resource><RequestId>pdfonto-fault</RequestId></Error>"
    ).encode()
