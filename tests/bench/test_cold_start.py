"""``python -m bench.cold_start --quick`` runs end to end and yields a figure in every cell it promises."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

FIGURE = re.compile(r"^\d+\.\d+ s( \(\d+\.\d+–\d+\.\d+\))?$")


def test_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "cold_start.json"
    finished = subprocess.run(
        [sys.executable, "-m", "bench.cold_start", "--quick", "--repeat", "1", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert finished.returncode == 0, finished.stderr[-4000:]
    section = json.loads(out.read_text(encoding="utf-8"))
    assert section["skipped"] is None, section["skipped"]

    rows = [line.strip("|").split("|") for line in section["body"].splitlines() if line.startswith("| ")]
    starts = [[cell.strip() for cell in row] for row in rows if len(row) == 7 and row[0].strip() != "service"]
    assert {row[0] for row in starts} == {"source", "structure"}
    for service, _event, listening, first, warm, cold, factor in starts:
        for cell in (listening, first, warm, cold):
            assert FIGURE.match(cell), (service, cell)
        assert float(listening.split()[0]) > 0 and float(cold.split()[0]) >= float(listening.split()[0])
        assert float(factor.split()[0]) > 0, (service, factor)
    imports = [
        [cell.strip() for cell in row] for row in rows if len(row) == 5 and row[0].strip() != "service"
    ]
    assert {row[0] for row in imports} == {"source", "structure"}
    assert all(FIGURE.match(row[2]) for row in imports), imports

    assert 1 <= len(section["headlines"]) <= 3
    assert all(section["headlines"]), section["headlines"]
    assert section["notes"]
