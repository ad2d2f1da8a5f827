"""Orchestration overhead: per file, the time outside the steps' own work, embedded and multi-process.

One generated two-page PDF at a time goes through each stack, and the file's timeline is read back from
Postgres. Embedded: what ``pdfonto serve`` runs (one process; local files; the in-process bus), the upload
going through the gateway's upload endpoint in-process. Harness: ``tests/e2e/harness/cluster.py`` (gateway
under gunicorn, moto's S3 behind the MinIO-style notifier → source → router → parse/structure/extract under
functions-framework), the upload over HTTP. Both stacks run side by side; each round sends one new file
through each (the order alternates), so the ratio compares files that saw the same machine. One untimed
file per stack first pays the MinerU worker start and the lazy imports.

Wall is ``files.created_at → files.completed_at``; step work is the sum of ``steps.metrics.seconds`` (each
handler's own time, including its own storage reads and writes); overhead is the difference: the upload's
object write and event, the routing and delivery of every event, and the steps' claim and completion
transactions. ``--quick``: at most two rounds.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bench.report import Options, Section, section_main
from bench.stacks import EmbeddedStack, HarnessStack, Timeline, distinct_pdfs, quiet_logs
from bench.stats import Sample, ratios
from core.routing import STEP_ORDER

MODES = ("embedded", "harness")
HANDOFFS = list(itertools.pairwise(STEP_ORDER))


class Pipeline(Protocol):
    def upload(self, pdf: Path) -> str: ...

    def wait_settled(self, file_id: str, timeout: float = ...) -> None: ...

    def timelines(self, file_ids: Iterable[str]) -> list[Timeline]: ...


@dataclass(frozen=True)
class FileRun:
    timeline: Timeline
    upload_seconds: float  # client clock: request sent → 201 received
    seen_seconds: float  # client clock: request sent → completion observed


def one_file(stack: Pipeline, pdf: Path) -> FileRun:
    started = time.perf_counter()
    file_id = stack.upload(pdf)
    uploaded = time.perf_counter()
    stack.wait_settled(file_id)
    seen = time.perf_counter()
    [timeline] = stack.timelines([file_id])
    return FileRun(timeline, uploaded - started, seen - started)


@dataclass(frozen=True)
class Row:
    label: str
    value: Callable[[FileRun], float]  # seconds
    ratio: bool = False  # both sides are positive by construction, so their quotient means something


def _handler(step: str) -> Callable[[FileRun], float]:
    return lambda run: run.timeline.steps[step].seconds


def _handoff(before: str, after: str) -> Callable[[FileRun], float]:
    return lambda run: run.timeline.handoff(before, after)


OVERHEAD = Row("**overhead: wall − step work**", lambda run: run.timeline.overhead, ratio=True)
ROWS = [
    Row("wall: file row inserted → file completed", lambda run: run.timeline.wall, ratio=True),
    Row("step work: Σ handler time", lambda run: run.timeline.work, ratio=True),
    *[Row(f"↳ {step} handler", _handler(step), ratio=True) for step in STEP_ORDER],
    OVERHEAD,
    Row("↳ upload → parse claimed", lambda run: run.timeline.to_first_step, ratio=True),
    *[Row(f"↳ {before} done → {after} claimed", _handoff(before, after)) for before, after in HANDOFFS],
    Row("↳ claim + completion transactions (3 steps)", lambda run: run.timeline.bookkeeping, ratio=True),
    Row("client: upload request answered", lambda run: run.upload_seconds, ratio=True),
    Row("client: upload sent → completion seen", lambda run: run.seen_seconds, ratio=True),
]


def _ms(values: list[float]) -> str:
    return Sample.of(values).scaled(1000).show(1, "ms")


def measure(options: Options, section: Section) -> None:
    quiet_logs()
    rounds = min(options.repeat, 2) if options.quick else options.repeat
    runs: dict[str, list[FileRun]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="pdfonto-bench-orch-") as folder:
        root = Path(folder)
        pdfs = distinct_pdfs(root / "pdfs", "orch", len(MODES) * (rounds + 1))
        embedded = EmbeddedStack(root / "embedded")
        try:
            harness = HarnessStack(root / "harness")
            try:
                stacks: dict[str, Pipeline] = {"embedded": embedded, "harness": harness}
                for index in range(rounds + 1):  # round 0 is the warm-up
                    order = MODES if index % 2 else tuple(reversed(MODES))
                    for mode in order:
                        run = one_file(stacks[mode], pdfs.pop())
                        if index:
                            runs[mode].append(run)
            finally:
                harness.close()
        finally:
            embedded.close()

    def values(mode: str, row: Row) -> list[float]:
        return [row.value(run) for run in runs[mode]]

    shares = {
        mode: Sample.of([run.timeline.overhead / run.timeline.wall * 100 for run in runs[mode]])
        for mode in MODES
    }
    lines = [
        f"Per file, median (min–max) over {rounds} file(s) per stack, one file in flight at a time "
        "(each stack warmed up by one untimed file). Each stack has its own Postgres on this machine and "
        "every timestamp is its `now()`, the start of the transaction that stamps the row. Wall runs from "
        "the upload's INSERT of the file row (the request body already received) to the transaction that "
        "marks the last step and the file completed. Handler time is the step runtime's monotonic clock "
        "from the claim's commit to the handler's return: parsing, structuring or extracting, plus the "
        "handler's own storage reads and writes. The ↳ rows under the overhead add up to it exactly: the "
        "upload's object write and storage event until the parse claim began; each handoff from one step's "
        "completion transaction to the next step's claim (negative when the next claim began first: the "
        "next step is announced by the previous step's last output write, inside its handler); and the "
        "rest of each step's span, its claim and completion transactions. Client rows use this process's "
        "clock: embedded uploads go through the gateway's endpoint in-process (no socket) and completion is "
        "seen when the bus goes idle; harness uploads go over HTTP to gunicorn and completion is polled in "
        "Postgres every 10 ms.",
        "",
        "| per file | embedded | harness | harness / embedded (per round) |",
        "|---|---:|---:|---:|",
    ]
    for row in ROWS:
        embedded_values, harness_values = values("embedded", row), values("harness", row)
        ratio = "–"
        if row.ratio and min(embedded_values) > 0 and min(harness_values) > 0:
            ratio = ratios(harness_values, embedded_values).show(1) + "×"
        lines.append(f"| {row.label} | {_ms(embedded_values)} | {_ms(harness_values)} | {ratio} |")
        if row is OVERHEAD:
            embedded_share, harness_share = shares["embedded"].show(0, "%"), shares["harness"].show(0, "%")
            lines.append(f"| overhead share of wall | {embedded_share} | {harness_share} | – |")
    section.body = "\n".join(lines)

    def per_round(measure: Callable[[Timeline], float]) -> Sample:
        return ratios(
            [measure(run.timeline) for run in runs["harness"]],
            [measure(run.timeline) for run in runs["embedded"]],
        )

    overhead = {mode: Sample.of([run.timeline.overhead for run in runs[mode]]).scaled(1000) for mode in MODES}
    section.headlines = [
        f"Orchestration overhead per file: embedded {overhead['embedded'].show(0, 'ms')} "
        f"({shares['embedded'].median:.0f}% of the file's wall), multi-process harness "
        f"{overhead['harness'].show(0, 'ms')} ({shares['harness'].median:.0f}%); "
        f"harness/embedded {per_round(lambda t: t.overhead).show(1)}× per round.",
    ]
    section.notes = [_components_note(mode, runs[mode]) for mode in MODES]
    section.notes.append(
        f"The harness's handlers themselves take {per_round(lambda t: t.work).show(1)}× the embedded ones: "
        "there each step downloads its input and uploads its outputs over HTTP to S3 (moto behind the "
        "MinIO-style front) instead of local files, and that counts as step work here, not overhead."
    )
    handoffs = [run.timeline.handoff(*pair) for mode in MODES for run in runs[mode] for pair in HANDOFFS]
    negative = sum(value < 0 for value in handoffs)
    if negative:
        section.notes.append(
            f"{negative} of {len(handoffs)} handoffs are negative: the next step's claim began before the "
            "previous step's completion transaction, so delivering the event sent by the previous handler's "
            "last output write overlapped the end of that step instead of adding to the file's wall."
        )
    retried = sum(run.timeline.retries for mode in MODES for run in runs[mode])
    if retried:
        section.notes.append(f"{retried} step run(s) were redeliveries; their backoff counts as overhead.")


def _components_note(mode: str, runs: list[FileRun]) -> str:
    """Which part of the overhead dominates, from the medians of its components."""
    parts = {
        "upload → parse claim": Sample.of([run.timeline.to_first_step for run in runs]).median,
        "handoffs between steps": Sample.of(
            [sum(run.timeline.handoff(a, b) for a, b in HANDOFFS) for run in runs]
        ).median,
        "claim and completion transactions": Sample.of([run.timeline.bookkeeping for run in runs]).median,
    }
    described = ", ".join(
        f"{name} {seconds * 1000:.1f} ms"
        for name, seconds in sorted(parts.items(), key=lambda item: -item[1])
    )
    return f"{mode.capitalize()} overhead, by median component: {described}."


if __name__ == "__main__":
    title = "Orchestration overhead per file: embedded vs the multi-process harness"
    section_main("orchestration", title, measure, default_repeat=7)
