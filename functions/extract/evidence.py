"""Locating quotes in ``document.json``: block id, character span, page and bbox for every value.

A quote is searched in the blocks' ``text`` (then ``caption``, ``footnote``) after normalising what an LLM
or MinerU changes without changing meaning: whitespace (MinerU writes ``2021 年5 月``), full- and half-width
punctuation, quote marks and letter case. The span reported is in the block's original text. A quote with
an ellipsis is located part by part inside one block. A quote that cannot be found is returned with
``verified: False`` and no location: kept, never trusted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from functions.extract.routing import table_text
from functions.structure.blocks import FURNITURE_TYPES

TEXT_KEYS = ("text", "caption", "footnote")
_PUNCTUATION = str.maketrans(
    {
        "，": ",",
        "：": ":",
        "；": ";",
        "（": "(",
        "）": ")",
        "！": "!",
        "？": "?",
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "「": '"',
        "」": '"',
        "【": "[",
        "】": "]",
        "—": "-",
        "–": "-",
        "－": "-",
        "．": ".",
        "％": "%",
    }
)
_ELLIPSIS = re.compile(r"(?:\.{3,}|…+|⋯+)")
_MIN_PART = 4


@dataclass(frozen=True)
class Evidence:
    quote: str
    verified: bool
    block_id: str | None = None
    text_key: str = "text"
    start: int | None = None
    end: int | None = None
    page_idx: int | None = None
    bbox: list[float] | None = None
    section_id: str | None = None
    source_text: str = ""  # the located characters exactly as the block has them
    # A quote running over two consecutive blocks (a title split by MinerU): both ids, the span starts in
    # the first and ends in the second, bbox is their union when they share a page.
    next_block_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"quote": self.quote, "verified": self.verified}
        if self.verified:
            out.update(
                block_id=self.block_id,
                block_ids=[self.block_id] + ([self.next_block_id] if self.next_block_id else []),
                char_start=self.start,
                char_end=self.end,
                page_idx=self.page_idx,
                bbox=self.bbox,
                section_id=self.section_id,
            )
            if self.text_key != "text":
                out["text_key"] = self.text_key
        return out


@dataclass(frozen=True)
class _Text:
    block: dict[str, Any]
    key: str
    original: str
    normalised: str
    positions: tuple[int, ...]  # original index of every normalised character


def normalise(text: str) -> tuple[str, tuple[int, ...]]:
    """``text`` without whitespace, with unified punctuation and case, and the original index per char."""
    chars: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        if char.isspace():
            continue
        chars.append(char.translate(_PUNCTUATION).lower())
        positions.append(index)
    return "".join(chars), tuple(positions)


class Locator:
    """Finds quotes in one document; build once per document, query from many threads (read-only)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._texts: list[_Text] = []
        for block in document.get("blocks", []):
            if block.get("type") in FURNITURE_TYPES:
                continue
            for key in TEXT_KEYS:
                value = block.get(key)
                if isinstance(value, str) and value.strip():
                    normalised, positions = normalise(value)
                    self._texts.append(_Text(block, key, value, normalised, positions))
            if isinstance(block.get("html"), str):
                # Spans of a table point into its cell text as routing renders it (see table_text).
                value = table_text(block["html"])
                normalised, positions = normalise(value)
                self._texts.append(_Text(block, "table_text", value, normalised, positions))

    def locate(self, quote: str, prefer: Iterable[str] = ()) -> Evidence:
        """Where ``quote`` occurs; blocks listed in ``prefer`` (e.g. the routed ones) are searched first."""
        quote = quote.strip()
        wanted, _ = normalise(quote)
        if not wanted:
            return Evidence(quote, False)
        for text in self._ordered(prefer):
            found = self._find(text, wanted)
            if found is not None:
                return self._evidence(quote, text, *found)
        return self._across(quote, wanted) or Evidence(quote, False)

    def locate_all(self, quotes: Sequence[str], prefer: Iterable[str] = ()) -> list[Evidence]:
        preferred = list(prefer)
        return [self.locate(quote, preferred) for quote in quotes if quote and quote.strip()]

    def _ordered(self, prefer: Iterable[str]) -> list[_Text]:
        rank = {block_id: index for index, block_id in enumerate(prefer)}
        return sorted(self._texts, key=lambda text: (rank.get(text.block.get("id", ""), len(rank)),))

    @staticmethod
    def _find(text: _Text, wanted: str) -> tuple[int, int] | None:
        position = text.normalised.find(wanted)
        if position >= 0:
            return position, position + len(wanted)
        parts = [part for part in _ELLIPSIS.split(wanted) if part]
        if len(parts) < 2 or any(len(part) < _MIN_PART for part in parts):
            return None
        start = cursor = text.normalised.find(parts[0])
        if start < 0:
            return None
        for part in parts:
            cursor = text.normalised.find(part, cursor)
            if cursor < 0:
                return None
            cursor += len(part)
        return start, cursor

    def _across(self, quote: str, wanted: str) -> Evidence | None:
        texts = [text for text in self._texts if text.key == "text"]
        for first, second in pairwise(texts):
            joined = first.normalised + second.normalised
            start = joined.find(wanted)
            split = len(first.normalised)
            if start < 0 or start >= split or start + len(wanted) <= split:
                continue
            end = start + len(wanted) - split
            a, b = first.block, second.block
            bbox = a.get("bbox")
            if a.get("page_idx") == b.get("page_idx") and a.get("bbox") and b.get("bbox"):
                bbox = [min(a["bbox"][0], b["bbox"][0]), min(a["bbox"][1], b["bbox"][1])]
                bbox += [max(a["bbox"][2], b["bbox"][2]), max(a["bbox"][3], b["bbox"][3])]
            return Evidence(
                quote=quote,
                verified=True,
                block_id=a.get("id"),
                start=first.positions[start],
                end=second.positions[end - 1] + 1,
                page_idx=a.get("page_idx"),
                bbox=bbox,
                section_id=a.get("section_id"),
                source_text=first.original[first.positions[start] :]
                + second.original[: second.positions[end - 1] + 1],
                next_block_id=b.get("id"),
            )
        return None

    @staticmethod
    def _evidence(quote: str, text: _Text, start: int, end: int) -> Evidence:
        block = text.block
        return Evidence(
            quote=quote,
            verified=True,
            block_id=block.get("id"),
            text_key=text.key,
            start=text.positions[start],
            end=text.positions[end - 1] + 1,
            page_idx=block.get("page_idx"),
            bbox=block.get("bbox"),
            section_id=block.get("section_id"),
            source_text=text.original[text.positions[start] : text.positions[end - 1] + 1],
        )
