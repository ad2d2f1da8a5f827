"""pdfonto's own ontology format: conversion to and from the original format, validation by JSON Schema.

The format (``"format": "pdfonto.ontology/1"``, schema in ``core/schemas/ontology.schema.json``) adds what
the original lacks: stable ASCII ids, labels in several languages, synonyms, datatypes, relations between
classes and per-attribute extraction hints. Every key of an original-format file has a place in it (unknown
keys go to ``extra``), so ``to_original(load_ontology(to_project(x)))`` gives back ``x``.

Invalid documents raise :class:`~core.errors.InvalidInput` with ``<JSON path>: <reason>``, e.g.
``$.classes[2].attributes[0].datatype: 'int' is not one of [...]``.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from core.errors import InvalidInput
from core.ontology import (
    KNOWN_STRATEGIES,
    STRATEGIES_WITH_SUBFIELDS,
    Category,
    Field,
    Ontology,
    Relation,
)

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

PROJECT_FORMAT = "pdfonto.ontology/1"
SCHEMA_RESOURCE = "ontology.schema.json"
DEFAULT_IRI = "urn:pdfonto:ontology:{id}#"

_IMPLIED_TYPES = {"integer": "integer", "decimal": "number", "boolean": "boolean", "date": "date"}


def is_project_format(document: Any) -> bool:
    return isinstance(document, dict) and document.get("format") == PROJECT_FORMAT


@cache
def json_schema() -> dict[str, Any]:
    """The published JSON Schema of the project format."""
    text = (resources.files("core") / "schemas" / SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    # jsonschema is imported on first validation, not at import: the gateway's workers and the functions
    # load this module at start, and most of their requests never validate an ontology.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json_schema())


def validate_project(document: Any) -> None:
    """Raise :class:`InvalidInput` naming the JSON path of the first problem in a project-format document."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(document))
    if error is not None:
        raise InvalidInput(f"{error.json_path}: {error.message}")
    _check_references(document)


def from_project(document: dict[str, Any]) -> Ontology:
    """The typed view of a project-format document (validated first)."""
    validate_project(document)
    strategies = KNOWN_STRATEGIES + tuple(
        name for name in document.get("strategies", {}) if name not in KNOWN_STRATEGIES
    )
    names = {item["id"]: item["name"] for item in document["classes"]}
    categories = tuple(
        _category(item, f"$.classes[{index}]", strategies, names)
        for index, item in enumerate(document["classes"])
    )
    relations = tuple(
        Relation(
            id=item["id"],
            domain=item["domain"],
            range=item["range"],
            labels=tuple(sorted(item.get("labels", {}).items())),
            description=item.get("description", ""),
        )
        for item in document.get("relations", [])
    )
    return Ontology(
        name=document["name"],
        version=document.get("version", ""),
        categories=categories,
        strategies=strategies,
        raw=copy.deepcopy(document),
        format="project",
        id=document["id"],
        labels=tuple(sorted(document.get("labels", {}).items())),
        relations=relations,
        iri=document.get("iri") or DEFAULT_IRI.format(id=document["id"]),
    )


def iri_of(ontology: Ontology) -> str:
    return ontology.iri or DEFAULT_IRI.format(id=ontology.id or "ontology")


def implied_type(datatype: str, multiple: bool, has_subfields: bool) -> str:
    """The original-format ``type`` a project attribute maps to unless it names one explicitly."""
    if multiple:
        return "array"
    if has_subfields or datatype == "object":
        return "object"
    return _IMPLIED_TYPES.get(datatype, "string")


# --- project → original ---------------------------------------------------------------------------------


def to_original(ontology: Ontology) -> dict[str, Any]:
    """The ontology in the original service's format (the loaded document itself when it was original)."""
    if ontology.format != "project":
        return ontology.to_dict()
    document = ontology.raw
    names = {item["id"]: item["name"] for item in document["classes"]}
    metadata = copy.deepcopy(document.get("metadata")) or {}
    metadata.setdefault("name", document["name"])
    if document.get("version"):
        metadata.setdefault("version", document["version"])
    out: dict[str, Any] = {
        "ontology_metadata": metadata,
        "ontology_structure": {item["name"]: _original_category(item, names) for item in document["classes"]},
        "extraction_strategies": copy.deepcopy(document.get("strategies", {})),
    }
    out.update(copy.deepcopy(document.get("extra", {})))
    return out


def _original_category(item: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        key: item[key] for key in ("priority", "description", "keywords", "max_tokens") if key in item
    }
    out.update(copy.deepcopy(item.get("extra", {})))
    out["fields"] = {attr["name"]: _original_field(attr, names) for attr in item["attributes"]}
    return out


