"""Script classes of characters, and the document language guessed from them."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Sentence ends in Chinese/Japanese and Western text; closing quotes/brackets may follow them.
SENTENCE_END = "。！？!?．.;；…"
CLOSERS = "”’\"'）)]】》」』"
_HAN = re.compile("[\u4e00-\u9fff\u3400-\u4dbf]")
_KANA = re.compile("[\u3040-\u30ff]")
_HANGUL = re.compile("[\uac00-\ud7af]")
_LATIN = re.compile("[A-Za-z]")


def is_wide(char: str) -> bool:
    """CJK ideographs, kana, hangul and full-width punctuation: text written without spaces between words
    (hangul is written with spaces, but never needs one inserted at a line break)."""
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x3000 <= code <= 0x30FF
        or 0xAC00 <= code <= 0xD7AF
        or 0xFF00 <= code <= 0xFFEF
        or 0xF900 <= code <= 0xFAFF
        or char in "“”‘’—…"
    )


def detect_language(texts: Iterable[str]) -> str:
    """Guess the dominant language from script counts: ``zh``, ``ja``, ``ko``, ``en`` or ``und``."""
    text = "".join(texts)
    han = len(_HAN.findall(text))
    kana = len(_KANA.findall(text))
    hangul = len(_HANGUL.findall(text))
    latin = len(_LATIN.findall(text))
    if kana and kana * 10 >= han:
        return "ja"
    if hangul and hangul >= han and hangul * 5 >= latin:
        return "ko"
    # A Chinese character carries roughly as much text as a Latin word of five letters.
    if han and han * 5 >= latin:
        return "zh"
    return "en" if latin else "und"


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends with sentence-final punctuation (closing quotes and brackets skipped)."""
    stripped = text.rstrip().rstrip(CLOSERS)
    return bool(stripped) and stripped[-1] in SENTENCE_END + ":："
