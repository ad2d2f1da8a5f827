"""The LLM response cache: a reply is reused when model, messages and parameters are byte-identical.

Kept in Postgres so every replica of the extract service shares it. Because the key covers the whole
request (system prefix = ontology version, user message = routed text), a re-run with nothing changed
makes no request, and any change to the ontology, routing or document misses the cache by construction.
"""

from __future__ import annotations

import hashlib
import json
from typing import Protocol

from core import extraction_queries
from core.db import Database

KEY_VERSION = "v1"


def cache_key(model: str, messages: list[dict[str, str]], max_tokens: int) -> str:
    request = {
        "v": KEY_VERSION,
        "model": model,
        "messages": messages,
        "max_tokens": max_tokens,
        "response_format": "json_object",
        "temperature": 0,
    }
    encoded = json.dumps(request, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


class ResponseCache(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, model: str, response: str, usage: dict[str, int]) -> None: ...


class PostgresCache:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str) -> str | None:
        with self.db.connect() as conn:
            return extraction_queries.cached_response(conn, key)

    def put(self, key: str, model: str, response: str, usage: dict[str, int]) -> None:
        with self.db.connect() as conn:
            extraction_queries.store_response(conn, key, model, response, usage)
