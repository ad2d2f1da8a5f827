from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient


class Api:
    """A test client that speaks as one user and unwraps nothing: tests see the real envelope."""

    def __init__(self, client: FlaskClient, user: str) -> None:
        self.client = client
        self.user = user

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {"X-User-ID": self.user, **(extra or {})}

    def get(self, url: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.get(url, headers=self._headers(headers), **kw)

    def post(self, url: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.post(url, headers=self._headers(headers), **kw)

    def patch(self, url: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.patch(url, headers=self._headers(headers), **kw)

    def delete(self, url: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.delete(url, headers=self._headers(headers), **kw)


@pytest.fixture
def alice(app: Flask) -> Api:
    return Api(app.test_client(), "alice")


@pytest.fixture
def bob(app: Flask) -> Api:
    return Api(app.test_client(), "bob")


def make_project(api: Api, name: str = "reports") -> str:
    response = api.post("/api/v1/projects/", json={"name": name})
    assert response.status_code == 201, response.json
    return str(response.json["data"]["id"])
