"""The structure step on real MinerU output of the shared PDFs (skipped on a fresh clone).

MinerU 2.x output comes from ../shared; MinerU 4 flash output is produced here, once per session, by the
parse step's own ``parse_pdf`` (a few seconds per document, hence ``slow``). PDFs whose pages have no text
layer need OCR models and are skipped when those are not installed.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from typing import Any

import pytest

from core.errors import PermanentError
from functions.structure.document import build_document
from tests.conftest import SHARED, shared_path
from tests.functions.test_structure import check_invariants, input_chars, output_chars

REPORT_514_OUTLINE = [
    ("一、", "基本情况", 1),
    ("（一）", "事故单位情况", 2),
    ("（二）", "项目基本情况", 2),
    ("（三）", "事发现场情况", 2),
    ("二、", "事故经过", 1),
    ("三、", "事故的原因和性质", 1),
    ("（一）", "事故的直接原因", 2),
    ("（二）", "事故的间接原因", 2),
    ("（三）", "事故的性质", 2),
    ("四、", "事故责任分析及处理建议", 1),
    ("五、", "建议和措施", 1),
]
# Heading precision/recall floors against docling's reference markdown (measured: see bench/RESULTS.md).
# docling_normal_4pages: four of its reference headings are drawn as images (no text to find), one is the
# running header, and one reference "heading" runs into the paragraph after it.
HEADING_FLOORS = {
    "docling_amt_handbook_sample": (1.0, 1.0),
    "docling_code_and_formula": (1.0, 1.0),
    "docling_multi_page": (1.0, 1.0),
    "docling_normal_4pages": (1.0, 0.65),
}


def outline(document: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(s["numbering"], s["title"], s["level"]) for s in document["sections"]]


def compact(text: str) -> str:
    return re.sub(r"[\s*_#]", "", unicodedata.normalize("NFKC", text)).lower()


def heading_scores(found: list[str], reference: list[str]) -> tuple[float, float]:
    """Precision and recall with one-to-one matching: equal or similar (ratio >= 0.75) after removing
    whitespace and markdown, or the reference starting with the found heading (docling glues some
    headings to the text after them)."""
    found, reference = [compact(text) for text in found], [compact(text) for text in reference]
    used: set[int] = set()
    hits = 0
    for text in found:
        for index, candidate in enumerate(reference):
            if index in used:
                continue
            similar = difflib.SequenceMatcher(None, text, candidate).ratio() >= 0.75
            if similar or (len(text) >= 6 and candidate.startswith(text)):
                used.add(index)
                hits += 1
                break
    return (hits / len(found) if found else 0.0), (hits / len(reference) if reference else 1.0)


# --- MinerU 2.x reference output ------------------------------------------------------------------------


def test_report_514_mineru2_outline_has_depth_restored() -> None:
    content_list = json.loads(shared_path("data", "mineru", "report_514", "content_list.json").read_text())
    document = build_document(content_list)
    assert outline(document) == REPORT_514_OUTLINE
    assert (
        document["metadata"]["title"] == "北京地铁 17 号线工程土建施工 08合同段“5.14”一般生产安全事故调查报告"
    )
    assert output_chars(document) == input_chars(content_list)
    check_invariants(document, content_list)


def test_demo1_flash_sample_keeps_furniture_typed_and_tables() -> None:
    content_list = json.loads(shared_path("data", "mineru", "demo1_flash_content_list_v1.json").read_text())
    document = build_document(content_list)
    kinds = {block["type"] for block in document["blocks"]}
    assert {"header", "page_number"} <= kinds
    assert len(document["tables"]) == sum(1 for raw in content_list if raw["type"] == "table")
    levels = {s["numbering"]: s["level"] for s in document["sections"] if s["numbering"]}
    assert levels["2.1."] == levels["2."] + 1 == 2
    check_invariants(document, content_list)


# --- MinerU 4 flash, parsed here ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flash() -> dict[str, tuple[list[dict[str, Any]], bytes]]:
    """Flash content lists of every shared PDF that parses here, with the PDF's bytes."""
    folder = SHARED / "data" / "pdfs"
    if not folder.exists():
        pytest.skip(f"{folder} is absent (shared test data is not part of a clone)")
    from functions.parse.mineru_local import parse_pdf

    parsed: dict[str, tuple[list[dict[str, Any]], bytes]] = {}
    for pdf in sorted(folder.glob("*.pdf")):
        if pdf.name.startswith("bad_"):
            continue
        try:
            output = parse_pdf(pdf, tier="flash")
        except PermanentError:
            continue  # pages without a text layer and no OCR models installed
        parsed[pdf.stem] = (output.content_list, pdf.read_bytes())
    assert "zh_accident_report_514" in parsed
    return parsed


