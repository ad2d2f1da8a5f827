"""Text fidelity of a parse against reference markdown: 1 − normalised edit distance of folded text.

Both sides are folded the same way before comparing: markdown and HTML markup (heading marks, emphasis,
table pipes and rules, image links, tags) removed, then all whitespace removed, so the score measures the
words and their order rather than layout or markup conventions.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_TAG = re.compile(r"<[^>]+>")
_MARKUP = re.compile(r"[#*_|`>~]|-{3,}|={3,}|:?-{3,}:?")
_SPACE = re.compile(r"\s+")


def fold(markdown: str) -> str:
    text = _IMAGE.sub(" ", markdown)
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    text = _MARKUP.sub(" ", text)
    return _SPACE.sub("", text)


def similarity(parsed: str, reference: str) -> float:
    """1 − normalised Levenshtein distance of the folded texts (1.0: identical)."""
    return float(Levenshtein.normalized_similarity(fold(parsed), fold(reference)))
