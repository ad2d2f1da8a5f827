"""Ontologies in the original service's JSON format: loading, validation and a typed read-only view.

Format::

    {"ontology_metadata": {"name": ..., "version": ...},
     "ontology_structure": {category: {"priority", "description", "keywords", "max_tokens",
                                       "fields": {field: {"type", "extraction_strategy", "description",
                                                          "options"?, "subfields"?, "source_categories"?,
                                                          "include_reference"?, "keywords"?,
                                                          "option_keywords"?}}}},
     "extraction_strategies": {strategy: {"description", "prompt_template"}}}

:func:`load_ontology` checks the structure and raises :class:`~core.errors.InvalidInput` naming the
offending location (``ontology_structure.事故概况.fields.死亡人数: "extraction_strategy" must be one of
[...]``). The returned :class:`Ontology` keeps the document it was loaded from in ``raw``, so unknown keys
survive a round trip unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from core.errors import InvalidInput

KNOWN_STRATEGIES: tuple[str, ...] = (
    "copy_exact",
    "classify_with_options",
    "copy_section",
    "list_extract",
    "structured_extract",
    "structured_list_extract",
    "extract_format",
    "cross_chunk_summarize",
    "cross_chunk_list_extract",
    "cross_chunk_structured_list_extract",
)
STRATEGIES_WITH_SUBFIELDS = frozenset(
    {"structured_extract", "structured_list_extract", "cross_chunk_structured_list_extract"}
)
FIELD_TYPES: tuple[str, ...] = ("string", "number", "integer", "boolean", "date", "object", "array")
DEFAULT_ONTOLOGY_RESOURCE = "accident_report.json"


@dataclass(frozen=True)
class Field:
    """One field to extract; ``subfields`` are set for the structured strategies."""

    name: str
    type: str
    extraction_strategy: str
    description: str = ""
    options: tuple[str, ...] = ()
    subfields: tuple[Field, ...] = ()
    source_categories: tuple[str, ...] = ()
    include_reference: bool = True
    keywords: tuple[str, ...] = ()
    option_keywords: tuple[tuple[str, tuple[str, ...]], ...] = ()
    path: str = ""
    # pdfonto's own format adds these; for an original-format file they are derived from the above.
    id: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    synonyms: tuple[str, ...] = ()
    datatype: str = ""
    hints: tuple[tuple[str, str], ...] = ()
    option_labels: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    extra: tuple[tuple[str, Any], ...] = field(default=(), compare=False, hash=False)

    def option_synonyms(self, option: str) -> tuple[str, ...]:
        """The option's own text followed by the synonyms given in ``option_keywords``."""
        extra = dict(self.option_keywords).get(option, ())
        return (option, *(word for word in extra if word != option))

    @property
    def multiple(self) -> bool:
        """A list of values (``array`` type or a list strategy) rather than one."""
        return self.type == "array" or "list" in self.extraction_strategy

    def label(self, language: str) -> str:
        """The label in ``language``, else the field's name."""
        return dict(self.labels).get(language) or self.name

    @property
    def field_count(self) -> int:
        """This field plus all of its nested subfields."""
        return 1 + sum(sub.field_count for sub in self.subfields)


@dataclass(frozen=True)
class Category:
    """A group of fields extracted from the same part of a document."""

    name: str
    fields: tuple[Field, ...]
    priority: int = 0
    description: str = ""
    keywords: tuple[str, ...] = ()
    max_tokens: int | None = None
    id: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    synonyms: tuple[str, ...] = ()
    extra: tuple[tuple[str, Any], ...] = field(default=(), compare=False, hash=False)

    def label(self, language: str) -> str:
        """The label in ``language``, else the category's name."""
        return dict(self.labels).get(language) or self.name

    @property
    def field_count(self) -> int:
        """All fields of the category, subfields included."""
        return sum(item.field_count for item in self.fields)


