"""MinerU content-list blocks → pdfonto blocks with provenance fragments; page furniture recognised.

Every output block carries ``fragments``: which input block (``source``, its index in the content list) and
which character range of it (``source_start``) each range ``[start, end)`` of the block's ``text`` came
from, with that input block's page and bbox. Later stages split and join blocks by editing fragments, so
any character of any block can always be traced back to a page and a box.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

from core.errors import InvalidInput

Block = dict[str, Any]

FURNITURE_TYPES = frozenset({"header", "footer", "page_number"})
FLOAT_TYPES = frozenset({"image", "table", "chart"})
_TYPE_NAMES = {
    "text": "paragraph",
    "title": "heading",
    "page_footnote": "footnote",
    "aside_text": "aside",
    "interline_equation": "equation",
}
_CAPTIONED_TYPES = ("table", "image", "chart", "code")
# Page furniture lives in the top or bottom band of a page (bbox units are 0..1000 of the page).
_TOP_BAND = 80
_BOTTOM_BAND = 920
_PAGE_NUMBER = re.compile(
    r"^[-–—\s]*(?:(?:第\s*)?\d{1,4}\s*页?(?:\s*/\s*(?:共\s*)?\d{1,4}\s*页?)?|(?:page|Page|PAGE)\s+\d{1,4}"
    r"(?:\s+of\s+\d{1,4})?|[ivxlcIVXLC]{1,6})[-–—\s]*$"
)


def validated(content_list: Any) -> list[dict[str, Any]]:
    """``content_list`` if it is a list of block objects, else :class:`InvalidInput` naming the culprit."""
    if not isinstance(content_list, list):
        raise InvalidInput(f"content list must be a JSON array of blocks, got {type(content_list).__name__}")
    for index, raw in enumerate(content_list):
        if not isinstance(raw, dict):
            raise InvalidInput(f"content list [{index}]: block must be an object, got {type(raw).__name__}")
        if not isinstance(raw.get("type", "text"), str):
            raise InvalidInput(f'content list [{index}]: "type" must be a string')
        if not isinstance(raw.get("page_idx", 0) or 0, int):
            raise InvalidInput(f'content list [{index}]: "page_idx" must be an integer')
    return content_list


def joined(value: Any) -> str:
    """MinerU gives captions, footnotes and list items as a list of strings (sometimes one string)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(str(item) for item in value if item is not None and str(item) != "")
    return str(value)


def raw_text(raw: dict[str, Any]) -> str:
    kind = raw.get("type", "text")
    if kind == "list" and raw.get("list_items") and not raw.get("text"):
        return joined(raw["list_items"])
    if kind == "code" and raw.get("code_body") is not None and not raw.get("text"):
        return joined(raw["code_body"])
    return joined(raw.get("text"))


def has_content(raw: dict[str, Any]) -> bool:
    if raw.get("type", "text") in ("text", "title", "list") and not raw.get("img_path"):
        return bool(raw_text(raw).strip())
    return True


def convert(raw: dict[str, Any], source: int) -> Block:
    """One content-list block as a pdfonto block; ``_hint`` keeps MinerU's ``text_level`` for later."""
    kind = str(raw.get("type", "text"))
    text = raw_text(raw)
    page = int(raw.get("page_idx", 0) or 0)
    bbox = [float(value) for value in (raw.get("bbox") or [])][:4]
    hint = int(raw.get("text_level") or 0) if kind in ("text", "title") else 0
    is_heading = kind == "title" or hint >= 1
    block: Block = {
        "id": "",
        "type": "heading" if is_heading else _TYPE_NAMES.get(kind, kind),
        "text": text,
        "page_idx": page,
        "bbox": bbox,
        "section_id": None,
        "fragments": [fragment(source, page, bbox, 0, len(text), 0)] if text else [],
        "_hint": max(hint, 1) if is_heading else 0,
    }
    if kind in _CAPTIONED_TYPES:
        block["caption"] = joined(raw.get(f"{kind}_caption"))
        block["footnote"] = joined(raw.get(f"{kind}_footnote"))
    if kind == "table":
        block["html"] = str(raw.get("table_body") or "")
    if raw.get("img_path"):
        block["img_path"] = str(raw["img_path"])
    return block


def fragment(source: int, page: int, bbox: list[float], start: int, end: int, source_start: int) -> Block:
    return {
        "source": source,
        "page_idx": page,
        "bbox": list(bbox),
        "start": start,
        "end": end,
        "source_start": source_start,
    }


def mark_furniture(blocks: list[Block]) -> None:
    """Retype untyped running headers, footers and page numbers in place.

    MinerU's flash tier types most furniture itself; what it misses is text in the top or bottom band of a
    page that repeats (digits ignored) on at least three pages and half of them, or that is a bare page
    number there.
    """
    pages = {block["page_idx"] for block in blocks}
    seen: dict[str, set[int]] = defaultdict(set)
    banded: list[tuple[Block, str, str]] = []
    for block in blocks:
        if block["type"] != "paragraph" or len(block["bbox"]) != 4:
            continue
        band = (
            "header"
            if block["bbox"][3] <= _TOP_BAND
            else "footer"
            if block["bbox"][1] >= _BOTTOM_BAND
            else ""
        )
        if not band:
            continue
        key = re.sub(r"\d+", "#", re.sub(r"\s+", "", block["text"]))
        seen[key].add(block["page_idx"])
        banded.append((block, band, key))
    for block, band, key in banded:
        if _PAGE_NUMBER.match(block["text"].strip()):
            block["type"] = "page_number"
        elif len(seen[key]) >= 3 and len(seen[key]) * 2 >= len(pages):
            block["type"] = band


def furniture_summary(blocks: list[Block]) -> dict[str, int]:
    counts = Counter(block["type"] for block in blocks if block["type"] in FURNITURE_TYPES)
    return {kind: counts.get(kind, 0) for kind in sorted(FURNITURE_TYPES)}
