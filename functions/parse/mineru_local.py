"""Run MinerU 4 in this process and collect everything it produces in memory.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ConfigurationError, PermanentError

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
    """

    content_list: list[dict[str, Any]]
    middle_json: dict[str, Any]
    markdown: str
    images: dict[str, bytes]
    page_count: int
    mineru_version: str
    tier: str


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
    mineru_home: Path | None = None,
    log_level: str | None = None,
) -> MineruOutput:
    """Parse ``pdf_path`` with MinerU's ``tier`` and return its outputs in memory.

    The caller is expected to have validated the file with :func:`functions.parse.pdf_check.inspect_pdf`.
    Raises :class:`ConfigurationError` for an unknown tier and :class:`PermanentError` when the tier needs
    model files or Python packages that are not installed (the message names the tier and the fix).
    The ``flash`` tier needs no model files for pages with a text layer, but pages without one (scans,
    blank pages) are OCRed and need the ``MinerU-4_models_onnx`` repository under ``MINERU_HOME/models``.
    ``log_level`` (trace, debug, info, warning, error, critical) overrides MinerU's level for this process.
    Other MinerU failures propagate unchanged so the event is retried.
    """
    if tier not in TIERS:
        raise ConfigurationError(f"Unknown MinerU tier {tier!r}; use one of: {', '.join(TIERS)}")
    configure_mineru(mineru_home=mineru_home, log_level=log_level)

    from mineru import parse
    from mineru.parser.base import ParseResult
    from mineru.parser.tier import TierDependencyError
    from mineru.render import render_content_list
    from mineru.utils.logger import configure_global_log_level
    from mineru.version import __version__ as mineru_version

    if log_level is not None:
        configure_global_log_level(log_level)

    try:
        result = parse(pdf_path, tier=tier)
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
    markdown = files.data[_MARKDOWN_FILE].decode("utf-8")
    middle_json: dict[str, Any] = json.loads(files.data[_MIDDLE_JSON_FILE])
    images = {path: payload for path, payload in files.data.items() if path not in _NON_IMAGE_FILES}
    # The content list must be rendered from the saved (materialised) middle JSON: rendered from the
    # in-memory result its img_path values are base64 data URIs instead of the image file names.
    content_list = render_content_list(ParseResult.from_dict(middle_json).middle_json)
    return MineruOutput(
        content_list=content_list,
        middle_json=middle_json,
        markdown=markdown,
        images=images,
        page_count=len(result.pages),
        mineru_version=str(mineru_version),
        tier=tier,
    )


def _missing_models_message(tier: str, exc: FileNotFoundError) -> str:
    """Tell the operator which models a tier lacks and how to install them without network at parse time."""
    home = os.environ.get("MINERU_HOME", str(DEFAULT_MINERU_HOME))
    if tier == "flash":
        needs = (
            "the 'flash' tier needs OCR models for pages without a text layer (scanned or blank pages), "
            "and this PDF has such pages"
        )
        download = f"MINERU_HOME={home} mineru-models-download MinerU-4_models_onnx"
    else:
        needs = f"the '{tier}' tier needs model files"
        download = f"MINERU_HOME={home} mineru-models-download --tier {tier}"
    return (
        f"MinerU cannot parse this PDF: {needs}, but they are not installed under {home}/models ({exc}). "
        f"Install them with `{download}` on a machine with internet access and copy {home} into the parse "
        f"image, or upload a PDF with a text layer on every page."
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
