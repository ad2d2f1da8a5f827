"""Turn a MinerU content list into pdfonto's ``document.json``: blocks, outline, tables and chunks.

The contract, relied on by the extract step and checked by ``core/schemas/document.schema.json`` and the
tests:

* **Blocks** are the content list's blocks in reading order, with empty text blocks dropped, headings glued
  to a paragraph split off (:mod:`.headings`) and paragraphs cut by a page or column break joined
  (:mod:`.paragraphs`). Each block's ``fragments`` say which content-list block (``source``) and which
  character range of it every part of the block's ``text`` came from, with that page and bbox. No character
  is rewritten: apart from whitespace at a split and a hyphen dropped at a recorded join (``joins``), every
  character of the input appears exactly once in the blocks' ``text``, ``caption`` or ``footnote``.
* **Page furniture** (header, footer, page_number) stays as typed blocks outside every section and chunk.
* **Headings** have ``level`` 0 for the document title (which opens no section) and 1 + depth otherwise,
  depth coming from the numbering scheme's nesting order (see :mod:`.headings`).
* **Sections** form a tree via ``parent_id``; every non-furniture block after the first heading belongs to
  exactly one section; ``section_path`` lists the section ids from the root down.
* **Chunks** cover every non-furniture character exactly once, within the token budget, with spans that map
  each chunk range back to a block range (:mod:`.chunking`, :mod:`.spans`).
* The result is deterministic: the same inputs always give the same document.
"""

from __future__ import annotations

from typing import Any

from functions.structure import headings, paragraphs
from functions.structure.blocks import (
    FURNITURE_TYPES,
    convert,
    furniture_summary,
    has_content,
    mark_furniture,
    validated,
)
from functions.structure.chunking import DEFAULT_CHUNK_TOKENS, build_chunks
from functions.structure.language import detect_language
from functions.structure.numbering import Numbering, parse_numbering
from functions.structure.pdf_lines import PdfLines
from functions.structure.sections import build_sections

__all__ = [
    "FURNITURE_TYPES",
    "SCHEMA_VERSION",
    "Numbering",
    "block_text",
    "build_document",
    "detect_language",
    "parse_numbering",
    "render_markdown",
]

SCHEMA_VERSION = 2

_BLOCK_KEYS = (
    "id",
    "type",
    "text",
    "page_idx",
    "bbox",
    "section_id",
    "section_path",
    "level",
    "numbering",
    "caption",
    "footnote",
    "html",
    "img_path",
    "fragments",
    "joins",
)


def build_document(
    content_list: list[dict[str, Any]],
    *,
    source: dict[str, Any] | None = None,
    pdf: bytes | None = None,
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
) -> dict[str, Any]:
    """Build the ``document.json`` dict from a MinerU content list (V1 blocks).

    ``pdf`` (the original PDF's bytes) lets glued headings be split where the printed line ends; without it
    only run-on numbered headings are split. ``source`` is copied into ``metadata.source``. Raises
    :class:`core.errors.InvalidInput` when the content list is not a list of block objects.
    """
    raw_blocks = validated(content_list)
    blocks = [convert(raw, index) for index, raw in enumerate(raw_blocks) if has_content(raw)]
    mark_furniture(blocks)
    lines = PdfLines.open(pdf)
    try:
        blocks = headings.split_glued_headings(blocks, lines)
    finally:
        if lines is not None:
            lines.close()
    headings.classify(blocks)
    blocks = paragraphs.join_broken_paragraphs(blocks)
    headings.demote_trailing(blocks)
    headings.assign_levels(blocks)
    for number, block in enumerate(blocks, start=1):
        block["id"] = f"b{number:04d}"
    sections = build_sections(blocks)
    chunks = build_chunks(blocks, sections, chunk_tokens)
    pages = [int(raw.get("page_idx", 0) or 0) for raw in raw_blocks]
    title = [block["text"].strip() for block in blocks if block["type"] == "heading" and block["level"] == 0]
    return {
        "schema_version": SCHEMA_VERSION,
        "metadata": {
            "title": _join_title(title) if title else None,
            "language": detect_language(block_text(block) for block in blocks),
            "page_count": max(pages) + 1 if pages else 0,
            "block_count": len(blocks),
            "section_count": len(sections),
            "chunk_count": len(chunks),
            "chunk_tokens": chunk_tokens,
            "heading_evidence": "pdf_lines" if lines is not None else "text",
            "furniture": furniture_summary(blocks),
            "source": dict(source or {}),
        },
        "blocks": [_public(block) for block in blocks],
        "sections": sections,
        "tables": [_table_entry(block) for block in blocks if block["type"] == "table"],
        "chunks": chunks,
    }


def block_text(block: dict[str, Any]) -> str:
    """All readable text of an output block: caption, text and footnote, newline-separated."""
    parts = (block.get("caption", ""), block.get("text", ""), block.get("footnote", ""))
    return "\n".join(part for part in parts if part)


def render_markdown(document: dict[str, Any]) -> str:
    """Render a document as markdown: the title as ``#``, a level-n heading one ``#`` deeper than n when
    there is a title (n otherwise), paragraphs, tables as their HTML, images as ``![caption](img_path)``;
    page furniture (header, footer, page number) is left out."""
    blocks = document.get("blocks", [])
    shift = int(any(b["type"] == "heading" and b.get("level") == 0 for b in blocks))
    parts = [_block_markdown(block, shift) for block in blocks]
    return "\n\n".join(part for part in parts if part) + "\n"


def _public(block: dict[str, Any]) -> dict[str, Any]:
    return {key: block[key] for key in _BLOCK_KEYS if key in block}


def _join_title(parts: list[str]) -> str:
    title = parts[0]
    for part in parts[1:]:
        needs_space = title[-1:].isascii() and part[:1].isascii()
        title = f"{title} {part}" if needs_space else f"{title}{part}"
    return title


def _table_entry(block: dict[str, Any]) -> dict[str, Any]:
    return {
        "block_id": block["id"],
        "html": block.get("html", ""),
        "caption": block.get("caption", ""),
        "footnote": block.get("footnote", ""),
        "page_idx": block["page_idx"],
        "bbox": block["bbox"],
        "section_id": block["section_id"],
    }


def _block_markdown(block: dict[str, Any], shift: int) -> str:
    kind = block["type"]
    if kind in FURNITURE_TYPES:
        return ""
    if kind == "heading":
        level = int(block.get("level", 1))
        depth = 1 if level == 0 else min(6, level + shift)
        return f"{'#' * depth} {block['text'].strip()}"
    if kind == "table":
        parts = [
            block.get("caption", ""),
            block.get("html", "") or block.get("text", ""),
            block.get("footnote", ""),
        ]
        return "\n\n".join(part for part in parts if part)
    if kind in ("image", "chart") or (kind == "equation" and not block.get("text")):
        image = f"![{block.get('caption', '')}]({block.get('img_path', '')})" if block.get("img_path") else ""
        return "\n\n".join(part for part in (image, block.get("footnote", "")) if part)
    if kind == "code":
        parts = [block.get("caption", ""), f"```\n{block['text']}\n```", block.get("footnote", "")]
        return "\n\n".join(part for part in parts if part)
    return str(block.get("text", "")).strip()
