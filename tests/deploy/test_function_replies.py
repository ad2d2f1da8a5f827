"""Every step function, started exactly as its container starts it, answers the Broker with an empty 2xx."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cloudevents.http import CloudEvent

from core import events, keys
from core.storage import ObjectInfo

OBJECTS = {
    "parse": ("pdf", "{p}/{f}.pdf"),
    "structure": ("mineru", "{p}/{f}/manifest.json"),
    "extract": ("documents", "{p}/{f}/document.json"),
}


@pytest.fixture(params=sorted(OBJECTS))
def function(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    from tests.deploy.services import service

    name: str = request.param
    env = {"DATABASE_URL": database_url, "EVENTS_MODE": "external", "PDFONTO_DATA_DIR": str(tmp_path)}
    with service(name, env, tmp_path) as url:
        yield name, url


def test_step_functions_reply_with_an_empty_body(function: tuple[str, str]) -> None:
    name, url = function
    bucket, pattern = OBJECTS[name]
    key = pattern.format(p=uuid.uuid4(), f=uuid.uuid4())
    assert keys.file_ref_of(key)
    # A file the database does not know: the runtime drops the event, a normal success.
    info = ObjectInfo(bucket=bucket, key=key, size=10, etag="e", generation="1700000000000000")
    headers, body = events.to_http(events.build(info))
    response = requests.post(url, data=body, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    assert response.content == b""

    # Not a storage event at all: acknowledged, and still no body for the Broker to misread.
    other = CloudEvent({"type": "dev.example.ping", "source": "tests"}, {"hello": "world"})
    headers, body = events.to_http(other, binary=True)
    response = requests.post(url, data=body, headers=headers, timeout=60)
    assert response.status_code == 200 and response.content == b""


def test_only_successful_replies_lose_their_body() -> None:
    """Errors keep their text: the Broker hands it to the dead-letter sink as knativeerrordata."""
    from flask import Flask

    from functions.http import reply_empty

    app = Flask(__name__)
    reply_empty(app)
    reply_empty(app)  # idempotent: a module imported twice must not stack hooks

    @app.post("/<int:status>")
    def answer(status: int) -> tuple[str, int]:
        return "OK" if status < 300 else "MinerU crashed: out of memory", status

    client = app.test_client()
    for status in (200, 202, 204):
        assert client.post(f"/{status}").data == b""
    assert client.post("/500").data == b"MinerU crashed: out of memory"
    assert client.post("/400").status_code == 400 and client.post("/400").data
    assert app.after_request_funcs[None].count(app.after_request_funcs[None][0]) == 1