@dataclass(frozen=True)
class Relation:
    """A relation between two categories (classes), e.g. a project ``has_construction_unit``."""

    id: str
    domain: str  # category id
    range: str  # category id
    labels: tuple[tuple[str, str], ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Ontology:
    """A validated ontology. ``raw`` is a private copy of the loaded document (compare, don't mutate).

    ``format`` says which format ``raw`` is in: ``"original"`` (the original service's) or ``"project"``
    (pdfonto's own, see :mod:`core.ontology_project`).
    """

    name: str
    version: str
    categories: tuple[Category, ...]
    strategies: tuple[str, ...]
    raw: dict[str, Any] = field(compare=False, repr=False, hash=False)
    format: str = "original"
    id: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    relations: tuple[Relation, ...] = ()
    iri: str = ""

    @property
    def field_count(self) -> int:
        """Number of fields in all categories, nested subfields included (ontology_v2.json: 137)."""
        return sum(category.field_count for category in self.categories)

    def category(self, name: str) -> Category:
        """The category called ``name``; raises KeyError when there is none."""
        for category in self.categories:
            if category.name == name:
                return category
        raise KeyError(name)

    def iter_fields(self) -> Iterator[tuple[Category, Field]]:
        """Every top-level field with its category, in document order."""
        for category in self.categories:
            for item in category.fields:
                yield category, item

    def category_by_id(self, category_id: str) -> Category:
        """The category whose id is ``category_id``; raises KeyError when there is none."""
        for category in self.categories:
            if category.id == category_id:
                return category
        raise KeyError(category_id)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the document this ontology was loaded from."""
        return copy.deepcopy(self.raw)


def load_ontology(data: Any) -> Ontology:
    """Validate an ontology document (a dict, or JSON text/bytes) in either format; return its typed view.

    A document with ``"format": "pdfonto.ontology/1"`` is pdfonto's own format (validated against its
    JSON Schema, errors name the JSON path); anything else is read as the original format. Raises
    :class:`InvalidInput` with ``<location>: <reason>`` on the first problem found.
    """
    document = _parse_json(data) if isinstance(data, (str, bytes, bytearray)) else data
    _require(isinstance(document, dict), "$", "ontology must be a JSON object")
    from core import ontology_project  # the project format builds on the types above

    if ontology_project.is_project_format(document):
        return ontology_project.from_project(document)
    return _load_original(document)


def _load_original(document: dict[str, Any]) -> Ontology:
    metadata = document.get("ontology_metadata", {})
    _require(isinstance(metadata, dict), "ontology_metadata", "must be an object")
    strategies = _strategies(document.get("extraction_strategies", {}))
    structure = document.get("ontology_structure")
    _require(isinstance(structure, dict), "ontology_structure", "is required and must be an object")
    _require(bool(structure), "ontology_structure", "must contain at least one category")
    assert isinstance(structure, dict)
    categories = tuple(
        _category(name, body, strategies, f"ontology_structure{_segment(name)}")
        for name, body in structure.items()
    )
    _check_source_categories(categories)
    name = _optional_str(metadata, "name", "ontology_metadata") or ""
    return Ontology(
        name=name,
        version=_optional_str(metadata, "version", "ontology_metadata") or "",
        categories=categories,
        strategies=strategies,
        raw=copy.deepcopy(document),
        id=ascii_id(name or "ontology", "o"),
        labels=(("zh", name),) if name else (),
    )


def ascii_id(name: str, prefix: str) -> str:
    """A stable ASCII identifier for ``name``: its slug when it is plain ASCII, else a short hash.

    The same name always gives the same id, so an original-format ontology keeps its ids across uploads.
    """
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if name.isascii() and re.fullmatch(r"[a-z][a-z0-9_]*", slug or "-"):
        return slug
    return f"{prefix}_{hashlib.sha256(name.encode('utf-8')).hexdigest()[:10]}"


def default_ontology() -> Ontology:
    """pdfonto's own ontology for Chinese construction-accident investigation reports."""
    resource = resources.files("core").joinpath("ontologies").joinpath(DEFAULT_ONTOLOGY_RESOURCE)
    text = resource.read_text(encoding="utf-8")
    return load_ontology(json.loads(text))


# --- validation -----------------------------------------------------------------------------------


def _parse_json(data: str | bytes | bytearray) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"$: ontology is not valid JSON ({exc})") from exc


def _require(condition: bool, location: str, reason: str) -> None:
    if not condition:
        raise InvalidInput(f"{location}: {reason}")


def _segment(name: str) -> str:
    """A path segment: ``.name``, or ``["1.name"]`` when the name itself contains path characters."""
    if any(char in name for char in '.[]"') or not name:
        return "[" + json.dumps(name, ensure_ascii=False) + "]"
    return "." + name


def _strategies(value: Any) -> tuple[str, ...]:
    _require(isinstance(value, dict), "extraction_strategies", "must be an object")
    for name, body in value.items():
        location = f"extraction_strategies{_segment(name)}"
        _require(isinstance(body, dict), location, "must be an object")
        for key in ("description", "prompt_template"):
            _require(isinstance(body.get(key, ""), str), location, f'"{key}" must be a string')
    extra = tuple(name for name in value if name not in KNOWN_STRATEGIES)
    return KNOWN_STRATEGIES + extra


def _optional_str(body: dict[str, Any], key: str, location: str) -> str | None:
    value = body.get(key)
    _require(value is None or isinstance(value, str), location, f'"{key}" must be a string')
    return value


def _str_list(body: dict[str, Any], key: str, location: str, *, non_empty: bool = False) -> tuple[str, ...]:
    value = body.get(key, [])
    valid = isinstance(value, list) and all(isinstance(item, str) and item.strip() for item in value)
    _require(valid, location, f'"{key}" must be a list of non-empty strings')
    _require(not non_empty or bool(value), location, f'"{key}" must not be empty')
    return tuple(value)


