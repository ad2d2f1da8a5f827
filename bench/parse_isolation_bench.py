"""What isolation costs: a warm worker (the default) versus a fresh process per document.

MINERU_WORKER_MAX_JOBS=1 gives every document its own process (strongest isolation); the default reuses one
warm worker until it has parsed 50 documents or holds half the memory ceiling. This measures both on one
born-digital document, plus the bare cost of starting a worker.

Run: /tmp/probe/venv/bin/python bench/parse_isolation_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PDF = ROOT.parent / "shared" / "data" / "pdfs" / "zh_accident_report_514.pdf"


def noop() -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from functions.parse.isolation import IsolatedWorker, Limits
    from functions.parse.mineru_local import parse_pdf

    limits = Limits(timeout=600, memory_mb=None)
    starts, fresh, warm = [], [], []
    for _ in range(args.repeat):
        worker = IsolatedWorker(max_jobs=1)
        started = time.perf_counter()
        worker.run(noop, limits=limits)
        starts.append(time.perf_counter() - started)
        started = time.perf_counter()
        worker.run(parse_pdf, PDF, tier="flash", limits=limits)  # a new child: imports + render workers
        fresh.append(time.perf_counter() - started)
        worker.close()
    worker = IsolatedWorker()
    worker.run(parse_pdf, PDF, tier="flash", limits=limits)
    for _ in range(args.repeat):
        started = time.perf_counter()
        worker.run(parse_pdf, PDF, tier="flash", limits=limits)
        warm.append(time.perf_counter() - started)
    worker.close()
    print(f"document: {PDF.name}, median of {args.repeat}")
    print(f"start a worker (spawn, no MinerU):        {statistics.median(starts):.2f} s")
    print(f"parse in a fresh worker (MAX_JOBS=1):     {statistics.median(fresh):.2f} s")
    print(f"parse in the warm worker (default):       {statistics.median(warm):.2f} s")


if __name__ == "__main__":
    main()
