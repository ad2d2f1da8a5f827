"""The compose router over real HTTP: same routing as core.routing, Broker-like retries and dead letters."""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cloudevents.http import CloudEvent
from werkzeug.serving import make_server

from core import events, keys
from core.context import build_context
from core.routing import ROUTES, route_for
from core.settings import Buckets, Settings
from core.storage import ObjectInfo
from gateway import create_app
from gateway.deadletter import PATH
from tests.deploy.services import RecordingSink, service
from tests.pdfgen import write_pdf

P, F = "0b7f3f3e-6a51-4c35-9d8e-4a0c1f1f2a10", "5d0e8a4c-93b2-4d6e-8f0a-1c2b3d4e5f60"
OBJECTS = [
    (bucket, f"{P}/{F}{tail}")
    for bucket in Buckets().all()
    for tail in (".pdf", "/manifest.json", "/document.json", "/content_list.json", "/v1/result.json")
]


def router_env(sink: RecordingSink, dead_letter: str, attempts: int = 3) -> dict[str, str]:
    env = {f"ROUTE_{route.function.upper()}_URL": f"{sink.url}/{route.function}" for route in ROUTES}
    env.update(
        DEAD_LETTER_URL=dead_letter, MAX_DELIVERY_ATTEMPTS=str(attempts), ROUTER_BACKOFF_SECONDS="0.05"
    )
    return env


@pytest.fixture(scope="module")
def sink() -> Iterator[RecordingSink]:
    with RecordingSink() as recording:
        yield recording


@pytest.fixture(scope="module")
def router(sink: RecordingSink, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = router_env(sink, f"{sink.url}/dead-letter")
    with service("router", env, tmp_path_factory.mktemp("router")) as url:
        yield url


@pytest.fixture(autouse=True)
def clean_sink(sink: RecordingSink) -> None:
    sink.reset()


def send(url: str, event: CloudEvent, binary: bool = False) -> requests.Response:
    headers, body = events.to_http(event, binary=binary)
    return requests.post(url, data=body, headers=headers, timeout=30)


def storage_event(bucket: str, key: str, kind: str = events.FINALIZED) -> CloudEvent:
    return events.build(ObjectInfo(bucket=bucket, key=key, size=3, etag="e", generation="11"), kind)


def test_routes_exactly_as_core_routing(router: str, sink: RecordingSink) -> None:
    expected = {}
    for bucket, key in OBJECTS:
        event = storage_event(bucket, key)
        response = send(router, event, binary=key.endswith(".pdf"))
        assert response.status_code == 202 and response.content == b""
        route = route_for(bucket, key, Buckets())
        if route is not None:
            expected[event["id"]] = f"/{route.function}"
        assert send(router, storage_event(bucket, key, events.DELETED)).status_code == 202
    assert len(expected) == len(ROUTES)
    got = sink.wait_for(len(expected))
    assert {item.event()["id"]: item.path for item in got} == expected
    # Unchanged on the way through: same id, same data, same encoding mode.
    parse_delivery = next(item for item in got if item.path == "/parse")
    assert "ce-id" in parse_delivery.headers and events.parse(parse_delivery.event()).name.endswith(".pdf")
    assert sink.attempts == len(expected)


def test_a_failing_function_is_retried_then_dead_lettered(router: str, sink: RecordingSink) -> None:
    sink.replies["/structure"] = (500, b"KeyError: 'pdf_info'")
    event = storage_event("mineru", f"{P}/{F}/manifest.json")
    assert send(router, event).status_code == 202
    [letter] = sink.wait_for(1, "/dead-letter")
    assert len(sink.wait_for(3, "/structure")) == 3  # MAX_DELIVERY_ATTEMPTS
    dead = letter.event()
    assert dead["id"] == event["id"]
    assert dead["knativeerrorcode"] == "500"
    assert dead["knativeerrordest"] == f"{sink.url}/structure"
    assert base64.b64decode(dead["knativeerrordata"]) == b"KeyError: 'pdf_info'"


def test_a_function_answering_ok_text_counts_as_failed_like_on_a_broker(
    router: str, sink: RecordingSink
) -> None:
    sink.replies["/extract"] = (200, b"OK")
    assert send(router, storage_event("documents", f"{P}/{F}/document.json")).status_code == 202
    [letter] = sink.wait_for(1, "/dead-letter")
    assert base64.b64decode(letter.event()["knativeerrordata"]) == b"OK"


def test_what_a_broker_rejects_or_drops(router: str, sink: RecordingSink) -> None:
    response = requests.post(router, data=b"{}", headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 400
    other = CloudEvent({"type": "dev.example.ping", "source": "tests"}, {"x": 1})
    assert send(router, other).status_code == 202
    assert sink.attempts == 0


def test_compose_chain_dead_letter_marks_the_file_failed_in_the_gateway(
    settings: Settings, tmp_path: Path
) -> None:
    """router → a crashing function → router's dead letter → the real gateway → file failed."""
    context = build_context(settings)
    app = create_app(context=context)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gateway = f"http://127.0.0.1:{server.server_port}"
    try:
        user = {"X-User-ID": "alice"}
        project = requests.post(f"{gateway}/api/v1/projects/", json={"name": "c"}, headers=user, timeout=30)
        project_id = project.json()["data"]["id"]
        pdf = io.BytesIO(write_pdf(tmp_path / "a.pdf").read_bytes())
        upload = requests.post(
            f"{gateway}/api/v1/projects/{project_id}/files/",
            files={"pdf_file": ("a.pdf", pdf, "application/pdf")},
            headers=user,
            timeout=30,
        )
        file_id = upload.json()["data"]["id"]
        with RecordingSink() as functions:
            functions.replies["/parse"] = (500, b"RuntimeError: the GPU fell off the bus")
            env = router_env(functions, gateway + PATH, attempts=2)
            with service("router", env, tmp_path) as router_url:
                event = storage_event("pdf", keys.pdf_key(project_id, file_id))
                assert send(router_url, event).status_code == 202
                functions.wait_for(2, "/parse")
                detail: dict[str, str] = {}
                for _ in range(100):
                    detail = requests.get(
                        f"{gateway}/api/v1/files/{file_id}/", headers=user, timeout=30
                    ).json()["data"]
                    if detail["status"] == "failed":
                        break
                    threading.Event().wait(0.1)
        assert detail["status"] == "failed", detail
        assert "the GPU fell off the bus" in detail["error"] and "HTTP 500" in detail["error"]
    finally:
        server.shutdown()
        context.close()
