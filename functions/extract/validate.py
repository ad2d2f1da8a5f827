"""Validating an LLM answer for one category against the ontology.

The answer must be a JSON object keyed by the category's field names, each ``{"value", "quote"}`` (or
``"quotes"`` for lists and summaries). Values are checked, and gently normalised where nothing is lost, per
datatype and strategy: integers may come as ``"1"`` or ``"一"``; an option may come as one of its synonyms;
a value without a quote is its own quote. Every problem is reported as ``<field path>: <reason>`` so it can be
fed back to the model; fields without problems are kept even when others have some.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from core.ontology import Category, Field
from functions.extract.prompts import LIST_STRATEGIES, RECORD_LIST_STRATEGIES

FILLED, EMPTY, INVALID = "filled", "empty", "invalid"

_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")
_CN_DIGITS = {char: index for index, char in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_TRUE = {"true", "是", "有", "yes"}
_FALSE = {"false", "否", "无", "no"}


@dataclass
class FieldAnswer:
    value: Any
    quotes: tuple[str, ...] = ()
    status: str = FILLED
    note: str | None = None


@dataclass
class Verdict:
    answers: dict[str, FieldAnswer] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


class AnswerError(ValueError):
    """The reply is not a JSON object at all."""


def parse_reply(text: str) -> dict[str, Any]:
    """The JSON object in a reply (a Markdown code fence around it is tolerated)."""
    try:
        data = json.loads(_FENCE.sub("", text))
    except ValueError as exc:
        raise AnswerError(f"the reply is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise AnswerError(f"the reply must be a JSON object keyed by field name, not {type(data).__name__}")
    return data


def validate_reply(category: Category, text: str) -> Verdict:
    """Parse and validate a reply; a reply that is not a JSON object gives one error and no answers."""
    try:
        data = parse_reply(text)
    except AnswerError as exc:
        return Verdict(errors=[str(exc)])
    return validate_answer(category, data)


def validate_answer(category: Category, data: dict[str, Any]) -> Verdict:
    verdict = Verdict()
    names = [item.name for item in category.fields]
    unknown = [key for key in data if key not in names]
    for key in unknown:
        verdict.errors.append(
            f'"{key}": not a field of {category.name}; the fields are {json.dumps(names, ensure_ascii=False)}'
        )
    for item in category.fields:
        if item.name not in data:
            verdict.errors.append(f'"{item.name}": missing; every field must be present')
            verdict.answers[item.name] = FieldAnswer(None, (), INVALID, "missing from the answer")
            continue
        answer, errors = _field_answer(item, data[item.name])
        verdict.answers[item.name] = answer
        verdict.errors.extend(errors)
    return verdict


def is_empty(value: Any) -> bool:
    if value is None or value == "" or value == [] or value == {}:
        return True
    if isinstance(value, dict):
        return all(is_empty(inner) for inner in value.values())
    return False


def _field_answer(item: Field, entry: Any) -> tuple[FieldAnswer, list[str]]:
    path = f'"{item.name}"'
    if not isinstance(entry, dict) or "value" not in entry:
        reason = 'must be an object {"value": ..., "quote": "..."}'
        return FieldAnswer(entry, (), INVALID, reason), [f"{path}: {reason}"]
    quotes = _quotes(entry)
    value = entry["value"]
    if is_empty(value):
        return FieldAnswer(_empty_value(item), (), EMPTY, "the model found no value in the routed text"), []
    clean, errors = _check(item, value, path)
    if errors:
        return FieldAnswer(value, quotes, INVALID, "; ".join(errors)), errors
    if not quotes and isinstance(clean, str):
        quotes = (clean,)  # a copied value is its own quote
    return FieldAnswer(clean, quotes, FILLED), []


def _quotes(entry: dict[str, Any]) -> tuple[str, ...]:
    raw = entry.get("quotes", entry.get("quote", ""))
    items = raw if isinstance(raw, list) else [raw]
    return tuple(
        str(item).strip() for item in items if isinstance(item, (str, int, float)) and str(item).strip()
    )


def _empty_value(item: Field) -> Any:
    return [] if _is_list(item) else ""


def _is_list(item: Field) -> bool:
    return item.multiple or item.extraction_strategy in LIST_STRATEGIES | RECORD_LIST_STRATEGIES


def _check(item: Field, value: Any, path: str) -> tuple[Any, list[str]]:
    if _is_list(item):
        if not isinstance(value, list):
            return value, [f"{path}: must be a JSON list"]
        cleaned, errors = [], []
        for index, element in enumerate(value):
            clean, problems = _check_one(item, element, f"{path}[{index}]")
            cleaned.append(clean)
            errors.extend(problems)
        return cleaned, errors
    return _check_one(item, value, path)


def _check_one(item: Field, value: Any, path: str) -> tuple[Any, list[str]]:
    if item.subfields:
        return _check_record(item, value, path)
    if item.options and (item.extraction_strategy == "classify_with_options" or item.datatype == "enum"):
        return _check_option(item, value, path)
    datatype = item.datatype or item.type
    if datatype == "integer":
        number = _integer(value)
        return (number, []) if number is not None else (value, [f"{path}: {value!r} is not an integer"])
    if datatype == "decimal" or item.type == "number":
        if isinstance(value, bool):
            return value, [f"{path}: must be a number, not true/false"]
        try:
            return float(value), []
        except (TypeError, ValueError):
            return value, [f"{path}: {value!r} is not a number"]
    if datatype == "boolean":
        if isinstance(value, bool):
            return value, []
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE, []
        return value, [f"{path}: {value!r} is not true or false"]
    if isinstance(value, (dict, list)):
        return value, [f"{path}: must be a single text value, not {type(value).__name__}"]
    return str(value).strip(), []


def _check_record(item: Field, value: Any, path: str) -> tuple[Any, list[str]]:
    if not isinstance(value, dict):
        return value, [f"{path}: must be an object with the subfields {[sub.name for sub in item.subfields]}"]
    names = [sub.name for sub in item.subfields]
    errors = [
        f"{path}.{key}: not a subfield; the subfields are {json.dumps(names, ensure_ascii=False)}"
        for key in value
        if key not in names
    ]
    record: dict[str, Any] = {}
    for sub in item.subfields:
        inner = value.get(sub.name)
        if isinstance(inner, dict) and "value" in inner:
            inner = inner["value"]  # tolerate the per-field shape one level down
        if is_empty(inner):
            record[sub.name] = _empty_value(sub)
            continue
        clean, problems = _check(sub, inner, f"{path}.{sub.name}")
        record[sub.name] = clean
        errors.extend(problems)
    return record, errors


def _check_option(item: Field, value: Any, path: str) -> tuple[Any, list[str]]:
    text = str(value).strip() if isinstance(value, (str, int, float)) else None
    if text in item.options:
        return text, []
    for option in item.options:
        if text and text in item.option_synonyms(option):
            return option, []
    return value, [
        f"{path}: {value!r} is not one of the options {json.dumps(list(item.options), ensure_ascii=False)}"
    ]


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip().removesuffix("人").removesuffix("名").strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if text and all(char in _CN_DIGITS or char in "十百" for char in text):
        return chinese_integer(text)
    return None


def chinese_integer(text: str) -> int:
    """The value of a numeral written in Arabic digits or in Chinese characters up to the hundreds."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for char in text:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
    return total + current
