"""Heading numbering prefixes: which scheme a prefix belongs to and how deep it is within the scheme.

Schemes are what a document nests: ``第X章`` chapters, ``第X节`` sections, ``第X条`` articles, ``一、``,
``（一）``/``(一)``, Arabic ``1.``/``1、``/``1 Title``/``1.1``/``1.1.1`` (depth = number of parts),
``（1）``/``(1)``, circled ``①``, Roman ``I.``/``II``, capital letters ``A.``, and appendix headings.
The scheme alone says nothing about depth in the document: :mod:`functions.structure.headings` ranks
schemes by the order in which they first appear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CN_DIGITS = "零〇一二三四五六七八九十百千两"
_OPTIONAL_BOLD = r"(?:\*\*|__)?"

# Order matters: the first pattern that matches wins, so the specific ones come first.
_SCHEMES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("appendix", re.compile(rf"^{_OPTIONAL_BOLD}(?:附录|附件)\s*[A-Z{CN_DIGITS}\d]*[、.．:：]?\s*")),
    ("appendix", re.compile(r"^(?:\*\*|__)?(?:APPENDIX|Appendix)(?:\s+[A-Z0-9]{1,2}\b)?[.:]?\s*")),
    ("chapter", re.compile(rf"^{_OPTIONAL_BOLD}第[{CN_DIGITS}\d]+(?:章|篇|部分)\s*")),
    ("section", re.compile(rf"^{_OPTIONAL_BOLD}第[{CN_DIGITS}\d]+节\s*")),
    ("article", re.compile(rf"^{_OPTIONAL_BOLD}第[{CN_DIGITS}\d]+条\s*")),
    ("cn_list", re.compile(rf"^{_OPTIONAL_BOLD}[{CN_DIGITS}]{{1,3}}[、．.]\s*")),
    ("cn_paren", re.compile(rf"^{_OPTIONAL_BOLD}[（(][{CN_DIGITS}]{{1,3}}[）)]\s*")),
    ("arabic_paren", re.compile(rf"^{_OPTIONAL_BOLD}[（(]\d{{1,2}}[）)]\s*")),
    ("circled", re.compile(rf"^{_OPTIONAL_BOLD}[①-⑳]\s*")),
    (
        "arabic",
        re.compile(rf"^{_OPTIONAL_BOLD}\d{{1,2}}(?:[.．]\d{{1,2}})*(?:[.．、]|\s+|(?=[^\d.．\s]))\s*"),
    ),
    ("roman", re.compile(rf"^{_OPTIONAL_BOLD}(?=[IVXL]+\.?\s)[IVXL]{{1,5}}\.?\s+")),
    ("letter", re.compile(rf"^{_OPTIONAL_BOLD}[A-H][.．]\s+")),
)

# Schemes a bare line may use to become a heading without MinerU's hint: Roman numerals and letters also
# start author initials and list items ("J. Smith", "A. the first option").
PROMOTABLE_SCHEMES = frozenset(
    {"appendix", "chapter", "section", "article", "cn_list", "cn_paren", "arabic", "arabic_paren"}
)

_DATE = re.compile(
    r"^\s*(?:\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b|"
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+\d{1,2},?\s+\d{4})"
)
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Numbering:
    """A heading's numbering prefix: its scheme, depth within the scheme and the literal prefix."""

    scheme: str
    depth: int
    prefix: str


def parse_numbering(text: str) -> Numbering | None:
    """Recognise a heading's numbering prefix (``一、``, ``（一）``, ``1.2``, ``第三章``, ``II.`` …), or None.

    Dates (``2021 年5 月``), measurements (``3.8 米``) and bare numbers are not numbering.
    """
    stripped = text.lstrip()
    if _DATE.match(stripped):
        return None
    for scheme, pattern in _SCHEMES:
        match = pattern.match(stripped)
        if not match:
            continue
        raw = match.group(0)
        rest = stripped[len(raw) :]
        if not _has_title(rest, scheme):
            continue
        if scheme == "arabic" and not _plausible_arabic(raw, rest):
            continue
        prefix = raw.strip().strip("*_").strip()
        if scheme == "appendix" and not prefix:
            continue
        depth = len(re.findall(r"\d+", prefix)) if scheme == "arabic" else 1
        return Numbering(scheme, depth, prefix)
    return None


def numbering_span(text: str) -> tuple[int, Numbering] | None:
    """Like :func:`parse_numbering`, also giving where the title starts in ``text``."""
    numbering = parse_numbering(text)
    if numbering is None:
        return None
    position = text.find(numbering.prefix) + len(numbering.prefix)
    while position < len(text) and (text[position].isspace() or text[position] in "*_"):
        position += 1
    return position, numbering


def is_date_line(text: str) -> bool:
    return bool(_DATE.match(text))


def _has_title(rest: str, scheme: str) -> bool:
    """A numbering prefix must be followed by words (``1.`` alone, or ``1 0.5 0.3`` in a table, is not)."""
    letters = _LETTER.findall(rest[:12])
    if scheme == "appendix":
        return True
    return len(letters) >= 2 or (len(letters) == 1 and len(rest.strip()) <= 2 and rest.strip().isalpha())


def _plausible_arabic(prefix: str, rest: str) -> bool:
    """``1. Introduction``, ``3.2 施工方案``, ``1、教育`` are numbering; ``17号线`` or ``3.8 米`` are not."""
    body = prefix.strip().strip("*_")
    marked = body[-1:] in ".．、"
    dotted = bool(re.search(r"\d[.．]\d", body))
    spaced = prefix != prefix.rstrip()
    if not (marked or dotted or spaced):
        return False
    first = rest.lstrip()[:1]
    # "3.8 米": a decimal followed by a unit is a measurement, not section 3.8.
    if dotted and not marked and first and _is_cjk(first) and len(rest.strip()) <= 1:
        return False
    return not (first.isascii() and first.isalpha() and first.islower())


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"
