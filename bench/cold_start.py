"""Cold start per function: process start → first handled event, and what each entry module loads at start.

Scale-to-zero pays a cold start on every burst. Each round spawns every service afresh with its container's
exact command (``tests/deploy/commands.py``, through the e2e harness's ``ServiceProcess``) on a throw-away
Postgres (pgserver, migrated) and moto's S3 server, and times spawn → port listening, the first event (cold)
and a second event of the same kind in the same process (warm). Every event does real work on its own file,
prepared beforehand with the project's own steps run in-process: parse gets the storage CloudEvent of a
generated PDF that has its file row, structure the manifest of a parse, extract the ``document.json`` of a
structure (offline extractor); source gets MinIO's webhook body for a PDF and posts its CloudEvent to a stub
Broker; the router gets that CloudEvent and delivers it to a stub function; the gateway gets a project list.

Each entry module is also imported in a fresh interpreter under ``-X importtime``: its import time, the
heavy libraries it loads at start, and what the libraries it keeps off the start path would add.

    python -m bench.cold_start [--repeat 3] [--quick]
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from moto.server import ThreadedMotoServer

from bench.report import ROOT, Options, Section, section_main
from bench.stats import Sample, ratios
from core import events, keys
from core.context import AppContext, build_context
from core.settings import Settings
from core.steps import Outcome
from core.storage import ObjectInfo
from tests.conftest import free_port, insert_file
from tests.e2e.harness.cluster import ServiceProcess, external_env
from tests.e2e.harness.pipeline import report_pdf
from tests.e2e.harness.postgres import PostgresServer
from tests.e2e.harness.s3 import minio_body

STEPS = ("parse", "structure", "extract")
SERVICES = ("gateway", "source", "router", *STEPS)
QUICK_SERVICES = ("source", "structure")
ENTRIES = {"gateway": "gateway", **{name: f"functions.{name}.main" for name in SERVICES[1:]}}
EVENTS = {
    "gateway": "GET project list",
    "source": "MinIO webhook → CloudEvent to the sink",
    "router": "CloudEvent → delivered to its function",
    "parse": "PDF (2 pages) → MinerU flash output",
    "structure": "MinerU manifest → document.json",
    "extract": "document.json → result + graph (offline)",
}
OWNER = "bench-cold-start"
WEBHOOK_TOKEN = "bench-webhook-token"
# Libraries that cost tens of milliseconds or more to import: the start path shows which of them it loads.
HEAVY = (
    "mineru",
    "torch",
    "onnxruntime",
    "rapidocr",
    "cv2",
    "numpy",
    "PIL",
    "openai",
    "httpx",
    "rdflib",
    "jsonschema",
    "pypdfium2",
    "psycopg",
    "marshmallow",
    "boto3",
    "minio",
)
# What no service should pay before its first event: the model stack and the LLM SDK.
NEVER_AT_START = ("mineru", "torch", "onnxruntime", "rapidocr", "openai")
LISTEN_POLL_SECONDS = 0.005


@dataclass(frozen=True)
class OffStart:
    """A library a service deliberately imports only where it is used."""

    module: str  # what the service imports when it needs it
    used: str  # when that happens


OFF_START: dict[str, tuple[OffStart, ...]] = {
    "gateway": (
        OffStart("rdflib", "Turtle import/export of an ontology"),
        OffStart("jsonschema", "validating an ontology: project creation, uploads"),
    ),
    # httpx first: MinerU's parser imports it too, so measured after MinerU it would look free.
    "parse": (
        OffStart("httpx", "MinerU API backends only"),
        OffStart("mineru.parser", "in the isolated worker, on the first event"),
    ),
    "extract": (
        OffStart("openai", "LLM extractor only, with DEEPSEEK_API_KEY set"),
        OffStart("jsonschema", "first event: validating the project's ontology"),
        OffStart("pypdfium2", "never: extract reads document.json, not the PDF"),
    ),
}

# Run in a fresh interpreter under -X importtime: import the entry module, mark the end of the start path
# on stderr (where importtime writes), then import what the service keeps off its start path.
_IMPORT_PROBE = """
import json, sys, time
entry, later = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
__import__(entry)
seconds = time.perf_counter() - started
sys.stderr.write("--- start path ends ---\\n")
sys.stderr.flush()
added = {}
for name in later:
    started = time.perf_counter()
    __import__(name)
    added[name] = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "later": added}))
