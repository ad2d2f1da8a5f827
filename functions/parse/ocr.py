"""OCR for pages without a text layer, with the models that ship inside the ``rapidocr`` wheel.

MinerU's ``flash`` tier reads the PDF's text layer and needs a separate model download to OCR scans. The
parse step instead runs MinerU in text-only mode and OCRs the pages without a text layer here: rapidocr's
PP-OCRv6 detection/recognition models (Chinese, English and ~50 Latin-script languages in one model) are
part of the wheel, and passing their paths explicitly means rapidocr never reaches its download code.

Recognised lines are grouped into paragraphs so a scanned page reads like a born-digital one: one block per
paragraph, in reading order, with a bounding box relative to the page (0..1).
"""

from __future__ import annotations

import logging
import statistics
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium

log = logging.getLogger(__name__)

# Recognition time grows with the rendered size and text at this size reads as well as at 2000 px (the
# detector's own cap); see bench/parse.py.
_MAX_SIDE_PX = 1600
_MAX_DPI = 200
_MODEL_FILES = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}

_engine: Any = None
_engine_lock = threading.Lock()


@dataclass(frozen=True)
class OcrLine:
    """One recognised line; the box is in pixels of the rendered page, top-left origin."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    score: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class OcrBlock:
    """A paragraph of OCR text on one page; ``bbox`` is (x0, y0, x1, y1) in page fractions (0..1)."""

    text: str
    bbox: tuple[float, float, float, float]


def model_paths() -> dict[str, Path]:
    """The rapidocr model files used, all inside the installed wheel."""
    import rapidocr

    root = Path(rapidocr.__file__).parent / "models"
    return {task: root / name for task, name in _MODEL_FILES.items()}


def _get_engine() -> Any:
    global _engine
    with _engine_lock:
        if _engine is None:
            from rapidocr import RapidOCR

            paths = model_paths()
            missing = [str(path) for path in paths.values() if not path.is_file()]
            if missing:
                # A wheel without its models would make rapidocr download them; refuse instead.
                raise RuntimeError(f"rapidocr models missing from the installed wheel: {', '.join(missing)}")
            # The direction classifier only fixes lines printed upside down and costs a third of the time.
            params: dict[str, Any] = {"Global.log_level": "error", "Global.use_cls": False}
            for task, path in paths.items():
                params[f"{task}.model_path"] = str(path)
            _engine = RapidOCR(params=params)
        return _engine


def ocr_pages(pdf_path: Path, pages: list[int]) -> dict[int, list[OcrBlock]]:
    """OCR the 0-based ``pages`` of ``pdf_path``; returns the paragraphs found on each (possibly none)."""
    if not pages:
        return {}
    engine = _get_engine()
    import numpy as np

    found: dict[int, list[OcrBlock]] = {}
    document = pdfium.PdfDocument(pdf_path)
    try:
        for index in pages:
            page = document[index]
            try:
                width_pt, height_pt = page.get_size()
                scale = min(_MAX_DPI / 72, _MAX_SIDE_PX / max(width_pt, height_pt, 1.0))
                bitmap = page.render(scale=scale, grayscale=False)
                try:
                    image = np.ascontiguousarray(bitmap.to_numpy()[:, :, :3])
                finally:
                    bitmap.close()
            finally:
                page.close()
            height_px, width_px = image.shape[:2]
            result = engine(image)
            found[index] = group_paragraphs(_lines(result), width_px, height_px)
    finally:
        document.close()
    return found


def _lines(result: Any) -> list[OcrLine]:
    if result.boxes is None or result.txts is None:
        return []
    lines = []
    for box, text, score in zip(result.boxes, result.txts, result.scores or (), strict=False):
        text = str(text).strip()
        if not text:
            continue
        xs = [float(point[0]) for point in box]
        ys = [float(point[1]) for point in box]
        lines.append(
            OcrLine(
                text=text,
                x0=min(xs),
                y0=min(ys),
                x1=max(xs),
                y1=max(ys),
                score=float(score),
            )
        )
    return lines


def group_paragraphs(lines: list[OcrLine], width: float, height: float) -> list[OcrBlock]:
    """Merge recognised lines into paragraphs, in reading order (top to bottom, left to right in a row).

    A new paragraph starts where the vertical gap to the previous line is larger than usual, where the line
    does not overlap the paragraph horizontally (another column, a page number beside a heading), where it is
    indented (first-line indent), or where the previous line stopped well short of the paragraph's right
    edge (the last line of a paragraph).
    """
    if not lines:
        return []
    ordered = _reading_order(lines)
    typical = statistics.median(line.height for line in ordered)
    paragraphs: list[list[OcrLine]] = [[ordered[0]]]
    for line in ordered[1:]:
        current = paragraphs[-1]
        if _continues(current, line, typical):
            current.append(line)
        else:
            paragraphs.append([line])
    return [_block(paragraph, width, height) for paragraph in paragraphs]


def _reading_order(lines: list[OcrLine]) -> list[OcrLine]:
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda item: (item.y0 + item.y1) / 2):
        centre = (line.y0 + line.y1) / 2
        if rows:
            row = rows[-1]
            top = min(item.y0 for item in row)
            bottom = max(item.y1 for item in row)
            if top <= centre <= bottom:
                row.append(line)
                continue
        rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda item: item.x0)]


def _continues(paragraph: list[OcrLine], line: OcrLine, typical: float) -> bool:
    previous = paragraph[-1]
    left = min(item.x0 for item in paragraph)
    right = max(item.x1 for item in paragraph)
    gap = line.y0 - previous.y1
    if gap < -0.5 * typical or gap > 0.8 * typical:
        return False  # same row as the previous line, or a blank line between them
    overlap = min(right, line.x1) - max(left, line.x0)
    if overlap < 0.3 * min(right - left, line.x1 - line.x0):
        return False
    if line.x0 - left > 1.2 * typical:
        return False
    return not right - previous.x1 > 2.5 * typical


def _block(paragraph: list[OcrLine], width: float, height: float) -> OcrBlock:
    text = paragraph[0].text
    for line in paragraph[1:]:
        text = _join(text, line.text)
    return OcrBlock(
        text=text,
        bbox=(
            max(0.0, min(item.x0 for item in paragraph) / width),
            max(0.0, min(item.y0 for item in paragraph) / height),
            min(1.0, max(item.x1 for item in paragraph) / width),
            min(1.0, max(item.y1 for item in paragraph) / height),
        ),
    )


def _join(left: str, right: str) -> str:
    if _is_cjk(left[-1]) or _is_cjk(right[0]):
        return left + right
    if left.endswith("-") and right[:1].islower():
        return left[:-1] + right
    return f"{left} {right}"


def _is_cjk(char: str) -> bool:
    # Wide characters (CJK ideographs, kana, hangul, full-width punctuation) are written without spaces.
    return unicodedata.east_asian_width(char) in ("W", "F")
