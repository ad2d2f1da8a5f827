"""``python -m bench.gateway --quick`` serves the gateway and its baseline and fills every cell it shows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

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


def _rows(body: str, columns: int) -> list[list[str]]:
    rows = [line.strip().strip("|").split("|") for line in body.splitlines() if line.startswith("| ")]
    cells = [[cell.strip() for cell in row] for row in rows if len(row) == columns]
    return [row for row in cells if row[0] != "endpoint"]


def test_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "gateway.json"
    finished = subprocess.run(
        [sys.executable, "-m", "bench.gateway", "--quick", "--repeat", "1", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert finished.returncode == 0, finished.stderr[-4000:]
    section = json.loads(out.read_text(encoding="utf-8"))
    assert section["skipped"] is None, section["skipped"]

    speed = _rows(section["body"], 8)
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

    cpu = _rows(section["body"], 6)
    assert {row[0] for row in cpu} == ENDPOINTS
    for name, *cells in cpu:
        assert all(FIGURE.match(cell) for cell in cells), (name, cells)
        assert float(cells[-1].split()[0]) > 0, (name, cells)

    assert 1 <= len(section["headlines"]) <= 3
    assert all("req/s" in headline for headline in section["headlines"]), section["headlines"]
    notes = " ".join(section["notes"])
    assert "target < 500 ms" in notes and "target < 3000 ms" in notes
