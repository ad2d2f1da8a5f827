"""A local OpenAI-compatible chat-completions server for the extract tests (the paid API cannot run here).

It speaks the real wire format over HTTP: ``POST /v1/chat/completions`` with a bearer token, JSON replies
shaped like DeepSeek's (``choices``, ``usage`` with ``prompt_cache_hit_tokens`` and
``prompt_tokens_details.cached_tokens``), error bodies ``{"error": {...}}`` with any status and headers
(``Retry-After``), and deliberately slow replies for timeouts. What it answers is decided per request by a
``responder`` the test passes in. Token counts follow DeepSeek's rule of thumb (0.6 per CJK character, 0.3
per other character) and the prefix cache is simulated: a system message seen before counts as cached.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "sk-test-pdfonto"


@dataclass
class Reply:
    status: int = 200
    content: str | None = None  # the assistant message; None with status 200 means an empty answer
    body: Any = None  # a raw body instead (errors, malformed envelopes)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Responder = Callable[[dict[str, Any], int], Reply]


def tokens(text: str) -> int:
    cjk = sum(1 for char in text if "\u3400" <= char <= "\u9fff")
    return int(cjk * 0.6 + (len(text) - cjk) * 0.3) + 1


def user_message(request: dict[str, Any]) -> str:
    return str(request["messages"][1]["content"])


def category_of(request: dict[str, Any]) -> str:
    """The category a request asks for (first line ``CATEGORY: <name>`` of the first user message)."""
    first = user_message(request).splitlines()[0]
    return first.removeprefix("CATEGORY: ").strip()


def error_body(status: int, message: str) -> dict[str, Any]:
    kinds = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error"}
    return {"error": {"message": message, "type": kinds.get(status, "server_error"), "code": None}}


class ChatServer:
    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._seen_prefixes: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> ChatServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def completion(self, request: dict[str, Any], content: str) -> dict[str, Any]:
        system = str(request["messages"][0]["content"])
        prompt = sum(tokens(str(message["content"])) + 4 for message in request["messages"])
        with self._lock:
            cached = tokens(system) if system in self._seen_prefixes else 0
            self._seen_prefixes.add(system)
        completion = tokens(content)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "deepseek-chat"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached},
                "prompt_cache_hit_tokens": cached,
                "prompt_cache_miss_tokens": prompt - cached,
            },
            "system_fingerprint": "fp_pdfonto_test",
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                request = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, error_body(404, f"no route {self.path}"), {})
                    return
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    self._send(401, error_body(401, "Authentication Fails (invalid api key)"), {})
                    return
                with server._lock:
                    index = len(server.requests)
                    server.requests.append(request)
                    server._in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server._in_flight)
                try:
                    reply = server.responder(request, index)
                    if reply.delay:
                        time.sleep(reply.delay)
                    if reply.body is not None:
                        body = reply.body
                    elif reply.status == 200:
                        body = server.completion(request, reply.content or "")
                    else:
                        body = error_body(reply.status, "scripted failure")
                    self._send(reply.status, body, reply.headers)
                finally:
                    with server._lock:
                        server._in_flight -= 1

            def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
                data = (
                    body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
                )
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        return Handler


@contextmanager
def chat_server(responder: Responder) -> Iterator[ChatServer]:
    server = ChatServer(responder).start()
    try:
        yield server
    finally:
        server.stop()
