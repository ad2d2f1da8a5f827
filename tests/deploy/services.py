"""Real HTTP processes for the deployment tests: a recording CloudEvent sink and service launchers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cloudevents.http import CloudEvent, from_http

from tests.conftest import ROOT, free_port
from tests.deploy.commands import COMMANDS


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def event(self) -> CloudEvent:
        return from_http(self.headers, self.body)


class RecordingSink:
    """A sink on loopback that records every POST and answers like a Broker ingress (202, empty).

    ``outage`` makes it answer 503 to everything; ``fail_next`` to that many requests; ``replies``
    overrides the answer per path (status, body) to play a misbehaving subscriber.
    """

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.attempts = 0
        self.outage = False
        self.fail_next = 0
        self.replies: dict[str, tuple[int, bytes]] = {}
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, reply = sink._answer(self.path, headers, body)
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        with self._lock:
            self.attempts += 1
            if self.outage:
                return 503, b"broker unavailable"
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503, b"broker warming up"
            self.received.append(Received(path, headers, body))
            return self.replies.get(path, (202, b""))

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self.attempts = 0
            self.outage = False
            self.fail_next = 0
            self.replies.clear()

    def events_at(self, path: str) -> list[CloudEvent]:
        with self._lock:
            return [item.event() for item in self.received if item.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [item for item in self.received if path is None or item.path == path]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def __enter__(self) -> RecordingSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"service exited with {process.returncode}:\n{log.read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"service did not listen on {port} within {timeout}s:\n{log.read_text()}")


@contextmanager
def service(name: str, env: Mapping[str, str], log_dir: Path) -> Iterator[str]:
    """Start ``name`` with exactly the command its container runs; yield its base URL."""
    argv = list(COMMANDS[name])
    executable = shutil.which(argv[0], path=str(Path(sys.executable).parent)) or shutil.which(argv[0])
    assert executable, f"{argv[0]} is not installed"
    port = free_port()
    log = log_dir / f"{name}-{port}.log"
    full_env = {**os.environ, "PORT": str(port), "XDG_RUNTIME_DIR": os.environ.get("XDG_RUNTIME_DIR", "/tmp")}
    full_env.update(env)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [executable, *argv[1:]], cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_listening(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
