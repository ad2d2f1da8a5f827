"""Property-based tests: for any content list, every chunk range maps back to block and source text."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.structure.chunking import _TOKEN, _token_cost, estimate_tokens
from functions.structure.document import build_document
from functions.structure.spans import block_range_to_fragments, chunk_range_to_blocks
from tests.functions.test_structure import check_invariants, input_chars, output_chars

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF)
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
PUNCTUATION = st.sampled_from(["，", "。", "、", ", ", ". ", "; ", "-", "", " ", "\n"])
PREFIX = st.sampled_from(
    ["一、", "二、", "（一）", "（二）", "1.", "2.1 ", "(3) ", "第一章 ", "II. ", "A. ", ""]
)


@st.composite
def sentence(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(st.text(CJK, min_size=1, max_size=15), WORD, PUNCTUATION), max_size=12))
    return "".join(parts)


@st.composite
def block(draw: st.DrawFn, page: int) -> dict[str, Any]:
    x0, y0 = draw(st.integers(0, 900)), draw(st.integers(0, 900))
    bbox = [x0, y0, x0 + draw(st.integers(1, 99)), y0 + draw(st.integers(1, 99))]
    kind = draw(
        st.sampled_from(["text", "text", "text", "heading", "header", "page_number", "table", "image"])
    )
    if kind == "heading":
        text = draw(PREFIX) + draw(st.text(CJK, min_size=1, max_size=8))
        return {
            "type": "text",
            "text": text,
            "text_level": draw(st.integers(1, 3)),
            "page_idx": page,
            "bbox": bbox,
        }
    if kind in ("header", "page_number"):
        return {"type": kind, "text": draw(sentence()), "page_idx": page, "bbox": bbox}
    if kind == "table":
        return {
            "type": "table",
            "table_body": "<table><tr><td>" + draw(sentence()) + "</td></tr></table>",
            "table_caption": [draw(sentence())],
            "table_footnote": [draw(sentence())],
            "page_idx": page,
            "bbox": bbox,
        }
    if kind == "image":
        return {
            "type": "image",
            "img_path": "images/x.jpg",
            "image_caption": [draw(sentence())],
            "page_idx": page,
            "bbox": bbox,
        }
    return {"type": "text", "text": draw(PREFIX) + draw(sentence()), "page_idx": page, "bbox": bbox}


@st.composite
def content_list(draw: st.DrawFn) -> list[dict[str, Any]]:
    pages = draw(st.lists(st.integers(1, 6), min_size=1, max_size=4))
    blocks: list[dict[str, Any]] = []
    for page, count in enumerate(pages):
        blocks.extend(draw(block(page)) for _ in range(count))
    return blocks


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content_list(), st.integers(20, 300))
def test_documents_keep_every_character_and_chunks_map_back_exactly(
    blocks: list[dict[str, Any]], budget: int
) -> None:
    document = build_document(blocks, chunk_tokens=budget)
    check_invariants(document, blocks)
    assert output_chars(document) == input_chars(blocks)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content_list(), st.integers(20, 300), st.data())
def test_any_chunk_range_maps_back_to_blocks_and_sources(
    blocks: list[dict[str, Any]], budget: int, data: st.DataObject
) -> None:
    document = build_document(blocks, chunk_tokens=budget)
    if not document["chunks"]:
        return
    by_id = {item["id"]: item for item in document["blocks"]}
    chunk = data.draw(st.sampled_from(document["chunks"]))
    start = data.draw(st.integers(0, len(chunk["text"])))
    end = data.draw(st.integers(start, len(chunk["text"])))
    found = chunk_range_to_blocks(chunk, start, end)
    # The range's characters, minus the separators between pieces, are exactly the blocks' characters.
    expected = "".join(
        chunk["text"][max(start, span["chunk_start"]) : min(end, span["chunk_end"])]
        for span in chunk["spans"]
    )
    assert (
        "".join(by_id[f["block_id"]][f["field"]][f["block_start"] : f["block_end"]] for f in found)
        == expected
    )
    for piece in found:
        if piece["field"] != "text":
            continue
        owner = by_id[piece["block_id"]]
        for where in block_range_to_fragments(owner, piece["block_start"], piece["block_end"]):
            source = blocks[where["source"]]["text"]
            printed = source[where["source_start"] : where["source_end"]]
            assert printed and printed in owner["text"][piece["block_start"] : piece["block_end"]]
            assert where["page_idx"] == blocks[where["source"]]["page_idx"]


@given(st.text())
def test_token_estimate_equals_the_sum_the_cutter_uses(text: str) -> None:
    assert estimate_tokens(text) == sum(_token_cost(match) for match in _TOKEN.finditer(text))
