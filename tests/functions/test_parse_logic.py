"""The parse step's logic: the PDF gate (pdfium) and in-process MinerU, both real, on PDFs made here.

PDFs are generated with reportlab so a fresh clone needs no fixtures; one test also runs over the shared
corpus of bad files when it is checked out next to the repository.
"""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from core.errors import ConfigurationError, InvalidInput
from functions.parse.mineru_local import MineruOutput, parse_pdf
from functions.parse.pdf_check import inspect_pdf
from functions.pdfium_lock import PDFIUM_LOCK
from functions.structure import pdf_lines

SHARED_PDFS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pdfs"

PARAGRAPHS = [
    [
        "The inspection of the excavation site took place on the morning of the accident.",
        "Workers were placing concrete on the slope while the safety harness anchor was missing.",
        "The site supervisor had not checked the waterproofing layer before the pour began.",
    ],
    [
        "The investigation team recommends daily checks of every anchor point on the site.",
        "All workers must receive training on fall protection before working on slopes.",
        "The contractor shall report the corrective actions to the authority within thirty days.",
    ],
]


def write_pdf(
    path: Path, pages: list[list[str]], *, heading: str | None = None, encrypt: str | None = None
) -> Path:
    """Write a PDF with one page per entry of ``pages`` (each a list of lines; empty list = blank page)."""
    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)
    width, height = A4
    for number, lines in enumerate(pages):
        y = height - 72
        if heading and number == 0:
            pdf.setFont("Helvetica-Bold", 20)
            pdf.drawString(72, y, heading)
            y -= 40
        pdf.setFont("Helvetica", 11)
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 18
        if not lines:
            # reportlab drops pages with no drawing operations; an invisible rectangle keeps the page blank
            # for readers and text extraction alike.
            pdf.setStrokeColorRGB(1, 1, 1)
            pdf.rect(0, 0, width, height, stroke=1, fill=0)
        pdf.showPage()
    pdf.save()
    return path


# --- inspect_pdf -------------------------------------------------------------------------------------------


def test_inspect_pdf_reports_pages_with_text(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "mixed.pdf", [PARAGRAPHS[0], [], PARAGRAPHS[1]], heading="Accident report")

    info = inspect_pdf(pdf, max_pages=10)

    assert info.page_count == 3 and info.text_pages == [0, 2] and not info.encrypted
    assert info.pages_without_text == [1]
    assert info.text_chars[1] == 0
    heading = len("Accidentreport")
    assert info.text_chars[0] == heading + sum(len(line.replace(" ", "")) for line in PARAGRAPHS[0])
    assert info.text_chars[2] == sum(len(line.replace(" ", "")) for line in PARAGRAPHS[1])


