"""Map a character range of a chunk back to blocks, and a range of a block back to pages and boxes.

These are what evidence needs: a quote found at ``chunk["text"][start:end]`` becomes block ids with offsets
(:func:`chunk_range_to_blocks`), and each of those becomes the page(s) and MinerU bbox(es) it was printed in
(:func:`block_range_to_fragments`). Separators between a chunk's pieces belong to no block and are skipped.
"""

from __future__ import annotations

from typing import Any


def chunk_range_to_blocks(chunk: dict[str, Any], start: int, end: int) -> list[dict[str, Any]]:
    """The block ranges that ``chunk["text"][start:end]`` is made of, in order.

    Each item is ``{"block_id", "field", "block_start", "block_end"}`` with
    ``block[field][block_start:block_end] == chunk["text"][chunk_start:chunk_end]`` for the overlapping part
    of the span. Raises ``ValueError`` for a range outside the chunk.
    """
    if not 0 <= start <= end <= len(chunk["text"]):
        raise ValueError(f"range [{start}, {end}) is outside the chunk's {len(chunk['text'])} characters")
    found = []
    for span in chunk["spans"]:
        low, high = max(start, span["chunk_start"]), min(end, span["chunk_end"])
        if low >= high:
            continue
        offset = span["block_start"] - span["chunk_start"]
        found.append(
            {
                "block_id": span["block_id"],
                "field": span["field"],
                "block_start": low + offset,
                "block_end": high + offset,
            }
        )
    return found


def block_range_to_fragments(block: dict[str, Any], start: int, end: int) -> list[dict[str, Any]]:
    """Where ``block["text"][start:end]`` was printed: ``{"page_idx", "bbox", "source", "source_start",
    "source_end"}`` per content-list block it came from (captions and footnotes map to the block's box)."""
    fragments = block.get("fragments") or []
    found = []
    for frag in fragments:
        low, high = max(start, frag["start"]), min(end, frag["end"])
        if low >= high:
            continue
        source_start = frag["source_start"] + low - frag["start"]
        found.append(
            {
                "page_idx": frag["page_idx"],
                "bbox": frag["bbox"],
                "source": frag["source"],
                "source_start": source_start,
                "source_end": source_start + high - low,
            }
        )
    return found
