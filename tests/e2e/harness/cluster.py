"""The cluster on loopback: every service a separate process started exactly as its container starts it.

``S3 front (MinIO's role) ─webhook─▶ source ─▶ router ─▶ parse | structure | extract``, the gateway under
gunicorn, Postgres, all talking HTTP (and the Postgres protocol). :class:`Cluster` starts them on free
ports, can SIGKILL or restart one service on its port, and reads the database for the checks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import psutil
import psycopg
import requests
from psycopg.rows import dict_row

from core.routing import ROUTES
from core.settings import Buckets
from gateway.deadletter import PATH as DEAD_LETTER_PATH
from tests.conftest import ROOT, free_port
from tests.deploy.commands import COMMANDS
from tests.e2e.conftest import Client
from tests.e2e.harness.s3 import S3_KEY, S3_SECRET, Notifier, NotifyingS3, s3_client

WEBHOOK_TOKEN = "e2e-webhook-token"
FUNCTIONS = tuple(route.function for route in ROUTES)
TERMINAL = ("completed", "failed")


def external_env(
    database_url: str, s3: str, data_dir: Path, buckets: Buckets | None = None
) -> dict[str, str]:
    """What every service needs in a cluster: Postgres, S3 at ``s3`` (host:port), events from outside."""
    env = {
        "DATABASE_URL": database_url,
        "S3_ENDPOINT": f"http://{s3}",
        "S3_ACCESS_KEY": S3_KEY,
        "S3_SECRET_KEY": S3_SECRET,
        "S3_REGION": "us-east-1",
        "EVENTS_MODE": "external",
        "PDFONTO_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "INFO",  # the deployment's level (knative/pdfonto.yaml, the chart's default)
    }
    if buckets is not None:
        env.update(
            BUCKET_PDF=buckets.pdf,
            BUCKET_MINERU=buckets.mineru,
            BUCKET_DOCUMENTS=buckets.documents,
            BUCKET_EXTRACTION=buckets.extraction,
        )
    return env


def wait_port(port: int, alive: Callable[[], bool], timeout: float = 90.0, poll: float = 0.1) -> None:
    """Wait until something accepts connections on loopback ``port``; fail early once ``alive()`` is false."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"the process serving port {port} exited")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(poll)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:g} s")


class ServiceProcess:
    """One service on a fixed port: started with its container's command, stoppable, killable, restartable.

    ``command`` replaces that command, e.g. to serve a benchmark's baseline app the way the gateway is served.
    """

    def __init__(
        self, name: str, env: Mapping[str, str], log_dir: Path, command: list[str] | None = None
    ) -> None:
        self.name = name
        self.command = list(command or COMMANDS[name])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(env)
        self.log = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._children: list[psutil.Process] = []

    def start(self, **changes: str) -> None:
        self.env.update(changes)
        argv = list(self.command)
        executable = shutil.which(argv[0], path=str(Path(sys.executable).parent)) or shutil.which(argv[0])
        assert executable, f"{argv[0]} is not installed"
        # Its own runtime dir: gunicorn puts its control socket there, which two gateways must not share.
        runtime = self.log.parent / f"run-{self.name}-{self.port}"
        runtime.mkdir(exist_ok=True)
        env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
        env.pop("DEEPSEEK_API_KEY", None)
        env.update(self.env, PORT=str(self.port))
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [executable, *argv[1:]],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_listening(self, timeout: float = 90.0, poll: float = 0.1) -> None:
        process = self.process
        assert process is not None
        try:
            wait_port(self.port, lambda: process.poll() is None, timeout, poll)
        except RuntimeError as exc:
            raise RuntimeError(f"{self.name}: {exc} (exit code {process.poll()}):\n{self.tail()}") from exc

    def kill(self) -> None:
        """SIGKILL the service and every process it started, as when a pod is killed."""
        if self.process is None:
            return
        try:
            tree = [psutil.Process(self.process.pid), *psutil.Process(self.process.pid).children(True)]
        except psutil.Error:
            tree = []
        for proc in tree:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        self.terminate()
        self.reap()

    def terminate(self) -> None:
        """Ask the service to stop (SIGTERM); :meth:`reap` waits for it."""
        if self.process is None:
            return
        try:
            self._children = psutil.Process(self.process.pid).children(True)
        except psutil.Error:
            self._children = []
        self.process.terminate()

    def reap(self) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        for proc in self._children:  # e.g. the parse worker, which leads its own process group
            with contextlib.suppress(psutil.Error):
                proc.kill()
        self.process = None

    def restart(self, **changes: str) -> None:
        self.stop()
        self.start(**changes)
        self.wait_listening()

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


