"""Prompts: one request per category, with the ontology and the rules as a stable prefix.

The system message (instructions + the whole ontology, serialised deterministically) is byte-identical for
every category and every document extracted with the same ontology version. DeepSeek caches prompt
prefixes and bills cached input tokens at a fraction, so only the user message (the category and its
routed text) is paid at the full rate after the first request.
"""

from __future__ import annotations

import json
from typing import Any

from core.ontology import Category, Field, Ontology
from functions.extract.routing import Route

SUMMARY_STRATEGIES = frozenset({"cross_chunk_summarize", "copy_section"})
LIST_STRATEGIES = frozenset({"list_extract", "cross_chunk_list_extract"})
RECORD_LIST_STRATEGIES = frozenset({"structured_list_extract", "cross_chunk_structured_list_extract"})

_INSTRUCTIONS = """\
You fill an ontology from a document. Each request names one category of the ontology below and gives the \
document passages routed to it, one per line as "[block id] text", grouped under "§ section path" lines.

Answer with one JSON object whose keys are exactly the field names of that category (no other key, none \
missing), each mapped to {"value": ..., "quote": "..."}:
- "quote" is the shortest passage of the given text that supports the value, copied character for \
character: no paraphrase, no ellipsis, no block id.
- When the text does not state the field, answer {"value": null, "quote": ""}. Never guess.
- Per extraction strategy:
  - copy_exact: the value is the exact source text, identical to the quote.
  - extract_format: the value normalised to the field's datatype and hints (integer → a JSON number; \
date → as written in the source, e.g. 2021年5月14日1时52分).
  - classify_with_options: the value is exactly one of the field's options.
  - structured_extract: the value is an object whose keys are exactly the subfield names.
  - structured_list_extract, cross_chunk_structured_list_extract: the value is a list of such objects; \
give "quotes": [one passage per item] instead of "quote".
  - list_extract, cross_chunk_list_extract: the value is a list of strings; give "quotes": [...].
  - cross_chunk_summarize, copy_section: the value is one coherent paragraph written from the text \
(copy_section: the passages themselves); give "quotes": [the supporting passages].
- Organisations and people must be named exactly as in the text, and only for the role the text gives \
them: a subcontractor is not the construction unit, the general contractor or the supervisor.
- Reply with the JSON object only."""


def system_prompt(ontology: Ontology) -> str:
    """Instructions plus the ontology: identical for every request made with this ontology."""
    strategies = ontology.raw.get("extraction_strategies") or ontology.raw.get("strategies") or {}
    spec = {
        "ontology": ontology.name,
        "strategies": {name: body.get("description", "") for name, body in sorted(strategies.items())},
        "categories": [_category_spec(category) for category in ontology.categories],
    }
    return f"{_INSTRUCTIONS}\n\nONTOLOGY\n{json.dumps(spec, ensure_ascii=False, separators=(',', ':'))}"


def user_prompt(route: Route, context: str, title: str | None = None) -> str:
    """The category, its field names, the answer shape and the routed text (after the document title,
    which names the report, the project and often the accident)."""
    category = route.category
    names = [item.name for item in category.fields]
    skeleton = {name: {"value": None, "quote": ""} for name in names}
    heading = f"DOCUMENT TITLE: {title}\n" if title else ""
    return (
        f"CATEGORY: {category.name}\n"
        f"FIELDS: {json.dumps(names, ensure_ascii=False)}\n"
        f"ANSWER SHAPE: {json.dumps(skeleton, ensure_ascii=False)}\n\n"
        f"{heading}TEXT:\n{context}"
    )


def repair_prompt(errors: list[str]) -> str:
    listed = "\n".join(f"- {error}" for error in errors)
    return (
        "Your answer cannot be used:\n"
        f"{listed}\n"
        "Reply with the complete corrected JSON object for the same category: every field name exactly as "
        "listed, each with value and quote."
    )


def messages_for(system: str, user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _category_spec(category: Category) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": category.name}
    if category.description:
        spec["description"] = category.description
    spec["fields"] = [_field_spec(item) for item in category.fields]
    return spec


def _field_spec(item: Field) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": item.name, "datatype": item.datatype or item.type}
    if item.multiple:
        spec["multiple"] = True
    spec["strategy"] = item.extraction_strategy
    if item.description:
        spec["description"] = item.description
    if item.options:
        spec["options"] = list(item.options)
    if item.synonyms:
        spec["synonyms"] = list(item.synonyms)
    if item.hints:
        spec["hints"] = dict(item.hints)
    if item.subfields:
        spec["subfields"] = [_field_spec(sub) for sub in item.subfields]
    return spec
