"""Sections of bench/RESULTS.md, the facts of the machine that produced them, and the per-section CLI."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


class BenchSkipped(Exception):
    """A section cannot run here (say why); the others still run and the results say it was skipped."""


@dataclass
class Section:
    """One stage's figures: how to reproduce them, a table or listing, and the conclusions drawn from them."""

    name: str
    title: str
    command: str
    body: str = ""
    headlines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", f"Command: `{self.command}` ({self.seconds:.0f} s)", ""]
        if self.skipped:
            return "\n".join([*lines, f"Skipped: {self.skipped}", ""])
        lines += [self.body.rstrip(), ""]
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"


@dataclass(frozen=True)
class Options:
    repeat: int
    quick: bool


def section_main(
    name: str,
    title: str,
    measure: Callable[[Options, Section], None],
    *,
    default_repeat: int = 3,
    argv: list[str] | None = None,
) -> None:
    """Run one section as ``python -m bench.<name>``: print it, and hand it to the driver as JSON if asked."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.{name}", description=title)
    parser.add_argument("--repeat", type=int, default=default_repeat, help="runs per figure (median)")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, to check the benchmark works")
    parser.add_argument("--json", type=Path, help="also write the section here (used by python -m bench)")
    args = parser.parse_args(argv)
    command = f"python -m bench.{name} --repeat {args.repeat}" + (" --quick" if args.quick else "")
    section = Section(name=name, title=title, command=command)
    started = time.perf_counter()
    try:
        measure(Options(repeat=max(1, args.repeat), quick=args.quick), section)
    except BenchSkipped as exc:
        section.skipped = str(exc)
    section.seconds = time.perf_counter() - started
    print(section.markdown(), flush=True)
    if args.json:
        args.json.write_text(json.dumps(asdict(section), ensure_ascii=False), encoding="utf-8")


def require_shared(*relative: str) -> Path:
    """The shared test data, or a skip naming what is missing (a fresh clone has no ../shared)."""
    path = SHARED.joinpath(*relative)
    if not path.exists():
        raise BenchSkipped(f"{path} is absent (the shared test data is not part of a clone)")
    return path


def machine_facts() -> list[tuple[str, str]]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split("MemTotal:", 1)[1].split()[0])
        memory = f"{total_kb / 1024 / 1024:.1f} GiB"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        ("CPU", f"{cpu}, {usable} usable cores"),
        ("memory", memory),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("packages", ", ".join(_versions("mineru", "flask", "gunicorn", "psycopg", "pgserver", "openai"))),
        ("commit", _git_commit()),
    ]


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def _versions(*names: str) -> list[str]:
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} absent")
    return found


def _git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit}{' with uncommitted changes' if dirty else ''}"
