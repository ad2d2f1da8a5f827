"""``result.json``: the original service's shape plus evidence, status and notes, built the same way by
the LLM and the offline extractor.

::

    {category: {field: {"value": ..., "reference": "<first quote>" | None,
                        "evidence": [{"quote", "verified", "block_id", "char_start", "char_end",
                                      "page_idx", "bbox", "section_id"}],
                        "verified": bool, "status": "filled" | "empty" | "invalid", "note"?: "why"}},
     "_metadata": {...}}

``verified`` is true when the value has evidence and every quote was found in the document; an
unverified value is kept and shown as such. ``note`` says why a field is empty or invalid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.extraction_queries import ValueRow
from core.ontology import Field, Ontology
from functions.extract.evidence import Evidence
from functions.extract.validate import EMPTY, FILLED, INVALID, is_empty


@dataclass
class FieldResult:
    value: Any
    status: str
    evidence: list[Evidence] = field(default_factory=list)
    note: str | None = None

    @property
    def verified(self) -> bool:
        return self.status == FILLED and bool(self.evidence) and all(item.verified for item in self.evidence)


def empty_result(item: Field, note: str) -> FieldResult:
    return FieldResult([] if item.multiple else "", EMPTY, [], note)


def field_json(item: Field, result: FieldResult) -> dict[str, Any]:
    reference = None
    if item.include_reference and result.evidence:
        reference = next((e.quote for e in result.evidence if e.verified), result.evidence[0].quote)
    out: dict[str, Any] = {
        "value": result.value,
        "reference": reference,
        "evidence": [evidence.to_json() for evidence in result.evidence],
        "verified": result.verified,
        "status": result.status,
    }
    if result.note:
        out["note"] = result.note
    return out


def build_result(
    ontology: Ontology, values: dict[str, dict[str, FieldResult]], metadata: dict[str, Any]
) -> dict[str, Any]:
    """Assemble result.json; ``values`` maps category name → field name → result, for every field."""
    result: dict[str, Any] = {}
    counts = {"filled_count": 0, "empty_count": 0, "invalid_count": 0, "unverified_count": 0}
    unfilled: dict[str, str] = {}
    for category in ontology.categories:
        entries: dict[str, Any] = {}
        for item in category.fields:
            outcome = values[category.name][item.name]
            entries[item.name] = field_json(item, outcome)
            counts["filled_count"] += filled_count(item, outcome)
            counts["empty_count"] += outcome.status == EMPTY
            counts["invalid_count"] += outcome.status == INVALID
            counts["unverified_count"] += outcome.status == FILLED and not outcome.verified
            if outcome.status != FILLED:
                unfilled[f"{category.name}/{item.name}"] = outcome.note or outcome.status
        result[category.name] = entries
    result["_metadata"] = {
        **metadata,
        "ontology_id": ontology.id,
        "ontology_name": ontology.name,
        "ontology_version": ontology.version,
        "category_count": len(ontology.categories),
        "field_count": ontology.field_count,
        **counts,
        "unfilled": unfilled,
    }
    return result


def filled_count(item: Field, outcome: FieldResult) -> int:
    """How many of the field's ontology fields (itself and its subfields) got a value."""
    if outcome.status != FILLED or is_empty(outcome.value):
        return 0
    if isinstance(outcome.value, dict):
        return 1 + sum(1 for value in outcome.value.values() if not is_empty(value))
    return 1


def value_rows(ontology: Ontology, result: dict[str, Any]) -> list[ValueRow]:
    """One index row per top-level field of result.json."""
    rows: list[ValueRow] = []
    for category in ontology.categories:
        for item in category.fields:
            entry = result[category.name][item.name]
            value = entry["value"]
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            rows.append(
                ValueRow(
                    category=category.name,
                    field=item.name,
                    field_id=f"{category.id}.{item.id}",
                    value=value,
                    value_text="" if entry["status"] == EMPTY else text,
                    status=entry["status"],
                    verified=entry["verified"],
                    evidence=entry["evidence"],
                )
            )
    return rows
