"""Run MinerU 4 in this process and collect everything it produces in memory.

With the ``flash`` tier (no model weights) pages without a text layer are OCRed by
:mod:`functions.parse.ocr` and merged into MinerU's middle JSON before the markdown and the content list
are rendered, so a scan reads like any other page.

This is the only module that imports ``mineru``. MinerU reads its configuration from the environment once,
when ``mineru.config`` is first imported, so :func:`configure_mineru` must run before that import;
:func:`parse_pdf` calls it and imports MinerU lazily, which keeps importing this module cheap (the
functions-framework imports handler modules before gunicorn forks).

MinerU renders pages in worker processes started with the ``spawn`` method. A script that calls
:func:`parse_pdf` at module level must therefore guard that call with ``if __name__ == "__main__":``,
otherwise each worker re-runs the script and the parse dies with ``ConnectionResetError``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ConfigurationError, PermanentError
from functions.parse.ocr import OcrBlock
from functions.parse.ocr import ocr_pages as ocr_pages_of
from functions.parse.pdf_check import inspect_pdf

TIERS: tuple[str, ...] = ("flash", "basic", "standard", "advanced")
DEFAULT_MINERU_HOME = Path("~/.cache/pdfonto/mineru")
DEFAULT_LOG_LEVEL = "warning"

# Files ParseResult.save writes besides the images; everything else it writes is an image asset.
_MARKDOWN_FILE = "markdown.md"
_MIDDLE_JSON_FILE = "middle_json.json"
_NON_IMAGE_FILES = frozenset(
    {_MARKDOWN_FILE, _MIDDLE_JSON_FILE, "structured_content.json", "model_output.json"}
)

_configure_lock = threading.Lock()


@dataclass(frozen=True)
class MineruOutput:
    """Everything one MinerU parse produced, with image references resolved to bytes.

    ``content_list`` is MinerU's content list V1: one dict per block in reading order with ``type``
    (text, title text carries ``text_level``; also table, image, equation, header, footer, page_number,
    page_footnote, ...), ``page_idx`` (0-based) and ``bbox`` scaled to 0..1000 of the page size.
    Every ``img_path`` in ``content_list`` and every image link in ``markdown`` is a key of ``images``
    (relative paths such as ``images/page_0_image_0.jpg``); ``middle_json`` uses the same paths.
    ``ocr_pages`` lists the 0-based pages whose text came from OCR outside MinerU (flash tier scans).
    """

    content_list: list[dict[str, Any]]
    middle_json: dict[str, Any]
    markdown: str
    images: dict[str, bytes]
    page_count: int
    mineru_version: str
    tier: str
    ocr_pages: tuple[int, ...] = ()


def configure_mineru(*, mineru_home: Path | None = None, log_level: str | None = None) -> None:
    """Prepare the environment MinerU reads at import; values the operator already set are kept.

    - ``MINERU_MODEL_SOURCE=local``: MinerU's default source ``auto`` probes huggingface.co and falls back
      to modelscope whenever a model is missing; with ``local`` it only checks ``MINERU_HOME/models`` and
      fails fast, so a parse never touches the network.
    - ``MINERU_HOME`` (``mineru_home``, default ``~/.cache/pdfonto/mineru``): where MinerU looks for models
      and its config file, instead of ``~/.mineru``.
    - ``MINERU_LOG_LEVEL`` (``log_level``, default ``warning``): MinerU logs every page at INFO through
      loguru; it applies this level to its own sink and, through ``LOGURU_LEVEL``, to its workers.

    MinerU's telemetry lives in its Doclib server (started by the ``mineru`` CLI, never by the in-process
    parser) and has no switch in the environment, so there is nothing to turn off here.
    Only the first call before MinerU is imported has an effect on the environment.
    """
    with _configure_lock:
        os.environ.setdefault("MINERU_MODEL_SOURCE", "local")
        home = mineru_home if mineru_home is not None else DEFAULT_MINERU_HOME
        os.environ.setdefault("MINERU_HOME", str(home.expanduser()))
        os.environ.setdefault("MINERU_LOG_LEVEL", log_level or DEFAULT_LOG_LEVEL)
        # docvortex (MinerU's renderer) closes pdfium bitmaps it owns on purpose and pypdfium2 warns
        # about each one ("Explicitly closing <PdfBitmap ...>"): one line per image, no information.
        logging.getLogger("pypdfium2._helpers.bitmap").setLevel(logging.ERROR)


def parse_pdf(
    pdf_path: Path,
    *,
    tier: str = "flash",
    ocr_pages: Sequence[int] | None = None,
    mineru_home: Path | None = None,
    log_level: str | None = None,
) -> MineruOutput:
    """Parse ``pdf_path`` with MinerU's ``tier`` and return its outputs in memory.

    The caller is expected to have validated the file with :func:`functions.parse.pdf_check.inspect_pdf`.
    With the ``flash`` tier MinerU only reads text layers (``ocr_mode="txt"``), so it never needs its OCR
    model download; the 0-based ``ocr_pages`` (default: every page without a text layer) are OCRed with
    rapidocr instead and their text replaces what MinerU saw there (the scan as pictures). Other tiers OCR
    with MinerU's own models and ignore ``ocr_pages``.
    Raises :class:`ConfigurationError` for an unknown tier and :class:`PermanentError` when the tier needs
    model files or Python packages that are not installed (the message names the tier and the fix).
    ``log_level`` (trace, debug, info, warning, error, critical) overrides MinerU's level for this process.
    Other MinerU failures propagate unchanged so the event is retried.
    """
    if tier not in TIERS:
        raise ConfigurationError(f"Unknown MinerU tier {tier!r}; use one of: {', '.join(TIERS)}")
    configure_mineru(mineru_home=mineru_home, log_level=log_level)

    from mineru import parse
    from mineru.parser.tier import TierDependencyError
    from mineru.utils.logger import configure_global_log_level

    if log_level is not None:
        configure_global_log_level(log_level)

    flash = tier == "flash"
    try:
        result = parse(pdf_path, tier=tier, ocr_mode="txt" if flash else "auto")
    except TierDependencyError as exc:
        raise PermanentError(
            f"MinerU tier '{tier}' cannot run here: Python packages are missing "
            f"({', '.join(exc.missing_modules)}). Install the matching MinerU extra in the parse image or "
            "choose another tier."
        ) from exc
    except FileNotFoundError as exc:
        # MinerU reports missing model files with a plain FileNotFoundError; its message is the only thing
        # that tells them apart from a missing input file or a vanished temporary file (both retryable).
        if not str(exc).startswith("Model repo "):
            raise
        raise PermanentError(_missing_models_message(tier, exc)) from exc

    files = _MemoryWriter()
    # ParseResult.save is MinerU's own way to turn inline (base64) images into files; using it keeps the
    # image names, the markdown links and the middle JSON consistent with what `mineru` writes to disk.
    result.save(files)
    ocr: dict[int, list[OcrBlock]] = {}
    if flash:
        if ocr_pages is None:
            ocr_pages = inspect_pdf(pdf_path, max_pages=len(result.pages)).pages_without_text
        ocr = ocr_pages_of(pdf_path, sorted(set(ocr_pages)))
    return output_from_saved(files.data, tier=tier, ocr=ocr)


def output_from_saved(
    files: Mapping[str, bytes], *, tier: str, ocr: Mapping[int, list[OcrBlock]] | None = None
) -> MineruOutput:
    """Build a :class:`MineruOutput` from the files ``ParseResult.save`` writes (locally or in an API zip).

    ``ocr`` maps 0-based page indexes to the paragraphs OCR found there: those pages' MinerU blocks (a scan
    seen as pictures) are replaced by text blocks, and the markdown and content list are rendered again
    from the changed middle JSON with MinerU's own renderers, so all three stay consistent.
    """
    configure_mineru()
    from mineru.parser.base import ParseResult
    from mineru.render import render_content_list

    if _MIDDLE_JSON_FILE not in files:
        raise PermanentError(
            f"MinerU returned no {_MIDDLE_JSON_FILE} (got: {', '.join(sorted(files)) or 'nothing'})."
        )
    middle_json: dict[str, Any] = json.loads(files[_MIDDLE_JSON_FILE])
    images = {path: payload for path, payload in files.items() if path not in _NON_IMAGE_FILES}
    ocr = dict(ocr or {})
    for page in middle_json.get("pages", []):
        blocks = ocr.get(page.get("page_idx", -1))
        if blocks is not None:
            page["blocks"] = [_text_block(index, block) for index, block in enumerate(blocks)]
    parsed = ParseResult.from_dict(middle_json)
    if ocr:
        # Images only the replaced blocks referred to (the strips of a scan) are dropped with them.
        referenced = _strings_in(middle_json)
        images = {path: payload for path, payload in images.items() if path in referenced}
        markdown = parsed.markdown()
    else:
        markdown = files[_MARKDOWN_FILE].decode("utf-8") if _MARKDOWN_FILE in files else parsed.markdown()
    # The content list must be rendered from the saved (materialised) middle JSON: rendered from the
    # in-memory result its img_path values are base64 data URIs instead of the image file names.
    content_list = render_content_list(parsed.middle_json)
    producer = middle_json.get("metadata", {}).get("producer", {})
    return MineruOutput(
        content_list=content_list,
        middle_json=middle_json,
        markdown=markdown,
        images=images,
        page_count=len(parsed.pages),
        mineru_version=str(producer.get("version") or _installed_version()),
        tier=tier,
        ocr_pages=tuple(sorted(ocr)),
    )


def _text_block(index: int, block: OcrBlock) -> dict[str, Any]:
    return {
        "type": "text",
        "index": index,
        "bbox": [round(value, 3) for value in block.bbox],
        "content": [{"type": "text", "content": block.text}],
    }


def _strings_in(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings_in(item) for item in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings_in(item) for item in value)) if value else set()
    return set()


def _installed_version() -> str:
    from mineru.version import __version__

    return str(__version__)


def _missing_models_message(tier: str, exc: FileNotFoundError) -> str:
    """Tell the operator which models a tier lacks and how to install them without network at parse time."""
    home = os.environ.get("MINERU_HOME", str(DEFAULT_MINERU_HOME))
    return (
        f"MinerU cannot parse this PDF: the '{tier}' tier needs model files, but they are not installed "
        f"under {home}/models ({exc}). Install them with "
        f"`MINERU_HOME={home} mineru-models-download --tier {tier}` on a machine with internet access and "
        f"copy {home} into the parse image, or use the 'flash' tier."
    )


class _MemoryWriter:
    """Collects what ``ParseResult.save`` writes, keyed by relative path (duck-types MinerU's DataWriter)."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def write(self, path: str, data: bytes) -> None:
        self.data[path] = data

    def write_string(self, path: str, data: str) -> None:
        # Same encoding as MinerU's own file writer: a stray surrogate from a broken PDF font must not
        # fail the whole parse.
        self.data[path] = data.encode("utf-8", errors="replace")
