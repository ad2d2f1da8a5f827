"""``python -m bench.scaling --quick`` sends batches through the embedded stack and reports each one."""

from __future__ import annotations

import re
from pathlib import Path

from tests.bench.quick import run_quick


def test_quick_run(tmp_path: Path) -> None:
    section = run_quick("scaling", tmp_path)

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
