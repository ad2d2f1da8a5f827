"""Printed lines of a PDF's text layer, read with pdfium: the evidence for where a glued heading ends.

MinerU's flash tier returns paragraphs without their line structure, so
``一、基本情况（一）事故单位情况北京…`` cannot be split by text alone: is the heading
``事故单位情况`` or ``事故单位情况北京怡立…``? The PDF knows: the heading is a short line of its own.
Only the pages that hold candidate blocks are opened, and only those blocks' lines are read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import TracebackType

import pypdfium2 as pdfium

from functions.pdfium_lock import PDFIUM_LOCK

log = logging.getLogger(__name__)

_TOLERANCE = 6.0  # bbox units (0..1000 of the page): rounding between MinerU's and pdfium's boxes


@dataclass(frozen=True)
class Line:
    """One printed line: its text and bbox in MinerU's 0..1000 page coordinates."""

    text: str
    bbox: tuple[float, float, float, float]


_Rect = tuple[float, float, float, float, float, float, float, float]  # normalised box + pdfium box


class PdfLines:
    """Lazily reads lines of a PDF's pages; use as a context manager (closes the document)."""

    def __init__(self, data: bytes) -> None:
        with PDFIUM_LOCK:
            self._pdf = pdfium.PdfDocument(data)
            self.page_count = len(self._pdf)
        self._rects: dict[int, tuple[list[_Rect], pdfium.PdfTextPage | None]] = {}

    @classmethod
    def open(cls, data: bytes | None) -> PdfLines | None:
        """The lines of ``data``, or None when there is no PDF or pdfium cannot read it."""
        if not data:
            return None
        try:
            return cls(data)
        except pdfium.PdfiumError as exc:
            log.warning("the PDF's text layer cannot be read; headings are split from text alone: %s", exc)
            return None

    def __enter__(self) -> PdfLines:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        with PDFIUM_LOCK:
            for _, textpage in self._rects.values():
                if textpage is not None:
                    textpage.close()
            self._rects.clear()
            self._pdf.close()

    def lines_in(self, page_idx: int, bbox: list[float], limit: int = 4) -> list[Line]:
        """The first ``limit`` lines whose text lies inside ``bbox`` (0..1000) on page ``page_idx``."""
        if len(bbox) != 4 or not 0 <= page_idx < self.page_count:
            return []
        with PDFIUM_LOCK:
            rects, textpage = self._page_rects(page_idx)
            if textpage is None:
                return []
            x0, y0, x1, y1 = bbox
            inside = [
                rect
                for rect in rects
                if x0 - _TOLERANCE <= (rect[0] + rect[2]) / 2 <= x1 + _TOLERANCE
                and y0 - _TOLERANCE <= (rect[1] + rect[3]) / 2 <= y1 + _TOLERANCE
            ]
            lines: list[list[_Rect]] = []
            for rect in sorted(inside, key=lambda r: ((r[1] + r[3]) / 2, r[0])):
                if lines and _same_line(lines[-1], rect):
                    lines[-1].append(rect)
                else:
                    lines.append([rect])
            return [self._line(textpage, group) for group in lines[:limit]]

    def _page_rects(self, page_idx: int) -> tuple[list[_Rect], pdfium.PdfTextPage | None]:
        if page_idx not in self._rects:
            try:
                page = self._pdf[page_idx]
                width, height = page.get_size()
                textpage = page.get_textpage()
                rects: list[_Rect] = []
                for index in range(textpage.count_rects()):
                    left, bottom, right, top = textpage.get_rect(index)
                    rects.append(
                        (
                            left / width * 1000,
                            (height - top) / height * 1000,
                            right / width * 1000,
                            (height - bottom) / height * 1000,
                            left,
                            bottom,
                            right,
                            top,
                        )
                    )
                self._rects[page_idx] = (rects, textpage)
            except pdfium.PdfiumError as exc:
                log.warning("page %d of the PDF has no readable text layer: %s", page_idx, exc)
                self._rects[page_idx] = ([], None)
        return self._rects[page_idx]

    @staticmethod
    def _line(textpage: pdfium.PdfTextPage, group: list[_Rect]) -> Line:
        # One query over the line's extent: pdfium returns the characters inside it in reading order.
        text = textpage.get_text_bounded(
            left=min(r[4] for r in group),
            bottom=min(r[5] for r in group),
            right=max(r[6] for r in group),
            top=max(r[7] for r in group),
        )
        box = (
            min(r[0] for r in group),
            min(r[1] for r in group),
            max(r[2] for r in group),
            max(r[3] for r in group),
        )
        return Line(text=text.replace("\r", "").replace("\n", ""), bbox=box)


def _same_line(line: list[_Rect], rect: _Rect) -> bool:
    """Vertical overlap of at least half the smaller height: quotes and superscripts stay on their line."""
    top, bottom = min(r[1] for r in line), max(r[3] for r in line)
    overlap = min(bottom, rect[3]) - max(top, rect[1])
    return overlap >= 0.5 * max(0.1, min(bottom - top, rect[3] - rect[1]))
