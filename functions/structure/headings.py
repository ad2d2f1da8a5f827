"""Which blocks are headings, where glued headings end, and how deep each heading sits.

MinerU's ``text_level`` is only a hint: its layout pipeline puts every heading at level 1, and the flash tier
leaves most headings unmarked and glues them to the paragraph that follows. The rules here:

* **Glued headings** (``一、基本情况（一）事故单位情况北京怡立…``): with the PDF's text layer, a
  printed line that starts a block or follows a sentence end, begins with a numbering prefix, has no
  sentence punctuation, and stops short of the right edge or is followed by an indented line becomes its
  own heading; without it, only a numbered title of at most 25 characters directly followed by another
  numbering prefix is split off (the run-on case), because nothing in the text says where a title such as
  ``事故单位情况`` ends.
* **Promoted**: a whole block that is a numbered, short, unpunctuated line (``五、建议和措施``).
* **Demoted**: hinted "headings" that are dates, figure/table captions, sentences, or a trailing run of
  unnumbered headings with no content after them (signature lines such as ``朝阳区应急管理局``).
* **Title**: the first run of unnumbered headings on the first page with headings, when no later unnumbered
  heading has as strong a MinerU hint. It gets level 0 and opens no section.
* **Levels**: numbered headings nest by scheme, schemes ranked by the order in which they first appear
  (``一、`` before ``（一）`` before ``1.`` makes them levels 1, 2, 3); dotted numbers add a level per part;
  appendix headings are level 1. Unnumbered headings take the level that numbered headings with the same
  MinerU hint got, else their hint's rank.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from typing import Any

from functions.structure.blocks import FURNITURE_TYPES, Block, fragment
from functions.structure.language import ends_sentence
from functions.structure.numbering import (
    PROMOTABLE_SCHEMES,
    Numbering,
    is_date_line,
    numbering_span,
    parse_numbering,
)
from functions.structure.pdf_lines import PdfLines

_TITLE_PUNCTUATION = "，。；;！？!?"
_CAPTION = re.compile(
    r"^\s*(?:Fig(?:ure)?|Table|Listing|Algorithm|Scheme|Chart|Exhibit)\.?\s*[0-9IVX]+[.:：]?\s|^\s*[图表]\s*\d+",
    re.IGNORECASE,
)
_RUN_ON_TITLE_MAX = 25
_LINE_TITLE_MAX = 60
_STANDALONE_MAX = 60
_HINTED_MAX = 200
_MAX_LINES = 80
# Schemes that may follow a title directly; a chapter or article mark there is a cross-reference.
_RUN_ON_SCHEMES = frozenset({"cn_list", "cn_paren", "arabic_paren"})
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_MARKDOWN_ESCAPE = re.compile(r"\\(?=[!-/:-@\[-`{-~])")
_AFTER_SENTENCE = re.compile(r"[。！？!?.．][”’\"）)]*\s*")
_NOT_BODY = FURNITURE_TYPES | {"footnote", "heading"}


# --- glued and run-on headings ---------------------------------------------------------------------


def split_glued_headings(blocks: list[Block], lines: PdfLines | None) -> list[Block]:
    """Split glued headings out of blocks; returns the new block list (split blocks are not reused)."""
    result: list[Block] = []
    for block in blocks:
        if block["type"] not in ("paragraph", "heading") or not _may_hold_heading(block["text"]):
            result.append(block)
            continue
        ranges: list[tuple[int, int]] | None = None
        if block["type"] == "paragraph" and lines is not None:
            ranges = _line_heading_ranges(block, lines)
        if ranges is None:
            ranges = _run_on_ranges(block["text"])
            if block["type"] == "heading" and ranges:
                # A hinted heading holding several numbered titles: every piece is a heading.
                ranges.append((ranges[-1][1], len(block["text"])))
        if not ranges:
            result.append(block)
            continue
        cuts = sorted({bound for pair in ranges for bound in pair})
        for piece, offset in split_block(block, cuts):
            if any(low <= offset < high for low, high in ranges):
                piece["type"] = "heading"
                piece["_hint"] = block["_hint"] if block["type"] == "heading" else 0
            elif block["type"] == "heading":
                piece["type"] = "paragraph"
            result.append(piece)
    return result


def _may_hold_heading(text: str) -> bool:
    return numbering_span(text) is not None or any(
        numbering_span(text[match.end() :]) is not None for match in _AFTER_SENTENCE.finditer(text)
    )


def _line_heading_ranges(block: Block, lines: PdfLines) -> list[tuple[int, int]] | None:
    """Text ranges of ``block`` printed as heading lines: a line starting at the block's start or after a
    sentence end, beginning with a numbering prefix, unpunctuated, and either stopping short of the right
    edge or followed by an indented line. None when the PDF's lines do not match the block's text (then
    the text alone has to decide)."""
    printed = [
        line
        for line in lines.lines_in(block["page_idx"], block["bbox"], limit=_MAX_LINES)
        if line.text.strip()
    ]
    text = block["text"]
    skeleton, positions = _skeleton(text)
    located: list[tuple[int, int]] = []
    cursor = 0
    for line in printed:
        line_skeleton, _ = _skeleton(line.text)
        if skeleton[cursor : cursor + len(line_skeleton)] != line_skeleton:
            break
        located.append((positions[cursor], positions[cursor + len(line_skeleton) - 1] + 1))
        cursor += len(line_skeleton)
    if not located or len(printed) < 2:
        return None
    right_edge = block["bbox"][2]
    width = max(1.0, block["bbox"][2] - block["bbox"][0])
    left_edge = min(line.bbox[0] for line in printed)
    ranges: list[tuple[int, int]] = []
    for index, (start, end) in enumerate(located[: len(printed) - 1]):
        after_heading = bool(ranges) and ranges[-1][1] == start
        if not (start == 0 or after_heading or ends_sentence(text[:start])):
            continue
        bbox, following = printed[index].bbox, printed[index + 1].bbox
        short = bbox[2] < right_edge - max(20.0, 0.1 * width)
        indented = following[0] - left_edge > max(4.0, 0.8 * (following[3] - following[1]))
        if (short or indented) and _is_heading_text(text[start:end]):
            ranges.append((start, end))
    return ranges


def _is_heading_text(text: str) -> bool:
    span = numbering_span(text)
    if span is None:
        return False
    title = text[span[0] :].strip()
    return 0 < len(title) <= _LINE_TITLE_MAX and not any(char in _TITLE_PUNCTUATION for char in title)


def _run_on_ranges(text: str) -> list[tuple[int, int]]:
    """Numbered titles at the start of ``text`` each followed directly by another numbering prefix."""
    ranges: list[tuple[int, int]] = []
    position = 0
    while True:
        span = numbering_span(text[position:])
        if span is None:
            return ranges
        title_start = position + span[0]
        cut = None
        for end in range(title_start + 2, min(len(text), title_start + _RUN_ON_TITLE_MAX + 1)):
            if text[end - 1] in _TITLE_PUNCTUATION + "：:,":
                break
            if _marker_at(text, end):
                cut = end
                break
        if cut is None:
            return ranges
        ranges.append((position, cut))
        position = cut


def _marker_at(text: str, position: int) -> bool:
    numbering = parse_numbering(text[position:])
    before = text[position - 1]
    # "事故的直接原因1.作业…" starts item 1; "第四章 3.2（3）项" and "17 号线" do not.
    if numbering is None or text[position].isspace() or (before.isascii() and before.isalnum()):
        return False
    if numbering.scheme == "arabic":
        return numbering.prefix[-1:] in ".．、"
    return numbering.scheme in _RUN_ON_SCHEMES


def _skeleton(text: str) -> tuple[str, list[int]]:
    """Compatibility-normalised text without whitespace, markdown emphasis and escapes or HTML tags, with each
    character's index in ``text``: MinerU writes ``:`` where the PDF has ``：``, wraps bold text in ``**``
    and superscripts in ``<sup>``."""
    chars: list[str] = []
    positions: list[int] = []
    hidden = {index for tag in _HTML_TAG.finditer(text) for index in range(tag.start(), tag.end())}
    hidden.update(match.start() for match in _MARKDOWN_ESCAPE.finditer(text))
    for index, char in enumerate(text):
        if index in hidden:
            continue
        for normal in unicodedata.normalize("NFKC", char):
            if not normal.isspace() and normal not in "*_":
                chars.append(normal)
                positions.append(index)
    return "".join(chars), positions


def split_block(block: Block, cuts: list[int]) -> list[tuple[Block, int]]:
    """``block`` cut at the given text offsets, each piece with its offset in the block's text; whitespace
    at the cuts is dropped, fragments follow."""
    text = block["text"]
    bounds = [0, *sorted(set(cut for cut in cuts if 0 < cut < len(text))), len(text)]
    pieces: list[tuple[Block, int]] = []
    for start, end in itertools.pairwise(bounds):
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            continue
        piece = {key: value for key, value in block.items() if key != "fragments"}
        piece["text"] = text[start:end]
        piece["fragments"] = _slice_fragments(block["fragments"], start, end)
        piece["page_idx"] = piece["fragments"][0]["page_idx"]
        piece["bbox"] = list(piece["fragments"][0]["bbox"])
        pieces.append((piece, start))
    return pieces or [(block, 0)]


def _slice_fragments(fragments: list[Block], start: int, end: int) -> list[Block]:
    sliced = []
    for frag in fragments:
        low, high = max(start, frag["start"]), min(end, frag["end"])
        if low < high:
            sliced.append(
                fragment(
                    frag["source"],
                    frag["page_idx"],
                    frag["bbox"],
                    low - start,
                    high - start,
                    frag["source_start"] + low - frag["start"],
                )
            )
    return sliced


# --- promotion and demotion ------------------------------------------------------------------------


def classify(blocks: list[Block]) -> None:
    """Promote standalone numbered lines to headings and demote hinted non-headings, in place."""
    for block in blocks:
        if block["type"] == "paragraph" and is_standalone_heading(block["text"]):
            block["type"] = "heading"
        elif block["type"] == "heading" and not _plausible_heading(block["text"]):
            block["type"] = "paragraph"


def is_standalone_heading(text: str) -> bool:
    """A whole block that reads as a numbered heading: ``五、建议和措施``, ``(2) 생명보험 표준약관``."""
    span = numbering_span(text)
    if span is None or span[1].scheme not in PROMOTABLE_SCHEMES or "\n" in text.strip():
        return False
    title = text[span[0] :].strip().strip("*_").strip()
    return (
        0 < len(title) <= _STANDALONE_MAX
        and len(title.split()) <= 15
        and not any(char in _TITLE_PUNCTUATION for char in title)
        and not ends_sentence(title)
        and not (title[:1].isascii() and title[:1].islower())
    )


def _plausible_heading(text: str) -> bool:
    stripped = text.strip()
    if is_date_line(stripped) or _CAPTION.match(stripped) or len(stripped) > _HINTED_MAX:
        return False
    return not stripped.endswith("。")


def demote_trailing(blocks: list[Block]) -> None:
    """Unnumbered headings after the last piece of body text head nothing: signature lines such as
    ``朝阳区应急管理局`` above an issue date."""
    for block in reversed(blocks):
        if block["type"] == "heading":
            if parse_numbering(block["text"]) is not None:
                return
            block["type"] = "paragraph"
        elif block["type"] not in _NOT_BODY and not is_date_line(block["text"]):
            return


# --- title and levels ------------------------------------------------------------------------------


def assign_levels(blocks: list[Block]) -> None:
    """Set ``level`` and ``numbering`` on every heading block: 0 for the title, else 1 + depth."""
    headings = [block for block in blocks if block["type"] == "heading"]
    numbering = {id(block): parse_numbering(block["text"]) for block in headings}
    title = _title_run(blocks, numbering)
    for block in headings:
        block["numbering"] = numbering[id(block)].prefix if numbering[id(block)] else ""  # type: ignore[union-attr]
    for block in title:
        block["level"] = 0
    rest = [block for block in headings if not any(block is t for t in title)]
    numbered = [(block, numbering[id(block)]) for block in rest if numbering[id(block)] is not None]
    offsets = scheme_offsets([n for _, n in numbered if n is not None])
    by_hint: dict[int, int] = {}
    for block, found in numbered:
        assert found is not None
        level = 1 if found.scheme == "appendix" else 1 + offsets[found.scheme] + found.depth - 1
        block["level"] = level
        if block["_hint"]:
            by_hint[block["_hint"]] = min(by_hint.get(block["_hint"], level), level)
    unnumbered = [block for block in rest if numbering[id(block)] is None]
    ranks = {hint: rank for rank, hint in enumerate(sorted({b["_hint"] or 1 for b in unnumbered}), start=1)}
    for block in unnumbered:
        hint = block["_hint"] or 1
        block["level"] = by_hint.get(hint, 1 if by_hint else ranks[hint])


def scheme_offsets(numberings: list[Numbering]) -> dict[str, int]:
    """Level offset of each scheme: schemes ranked by first appearance, each as deep as its deepest use."""
    order: list[str] = []
    depth: dict[str, int] = defaultdict(int)
    for found in numberings:
        if found.scheme == "appendix":
            continue
        if found.scheme not in depth:
            order.append(found.scheme)
        depth[found.scheme] = max(depth[found.scheme], found.depth)
    offsets = {"appendix": 0}
    running = 0
    for scheme in order:
        offsets[scheme] = running
        running += depth[scheme]
    return offsets


def _title_run(blocks: list[Block], numbering: dict[int, Any]) -> list[Block]:
    run: list[Block] = []
    for block in blocks:
        if block["type"] in FURNITURE_TYPES:
            continue
        if block["type"] != "heading" or numbering[id(block)] is not None:
            if run or block["type"] == "heading":
                break
            continue
        if run and (block["page_idx"] != run[0]["page_idx"] or block["_hint"] != run[0]["_hint"]):
            break
        run.append(block)
    if not run or run[0]["page_idx"] > 1:
        return []
    strength = min(block["_hint"] or 99 for block in run)
    others = [
        block
        for block in blocks
        if block["type"] == "heading" and numbering[id(block)] is None and not any(block is r for r in run)
    ]
    if any((block["_hint"] or 99) <= strength for block in others):
        return []
    return run