"""


# --- the environment ----------------------------------------------------------------------------------


class StubTarget:
    """Stands for the Broker behind source's ``K_SINK`` and for the functions behind the router.

    It takes every POST with 202 and an empty body, and notes when each body arrived (this process's clock).
    """

    def __init__(self) -> None:
        self._arrivals: list[tuple[float, bytes]] = []
        self._cond = threading.Condition()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stub._arrived(body)
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, name="stub-target", daemon=True).start()

    def _arrived(self, body: bytes) -> None:
        with self._cond:
            self._arrivals.append((time.perf_counter(), body))
            self._cond.notify_all()

    def arrival(self, marker: bytes, since: float, timeout: float = 30.0) -> float:
        """When a body containing ``marker`` arrived after ``since``."""

        def found() -> float | None:
            return next((at for at, body in self._arrivals if at >= since and marker in body), None)

        with self._cond:
            if not self._cond.wait_for(lambda: found() is not None, timeout):
                raise RuntimeError(f"nothing carrying {marker!r} reached the stub within {timeout:g} s")
            at = found()
            assert at is not None
            return at

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Environment:
    root: Path
    database_url: str
    ctx: AppContext
    stub: StubTarget
    env: dict[str, str]
    numbers: Iterator[int] = field(default_factory=lambda: iter(range(1, 10_000)))

    def service_env(self, name: str) -> dict[str, str]:
        own = {
            # As deployed: the gateway re-announces lost steps to the sink (its first sweep is a minute away).
            "gateway": {"EVENT_SINK_URL": self.stub.url},
            "source": {"MINIO_WEBHOOK_TOKEN": WEBHOOK_TOKEN, "K_SINK": self.stub.url},
            "router": {
                **{f"ROUTE_{function.upper()}_URL": self.stub.url for function in STEPS},
                "DEAD_LETTER_URL": self.stub.url,
                "ROUTER_BACKOFF_SECONDS": "0.5",
            },
        }
        return {**self.env, **own.get(name, {})}


@contextmanager
def environment() -> Iterator[Environment]:
    root = Path(tempfile.mkdtemp(prefix="pdfonto-cold-"))
    # moto's server logs every request it serves; none of them matters here.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    postgres = PostgresServer()
    port = free_port()
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    s3.start()
    stub = StubTarget()
    env = {**external_env(postgres.url(), f"127.0.0.1:{port}", root / "data"), "MAX_PAGES": "100"}
    ctx = build_context(Settings.from_env(env), run_migrations=False)  # also creates the buckets
    try:
        yield Environment(root, postgres.url(), ctx, stub, env)
    finally:
        ctx.close()
        stub.stop()
        s3.stop()
        postgres.remove()
        shutil.rmtree(root, ignore_errors=True)  # a failure already quoted the service's log


# --- inputs: one file per event, made by the project's own steps ----------------------------------------


@dataclass(frozen=True)
class Handled:
    seconds: float  # from sending the event to it being handled
    metrics: dict[str, Any] = field(default_factory=dict)  # the step's own metrics, for steps


Event = Callable[[str], Handled]  # given a service's base URL: send one event, wait until it is handled


def new_pdf(environment: Environment) -> tuple[keys.FileRef, ObjectInfo]:
    """A distinct generated report in the pdf bucket, with its file row (as an upload leaves it)."""
    number = next(environment.numbers)
    folder = environment.root / "pdfs"
    folder.mkdir(exist_ok=True)
    path = report_pdf(folder / f"report-{number}.pdf", number)
    ctx = environment.ctx
    with ctx.db.connect() as conn:
        ref = insert_file(conn, owner=OWNER, original_name=path.name, size_bytes=path.stat().st_size)
    key = keys.pdf_key(ref.project_id, ref.file_id)
    info = ctx.store.put_file(ctx.settings.buckets.pdf, key, path, "application/pdf")
    return ref, info


def run_in_process(ctx: AppContext, step: str, info: ObjectInfo) -> None:
    from functions.parse import step as parse
    from functions.structure import step as structure

    handler = {"parse": parse.handle, "structure": structure.handle}[step]
    outcome = handler(ctx, events.parse(events.build(info)))
    if outcome is not Outcome.DONE:
        raise RuntimeError(f"preparing an input: {step} of {info.key} ended {outcome.value}")


def step_input(environment: Environment, step: str) -> tuple[keys.FileRef, ObjectInfo]:
    """A new file whose ``step`` input exists: the earlier steps ran in-process."""
    ctx = environment.ctx
    buckets = ctx.settings.buckets
    ref, info = new_pdf(environment)
    if step in ("structure", "extract"):
        run_in_process(ctx, "parse", info)
        info = ctx.store.stat(buckets.mineru, keys.mineru_key(ref, keys.MANIFEST))
    if step == "extract":
        run_in_process(ctx, "structure", info)
        info = ctx.store.stat(buckets.documents, keys.document_key(ref))
    return ref, info


def step_event(environment: Environment, step: str) -> Event:
    ref, info = step_input(environment, step)
    headers, body = events.to_http(events.build(info))

    def send(url: str) -> Handled:
        started = time.perf_counter()
        response = requests.post(url + "/", data=body, headers=headers, timeout=600)
        seconds = time.perf_counter() - started
        _expect_2xx(step, response)
        with environment.ctx.db.connect() as conn:
            row = conn.execute(
                "SELECT status, error, metrics FROM steps WHERE file_id = %s AND step = %s",
                (ref.file_id, step),
            ).fetchone()
        if row is None or row["status"] != "completed":
            raise RuntimeError(f"{step} did not complete {info.key}: {row}")
        return Handled(seconds, dict(row["metrics"] or {}))

    return send


def source_event(environment: Environment) -> Event:
    _, info = new_pdf(environment)
    body = minio_body("s3:ObjectCreated:Put", info.bucket, info.key, info.size, info.etag, info.content_type)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {WEBHOOK_TOKEN}"}

    def send(url: str) -> Handled:
        started = time.perf_counter()
        response = requests.post(url + "/", data=body, headers=headers, timeout=60)
        seconds = time.perf_counter() - started
        _expect_2xx("source", response)
        # The source posts to its sink before it answers: the CloudEvent must already be there.
        environment.stub.arrival(info.key.encode(), since=started, timeout=1.0)
        return Handled(seconds)

    return send


def router_event(environment: Environment) -> Event:
    _, info = new_pdf(environment)
    headers, body = events.to_http(events.build(info))

    def send(url: str) -> Handled:
        # The router acknowledges (202) before delivering, like a Broker ingress: its work is done when the
        # event reaches the function it routes to.
        started = time.perf_counter()
        response = requests.post(url + "/", data=body, headers=headers, timeout=60)
        _expect_2xx("router", response)
        return Handled(environment.stub.arrival(info.key.encode(), since=started) - started)

    return send


def gateway_request(environment: Environment) -> Event:
    def send(url: str) -> Handled:
        started = time.perf_counter()
        response = requests.get(url + "/api/v1/projects/", headers={"X-User-ID": OWNER}, timeout=60)
        seconds = time.perf_counter() - started
        _expect_2xx("gateway", response)
        if not response.json()["data"]:
            raise RuntimeError("the gateway listed no projects: the request did no real work")
        return Handled(seconds)

    return send


def _expect_2xx(name: str, response: requests.Response) -> None:
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"{name} answered {response.status_code}: {response.text[:500]}")


def prepare(environment: Environment, services: tuple[str, ...], rounds: int) -> dict[str, list[Event]]:
    """Two events per round and service (cold, warm), each on its own file."""

    def make(name: str) -> Event:
        if name == "gateway":
            return gateway_request(environment)
        if name == "source":
            return source_event(environment)
        if name == "router":
            return router_event(environment)
        return step_event(environment, name)

    try:
        return {name: [make(name) for _ in range(2 * rounds)] for name in services}
    finally:
        if "functions.parse.backends" in sys.modules:
            # The in-process parses left a warm MinerU worker in this process: not part of what is timed.
            from functions.parse.backends import local_worker

            local_worker(1).close()


# --- timing a cold process ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    listening: float
    first: Handled
    warm: Handled

    @property
    def cold(self) -> float:
        return self.listening + self.first.seconds


def cold_start(environment: Environment, name: str, cold: Event, warm: Event) -> Start:
    logs = environment.root / "logs"
    logs.mkdir(exist_ok=True)
    service = ServiceProcess(name, environment.service_env(name), logs)
    started = time.perf_counter()
    service.start()
    try:
        # The harness's default 0.1 s poll is too coarse for figures of a few tenths of a second.
        service.wait_listening(timeout=120, poll=LISTEN_POLL_SECONDS)
        listening = time.perf_counter() - started
        try:
            first = cold(service.url)
            second = warm(service.url)
        except Exception as exc:
            raise RuntimeError(f"{exc}\n{name}'s log:\n{service.tail()}") from exc
    finally:
        service.stop()
    return Start(listening, first, second)


# --- the start path ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartPath:
    seconds: float
    heavy: dict[str, float]  # library → cumulative import seconds, for those the entry module loads
    later: dict[str, float]  # module kept off the start path → what importing it right after adds


def start_path(service: str) -> StartPath:
    later = [item.module for item in OFF_START.get(service, ())]
    finished = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _IMPORT_PROBE, ENTRIES[service], *later],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"importing {ENTRIES[service]} failed:\n{finished.stderr[-3000:]}")
    heavy: dict[str, float] = {}
    for line in finished.stderr.split("--- start path ends ---", 1)[0].splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, name = line.split("|")
        if name.strip() in HEAVY and cumulative.strip().isdigit():
            heavy.setdefault(name.strip(), int(cumulative) / 1e6)
    figures = json.loads(finished.stdout)
    return StartPath(figures["seconds"], heavy, figures["later"])


# --- the section ----------------------------------------------------------------------------------------


def measure(options: Options, section: Section) -> None:
    services = QUICK_SERVICES if options.quick else SERVICES
    rounds = options.repeat
    paths: dict[str, list[StartPath]] = {name: [] for name in services}
    starts: dict[str, list[Start]] = {name: [] for name in services}
    with environment() as env:
        inputs = prepare(env, services, rounds)
        for index in range(rounds):
            for name in services:
                # Side by side, so a service's import time and its cold start see the same machine.
                paths[name].append(start_path(name))
                cold, warm = inputs[name][2 * index : 2 * index + 2]
                starts[name].append(cold_start(env, name, cold, warm))
    section.body = _body(services, rounds, starts, paths)
    section.headlines = _headlines(services, starts, paths)
    section.notes = _notes(services, starts, paths)


def _body(
    services: tuple[str, ...],
    rounds: int,
    starts: dict[str, list[Start]],
    paths: dict[str, list[StartPath]],
) -> str:
    lines = [
        f"Per service and round ({rounds} round(s), a fresh process each): the container's command from "
        "`tests/deploy/commands.py` is spawned, the port polled every "
        f"{LISTEN_POLL_SECONDS * 1000:g} ms, then one event is sent (cold) and, in the same process, a "
        "second event of the same kind on another file (warm). Times are until the reply, 2xx (source: its "
        "CloudEvent is in the sink before it answers; router: until the event reaches the function it "
        "routes to, since it answers 202 first); steps are checked `completed` in Postgres. Inputs are "
        "generated two-page reports, one file per event, prepared by running the earlier steps in-process. "
        "Cold/warm is spawn → first reply over the warm event, per round.",
        "",
        "| service | event | spawn → listening | first event | warm event | spawn → first reply "
        "| cold / warm |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in services:
        runs = starts[name]
        lines.append(
            f"| {name} | {EVENTS[name]} "
            f"| {Sample.of([run.listening for run in runs]).show(2, 's')} "
            f"| {Sample.of([run.first.seconds for run in runs]).show(3, 's')} "
            f"| {Sample.of([run.warm.seconds for run in runs]).show(3, 's')} "
            f"| {Sample.of([run.cold for run in runs]).show(2, 's')} "
            f"| {_cold_over_warm(runs).show(1, '×')} |"
        )
    lines += [
        "",
        "Start path: each entry module imported in a fresh interpreter under `python -X importtime` (the "
        "interpreter's own start-up is not included). *Loaded at start* lists the heavy libraries it "
        "pulls in (cumulative import time); *kept off* what importing each deferred library right after "
        "would add, i.e. what the start path would cost with it.",
        "",
        "| service | entry module | import | loaded at start | kept off the start path (used when) |",
        "|---|---|---|---|---|",
    ]
    for name in services:
        samples = paths[name]
        heavy = _heavy_samples(samples)
        loaded = ", ".join(f"{lib} {sample.scaled(1000).show(0, 'ms')}" for lib, sample in heavy.items())
        kept = "; ".join(
            f"{item.module} +{Sample.of([p.later[item.module] for p in samples]).scaled(1000).show(0, 'ms')}"
            f" ({item.used})"
            for item in OFF_START.get(name, ())
        )
        lines.append(
            f"| {name} | `{ENTRIES[name]}` | {Sample.of([p.seconds for p in samples]).show(2, 's')} "
            f"| {loaded or 'none'} | {kept or '—'} |"
        )
    return "\n".join(lines) + "\n"


def _cold_over_warm(runs: list[Start]) -> Sample:
    return ratios([run.cold for run in runs], [run.warm.seconds for run in runs])


def _mineru(handled: Handled) -> float:
    return float(handled.metrics.get("mineru_seconds") or 0.0)


def _outside(handled: Handled) -> float:
    return handled.seconds - float(handled.metrics.get("seconds") or 0.0)


def _heavy_samples(samples: list[StartPath]) -> dict[str, Sample]:
    """Libraries loaded at start in every run, with their import times, in the order of HEAVY."""
    return {
        lib: Sample.of([path.heavy[lib] for path in samples])
        for lib in HEAVY
        if all(lib in path.heavy for path in samples)
    }


def _headlines(
    services: tuple[str, ...], starts: dict[str, list[Start]], paths: dict[str, list[StartPath]]
) -> list[str]:
    colds = {name: Sample.of([run.cold for run in starts[name]]) for name in services}
    factors = {name: _cold_over_warm(starts[name]) for name in services}
    imports = [Sample.of([p.seconds for p in paths[name]]).median for name in services]
    loaded_never = sorted(
        {lib for name in services for p in paths[name] for lib in p.heavy} & set(NEVER_AT_START)
    )
    headlines = [
        "Cold start, spawn → first event answered: "
        + ", ".join(f"{name} {colds[name].show(2, 's')}" for name in services),
        "A cold event costs "
        + ", ".join(f"{name} {factors[name].median:.0f}×" for name in services)
        + " a warm one in the same process (cold/warm per round, median)",
    ]
    if not loaded_never:
        headlines.append(
            f"Entry modules import in {min(imports):.2f}–{max(imports):.2f} s; none loads "
            f"{', '.join(NEVER_AT_START)} at start"
        )
    else:
        headlines.append(f"Loaded at start although only needed later: {', '.join(loaded_never)}")
    return headlines


def _notes(
    services: tuple[str, ...], starts: dict[str, list[Start]], paths: dict[str, list[StartPath]]
) -> list[str]:
    notes = []
    shares = {name: Sample.of([run.listening / run.cold for run in starts[name]]).median for name in services}
    biggest = max(services, key=lambda name: Sample.of([run.cold for run in starts[name]]).median)
    first_share = 1 - shares[biggest]
    notes.append(
        f"The slowest cold start is {biggest}'s; {first_share:.0%} of it is its first event, "
        f"{shares[biggest]:.0%} the time until its port listens (interpreter, imports, server start). "
        "Across services the part before listening is "
        + ", ".join(f"{name} {shares[name]:.0%}" for name in services)
        + "."
    )
    if "parse" in services:
        runs = starts["parse"]
        job = Sample.of([_mineru(run.first) for run in runs])
        warm_job = Sample.of([_mineru(run.warm) for run in runs])
        rest = Sample.of([run.first.seconds - _mineru(run.first) for run in runs])
        warm_rest = Sample.of([run.warm.seconds - _mineru(run.warm) for run in runs])
        first = Sample.of([run.first.seconds for run in runs])
        notes.append(
            f"parse's first event ({first.show(2, 's')}) also starts the isolated MinerU worker "
            "(`functions/parse/isolation.py`: a spawned interpreter, kept warm for the next documents). "
            f"The MinerU job took {job.show(2, 's')} on the first event, importing MinerU in the new "
            f"worker included, against {warm_job.show(3, 's')} warm; the rest of the first event "
            f"({rest.show(2, 's')}, against {warm_rest.show(3, 's')} warm) is mostly starting the worker's "
            "interpreter and building the service's context."
            + (" It is the largest cold cost of the pipeline." if biggest == "parse" else "")
        )
    if "gateway" in services:
        runs = starts["gateway"]
        notes.append(
            "gunicorn binds the gateway's port in its master before the worker imports the app, so the "
            "gateway's *spawn → listening* leaves out importing `gateway` and `create_app()` (database pool, "
            "migration check, bucket checks): its first request pays them "
            f"({Sample.of([run.first.seconds for run in runs]).show(2, 's')} against "
            f"{Sample.of([run.warm.seconds for run in runs]).show(3, 's')} warm). The functions import their "
            "module before functions-framework binds, so theirs is inside *spawn → listening*."
        )
    steps = [name for name in services if name in ("structure", "extract")]
    if steps:
        # The step runtime records the step's own work as metrics.seconds: the rest of an event's time is
        # decoding, claiming the step and, on the first event, building the process-wide context.
        notes.append(
            "Outside the step's own work (`steps.metrics.seconds`), the first event spent "
            + ", ".join(
                f"{name} {Sample.of([_outside(r.first) for r in starts[name]]).show(3, 's')} against "
                f"{Sample.of([_outside(r.warm) for r in starts[name]]).show(3, 's')} warm"
                for name in steps
            )
            + ": functions build their context (settings, Postgres pool, S3 client, bucket checks) on the "
            "first event rather than at import, since functions-framework imports the module before "
            "gunicorn forks."
        )
    if "source" in services or "router" in services:
        notes.append(
            "source and router build their settings and sink (source) or event bus and thread pools "
            "(router) on the first request too; neither touches Postgres or S3 for an event."
        )
    if "extract" in services:
        heavy = _heavy_samples(paths["extract"])
        if "rdflib" in heavy:
            notes.append(
                f"extract keeps rdflib ({heavy['rdflib'].scaled(1000).show(0, 'ms')}) on its start path on "
                "purpose: every extract event writes graph.ttl, so importing it later would move that time "
                "into the first event, not save it."
            )
    if any(name in OFF_START for name in services):
        notes.append(
            "Deferring an import saves start time only where most events do not need the library (httpx "
            "in parse with the local backend, rdflib and jsonschema in the gateway); for a library every "
            "event needs it only moves the time into the first event, as with jsonschema in extract."
        )
    return notes


if __name__ == "__main__":
    section_main("cold_start", "Cold start per function", measure, default_repeat=3)
