"""``python -m bench.gateway --quick`` serves the gateway and its baseline and fills every cell it shows."""

from __future__ import annotations

import re
from pathlib import Path

from tests.bench.quick import run_quick, table_rows

FIGURE = re.compile(r"^\d+(\.\d+)?( \(\d+(\.\d+)?–\d+(\.\d+)?\))?$")
ENDPOINTS = {
    "bare Flask JSON",
    "project list",
    "file list, first page",
    "file list, last page (1000)",
    "file detail",
    "bare Flask upload",
    "upload 1 MB PDF",
}


def test_quick_run(tmp_path: Path) -> None:
    section = run_quick("gateway", tmp_path)

    speed = table_rows(section["body"], 8, "endpoint")
    assert {row[0] for row in speed} == ENDPOINTS
    for name, rate, p50, p95, *vs_bare, failed in speed:
        for cell in (rate, p50, p95):
            assert FIGURE.match(cell) and float(cell.split()[0]) > 0, (name, cell)
        if name.startswith("bare"):
            assert vs_bare == ["baseline"] * 3, (name, vs_bare)
        else:
            assert all(FIGURE.match(cell) and float(cell.split()[0]) > 0 for cell in vs_bare), (name, vs_bare)
        # Every request is checked; a quick run on a healthy stack has no failure to report.
        assert re.fullmatch(r"0 of \d+", failed), (name, failed)

    cpu = table_rows(section["body"], 6, "endpoint")
    assert {row[0] for row in cpu} == ENDPOINTS
    for name, *cells in cpu:
        assert all(FIGURE.match(cell) for cell in cells), (name, cells)
        assert float(cells[-1].split()[0]) > 0, (name, cells)

    assert all("req/s" in headline for headline in section["headlines"]), section["headlines"]
    notes = " ".join(section["notes"])
    assert "target < 500 ms" in notes and "target < 3000 ms" in notes
