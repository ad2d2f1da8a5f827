"""``python -m bench.scaling --quick`` sends batches through the embedded stack and reports each one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "scaling.json"
    finished = subprocess.run(
        [sys.executable, "-m", "bench.scaling", "--quick", "--repeat", "1", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert finished.returncode == 0, finished.stderr[-4000:]
    section = json.loads(out.read_text(encoding="utf-8"))
    assert section["skipped"] is None, section["skipped"]

    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in section["body"].splitlines()
        if re.match(r"^\| \d", line)
    ]
    assert [row[0] for row in rows] == ["1", "2"]
    for size, pages, total, per_minute, pages_per_second, per_doc, ratio, uploads, restarts in rows:
        assert int(pages) == 2 * int(size)  # the generated reports have two pages each
        assert re.match(r"^\d+\.\d\d s$", total) and float(total.split()[0]) > 0
        assert float(per_minute) > 0 and float(pages_per_second) > 0
        assert re.match(r"^\d+ ms$", per_doc) and re.match(r"^\d+ ms$", uploads)
        assert re.match(r"^\d+\.\d\d×$", ratio) and float(ratio[:-1]) > 0
        assert re.match(r"^\d+$", restarts)
    assert rows[0][6] == "1.00×"  # N = 1 against itself

    assert 1 <= len(section["headlines"]) <= 3 and all(section["headlines"])
    assert section["notes"]
