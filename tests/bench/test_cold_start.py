"""``python -m bench.cold_start --quick`` runs end to end and yields a figure in every cell it promises."""

from __future__ import annotations

import re
from pathlib import Path

from tests.bench.quick import run_quick, table_rows

FIGURE = re.compile(r"^\d+\.\d+ s( \(\d+\.\d+–\d+\.\d+\))?$")


def test_quick_run(tmp_path: Path) -> None:
    section = run_quick("cold_start", tmp_path)

    starts = table_rows(section["body"], 7, "service")
    assert {row[0] for row in starts} == {"source", "structure"}
    for service, _event, listening, first, warm, cold, factor in starts:
        for cell in (listening, first, warm, cold):
            assert FIGURE.match(cell), (service, cell)
        assert float(listening.split()[0]) > 0 and float(cold.split()[0]) >= float(listening.split()[0])
        assert float(factor.split()[0]) > 0, (service, factor)
    imports = table_rows(section["body"], 5, "service")
    assert {row[0] for row in imports} == {"source", "structure"}
    assert all(FIGURE.match(row[2]) for row in imports), imports