@pytest.mark.slow
def test_report_514_flash_outline_equals_the_layout_pipelines(
    flash: dict[str, tuple[list[dict[str, Any]], bytes]],
) -> None:
    content_list, pdf = flash["zh_accident_report_514"]
    document = build_document(content_list, pdf=pdf)
    assert document["metadata"]["heading_evidence"] == "pdf_lines"
    assert outline(document) == REPORT_514_OUTLINE
    reference = build_document(
        json.loads(shared_path("data", "mineru", "report_514", "content_list.json").read_text())
    )
    assert outline(document) == outline(reference)
    by_id = {section["id"]: section for section in document["sections"]}
    for section in document["sections"]:
        if section["level"] == 2:
            assert by_id[section["parent_id"]]["numbering"].endswith("、")
    assert re.sub(r"\s", "", document["metadata"]["title"]) == re.sub(
        r"\s", "", reference["metadata"]["title"]
    )
    # The signature and issue date at the end are text, not headings; paragraphs cut by pages are whole.
    assert document["blocks"][-1]["type"] == "paragraph"
    assert any("劳务分包等。安全生产许可证" in block["text"] for block in document["blocks"])
    assert any("谢子兵站在斜坡上部防水卷材上" in block["text"] for block in document["blocks"])


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HEADING_FLOORS))
def test_docling_heading_precision_and_recall_floors(
    flash: dict[str, tuple[list[dict[str, Any]], bytes]], name: str
) -> None:
    if name not in flash:
        pytest.skip(f"{name}.pdf did not parse with the flash tier here")
    reference = [
        line.lstrip("#").strip()
        for line in shared_path("data", "groundtruth", f"{name}.md").read_text().splitlines()
        if line.startswith("#")
    ]
    content_list, pdf = flash[name]
    document = build_document(content_list, pdf=pdf)
    found = [block["text"] for block in document["blocks"] if block["type"] == "heading"]
    precision, recall = heading_scores(found, reference)
    floor_precision, floor_recall = HEADING_FLOORS[name]
    assert precision >= floor_precision and recall >= floor_recall, (precision, recall, found)


@pytest.mark.slow
def test_every_shared_pdf_keeps_its_body_text(flash: dict[str, tuple[list[dict[str, Any]], bytes]]) -> None:
    """Coverage: at least 99.5 % of body characters (everything but page furniture) end up in chunks."""
    for name, (content_list, pdf) in flash.items():
        document = build_document(content_list, pdf=pdf)
        check_invariants(document, content_list)
        furniture = [
            raw
            for raw, block in _typed(content_list, document)
            if block in ("header", "footer", "page_number")
        ]
        body = input_chars(content_list) - input_chars(furniture)
        in_chunks = input_chars([{"text": chunk["text"]} for chunk in document["chunks"]])
        dropped = sum(1 for b in document["blocks"] for j in b.get("joins", []) if j["dropped"])
        covered = sum((body & in_chunks).values()) + dropped
        assert covered / max(1, sum(body.values())) >= 0.995, name
        assert output_chars(document) == input_chars(content_list), name


def _typed(content_list: list[dict[str, Any]], document: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """Each content-list block with the type its (first) output block has."""
    kinds: dict[int, str] = {}
    for block in document["blocks"]:
        for frag in block["fragments"]:
            kinds.setdefault(frag["source"], block["type"])
    return [(raw, kinds.get(index, "")) for index, raw in enumerate(content_list)]
