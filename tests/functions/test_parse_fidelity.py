"""Text fidelity regression: the flash parse of docling's test PDFs against docling's reference markdown.

The floors are the values measured by bench/parse.py (bench/RESULTS.md), rounded down to two
decimals; a change that makes the parse read these documents worse fails here.
"""

from __future__ import annotations

import pytest

from bench.parse_fidelity import fold, similarity
from functions.parse.mineru_local import parse_pdf
from tests.conftest import shared_path

FLOORS = {
    "docling_amt_handbook_sample": 0.92,
    "docling_code_and_formula": 0.98,
    "docling_multi_page": 0.99,
    "docling_normal_4pages": 0.70,
}


def test_similarity_folds_markup_and_whitespace() -> None:
    assert fold("## Title\n\n| a | b |\n|---|---|\n| **c** | d |\n![x](images/x.jpg)") == "Titleabcd"
    assert similarity("# Word  processor", "Word processor") == 1.0
    assert similarity("abcd", "abcf") == 0.75


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FLOORS))
def test_text_fidelity_against_reference(name: str) -> None:
    pdf = shared_path("data", "pdfs", f"{name}.pdf")
    reference = shared_path("data", "groundtruth", f"{name}.md").read_text(encoding="utf-8")

    out = parse_pdf(pdf, tier="flash")

    assert similarity(out.markdown, reference) >= FLOORS[name]
