"""Run one benchmark section the way the driver does, in quick mode, and read back what it reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import ROOT


def run_quick(name: str, tmp_path: Path, timeout: float = 240) -> dict[str, Any]:
    """The section's JSON after ``python -m bench.<name> --quick --repeat 1``; it must run, not skip."""
    out = tmp_path / f"{name}.json"
    finished = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--quick", "--repeat", "1", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert finished.returncode == 0, finished.stderr[-4000:]
    section: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert section["skipped"] is None, section["skipped"]
    assert 1 <= len(section["headlines"]) <= 3 and all(section["headlines"]), section["headlines"]
    assert section["notes"]
    return section


def table_rows(body: str, columns: int, header: str) -> list[list[str]]:
    """The stripped cells of every markdown table row with ``columns`` cells, the header row left out."""
    rows = [line.strip().strip("|").split("|") for line in body.splitlines() if line.startswith("| ")]
    cells = [[cell.strip() for cell in row] for row in rows if len(row) == columns]
    return [row for row in cells if row[0] != header]
