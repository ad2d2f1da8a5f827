"""``python -m bench.orchestration --quick`` runs both stacks and fills every cell of its table."""

from __future__ import annotations

import re
from pathlib import Path

from tests.bench.quick import run_quick

MS = re.compile(r"^-?\d+\.\d ms$")  # one run: a median without a range
RATIO = re.compile(r"^\d+\.\d×$")


def test_quick_run(tmp_path: Path) -> None:
    section = run_quick("orchestration", tmp_path)

    rows = {}
    for line in section["body"].splitlines():
        if line.startswith("| ") and not line.startswith("| per file"):
            label, embedded, harness, ratio = (cell.strip() for cell in line.strip("|").split("|"))
            rows[label] = (embedded, harness, ratio)
    assert len(rows) >= 10, rows
    for label, (embedded, harness, ratio) in rows.items():
        if label == "overhead share of wall":
            assert all(re.match(r"^\d+ %$", cell) for cell in (embedded, harness)), (label, embedded, harness)
            continue
        assert MS.match(embedded) and MS.match(harness), (label, embedded, harness)
        assert ratio == "–" or (RATIO.match(ratio) and float(ratio[:-1]) > 0), (label, ratio)

    def ms(label: str, column: int) -> float:
        return float(rows[label][column].split()[0])

    for column in (0, 1):
        wall, work = (
            ms("wall: file row inserted → file completed", column),
            ms("step work: Σ handler time", column),
        )
        overhead = ms("**overhead: wall − step work**", column)
        assert wall > work > 0 and abs(wall - work - overhead) <= 0.2
        handlers = [ms(label, column) for label in rows if label.startswith("↳") and "handler" in label]
        assert len(handlers) == 3 and abs(sum(handlers) - work) <= 0.5, (handlers, work)
        # The other ↳ rows are the overhead's parts: with one file their figures add up to it.
        parts = [ms(label, column) for label in rows if label.startswith("↳") and "handler" not in label]
        assert len(parts) == 4 and abs(sum(parts) - overhead) <= 0.5, (parts, overhead)
    assert RATIO.match(rows["**overhead: wall − step work**"][2])

    assert "harness/embedded" in section["headlines"][0]