def _optional_int(body: dict[str, Any], key: str, location: str, *, minimum: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    valid = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
    _require(valid, location, f'"{key}" must be an integer >= {minimum}')
    return int(value)


def _category(name: str, body: Any, strategies: tuple[str, ...], location: str) -> Category:
    _require(bool(name.strip()), location, "category name must not be empty")
    _require(isinstance(body, dict), location, "category must be an object")
    fields = body.get("fields")
    _require(isinstance(fields, dict), location, '"fields" is required and must be an object')
    _require(bool(fields), location, '"fields" must contain at least one field')
    return Category(
        id=ascii_id(name, "c"),
        labels=((_language_of(name), name),),
        extra=tuple((k, v) for k, v in body.items() if k not in _CATEGORY_KEYS),
        name=name,
        fields=_fields(fields, strategies, f"{location}.fields"),
        priority=_optional_int(body, "priority", location, minimum=0) or 0,
        description=_optional_str(body, "description", location) or "",
        keywords=_str_list(body, "keywords", location),
        max_tokens=_optional_int(body, "max_tokens", location, minimum=1),
    )


def _fields(fields: dict[str, Any], strategies: tuple[str, ...], location: str) -> tuple[Field, ...]:
    return tuple(
        _field(name, body, strategies, f"{location}{_segment(name)}") for name, body in fields.items()
    )


def _field(name: str, body: Any, strategies: tuple[str, ...], location: str) -> Field:
    _require(bool(name.strip()), location, "field name must not be empty")
    _require(isinstance(body, dict), location, "field must be an object")
    field_type = body.get("type")
    _require(field_type in FIELD_TYPES, location, f'"type" must be one of {list(FIELD_TYPES)}')
    strategy = body.get("extraction_strategy")
    _require(strategy in strategies, location, f'"extraction_strategy" must be one of {list(strategies)}')
    include_reference = body.get("include_reference", True)
    _require(isinstance(include_reference, bool), location, '"include_reference" must be true or false')
    options = _str_list(body, "options", location, non_empty=strategy == "classify_with_options")
    return Field(
        id=ascii_id(name, "f"),
        labels=((_language_of(name), name),),
        datatype=datatype_of(str(field_type), str(strategy), bool(options)),
        extra=tuple((k, v) for k, v in body.items() if k not in _FIELD_KEYS),
        name=name,
        type=str(field_type),
        extraction_strategy=str(strategy),
        description=_optional_str(body, "description", location) or "",
        options=options,
        subfields=_subfields(body, str(strategy), strategies, location),
        source_categories=_str_list(body, "source_categories", location),
        include_reference=include_reference,
        keywords=_str_list(body, "keywords", location),
        option_keywords=_option_keywords(body, options, location),
        path=location,
    )


def _subfields(
    body: dict[str, Any], strategy: str, strategies: tuple[str, ...], location: str
) -> tuple[Field, ...]:
    subfields = body.get("subfields")
    if subfields is None:
        _require(strategy not in STRATEGIES_WITH_SUBFIELDS, location, f'"{strategy}" needs "subfields"')
        return ()
    _require(isinstance(subfields, dict), location, '"subfields" must be an object')
    _require(bool(subfields), location, '"subfields" must contain at least one field')
    return _fields(subfields, strategies, f"{location}.subfields")


def _option_keywords(
    body: dict[str, Any], options: tuple[str, ...], location: str
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Optional pdfonto extension: ``{"option_keywords": {option: [synonym, ...]}}`` for offline matching."""
    value = body.get("option_keywords", {})
    _require(isinstance(value, dict), location, '"option_keywords" must be an object')
    unknown = [option for option in value if option not in options]
    _require(not unknown, location, f'"option_keywords" names options not in "options": {unknown}')
    return tuple((option, _str_list(value, option, f"{location}.option_keywords")) for option in value)


_CATEGORY_KEYS = frozenset({"priority", "description", "keywords", "max_tokens", "fields"})
_FIELD_KEYS = frozenset(
    {
        "type",
        "extraction_strategy",
        "description",
        "options",
        "subfields",
        "source_categories",
        "include_reference",
        "keywords",
        "option_keywords",
    }
)
_SUMMARY_STRATEGIES = frozenset({"cross_chunk_summarize", "copy_section"})


def datatype_of(field_type: str, strategy: str, has_options: bool) -> str:
    """The project-format datatype an original-format field amounts to."""
    if strategy == "classify_with_options" and has_options:
        return "enum"
    if field_type in ("object", "array"):
        return "string" if strategy in ("list_extract", "cross_chunk_list_extract") else "object"
    if field_type == "number":
        return "decimal"
    if field_type in ("integer", "boolean", "date"):
        return field_type
    return "text" if strategy in _SUMMARY_STRATEGIES else "string"


def _language_of(text: str) -> str:
    return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"


def _check_source_categories(categories: tuple[Category, ...]) -> None:
    names = {category.name for category in categories}

    def check(items: tuple[Field, ...]) -> None:
        for item in items:
            unknown = [name for name in item.source_categories if name not in names]
            _require(not unknown, item.path, f'"source_categories" names unknown categories {unknown}')
            check(item.subfields)

    for category in categories:
        check(category.fields)