def _original_field(attr: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    subfields = attr.get("subfields")
    out: dict[str, Any] = {
        "type": attr.get("type")
        or implied_type(attr["datatype"], attr.get("multiple", False), bool(subfields)),
        "extraction_strategy": attr["strategy"],
    }
    if "description" in attr:
        out["description"] = attr["description"]
    if "include_reference" in attr:
        out["include_reference"] = attr["include_reference"]
    if "options" in attr:
        out["options"] = [option["value"] for option in attr["options"]]
        synonyms = {o["value"]: list(o["synonyms"]) for o in attr["options"] if "synonyms" in o}
        if synonyms:
            out["option_keywords"] = synonyms
    if subfields:
        out["subfields"] = {sub["name"]: _original_field(sub, names) for sub in subfields}
    if "source_classes" in attr:
        out["source_categories"] = [names[class_id] for class_id in attr["source_classes"]]
    if "keywords" in attr:
        out["keywords"] = list(attr["keywords"])
    out.update(copy.deepcopy(attr.get("extra", {})))
    return out


# --- original → project ---------------------------------------------------------------------------------


def to_project(ontology: Ontology) -> dict[str, Any]:
    """The ontology in pdfonto's format (the loaded document itself when it was already in it)."""
    if ontology.format == "project":
        return ontology.to_dict()
    raw = ontology.raw
    ids = {category.name: category.id for category in ontology.categories}
    out: dict[str, Any] = {
        "format": PROJECT_FORMAT,
        "id": ontology.id or "ontology",
        "name": ontology.name or "ontology",
    }
    if ontology.version:
        out["version"] = ontology.version
    if ontology.labels:
        out["labels"] = dict(ontology.labels)
    if "ontology_metadata" in raw:
        out["metadata"] = copy.deepcopy(raw["ontology_metadata"])
    if "extraction_strategies" in raw:
        out["strategies"] = copy.deepcopy(raw["extraction_strategies"])
    extra = {
        k: v
        for k, v in raw.items()
        if k not in ("ontology_metadata", "ontology_structure", "extraction_strategies")
    }
    if extra:
        out["extra"] = copy.deepcopy(extra)
    out["classes"] = [
        _project_class(category, raw["ontology_structure"][category.name], ids)
        for category in ontology.categories
    ]
    return out


def _project_class(category: Category, body: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": category.id, "name": category.name, "labels": dict(category.labels)}
    for key in ("description", "keywords", "priority", "max_tokens"):
        if key in body:
            out[key] = copy.deepcopy(body[key])
    if category.extra:
        out["extra"] = copy.deepcopy(dict(category.extra))
    out["attributes"] = [_project_attribute(item, body["fields"][item.name], ids) for item in category.fields]
    return out


def _project_attribute(item: Field, body: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    multiple = item.type == "array"
    out: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "labels": dict(item.labels),
        "datatype": item.datatype,
        "strategy": item.extraction_strategy,
    }
    if multiple:
        out["multiple"] = True
    if item.type != implied_type(item.datatype, multiple, bool(item.subfields)):
        out["type"] = item.type
    if "description" in body:
        out["description"] = body["description"]
    if "include_reference" in body:
        out["include_reference"] = body["include_reference"]
    if "options" in body:
        synonyms = dict(item.option_keywords)
        out["options"] = [
            {"value": option, **({"synonyms": list(synonyms[option])} if option in synonyms else {})}
            for option in item.options
        ]
    if "keywords" in body:
        out["keywords"] = list(item.keywords)
    if "source_categories" in body:
        out["source_classes"] = [ids[name] for name in item.source_categories]
    if item.extra:
        out["extra"] = copy.deepcopy(dict(item.extra))
    if item.subfields:
        out["subfields"] = [
            _project_attribute(sub, body["subfields"][sub.name], ids) for sub in item.subfields
        ]
    return out


# --- validation beyond the schema ------------------------------------------------------------------------


def _fail(path: str, reason: str) -> None:
    raise InvalidInput(f"{path}: {reason}")


def _check_references(document: dict[str, Any]) -> None:
    class_ids: dict[str, int] = {}
    class_names: set[str] = set()
    known = set(KNOWN_STRATEGIES) | set(document.get("strategies", {}))
    for index, item in enumerate(document["classes"]):
        path = f"$.classes[{index}]"
        if item["id"] in class_ids:
            _fail(f"{path}.id", f"{item['id']!r} is already the id of $.classes[{class_ids[item['id']]}]")
        if item["name"] in class_names:
            _fail(f"{path}.name", f"{item['name']!r} is the name of another class")
        class_ids[item["id"]] = index
        class_names.add(item["name"])
    for index, item in enumerate(document["classes"]):
        _check_attributes(item["attributes"], f"$.classes[{index}].attributes", class_ids, known)
    relation_ids: set[str] = set()
    for index, relation in enumerate(document.get("relations", [])):
        path = f"$.relations[{index}]"
        if relation["id"] in relation_ids or relation["id"] in class_ids:
            _fail(f"{path}.id", f"{relation['id']!r} is already used by another class or relation")
        relation_ids.add(relation["id"])
        for end in ("domain", "range"):
            if relation[end] not in class_ids:
                _fail(f"{path}.{end}", f"{relation[end]!r} is not the id of a class")


def _check_attributes(
    attributes: list[dict[str, Any]], path: str, class_ids: dict[str, int], known: set[str]
) -> None:
    seen_ids: set[str] = set()
    seen_names: set[str] = set()
    for index, attr in enumerate(attributes):
        here = f"{path}[{index}]"
        if attr["id"] in seen_ids:
            _fail(f"{here}.id", f"{attr['id']!r} is already the id of another attribute of this class")
        if attr["name"] in seen_names:
            _fail(f"{here}.name", f"{attr['name']!r} is the name of another attribute of this class")
        seen_ids.add(attr["id"])
        seen_names.add(attr["name"])
        strategy = attr["strategy"]
        if strategy not in known:
            _fail(f"{here}.strategy", f"{strategy!r} is not a known strategy nor declared in $.strategies")
        if strategy == "classify_with_options" and not attr.get("options"):
            _fail(f"{here}.options", "classify_with_options needs at least one option")
        if attr["datatype"] == "enum" and not attr.get("options"):
            _fail(f"{here}.options", "datatype enum needs at least one option")
        if strategy in STRATEGIES_WITH_SUBFIELDS and not attr.get("subfields"):
            _fail(f"{here}.subfields", f"strategy {strategy} needs subfields")
        values = [option["value"] for option in attr.get("options", [])]
        if len(values) != len(set(values)):
            _fail(f"{here}.options", "option values must be distinct")
        for target in attr.get("source_classes", []):
            if target not in class_ids:
                _fail(f"{here}.source_classes", f"{target!r} is not the id of a class")
        if attr.get("subfields"):
            _check_attributes(attr["subfields"], f"{here}.subfields", class_ids, known)


# --- typed view ------------------------------------------------------------------------------------------


def _category(
    item: dict[str, Any], path: str, strategies: tuple[str, ...], names: dict[str, str]
) -> Category:
    return Category(
        name=item["name"],
        fields=tuple(
            _field(attr, f"{path}.attributes[{index}]", names)
            for index, attr in enumerate(item["attributes"])
        ),
        priority=item.get("priority", 0),
        description=item.get("description", ""),
        keywords=tuple(item.get("keywords", ())),
        max_tokens=item.get("max_tokens"),
        id=item["id"],
        labels=tuple(sorted(item.get("labels", {}).items())),
        synonyms=tuple(item.get("synonyms", ())),
        extra=tuple(item.get("extra", {}).items()),
    )


def _field(attr: dict[str, Any], path: str, names: dict[str, str]) -> Field:
    subfields = tuple(
        _field(sub, f"{path}.subfields[{index}]", names)
        for index, sub in enumerate(attr.get("subfields", []))
    )
    options = attr.get("options", [])
    return Field(
        name=attr["name"],
        type=attr.get("type") or implied_type(attr["datatype"], attr.get("multiple", False), bool(subfields)),
        extraction_strategy=attr["strategy"],
        description=attr.get("description", ""),
        options=tuple(option["value"] for option in options),
        subfields=subfields,
        source_categories=tuple(names[class_id] for class_id in attr.get("source_classes", [])),
        include_reference=attr.get("include_reference", True),
        keywords=tuple(attr.get("keywords", ())),
        option_keywords=tuple((o["value"], tuple(o["synonyms"])) for o in options if o.get("synonyms")),
        path=path,
        id=attr["id"],
        labels=tuple(sorted(attr.get("labels", {}).items())),
        synonyms=tuple(attr.get("synonyms", ())),
        datatype=attr["datatype"],
        hints=tuple(sorted(attr.get("hints", {}).items())),
        option_labels=tuple(
            (o["value"], tuple(sorted(o["labels"].items()))) for o in options if o.get("labels")
        ),
        extra=tuple(attr.get("extra", {}).items()),
    )
