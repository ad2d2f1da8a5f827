"""PDFs generated for tests, so a fresh clone needs no shared data."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

_FONT = "STSong-Light"  # a CID font reportlab can use without embedding a font file

REPORT_PAGES: list[list[tuple[int, str]]] = [
    [
        (16, "某市某工程“6.1”一般高处坠落事故调查报告"),
        (12, "2023年6月1日10时30分许，某市某区某项目施工现场发生一起高处坠落事故，造成1人死亡，"),
        (12, "直接经济损失约150万元。"),
        (13, "一、基本情况"),
        (12, "（一）事故单位情况"),
        (12, "某建设工程有限公司，成立于2010年，具有建筑工程施工总承包二级资质。"),
        (12, "（二）项目情况"),
        (12, "该项目为住宅楼工程，总建筑面积约3万平方米，建设单位为某置业有限公司。"),
    ],
    [
        (13, "二、事故经过"),
        (12, "6月1日上午，作业人员在五层外脚手架拆除作业时，未系挂安全带，从脚手架坠落至地面。"),
        (13, "三、事故原因"),
        (12, "（一）直接原因"),
        (12, "作业人员在高处作业时未正确佩戴和使用安全带。"),
        (13, "四、处理建议"),
        (12, "建议由区应急管理局对施工单位处以罚款。"),
    ],
]


def write_pdf(
    path: Path, pages: list[list[tuple[int, str]]] | None = None, *, user_password: str | None = None
) -> Path:
    """Write a born-digital PDF with one line per (font size, text) entry, optionally password-protected."""
    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
    encrypt = StandardEncryption(user_password, ownerPassword="owner") if user_password else None
    pdf = canvas.Canvas(str(path), encrypt=encrypt, invariant=True)
    for lines in pages if pages is not None else REPORT_PAGES:
        y = 770.0
        for size, text in lines:
            pdf.setFont(_FONT, size)
            pdf.drawString(60, y, text)
            y -= size * 2.2
        pdf.showPage()
    pdf.save()
    return path


def write_blank_pdf(path: Path, pages: int) -> Path:
    pdf = canvas.Canvas(str(path))
    for _ in range(pages):
        pdf.showPage()
    pdf.save()
    return path


if __name__ == "__main__":
    import sys

    # Regenerates the README's sample: python -m tests.pdfgen examples/sample_report.pdf
    write_pdf(Path(sys.argv[1]))
