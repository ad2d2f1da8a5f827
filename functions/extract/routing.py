"""Routing: which blocks of a document can answer which category, decided by rules one can read back.

A category's *terms* are its name (without numbering such as ``3.`` and parentheticals), labels, synonyms
and keywords. Its *field terms* are the same for each of its fields. A body block is routed to the
category when

1. it sits in a section (or a subsection of one) whose heading contains a category term, or
2. its own text contains a category or field term (at least two characters, so ``日`` routes nothing),

and a field's ``source_categories`` add those categories' blocks. Every routed block carries the reason
it was chosen. When the blocks exceed the category's ``max_tokens`` (one token per character, a safe bound
for CJK text), heading matches are kept first, then blocks with the most distinct terms. A category no
block matches gets no LLM call at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.ontology import Category, Field, Ontology
from functions.structure.blocks import FURNITURE_TYPES

DEFAULT_CONTEXT_CHARS = 6000
MIN_TERM = 2

_NUMBER_PREFIX = re.compile(r"^[\d.．、\s]+")
_PARENTHETICAL = re.compile(r"（[^）]*）|\([^)]*\)")
_GENERIC = re.compile(r"名称|情况|是否|有无|及其|以及|及|和|与|的|、|/|，|,|\s")


@dataclass(frozen=True)
class RoutedBlock:
    block: dict[str, Any]
    reason: str
    by_heading: bool
    score: int

    @property
    def id(self) -> str:
        return str(self.block.get("id", ""))


@dataclass(frozen=True)
class Route:
    """The blocks (document order) a category's prompt carries, with the reason for each."""

    category: Category
    blocks: tuple[RoutedBlock, ...]
    dropped: int  # blocks that matched but did not fit the category's budget

    @property
    def block_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.blocks)

    @property
    def empty(self) -> bool:
        return not self.blocks

    def explain(self) -> dict[str, Any]:
        return {
            "blocks": list(self.block_ids),
            "reasons": {item.id: item.reason for item in self.blocks},
            "dropped_for_budget": self.dropped,
        }


def clean_name(name: str) -> str:
    """A category or field name without numbering (``3.1``) and parentheticals (``（X年X月X日）``)."""
    return _PARENTHETICAL.sub("", _NUMBER_PREFIX.sub("", name)).strip()


def category_terms(category: Category) -> tuple[str, ...]:
    words = [clean_name(category.name), *(label for _, label in category.labels), *category.synonyms]
    words += [clean_name(word) for word in category.keywords]
    return _unique(words)


def field_terms(item: Field) -> tuple[str, ...]:
    name = clean_name(item.name)
    parts = [part for part in _GENERIC.split(name) if part]
    return _unique([*item.keywords, *item.synonyms, name, *parts])


def route_document(document: dict[str, Any], ontology: Ontology) -> dict[str, Route]:
    """A :class:`Route` per category name, in ontology order."""
    sections = {section["id"]: section for section in document.get("sections", [])}
    body = [
        block
        for block in document.get("blocks", [])
        if block.get("type") not in FURNITURE_TYPES and block.get("type") != "heading" and _text(block)
    ]
    positions = {block.get("id", ""): index for index, block in enumerate(body)}
    own = {category.name: _matches(category, body, sections) for category in ontology.categories}
    routes: dict[str, Route] = {}
    for category in ontology.categories:
        matched = dict(own[category.name])
        for source in _source_categories(category):
            for block_id, item in own.get(source, {}).items():
                matched.setdefault(block_id, RoutedBlock(item.block, f"source category {source}", False, 0))
        routes[category.name] = _fit(category, matched, positions)
    return routes


def render_context(route: Route, document: dict[str, Any]) -> str:
    """The routed blocks as prompt text: a heading path line whenever the section changes, then
    ``[block id] text`` lines, so answers can cite blocks and a reader can check them."""
    titles = _section_paths(document.get("sections", []))
    lines: list[str] = []
    last_section: object = object()
    for item in route.blocks:
        section_id = item.block.get("section_id")
        if section_id != last_section:
            path = titles.get(section_id or "", "")
            if path:
                lines.append(f"§ {path}")
            last_section = section_id
        lines.append(f"[{item.id}] {_text(item.block)}")
    return "\n".join(lines)


