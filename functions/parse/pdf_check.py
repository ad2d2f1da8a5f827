"""Cheap checks that a file is a PDF MinerU can parse, run before MinerU is started.

MinerU is slow to start and its failures on bad input are obscure (a blank 3000-page file keeps a worker busy
for minutes; a password-protected file fails deep inside a render worker). :func:`inspect_pdf` opens the file
with pdfium, which takes milliseconds, and turns every input problem the user can fix into
:class:`core.errors.InvalidInput` with a message saying what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from core.errors import InvalidInput
from functions.pdfium_lock import PDFIUM_LOCK

# The PDF specification lets the "%PDF-" header sit anywhere in the first 1024 bytes (some producers write
# junk before it) and every mainstream reader, pdfium included, accepts that; rejecting it would refuse
# files the user can open fine.
_HEADER = b"%PDF-"
_HEADER_WINDOW = 1024

_RE_EXPORT_HINT = (
    "Open it in a PDF reader and use Print → Save as PDF (or export it again), then upload the new file."
)


@dataclass(frozen=True)
class PdfInfo:
    """What the parse step needs to know about a PDF before running MinerU.

    ``text_pages`` lists the 0-based indexes of pages with an embedded text layer; the other pages are scans,
    pictures or blank and need OCR. ``text_chars`` counts the non-whitespace characters of each page's text
    layer (how much of the page the layer covers). ``encrypted`` is true for PDFs protected only by an owner
    password (printing/copying restrictions): they open without a password and parse normally.
    """

    page_count: int
    text_pages: list[int]
    encrypted: bool = False
    text_chars: tuple[int, ...] = ()

    @property
    def pages_without_text(self) -> list[int]:
        """0-based indexes of pages that have no text layer (MinerU must OCR them)."""
        with_text = set(self.text_pages)
        return [index for index in range(self.page_count) if index not in with_text]


def inspect_pdf(path: Path, *, max_pages: int) -> PdfInfo:
    """Validate the PDF at ``path`` and describe its pages.

    Raises :class:`InvalidInput` when the file is empty, is not a PDF, is damaged, is password-protected,
    has no pages, or has more than ``max_pages`` pages. A file that cannot be read at all (missing, no
    permission) raises the usual ``OSError``: that is an infrastructure fault, not the user's input.
    Over-long files are rejected after counting pages only, so the check stays fast whatever the size.
    """
    if max_pages < 1:
        raise ValueError(f"max_pages must be at least 1, got {max_pages}")

    with path.open("rb") as handle:
        head = handle.read(_HEADER_WINDOW)
    if not head:
        raise InvalidInput(
            "The file is empty (0 bytes). Upload the PDF again; the upload may have been interrupted."
        )
    if _HEADER not in head:
        raise InvalidInput(_not_a_pdf_message(head))

    # Under the process-wide lock: in embedded mode the structure step reads other PDFs on other threads.
    with PDFIUM_LOCK:
        return _describe(path, max_pages)


def _describe(path: Path, max_pages: int) -> PdfInfo:
    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        # pdfium reports why loading failed only through this code; a password error is the one case the
        # user fixes differently from a damaged file.
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise InvalidInput(
                "The PDF is password-protected; upload an unprotected copy "
                "(open it with the password, then save or print it to a new PDF without a password)."
            ) from exc
        raise InvalidInput(
            f"The PDF is damaged or incomplete and cannot be opened (it may have been cut off during "
            f"download or upload). {_RE_EXPORT_HINT}"
        ) from exc

    try:
        page_count = len(document)
        if page_count == 0:
            raise InvalidInput(f"The PDF has no pages. {_RE_EXPORT_HINT}")
        if page_count > max_pages:
            raise InvalidInput(
                f"The PDF has {page_count} pages; the limit is {max_pages} pages (MAX_PAGES). "
                "Split it into smaller PDFs and upload them separately, or ask the administrator to raise "
                "MAX_PAGES."
            )
        # A revision of -1 means no security handler; anything else is an owner-password-only file here,
        # because a user password would already have failed to open.
        encrypted = pdfium_c.FPDF_GetSecurityHandlerRevision(document.raw) != -1
        text_chars = tuple(_text_chars(document, index) for index in range(page_count))
    finally:
        document.close()
    return PdfInfo(
        page_count=page_count,
        text_pages=[index for index, chars in enumerate(text_chars) if chars],
        encrypted=encrypted,
        text_chars=text_chars,
    )


def _text_chars(document: pdfium.PdfDocument, index: int) -> int:
    """How many non-whitespace characters the text layer of page ``index`` carries."""
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            # Counting characters first avoids extracting text from image-only pages; whitespace-only
            # layers (some scanners add them) do not count as text.
            if textpage.count_chars() == 0:
                return 0
            return sum(1 for char in textpage.get_text_range() if not char.isspace())
        finally:
            textpage.close()
    finally:
        page.close()


def _not_a_pdf_message(head: bytes) -> str:
    """Explain a non-PDF upload, naming the usual culprit (a web page saved with a .pdf name)."""
    start = head.lstrip().lower()
    if start.startswith(b"<"):
        return (
            "The file is not a PDF: it looks like a web page (HTML) saved with a .pdf name, often an error "
            "or login page returned instead of the document. Download the actual PDF and upload that."
        )
    return (
        "The file is not a PDF (it does not start with the %PDF- header). Check that you picked the right "
        "file; if it is a Word, image or other document, save or print it as PDF first."
    )
