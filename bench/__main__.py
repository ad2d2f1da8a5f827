"""Run every benchmark section in its own process and write bench/RESULTS.md.

    python -m bench [--only parse,gateway] [--repeat N] [--quick] [--out bench/RESULTS.md]

Each section is ``python -m bench.<name>``: a fresh interpreter, so one stage's warm caches and memory never
flatter or burden the next. A section that cannot run here (no ../shared) says so instead of failing the run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.report import ROOT, Section, load_average, machine_facts

SECTIONS = ["parse", "structure", "extract", "gateway", "orchestration", "cold_start", "scaling"]


def run_section(name: str, repeat: int | None, quick: bool, folder: Path) -> Section:
    out = folder / f"{name}.json"
    command = [sys.executable, "-m", f"bench.{name}", "--json", str(out)]
    if repeat is not None:
        command += ["--repeat", str(repeat)]
    if quick:
        command.append("--quick")
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    if finished.returncode == 0 and out.exists():
        return Section(**json.loads(out.read_text(encoding="utf-8")))
    tail = "\n".join(finished.stderr.strip().splitlines()[-15:])
    sys.stderr.write(finished.stderr)
    return Section(
        name=name,
        title=name,
        command=" ".join(command[1:3]),
        skipped=f"the section failed (exit {finished.returncode}):\n\n```\n{tail}\n```",
        seconds=time.perf_counter() - started,
    )


def render(sections: list[Section], started_at: datetime, seconds: float, load_before: str) -> str:
    runs = "median (min–max) of the runs each section states"
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `make bench` (`python -m bench`) on {started_at:%Y-%m-%d %H:%M} UTC in "
        f"{seconds / 60:.1f} min. This file is generated: edit `bench/`, not the figures.",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {key} | {value} |" for key, value in machine_facts()],
        f"| load average | before {load_before}; after {load_average()} |",
        "",
        f"Figures are the {runs}. A comparison is a ratio of two measurements taken in the same round",
        "of the same run, so both sides saw the same machine; its median and range are over the rounds.",
        "",
        "## Headlines",
        "",
    ]
    for section in sections:
        if section.skipped:
            lines.append(f"- {section.title}: skipped ({section.skipped.splitlines()[0]})")
        lines += [f"- {headline}" for headline in section.headlines]
    lines.append("")
    return "\n".join(lines) + "\n" + "\n".join(section.markdown() for section in sections)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated sections among {', '.join(SECTIONS)}")
    parser.add_argument("--repeat", type=int, help="runs per figure in every section")
    parser.add_argument("--quick", action="store_true", help="small inputs: checks the benchmarks still run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    names = SECTIONS if not args.only else [name.strip() for name in args.only.split(",")]
    unknown = sorted(set(names) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections: {', '.join(unknown)}")

    started_at = datetime.now(timezone.utc)
    load_before = load_average()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pdfonto-bench-") as folder:
        sections = [run_section(name, args.repeat, args.quick, Path(folder)) for name in names]
    text = render(sections, started_at, time.perf_counter() - started, load_before)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    if any(section.skipped and section.skipped.startswith("the section failed") for section in sections):
        sys.exit(1)


if __name__ == "__main__":
    main()
