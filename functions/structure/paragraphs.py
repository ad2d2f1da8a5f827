"""Join paragraphs that a page or column break cut in two.

A paragraph continues in the next body block when that block starts the next page or the next column (it
lies above the first part, to its right), only page furniture, footnotes and floating figures/tables sit
between them, the first part ends mid-sentence and the second does not start a numbered item. The parts
are joined without a space between wide (CJK) characters, with one space otherwise, and an English word
hyphenated across the break loses its hyphen. Each join is recorded on the block (``joins``) with the
separator inserted and the character dropped, so no character disappears without a trace.
"""

from __future__ import annotations

from functions.structure.blocks import FLOAT_TYPES, FURNITURE_TYPES, Block
from functions.structure.language import ends_sentence, is_wide
from functions.structure.numbering import parse_numbering

_SKIPPABLE = FURNITURE_TYPES | FLOAT_TYPES | {"footnote"}
_COLUMN_GAP = 10.0


def join_broken_paragraphs(blocks: list[Block]) -> list[Block]:
    """The block list with continuations merged into the paragraph they continue."""
    result: list[Block] = []
    absorbed: set[int] = set()
    for index, block in enumerate(blocks):
        if index in absorbed:
            continue
        result.append(block)
        if block["type"] != "paragraph":
            continue
        current = block
        cursor = index + 1
        while True:
            follower = _continuation(blocks, cursor, current)
            if follower is None:
                break
            _append(current, blocks[follower])
            absorbed.add(follower)
            cursor = follower + 1
    return result


def _continuation(blocks: list[Block], start: int, current: Block) -> int | None:
    for index in range(start, len(blocks)):
        candidate = blocks[index]
        if candidate["type"] in _SKIPPABLE:
            continue
        if candidate["type"] != "paragraph" or not _breaks_between(current, candidate):
            return None
        return index if _continues(current["text"], candidate["text"]) else None
    return None


def _breaks_between(first: Block, second: Block) -> bool:
    """``second`` starts a new page, or a new column to the right of and above the end of ``first``."""
    last = first["fragments"][-1] if first["fragments"] else first
    head = second["fragments"][0] if second["fragments"] else second
    if head["page_idx"] == last["page_idx"] + 1:
        return True
    if head["page_idx"] != last["page_idx"] or len(head["bbox"]) != 4 or len(last["bbox"]) != 4:
        return False
    return head["bbox"][1] < last["bbox"][1] and head["bbox"][0] >= last["bbox"][2] - _COLUMN_GAP


def _continues(first: str, second: str) -> bool:
    tail, head = first.rstrip(), second.lstrip()
    if not tail or not head or ends_sentence(tail) or parse_numbering(head) is not None:
        return False
    last, nxt = tail[-1], head[0]
    if is_wide(last) or is_wide(nxt):
        return is_wide(nxt) or nxt.isalnum() or nxt in "(（《“\"'"
    # Western text: the break is mid-sentence when the first part stops on a word, comma or hyphen and the
    # second resumes in lower case (a capital could start a new paragraph after a missing full stop).
    return (last.isalnum() or last in ",-–") and (nxt.islower() or (last == "-" and nxt.isalpha()))


def _append(block: Block, follower: Block) -> None:
    text = block["text"].rstrip()
    head = follower["text"]
    skipped = len(head) - len(head.lstrip())
    dropped = ""
    if text.endswith("-") and len(text) > 1 and text[-2].isalpha() and head.lstrip()[:1].islower():
        text, dropped = text[:-1], "-"
        separator = ""
    elif is_wide(text[-1]) or is_wide(head.lstrip()[0]):
        separator = ""
    else:
        separator = " "
    offset = len(text) + len(separator)
    fragments = [_clip(frag, len(text)) for frag in block["fragments"]]
    for frag in follower["fragments"]:
        if frag["end"] <= skipped:
            continue
        begin = max(frag["start"], skipped)
        fragments.append(
            {
                **frag,
                "start": begin - skipped + offset,
                "end": frag["end"] - skipped + offset,
                "source_start": frag["source_start"] + begin - frag["start"],
            }
        )
    block.setdefault("joins", []).append({"offset": len(text), "separator": separator, "dropped": dropped})
    block["fragments"] = [frag for frag in fragments if frag["end"] > frag["start"]]
    block["text"] = text + separator + head.lstrip()


def _clip(frag: Block, length: int) -> Block:
    return {**frag, "end": min(frag["end"], length), "start": min(frag["start"], length)}
