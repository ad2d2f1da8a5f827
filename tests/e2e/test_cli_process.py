"""``pdfonto process`` runs the pipeline once, without a server, and writes every stage's outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pdfgen import write_blank_pdf, write_pdf

pytestmark = pytest.mark.slow


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEEPSEEK_API_KEY")}
    return subprocess.run(
        [sys.executable, "-m", "pdfonto.cli", "process", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_process_writes_every_stage_and_reuses_the_data_dir(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "report.pdf")
    out, data = tmp_path / "out", tmp_path / "data"
    done = _run(str(pdf), "--out", str(out), "--data-dir", str(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr + done.stdout
    for stage in ("parse", "structure", "extract"):
        assert stage in done.stdout
    for name in (
        "mineru/content_list.json",
        "mineru/middle.json",
        "mineru/document.md",
        "mineru/manifest.json",
        "document.md",
        "document.json",
        "result.json",
    ):
        assert (out / name).is_file(), name
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert "_metadata" in result
    document = json.loads((out / "document.json").read_text(encoding="utf-8"))
    assert document["metadata"]["page_count"] == 2
    assert "一、基本情况" in (out / "document.md").read_text(encoding="utf-8")
    assert (data / "postgres").is_dir()
    again = _run(str(pdf), "--out", str(tmp_path / "out2"), "--data-dir", str(data), cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_process_reports_a_bad_pdf_and_exits_non_zero(tmp_path: Path) -> None:
    blank = write_blank_pdf(tmp_path / "blank.pdf", 2000)
    done = _run(str(blank), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 1
    assert "2000 pages" in done.stderr