def test_inspect_pdf_rejects_zero_bytes(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")

    with pytest.raises(InvalidInput, match=r"empty \(0 bytes\)"):
        inspect_pdf(empty, max_pages=10)


def test_inspect_pdf_rejects_html_named_pdf(tmp_path: Path) -> None:
    html = tmp_path / "report.pdf"
    html.write_bytes(b"<!DOCTYPE html><html><body>Session expired, please log in</body></html>")

    with pytest.raises(InvalidInput, match=r"not a PDF.*web page \(HTML\)"):
        inspect_pdf(html, max_pages=10)


def test_inspect_pdf_rejects_other_non_pdf(tmp_path: Path) -> None:
    doc = tmp_path / "report.pdf"
    doc.write_bytes(b"PK\x03\x04 a zipped Word document")

    with pytest.raises(InvalidInput, match=r"not a PDF .*%PDF- header"):
        inspect_pdf(doc, max_pages=10)


def test_inspect_pdf_rejects_truncated_pdf(tmp_path: Path) -> None:
    whole = write_pdf(tmp_path / "whole.pdf", PARAGRAPHS, heading="Accident report").read_bytes()
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(whole[: len(whole) // 3])

    with pytest.raises(InvalidInput, match="damaged or incomplete"):
        inspect_pdf(truncated, max_pages=10)


def test_inspect_pdf_rejects_too_many_pages(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "long.pdf", [[f"Page {n + 1}"] for n in range(5)])

    with pytest.raises(InvalidInput, match=r"The PDF has 5 pages; the limit is 3 pages \(MAX_PAGES\)"):
        inspect_pdf(pdf, max_pages=3)
    assert inspect_pdf(pdf, max_pages=5).page_count == 5


def test_inspect_pdf_rejects_password_protected_pdf(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "locked.pdf", PARAGRAPHS, encrypt="secret")

    with pytest.raises(InvalidInput, match="password-protected; upload an unprotected copy"):
        inspect_pdf(pdf, max_pages=10)


def test_inspect_pdf_rejects_nonsense_max_pages(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "ok.pdf", PARAGRAPHS)

    with pytest.raises(ValueError, match="max_pages"):
        inspect_pdf(pdf, max_pages=0)


def test_inspect_pdf_holds_the_lock_the_structure_step_reads_pdfs_under(tmp_path: Path) -> None:
    # Embedded mode runs parse and structure on threads of one process; two pdfium calls at once crash it.
    pdf = write_pdf(tmp_path / "ok.pdf", PARAGRAPHS)
    done = threading.Event()

    def check() -> None:
        inspect_pdf(pdf, max_pages=10)
        done.set()

    with PDFIUM_LOCK:
        thread = threading.Thread(target=check)
        thread.start()
        assert not done.wait(0.3)
    thread.join(10)
    assert done.is_set()
    assert pdf_lines.PDFIUM_LOCK is PDFIUM_LOCK


# What each file of the shared bad-input corpus must produce: a message fragment, or None when the file is a
# valid PDF that the gate lets through (an empty page is MinerU's problem, not a malformed upload).
SHARED_BAD_EXPECTATIONS: dict[str, str | None] = {
    "bad_zero_bytes.pdf": "empty (0 bytes)",
    "bad_html_named_pdf.pdf": "web page (HTML)",
    "bad_corrupted.pdf": "not a PDF",
    "bad_truncated.pdf": "damaged or incomplete",
    "bad_encrypted_user_password.pdf": "password-protected",
    "bad_3000_blank_pages.pdf": "The PDF has 3000 pages; the limit is 1000 pages (MAX_PAGES)",
    "bad_empty_page.pdf": None,
}


def test_inspect_pdf_on_shared_bad_corpus() -> None:
    if not SHARED_PDFS.is_dir():
        pytest.skip(f"shared PDF corpus not checked out at {SHARED_PDFS}")
    bad_files = sorted(SHARED_PDFS.glob("bad_*.pdf"))
    if not bad_files:
        pytest.skip(f"no bad_*.pdf files in {SHARED_PDFS}")

    for path in bad_files:
        # Files added to the corpus later must at least be rejected; known ones must say the right thing.
        expected = SHARED_BAD_EXPECTATIONS.get(path.name, "")
        if expected is None:
            info = inspect_pdf(path, max_pages=1000)
            assert info.page_count >= 1, path.name
            continue
        with pytest.raises(InvalidInput) as caught:
            inspect_pdf(path, max_pages=1000)
        assert expected in str(caught.value), f"{path.name}: {caught.value}"


# --- parse_pdf (real MinerU) -------------------------------------------------------------------------------


def test_parse_pdf_rejects_unknown_tier(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "ok.pdf", PARAGRAPHS)

    with pytest.raises(ConfigurationError, match="Unknown MinerU tier 'turbo'"):
        parse_pdf(pdf, tier="turbo")


@pytest.fixture(scope="module")
def two_page_output(tmp_path_factory: pytest.TempPathFactory) -> MineruOutput:
    pdf = write_pdf(tmp_path_factory.mktemp("mineru") / "report.pdf", PARAGRAPHS, heading="Accident Report")
    return parse_pdf(pdf, tier="flash")


@pytest.mark.slow
def test_parse_pdf_two_pages_flash(two_page_output: MineruOutput) -> None:
    out = two_page_output

    assert out.page_count == 2
    assert out.tier == "flash"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", out.mineru_version)
    assert {block["page_idx"] for block in out.content_list} == {0, 1}
    for page in (0, 1):
        page_text = " ".join(block.get("text", "") for block in out.content_list if block["page_idx"] == page)
        assert PARAGRAPHS[page][0].split()[1] in page_text, page_text
    for block in out.content_list:
        x0, y0, x1, y1 = block["bbox"]
        assert 0 <= x0 <= x1 <= 1000 and 0 <= y0 <= y1 <= 1000, block
    all_text = " ".join(block.get("text", "") for block in out.content_list)
    assert "Accident Report" in all_text
    assert "anchor point" in out.markdown
    assert out.middle_json["pages"] and len(out.middle_json["pages"]) == 2


@pytest.mark.slow
def test_parse_pdf_image_references_resolve(tmp_path: Path) -> None:
    chart = Image.new("RGB", (400, 300), "white")
    pen = ImageDraw.Draw(chart)
    for bar in range(20):
        pen.rectangle((bar * 20, 300 - bar * 14, bar * 20 + 18, 300), fill=(bar * 12, 80, 255 - bar * 12))
    png = io.BytesIO()
    chart.save(png, "PNG")
    png.seek(0)
    pdf = tmp_path / "figure.pdf"
    drawing = canvas.Canvas(str(pdf), pagesize=A4)
    drawing.setFont("Helvetica", 11)
    drawing.drawString(72, 780, "Figure 1 shows the slope where the worker fell.")
    drawing.drawImage(ImageReader(png), 100, 420, width=400, height=300)
    drawing.drawString(100, 400, "Figure 1: Cross-section of the slope.")
    drawing.showPage()
    drawing.save()

    out = parse_pdf(pdf, tier="flash")

    referenced = {block["img_path"] for block in out.content_list if block.get("img_path")}
    linked = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", out.markdown))
    assert referenced, out.content_list
    assert referenced == linked == set(out.images)
    for path, payload in out.images.items():
        assert path.startswith("images/"), path
        assert payload[:3] == b"\xff\xd8\xff" or payload[:8] == b"\x89PNG\r\n\x1a\n", path
    figure = next(block for block in out.content_list if block.get("img_path"))
    assert figure["type"] == "image"
    assert figure["image_caption"] == ["Figure 1: Cross-section of the slope."]


@pytest.mark.slow
def test_parse_pdf_blank_page_needs_no_ocr_models(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "blank.pdf", [[]])

    # Flash reads text layers only and OCRs the rest with rapidocr, so no MinerU OCR model is ever needed;
    # a blank page simply yields nothing.
    out = parse_pdf(pdf, tier="flash")

    assert out.page_count == 1
    assert out.ocr_pages == (0,)
    assert out.content_list == []
