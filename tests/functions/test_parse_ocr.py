"""Pages without a text layer get text: rapidocr (models inside its wheel), merged into MinerU's output."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from functions.parse import ocr
from functions.parse.mineru_local import parse_pdf
from functions.parse.ocr import OcrLine, group_paragraphs, ocr_pages
from functions.parse.pdf_check import inspect_pdf
from tests.conftest import shared_path
from tests.functions.parse_samples import cjk_font, scan_image, write_pages

SCAN_LINES = [
    "Site inspection record",
    "",
    "The anchor point was missing on the slope",
    "and the supervisor did not check it.",
    "",
    "Training on fall protection is required.",
]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test (rapidocr must not download models)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_models_come_from_the_wheel() -> None:
    import rapidocr

    wheel = Path(rapidocr.__file__).parent
    for path in ocr.model_paths().values():
        assert path.is_file(), path
        assert wheel in path.parents


def test_ocr_reads_a_generated_scan_without_network(tmp_path: Path, no_network: None) -> None:
    pdf = write_pages(tmp_path / "scan.pdf", [scan_image(SCAN_LINES)])

    blocks = ocr_pages(pdf, [0])[0]

    texts = [block.text for block in blocks]
    assert texts == [
        "Site inspection record",
        "The anchor point was missing on the slope and the supervisor did not check it.",
        "Training on fall protection is required.",
    ]
    tops = [block.bbox[1] for block in blocks]
    assert tops == sorted(tops)
    for x0, y0, x1, y1 in (block.bbox for block in blocks):
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1


def test_ocr_of_a_blank_page_finds_nothing(tmp_path: Path) -> None:
    pdf = write_pages(tmp_path / "blank.pdf", [None])

    assert ocr_pages(pdf, [0]) == {0: []}


def test_ocr_reads_chinese(tmp_path: Path) -> None:
    font = cjk_font()
    if font is None:
        pytest.skip(
            "no font with Chinese glyphs installed to draw a Chinese scan (the shared scan covers it)"
        )
    lines = ["一、基本情况", "", "作业人员在高处作业时未正确佩戴和使用安全带。"]
    pdf = write_pages(tmp_path / "zh.pdf", [scan_image(lines, font_path=font)])

    texts = [block.text for block in ocr_pages(pdf, [0])[0]]

    assert texts[0].endswith("基本情况")
    assert "安全带" in texts[1]


def _line(text: str, x0: float, y0: float, x1: float, y1: float) -> OcrLine:
    return OcrLine(text=text, x0=x0, y0=y0, x1=x1, y1=y1, score=0.99)


def test_group_paragraphs_joins_lines_and_keeps_rows_apart() -> None:
    lines = [
        _line("12", 100, 50, 130, 80),  # page number left of the running title, same row
        _line("第一篇商品和货币", 400, 50, 700, 80),
        _line("商品首先是一个外界的对象，一个靠自己的属性来满足", 100, 120, 900, 150),
        _line("人的某种需要的物。", 100, 160, 400, 190),  # short last line: the paragraph ends
        _line("每一种有用物，如铁、纸等等，都可以从质和量两", 140, 200, 900, 230),  # indented: new one
        _line("个角度去考察。", 100, 240, 350, 270),
        _line("Hyphen-", 100, 400, 900, 430),
        _line("ated words join in English text.", 100, 440, 880, 470),
    ]

    blocks = group_paragraphs(lines, 1000, 1000)

    assert [block.text for block in blocks] == [
        "12",
        "第一篇商品和货币",
        "商品首先是一个外界的对象，一个靠自己的属性来满足人的某种需要的物。",
        "每一种有用物，如铁、纸等等，都可以从质和量两个角度去考察。",
        "Hyphenated words join in English text.",
    ]
    assert blocks[2].bbox == (0.1, 0.12, 0.9, 0.19)


@pytest.mark.slow
def test_parse_pdf_merges_ocr_text_with_text_layer_pages(tmp_path: Path, no_network: None) -> None:
    pdf = write_pages(
        tmp_path / "mixed.pdf",
        ["A born-digital page about the excavation.", scan_image(SCAN_LINES), None],
    )
    info = inspect_pdf(pdf, max_pages=10)
    assert info.pages_without_text == [1, 2]

    out = parse_pdf(pdf, tier="flash", ocr_pages=info.pages_without_text)

    assert out.ocr_pages == (1, 2)
    assert out.page_count == 3
    assert [(block["page_idx"], block["type"]) for block in out.content_list] == [
        (0, "text"),
        (1, "text"),
        (1, "text"),
        (1, "text"),
    ]
    assert out.content_list[0]["text"] == "A born-digital page about the excavation."
    assert out.content_list[2]["text"].startswith("The anchor point was missing on the slope and")
    for block in out.content_list:
        x0, y0, x1, y1 = block["bbox"]
        assert 0 <= x0 < x1 <= 1000 and 0 <= y0 < y1 <= 1000
    assert "The anchor point was missing" in out.markdown
    # The scan itself is not kept as a picture of the page.
    assert out.images == {}
    assert not any(block["type"] == "image" for block in out.content_list)
    middle_page = out.middle_json["pages"][1]
    assert middle_page["blocks"][0]["content"][0]["content"] == "Site inspection record"


@pytest.mark.slow
def test_shared_scanned_pdf_has_chinese_text_on_every_page() -> None:
    pdf = shared_path("data", "pdfs", "en_mineru_small_ocr.pdf")
    info = inspect_pdf(pdf, max_pages=1000)
    assert info.page_count == 8 and info.text_pages == []

    out = parse_pdf(pdf, tier="flash", ocr_pages=info.pages_without_text)

    assert out.ocr_pages == tuple(range(8))
    for page in range(8):
        text = "".join(block.get("text", "") for block in out.content_list if block["page_idx"] == page)
        chinese = sum(1 for char in text if "\u4e00" <= char <= "\u9fff")
        assert chinese > 200, (page, text[:200])
    # A known sentence of the first page, read from the scan.
    assert "为有用物的量找到社会尺度" in out.markdown
