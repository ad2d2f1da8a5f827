"""``python -m bench`` (what ``make bench`` runs) writes a results file a reader can trust."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SHARED


def test_the_driver_writes_machine_facts_headlines_and_one_section_per_stage(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--only",
            "structure,extract",
            "--quick",
            "--repeat",
            "1",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        timeout=300,
        capture_output=True,
    )
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark results")
    for fact in ("| CPU |", "| memory |", "| Python |", "| commit |", "| load average |"):
        assert fact in text
    for command in (
        "python -m bench.structure --repeat 1 --quick",
        "python -m bench.extract --repeat 1 --quick",
    ):
        assert f"Command: `{command}`" in text
    if SHARED.is_dir():
        assert "pages/s" in text and "requests" in text
        assert "Skipped" not in text
    else:
        # Without the shared documents the stages say why they did not run, rather than failing the run.
        assert text.count("is absent (the shared test data is not part of a clone)") >= 2


def test_an_unknown_section_is_refused() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "parse,nonsense"], cwd=ROOT, capture_output=True, text=True
    )
    assert finished.returncode == 2
    assert "unknown sections: nonsense" in finished.stderr
