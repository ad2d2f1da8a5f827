"""The section tree: every heading of level >= 1 opens a section that runs until the next heading of the
same or a shallower level. The title (level 0) and page furniture belong to no section."""

from __future__ import annotations

from typing import Any

from functions.structure.blocks import FURNITURE_TYPES, Block


def build_sections(blocks: list[Block]) -> list[dict[str, Any]]:
    """Sections in document order; sets ``section_id`` and ``section_path`` on every block in place."""
    sections: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []
    for block in blocks:
        block["section_id"] = None
        block["section_path"] = []
        if block["type"] in FURNITURE_TYPES or (block["type"] == "heading" and block["level"] == 0):
            continue
        if block["type"] == "heading":
            while stack and stack[-1]["level"] >= block["level"]:
                stack.pop()
            section = _new_section(len(sections) + 1, block, stack[-1]["id"] if stack else None)
            sections.append(section)
            stack.append(section)
        if not stack:
            continue
        block["section_id"] = stack[-1]["id"]
        block["section_path"] = [section["id"] for section in stack]
        stack[-1]["block_ids"].append(block["id"])
        for page in _pages(block):
            for open_section in stack:
                open_section["page_end"] = max(open_section["page_end"], page)
    return sections


def _pages(block: Block) -> list[int]:
    return [frag["page_idx"] for frag in block["fragments"]] or [block["page_idx"]]


def _new_section(number: int, heading: Block, parent_id: str | None) -> dict[str, Any]:
    prefix = heading.get("numbering", "")
    title = heading["text"].strip()
    if prefix and prefix in title:
        title = title[title.index(prefix) + len(prefix) :]
    return {
        "id": f"s{number:04d}",
        "title": title.strip().strip("*_").strip(),
        "numbering": prefix,
        "level": heading["level"],
        "parent_id": parent_id,
        "heading_block_id": heading["id"],
        "page_start": heading["page_idx"],
        "page_end": heading["page_idx"],
        "block_ids": [],
    }