class Cluster:
    """Gateway, source, router and the three functions as processes, S3 behind a notifying front."""

    def __init__(
        self,
        root: Path,
        database_url: str,
        s3_upstream: str,
        *,
        env: Mapping[str, str] | None = None,
        service_env: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.root = root
        self.database_url = database_url
        # moto's server logs every request; the harness's own checks say what matters.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        tag = uuid.uuid4().hex[:8]
        self.buckets = Buckets(*(f"{name}-{tag}" for name in Buckets().all()))
        _create_buckets(s3_upstream, self.buckets)
        self.services = {name: ServiceProcess(name, {}, root) for name in ("gateway", "source", "router")}
        self.services.update({name: ServiceProcess(name, {}, root) for name in FUNCTIONS})
        self.notifier = Notifier(self.services["source"].url, WEBHOOK_TOKEN)
        self.s3 = NotifyingS3(f"http://{s3_upstream}", self.notifier).start()
        common = {
            **external_env(database_url, self.s3.endpoint, root / "data", self.buckets),
            "S3_TIMEOUT": "3",
            "MAX_PAGES": "100",
            "MAX_DELIVERY_ATTEMPTS": "6",
            "STEP_LEASE_SECONDS": "1800",
            **(env or {}),
        }
        gateway, router = self.services["gateway"], self.services["router"]
        own: dict[str, dict[str, str]] = {
            "gateway": {"EVENT_SINK_URL": router.url + "/"},
            "source": {"MINIO_WEBHOOK_TOKEN": WEBHOOK_TOKEN, "K_SINK": router.url + "/"},
            "router": {
                **{f"ROUTE_{name.upper()}_URL": self.services[name].url + "/" for name in FUNCTIONS},
                "DEAD_LETTER_URL": gateway.url + DEAD_LETTER_PATH,
                "ROUTER_BACKOFF_SECONDS": "0.5",
            },
        }
        for name, service in self.services.items():
            service.env.update(common, **own.get(name, {}), **(service_env or {}).get(name, {}))
        try:
            for service in self.services.values():
                service.start()
            for service in self.services.values():
                service.wait_listening()
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    @property
    def gateway(self) -> str:
        return self.services["gateway"].url

    def client(self, user: str, **headers: str) -> Client:
        client = Client(self.gateway, user)
        client.session.headers.update(headers)
        return client

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(self.gateway + "/ready", timeout=5).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the gateway never became ready:\n" + self.services["gateway"].tail())
            time.sleep(0.2)

    def stop(self) -> None:
        for service in self.services.values():
            service.terminate()
        for service in self.services.values():
            service.reap()
        self.s3.stop()

    # -- reading state for the checks ------------------------------------------------------------------

    def query(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        with psycopg.connect(self.database_url, row_factory=dict_row, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def objects(self, bucket: str, prefix: str = "") -> list[str]:
        """Object keys straight from the S3 server (bypassing the front, so no faults and no events)."""
        return _list_keys(self.s3.upstream, bucket, prefix)

    def wait_settled(self, file_ids: list[str], timeout: float = 240) -> dict[str, dict[str, Any]]:
        """Wait until every file is completed or failed with no step left running; returns the rows."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.query(
                "SELECT f.id::text AS id, f.status, f.error,"
                " bool_or(s.status IN ('running', 'pending')) AS busy"
                " FROM files f LEFT JOIN steps s ON s.file_id = f.id"
                " WHERE f.id = ANY(%s::uuid[]) GROUP BY f.id",
                file_ids,
            )
            by_id = {row["id"]: row for row in rows}
            done = [
                r for r in rows if r["status"] in TERMINAL and not (r["status"] == "completed" and r["busy"])
            ]
            if len(done) == len(file_ids):
                return by_id
            if time.monotonic() > deadline:
                stuck = {
                    i: (by_id.get(i) or {}).get("status")
                    for i in file_ids
                    if i not in {r["id"] for r in done}
                }
                raise AssertionError(f"{len(stuck)} file(s) did not settle in {timeout}s: {stuck}")
            time.sleep(0.3)


def _create_buckets(upstream: str, buckets: Buckets) -> None:
    # Created on the S3 server itself before the services start, so no two services race to create them.
    client = s3_client(upstream)
    for name in buckets.all():
        client.create_bucket(Bucket=name)


def _list_keys(upstream: str, bucket: str, prefix: str) -> list[str]:
    pages = s3_client(upstream).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]
