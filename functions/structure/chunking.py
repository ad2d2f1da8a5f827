"""Section-aware chunks with exact provenance.

* A section whose whole subtree fits the token budget is one chunk; a larger one yields its own blocks
  (heading first) and its subsections' chunks, and neighbouring pieces under the same parent are merged
  while they fit, so small sections travel together under their parent and a heading stays with the text
  that follows it.
* A block larger than the budget is cut between sentences; a sentence larger than the budget between
  clauses; only a clause larger than the budget is cut between characters.
* Chunk text is the chunk's pieces joined by a blank line. ``spans`` map every piece back: chunk range
  ``[chunk_start, chunk_end)`` equals ``block[field][block_start:block_end]``. Page furniture is in no chunk.
* Token counts are estimates that need no tokenizer download: a CJK/kana/hangul character is one token,
  an ASCII word a token per four letters, a number a token per three digits, other letters a token per two,
  any other symbol one token. For BPE tokenizers (cl100k, DeepSeek) this errs on the high side, so a chunk
  within the estimate is within the budget.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from functions.structure.blocks import FURNITURE_TYPES, Block

SEPARATOR = "\n\n"
DEFAULT_CHUNK_TOKENS = 800

_WIDE = "\u4e00-\u9fff\u3400-\u4dbf\u3040-\u30ff\uac00-\ud7af\uf900-\ufaff"
_WIDE_CHAR = re.compile(f"[{_WIDE}]")
_ASCII_WORD = re.compile(r"[A-Za-z]+")
_DIGITS = re.compile(r"\d+")
_OTHER_LETTERS = re.compile(rf"[^\W\d_A-Za-z{_WIDE}]+")
_TOKEN = re.compile(
    rf"(?P<wide>[{_WIDE}])|(?P<ascii>[A-Za-z]+)|(?P<digits>\d+)|(?P<letters>[^\W\d_A-Za-z{_WIDE}]+)|(?P<other>\S)"
)
_SENTENCE_END = re.compile(r"[。！？!?；;]+[”’\"'）)\]」』]*\s*|\.+[”’\"'）)\]]*\s+|\n+")
_CLAUSE_END = re.compile(r"[，,、：:]\s*")


def estimate_tokens(text: str) -> int:
    """A download-free, deliberately generous token count (see the module docstring)."""
    wide = len(_WIDE_CHAR.findall(text))
    ascii_words = [len(word) for word in _ASCII_WORD.findall(text)]
    numbers = [len(number) for number in _DIGITS.findall(text)]
    letters = [len(run) for run in _OTHER_LETTERS.findall(text)]
    other = len("".join(text.split())) - wide - sum(ascii_words) - sum(numbers) - sum(letters)
    return (
        wide
        + sum((size + 3) // 4 for size in ascii_words)
        + sum((size + 2) // 3 for size in numbers)
        + sum((size + 1) // 2 for size in letters)
        + other
    )


def _token_cost(match: re.Match[str]) -> int:
    kind = match.lastgroup
    size = match.end() - match.start()
    if kind == "ascii":
        return math.ceil(size / 4)
    if kind == "digits":
        return math.ceil(size / 3)
    if kind == "letters":
        return math.ceil(size / 2)
    return 1


@dataclass(frozen=True)
class Segment:
    """``block[field][start:end]`` with its estimated tokens."""

    block_id: str
    field: str
    start: int
    end: int
    tokens: int


def chunk_fields(block: Block) -> list[tuple[str, str]]:
    """The readable fields of a block in reading order: caption, body (a table's HTML), footnote."""
    body = "html" if block["type"] == "table" and block.get("html") else "text"
    fields = [
        ("caption", block.get("caption", "")),
        (body, block.get(body, "")),
        ("footnote", block.get("footnote", "")),
    ]
    return [(name, value) for name, value in fields if value and value.strip()]


def build_chunks(blocks: list[Block], sections: list[dict[str, Any]], budget: int) -> list[dict[str, Any]]:
    """Chunks of at most ``budget`` estimated tokens covering every non-furniture character once."""
    if budget < 1:
        raise ValueError("the chunk budget must be at least one token")
    by_id = {block["id"]: block for block in blocks}
    own: dict[str | None, list[Block]] = defaultdict(list)
    for block in blocks:
        if block["type"] not in FURNITURE_TYPES:
            own[block["section_id"]].append(block)
    children: dict[str | None, list[str]] = defaultdict(list)
    for section in sections:
        children[section["parent_id"]].append(section["id"])
    texts = {(block["id"], name): value for block in blocks for name, value in chunk_fields(block)}
    packer = _Packer(budget, own, children, texts)
    groups = packer.pack(None)
    headings = {
        section["id"]: by_id[section["heading_block_id"]]["text"].strip()
        for section in sections
        if section["heading_block_id"] in by_id
    }
    return [
        _chunk(number, group, by_id, texts, headings)
        for number, group in enumerate((g for g in groups if g), start=1)
    ]


class _Packer:
    def __init__(
        self,
        budget: int,
        own: dict[str | None, list[Block]],
        children: dict[str | None, list[str]],
        texts: dict[tuple[str, str], str],
    ) -> None:
        self.budget = budget
        self.own = own
        self.children = children
        self.texts = texts
        self.headings = {b["id"] for blocks in own.values() for b in blocks if b["type"] == "heading"}
        self._subtree_tokens: dict[str | None, int] = {}

    def pack(self, section_id: str | None) -> list[list[Segment]]:
        if self.subtree_tokens(section_id) <= self.budget:
            return [self.subtree_segments(section_id)]
        pieces: list[list[Segment]] = []
        for block in self.own[section_id]:
            pieces.extend(self.block_pieces(block))
        for child in self.children[section_id]:
            pieces.extend(self.pack(child))
        return self.merge(pieces)

    def merge(self, pieces: list[list[Segment]]) -> list[list[Segment]]:
        """Neighbouring pieces packed while they fit; headings that would end a chunk move to the next."""
        merged: list[list[Segment]] = []
        size = 0
        for piece in pieces:
            tokens = sum(segment.tokens for segment in piece)
            if merged and size + tokens <= self.budget:
                merged[-1] = merged[-1] + piece
                size += tokens
                continue
            carried: list[Segment] = []
            while merged and len(merged[-1]) > 1 and merged[-1][-1].block_id in self.headings:
                heading = merged[-1][-1]
                if heading.tokens + tokens + sum(s.tokens for s in carried) > self.budget:
                    break
                carried.insert(0, heading)
                merged[-1] = merged[-1][:-1]
            merged.append(carried + list(piece))
            size = tokens + sum(segment.tokens for segment in carried)
        return merged

    def subtree_tokens(self, section_id: str | None) -> int:
        if section_id not in self._subtree_tokens:
            total = sum(segment.tokens for block in self.own[section_id] for segment in self.segments(block))
            total += sum(self.subtree_tokens(child) for child in self.children[section_id])
            self._subtree_tokens[section_id] = total
        return self._subtree_tokens[section_id]

    def subtree_segments(self, section_id: str | None) -> list[Segment]:
        result = [segment for block in self.own[section_id] for segment in self.segments(block)]
        for child in self.children[section_id]:
            result.extend(self.subtree_segments(child))
        return result

    def segments(self, block: Block) -> list[Segment]:
        found = (self._segment(block["id"], name, 0, len(value)) for name, value in chunk_fields(block))
        return [segment for segment in found if segment is not None]

    def block_pieces(self, block: Block) -> list[list[Segment]]:
        """The block as one piece, or cut into pieces of at most the budget when it is larger."""
        whole = self.segments(block)
        if sum(segment.tokens for segment in whole) <= self.budget:
            return [whole]
        pieces: list[list[Segment]] = []
        for segment in whole:
            if segment.tokens <= self.budget:
                pieces.append([segment])
                continue
            text = self.texts[(segment.block_id, segment.field)]
            parts = self._cut(segment.block_id, segment.field, text, 0, len(text), _SENTENCE_END, 0)
            pieces.extend(self.merge([[part] for part in parts]))
        return self.merge(pieces)

    def _cut(
        self, block_id: str, field: str, text: str, start: int, end: int, pattern: re.Pattern[str], depth: int
    ) -> list[Segment]:
        bounds = [start]
        bounds.extend(
            match.end() for match in pattern.finditer(text, start, end) if start < match.end() < end
        )
        bounds.append(end)
        parts: list[Segment] = []
        for low, high in itertools.pairwise(bounds):
            segment = self._segment(block_id, field, low, high)
            if segment is None:
                continue
            if segment.tokens <= self.budget:
                parts.append(segment)
            elif depth == 0:
                parts.extend(self._cut(block_id, field, text, low, high, _CLAUSE_END, 1))
            else:
                parts.extend(self._hard_cut(block_id, field, text, segment.start, segment.end))
        return parts

    def _hard_cut(self, block_id: str, field: str, text: str, start: int, end: int) -> list[Segment]:
        """Cut between tokens (as the estimate counts them) so each part fits; one pass over the text."""
        bounds = [start]
        size = 0
        for match in _TOKEN.finditer(text, start, end):
            cost = _token_cost(match)
            if size and size + cost > self.budget:
                bounds.append(match.start())
                size = 0
            if cost > self.budget:
                # One "word" longer than the budget (a URL, a digit string): cut it by characters.
                step = max(1, len(match.group(0)) * self.budget // cost)
                bounds.extend(range(match.start() + step, match.end(), step))
                size = estimate_tokens(text[bounds[-1] : match.end()])
            else:
                size += cost
        bounds.append(end)
        found = (self._segment(block_id, field, low, high) for low, high in itertools.pairwise(bounds))
        return [segment for segment in found if segment is not None]

    def _segment(self, block_id: str, field: str, start: int, end: int) -> Segment | None:
        text = self.texts[(block_id, field)]
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            return Segment(block_id, field, start, end, estimate_tokens(text[start:end]))
        return None


def _chunk(
    number: int,
    group: list[Segment],
    by_id: dict[str, Block],
    texts: dict[tuple[str, str], str],
    headings: dict[str, str],
) -> dict[str, Any]:
    parts: list[str] = []
    spans: list[dict[str, Any]] = []
    length = 0
    for segment in group:
        previous = spans[-1] if spans else None
        if (
            previous is not None
            and previous["block_id"] == segment.block_id
            and previous["field"] == segment.field
            and previous["block_end"] <= segment.start
        ):
            # Consecutive cuts of one block inside one chunk read as the original text, spaces included.
            addition = texts[(segment.block_id, segment.field)][previous["block_end"] : segment.end]
            parts.append(addition)
            length += len(addition)
            previous["chunk_end"] = length
            previous["block_end"] = segment.end
            continue
        if parts:
            parts.append(SEPARATOR)
            length += len(SEPARATOR)
        piece = texts[(segment.block_id, segment.field)][segment.start : segment.end]
        parts.append(piece)
        spans.append(
            {
                "chunk_start": length,
                "chunk_end": length + len(piece),
                "block_id": segment.block_id,
                "field": segment.field,
                "block_start": segment.start,
                "block_end": segment.end,
            }
        )
        length += len(piece)
    text = "".join(parts)
    block_ids = list(dict.fromkeys(span["block_id"] for span in spans))
    paths = [by_id[block_id]["section_path"] for block_id in block_ids]
    path = _common_prefix(paths)
    pages = [page for span in spans for page in _span_pages(by_id[span["block_id"]], span)]
    return {
        "id": f"c{number:04d}",
        "section_id": path[-1] if path else None,
        "section_path": path,
        "headings": [headings[section_id] for section_id in path if section_id in headings],
        "text": text,
        "token_estimate": estimate_tokens(text),
        "page_start": min(pages),
        "page_end": max(pages),
        "block_ids": block_ids,
        "spans": spans,
    }


def _common_prefix(paths: list[list[str]]) -> list[str]:
    if not paths:
        return []
    prefix = list(paths[0])
    for path in paths[1:]:
        size = 0
        while size < min(len(prefix), len(path)) and prefix[size] == path[size]:
            size += 1
        prefix = prefix[:size]
    return prefix


def _span_pages(block: Block, span: dict[str, Any]) -> list[int]:
    if span["field"] != "text" or not block["fragments"]:
        return [block["page_idx"]]
    pages = [
        frag["page_idx"]
        for frag in block["fragments"]
        if frag["start"] < span["block_end"] and frag["end"] > span["block_start"]
    ]
    return pages or [block["page_idx"]]
