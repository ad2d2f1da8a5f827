"""Turn a MinerU content list into pdfonto's ``document.json``: typed blocks, a section outline, tables.

The contract, relied on by the extract step and by the tests:

* Every block of the content list becomes exactly one output block, in input order, except text-like
  blocks whose text is empty or whitespace (they carry no characters). No text is rewritten, merged or split,
  so every input text character (``text``, ``list_items``, ``code_body``, ``*_caption``, ``*_footnote``)
  appears in exactly one output block's ``text``, ``caption`` or ``footnote``.
* Headings (``text_level`` >= 1 or type ``title``) open sections. A heading's level comes from its numbering
  scheme when it has one (``第X章``, ``一、``, ``（一）``, ``1.``, ``1.1``, ``（1）`` …): schemes are ranked
  in the order they first appear in the document, dotted Arabic numbering nests by its number of parts, and
  the shallowest numbered scheme sits at the smallest ``text_level`` MinerU gave a numbered heading.
  Unnumbered headings keep MinerU's ``text_level``.
* Page furniture (header, footer, page_number) stays as typed blocks with ``section_id`` None and is never
  part of a section.
* The result is deterministic: the same content list always gives the same document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput

SCHEMA_VERSION = 1

FURNITURE_TYPES = frozenset({"header", "footer", "page_number"})
_TYPE_NAMES = {
    "text": "paragraph",
    "title": "heading",
    "page_footnote": "footnote",
    "aside_text": "aside",
    "interline_equation": "equation",
}
_CAPTIONED_TYPES = ("table", "image", "chart", "code")

_CN_DIGITS = "零〇一二三四五六七八九十百千两"
_NUMBERING_SCHEMES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("chapter", re.compile(rf"^第[{_CN_DIGITS}\d]+[章篇部分]+\s*")),
    ("section", re.compile(rf"^第[{_CN_DIGITS}\d]+节\s*")),
    ("cn_list", re.compile(rf"^[{_CN_DIGITS}]+[、．.]\s*")),
    ("cn_paren", re.compile(rf"^[（(][{_CN_DIGITS}]+[）)]\s*")),
    ("arabic_paren", re.compile(r"^[（(]\d+[）)]\s*")),
    ("arabic", re.compile(r"^\d+(?:[.．]\d+)*(?:[.．、]|\s+|(?=[^\d.．\s]))\s*")),
)


@dataclass(frozen=True)
class Numbering:
    """A heading's numbering prefix: its scheme, nesting depth within the scheme and the literal prefix."""

    scheme: str
    depth: int
    prefix: str