# --- matching -----------------------------------------------------------------------------------------------


def _matches(
    category: Category, body: list[dict[str, Any]], sections: dict[str, dict[str, Any]]
) -> dict[str, RoutedBlock]:
    terms = [term for term in category_terms(category) if len(term) >= MIN_TERM]
    heading_hits: dict[str, str] = {}
    for section_id, section in sections.items():
        heading = f"{section.get('numbering', '')}{section.get('title', '')}"
        term = next((term for term in terms if term in heading), None)
        if term is not None:
            heading_hits[section_id] = f"heading '{heading.strip()}' contains '{term}'"
    words = _unique(
        [
            *terms,
            *(term for item in category.fields for term in _all_field_terms(item) if len(term) >= MIN_TERM),
        ]
    )
    matched: dict[str, RoutedBlock] = {}
    for block in body:
        text = _text(block)
        hits = [word for word in words if word in text]
        reason = _heading_reason(block.get("section_id"), heading_hits, sections)
        if reason is not None:
            matched[block["id"]] = RoutedBlock(block, reason, True, len(hits))
        elif hits:
            shown = "', '".join(hits[:3])
            matched[block["id"]] = RoutedBlock(block, f"text mentions '{shown}'", False, len(hits))
    return matched


def _all_field_terms(item: Field) -> Iterable[str]:
    yield from field_terms(item)
    for sub in item.subfields:
        yield from _all_field_terms(sub)


def _heading_reason(
    section_id: str | None, heading_hits: dict[str, str], sections: dict[str, dict[str, Any]]
) -> str | None:
    seen: set[str] = set()
    while section_id and section_id not in seen:
        if section_id in heading_hits:
            return heading_hits[section_id]
        seen.add(section_id)
        section_id = sections.get(section_id, {}).get("parent_id")
    return None


def _source_categories(category: Category) -> list[str]:
    names: list[str] = []
    stack = list(category.fields)
    while stack:
        item = stack.pop()
        names.extend(name for name in item.source_categories if name != category.name)
        stack.extend(item.subfields)
    return list(dict.fromkeys(names))


def _fit(category: Category, matched: dict[str, RoutedBlock], order: dict[str, int]) -> Route:
    budget = category.max_tokens or DEFAULT_CONTEXT_CHARS
    ranked = sorted(matched.values(), key=lambda item: (not item.by_heading, -item.score, order[item.id]))
    kept: list[RoutedBlock] = []
    used = 0
    for item in ranked:
        size = len(_text(item.block))
        if kept and used + size > budget:
            continue
        kept.append(item)
        used += size
    kept.sort(key=lambda item: order[item.id])
    return Route(category, tuple(kept), len(matched) - len(kept))


def _section_paths(sections: list[dict[str, Any]]) -> dict[str, str]:
    by_id = {section["id"]: section for section in sections}
    paths: dict[str, str] = {}
    for section_id in by_id:
        chain: list[str] = []
        current: str | None = section_id
        while current and current in by_id and len(chain) < 16:
            section = by_id[current]
            chain.append(f"{section.get('numbering', '')}{section.get('title', '')}".strip())
            current = section.get("parent_id")
        paths[section_id] = " > ".join(reversed([title for title in chain if title]))
    return paths


def _text(block: dict[str, Any]) -> str:
    parts = [block.get(key) for key in ("caption", "text", "footnote")]
    if isinstance(block.get("html"), str):
        parts.append(table_text(block["html"]))
    return "\n".join(part for part in parts if isinstance(part, str) and part.strip()).strip()


def table_text(html: str) -> str:
    """A table's cell texts, cells separated by `` | `` and rows by newlines."""
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S | re.I):
        cells = [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S | re.I)
        ]
        rows.append(" | ".join(cell for cell in cells if cell))
    return "\n".join(row for row in rows if row)


def _unique(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(word.strip() for word in words if word and word.strip()))
