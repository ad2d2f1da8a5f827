from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT
from tests.pdfgen import write_pdf


def test_readme_sample_pdf_is_the_generated_one(tmp_path: Path) -> None:
    # The README walkthrough uploads this file; it must stay what `python -m tests.pdfgen` produces.
    assert (ROOT / "examples" / "sample_report.pdf").read_bytes() == write_pdf(
        tmp_path / "s.pdf"
    ).read_bytes()