def build_document(
    content_list: list[dict[str, Any]], *, source: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Build the ``document.json`` dict from a MinerU content list (V1 blocks).

    ``source`` (e.g. bucket, object name, generation) is copied into ``metadata.source``. Raises
    :class:`InvalidInput` when the content list is not a list of block objects.
    """
    raw_blocks = _validated(content_list)
    blocks = [_convert_block(raw) for raw in raw_blocks if _has_content(raw)]
    for number, block in enumerate(blocks, start=1):
        block["id"] = f"b{number:04d}"
    _assign_heading_levels(blocks)
    sections = _build_sections(blocks)
    pages = [int(raw.get("page_idx", 0) or 0) for raw in raw_blocks]
    return {
        "schema_version": SCHEMA_VERSION,
        "metadata": {
            "title": _document_title(blocks),
            "language": detect_language(block_text(block) for block in blocks),
            "page_count": max(pages) + 1 if pages else 0,
            "block_count": len(blocks),
            "source": dict(source or {}),
        },
        "blocks": blocks,
        "sections": sections,
        "tables": [_table_entry(block) for block in blocks if block["type"] == "table"],
    }


def block_text(block: dict[str, Any]) -> str:
    """All readable text of an output block: caption, text and footnote, newline-separated."""
    parts = (block.get("caption", ""), block.get("text", ""), block.get("footnote", ""))
    return "\n".join(part for part in parts if part)


def detect_language(texts: Iterable[str]) -> str:
    """Guess the dominant language from script counts: ``zh``, ``ja``, ``ko``, ``en`` or ``und``."""
    han = kana = hangul = latin = 0
    for text in texts:
        for char in text:
            code = ord(char)
            if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
                han += 1
            elif 0x3040 <= code <= 0x30FF:
                kana += 1
            elif 0xAC00 <= code <= 0xD7AF:
                hangul += 1
            elif char.isascii() and char.isalpha():
                latin += 1
    if kana and kana * 10 >= han:
        return "ja"
    if hangul and hangul >= han:
        return "ko"
    # A Chinese character carries roughly as much text as a Latin word of five letters.
    if han and han * 5 >= latin:
        return "zh"
    return "en" if latin else "und"


def parse_numbering(text: str) -> Numbering | None:
    """Recognise a heading's numbering prefix (``一、``, ``（一）``, ``1.2``, ``第三章`` …), or None."""
    stripped = text.lstrip()
    for scheme, pattern in _NUMBERING_SCHEMES:
        match = pattern.match(stripped)
        if not match:
            continue
        prefix = match.group(0).strip()
        if scheme == "arabic" and not _plausible_arabic(stripped, match):
            continue
        depth = len(re.findall(r"\d+", prefix)) if scheme == "arabic" else 1
        return Numbering(scheme, depth, prefix)
    return None


def render_markdown(document: dict[str, Any]) -> str:
    """Render a document as markdown: ``#`` × level headings, paragraphs, tables as their HTML, images as
    ``![caption](img_path)``; page furniture (header, footer, page number) is left out."""
    parts = [_block_markdown(block) for block in document.get("blocks", [])]
    return "\n\n".join(part for part in parts if part) + "\n"


# --- input ----------------------------------------------------------------------------------------


def _validated(content_list: Any) -> list[dict[str, Any]]:
    if not isinstance(content_list, list):
        raise InvalidInput(f"content list must be a JSON array of blocks, got {type(content_list).__name__}")
    for index, raw in enumerate(content_list):
        if not isinstance(raw, dict):
            raise InvalidInput(f"content list [{index}]: block must be an object, got {type(raw).__name__}")
        if not isinstance(raw.get("type", "text"), str):
            raise InvalidInput(f'content list [{index}]: "type" must be a string')
    return content_list


def _joined(value: Any) -> str:
    """MinerU gives captions/footnotes/list items as a list of strings (sometimes one string)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(str(item) for item in value if item is not None and str(item) != "")
    return str(value)


def _raw_text(raw: dict[str, Any]) -> str:
    kind = raw.get("type", "text")
    if kind == "list" and raw.get("list_items") and not raw.get("text"):
        return _joined(raw["list_items"])
    if kind == "code" and raw.get("code_body") is not None and not raw.get("text"):
        return _joined(raw["code_body"])
    return _joined(raw.get("text"))


def _has_content(raw: dict[str, Any]) -> bool:
    if raw.get("type", "text") in ("text", "title", "list") and not raw.get("img_path"):
        return bool(_raw_text(raw).strip())
    return True


def _convert_block(raw: dict[str, Any]) -> dict[str, Any]:
    kind = str(raw.get("type", "text"))
    is_heading = kind == "title" or (kind == "text" and int(raw.get("text_level") or 0) >= 1)
    block: dict[str, Any] = {
        "id": "",
        "type": "heading" if is_heading else _TYPE_NAMES.get(kind, kind),
        "text": _raw_text(raw),
        "page_idx": int(raw.get("page_idx", 0) or 0),
        "bbox": list(raw.get("bbox") or []),
        "section_id": None,
    }
    if is_heading:
        block["level"] = max(1, int(raw.get("text_level") or 1))
    if kind in _CAPTIONED_TYPES:
        block["caption"] = _joined(raw.get(f"{kind}_caption"))
        block["footnote"] = _joined(raw.get(f"{kind}_footnote"))
    if kind == "table":
        block["html"] = str(raw.get("table_body") or "")
    if raw.get("img_path"):
        block["img_path"] = str(raw["img_path"])
    return block


# --- headings and sections ------------------------------------------------------------------------


def _plausible_arabic(text: str, match: re.Match[str]) -> bool:
    """``1. Introduction`` and ``3.2 施工方案`` are numbering; ``2021 年…`` or ``3.8 米`` are not."""
    prefix = match.group(0)
    numbers = re.findall(r"\d+", prefix)
    if any(len(number) > 2 for number in numbers):
        return False
    rest = text[len(prefix) :]
    ends_with_mark = prefix.rstrip()[-1:] in ".．、"
    return len(rest.strip()) >= 2 and (ends_with_mark or len(numbers) > 1 or prefix != prefix.rstrip())


def _assign_heading_levels(blocks: list[dict[str, Any]]) -> None:
    headings = [block for block in blocks if block["type"] == "heading"]
    numbered = [(block, parse_numbering(block["text"])) for block in headings]
    found = [(block, numbering) for block, numbering in numbered if numbering is not None]
    if not found:
        return
    base = min(block["level"] for block, _ in found)
    offsets = _scheme_offsets([numbering for _, numbering in found])
    for block, numbering in found:
        block["level"] = base + offsets[numbering.scheme] + numbering.depth - 1


def _scheme_offsets(numberings: list[Numbering]) -> dict[str, int]:
    """Level offset of each scheme: schemes ranked by first appearance, each as deep as its deepest use."""
    order: list[str] = []
    depth: dict[str, int] = {}
    for numbering in numberings:
        if numbering.scheme not in depth:
            order.append(numbering.scheme)
        depth[numbering.scheme] = max(depth.get(numbering.scheme, 0), numbering.depth)
    offsets: dict[str, int] = {}
    running = 0
    for scheme in order:
        offsets[scheme] = running
        running += depth[scheme]
    return offsets


def _build_sections(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []
    for block in blocks:
        if block["type"] in FURNITURE_TYPES:
            continue
        if block["type"] == "heading":
            while stack and stack[-1]["level"] >= block["level"]:
                stack.pop()
            section = _new_section(len(sections) + 1, block, stack[-1]["id"] if stack else None)
            sections.append(section)
            stack.append(section)
        if stack:
            block["section_id"] = stack[-1]["id"]
            stack[-1]["block_ids"].append(block["id"])
            for open_section in stack:
                open_section["page_end"] = max(open_section["page_end"], block["page_idx"])
    return sections


def _new_section(number: int, heading: dict[str, Any], parent_id: str | None) -> dict[str, Any]:
    numbering = parse_numbering(heading["text"])
    prefix = numbering.prefix if numbering else ""
    title = heading["text"].strip()
    if prefix:
        title = title[len(prefix) :].strip() if title.startswith(prefix) else title
    return {
        "id": f"s{number:04d}",
        "title": title,
        "numbering": prefix,
        "level": heading["level"],
        "parent_id": parent_id,
        "page_start": heading["page_idx"],
        "page_end": heading["page_idx"],
        "block_ids": [],
    }


def _document_title(blocks: list[dict[str, Any]]) -> str | None:
    """The first run of unnumbered headings on the first page that carries any heading, joined."""
    run: list[str] = []
    page: int | None = None
    for block in blocks:
        if block["type"] in FURNITURE_TYPES or block["type"] in ("image", "equation"):
            continue
        if page is not None and block["page_idx"] != page:
            break
        if block["type"] != "heading" or parse_numbering(block["text"]) is not None:
            if run:
                break
            continue
        page = block["page_idx"]
        run.append(block["text"].strip())
    return _join_title(run) if run else None


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
        "page_idx": block["page_idx"],
    }


# --- markdown -------------------------------------------------------------------------------------


def _block_markdown(block: dict[str, Any]) -> str:
    kind = block["type"]
    if kind in FURNITURE_TYPES:
        return ""
    if kind == "heading":
        return f"{'#' * min(6, int(block.get('level', 1)))} {block['text'].strip()}"
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
