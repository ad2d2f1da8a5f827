"""PDFs for the parse tests, made here so a fresh clone needs no fixtures.

A "scan" is text rendered into a picture with Pillow and placed on a page with reportlab: the page then has
no text layer, exactly like a scanner's output.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

# Pixels of a 150 dpi A4 page.
_PAGE_PX = (1240, 1754)


def scan_image(lines: list[str], *, font_path: str | None = None, size: int = 34) -> Image.Image:
    """A white page with ``lines`` printed on it ("" leaves a blank line, i.e. a paragraph break)."""
    image = Image.new("L", _PAGE_PX, 255)
    pen = ImageDraw.Draw(image)
    # Pillow's built-in font needs no font file; a CJK font has to come from the system.
    font = ImageFont.truetype(font_path, size) if font_path else ImageFont.load_default(size=size)
    y = 160
    for line in lines:
        if line:
            pen.text((130, y), line, font=font, fill=0)
        y += int(size * 1.6)
    return image


def write_pages(path: Path, pages: list[str | Image.Image | None]) -> Path:
    """One page per entry: a string is a born-digital line of text, an image a scan, None a blank page."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    for page in pages:
        if isinstance(page, str):
            pdf.setFont("Helvetica", 11)
            pdf.drawString(72, height - 72, page)
        elif isinstance(page, Image.Image):
            png = io.BytesIO()
            page.save(png, "PNG")
            png.seek(0)
            pdf.drawImage(ImageReader(png), 0, 0, width=width, height=height)
        else:
            # reportlab drops pages without drawing operations; a white frame keeps the page, blank.
            pdf.setStrokeColorRGB(1, 1, 1)
            pdf.rect(0, 0, width, height, stroke=1, fill=0)
        pdf.showPage()
    pdf.save()
    return path


def cjk_font() -> str | None:
    """A font file with Chinese glyphs installed on this machine, if any (via fontconfig)."""
    if shutil.which("fc-match") is None:
        return None
    found = subprocess.run(
        ["fc-match", "--format=%{file}", ":lang=zh-cn"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if not found or not Path(found).is_file() or "dejavu" in found.lower():
        return None  # fontconfig falls back to a Latin font when no CJK font exists
    return found
