"""OWL/Turtle import and export of ontologies with rdflib.

Export writes each class as an ``owl:Class``, each attribute as an ``owl:DatatypeProperty`` (an
``owl:ObjectProperty`` when it has subfields) with ``rdfs:domain``/``rdfs:range``, each relation as an
``owl:ObjectProperty``, labels as language-tagged ``rdfs:label``, synonyms as ``skos:altLabel``. What OWL has
no word for (strategy, priority, order, keywords, hints, options with their synonyms) is written with
annotation properties in the ``pdfo:`` namespace, so :func:`from_turtle` rebuilds the same project-format
document: ``from_turtle(to_turtle(o)) == to_project(o)``.

Import also accepts plain OWL written elsewhere: classes, datatype properties with a domain and relations
between classes are enough; ids come from the IRIs' local names and strategies default to ``copy_exact``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, SKOS
from rdflib.term import Node

from core.errors import InvalidInput
from core.ontology import Ontology
from core.ontology_project import PROJECT_FORMAT, iri_of, to_project

PDFO = Namespace("https://pdfonto.dev/vocab#")

XSD_OF_DATATYPE = {
    "string": XSD.string,
    "text": XSD.string,
    "enum": XSD.string,
    "integer": XSD.integer,
    "decimal": XSD.decimal,
    "date": XSD.date,
    "datetime": XSD.dateTime,
    "boolean": XSD.boolean,
}
_DATATYPE_OF_XSD: dict[Any, str] = {
    XSD.string: "string",
    XSD.integer: "integer",
    XSD.int: "integer",
    XSD.decimal: "decimal",
    XSD.double: "decimal",
    XSD.float: "decimal",
    XSD.date: "date",
    XSD.dateTime: "datetime",
    XSD.boolean: "boolean",
}
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def to_graph(ontology: Ontology) -> Graph:
    """The ontology as an RDF graph (OWL plus ``pdfo:`` annotations)."""
    document = to_project(ontology)
    base = Namespace(iri_of(ontology))
    graph = Graph()
    graph.bind("owl", OWL)
    graph.bind("skos", SKOS)
    graph.bind("pdfo", PDFO)
    graph.bind("dcterms", DCTERMS)
    graph.bind("", base)
    node = URIRef(str(base).rstrip("#/:"))
    graph.add((node, RDF.type, OWL.Ontology))
    graph.add((node, PDFO.id, Literal(document["id"])))
    graph.add((node, PDFO.name, Literal(document["name"])))
    if "version" in document:
        graph.add((node, OWL.versionInfo, Literal(document["version"])))
    _labels(graph, node, document.get("labels", {}))
    _description(graph, node, document)
    for key, predicate in (
        ("metadata", PDFO.metadata),
        ("strategies", PDFO.strategies),
        ("extra", PDFO.extra),
    ):
        if key in document:
            graph.add((node, predicate, _json(document[key])))
    for order, item in enumerate(document["classes"]):
        subject = base[item["id"]]
        graph.add((subject, RDF.type, OWL.Class))
        graph.add((subject, RDFS.isDefinedBy, node))
        graph.add((subject, PDFO.id, Literal(item["id"])))
        graph.add((subject, PDFO.name, Literal(item["name"])))
        graph.add((subject, PDFO.order, Literal(order)))
        _labels(graph, subject, item.get("labels", {}))
        _description(graph, subject, item)
        _words(graph, subject, item, "synonyms", PDFO.synonyms, alt_labels=True)
        _words(graph, subject, item, "keywords", PDFO.keywords)
        for key, predicate in (("priority", PDFO.priority), ("max_tokens", PDFO.maxTokens)):
            if key in item:
                graph.add((subject, predicate, Literal(item[key])))
        if "extra" in item:
            graph.add((subject, PDFO.extra, _json(item["extra"])))
        for index, attr in enumerate(item["attributes"]):
            _attribute(graph, base, subject, f"{item['id']}.", attr, index, parent=None)
    for order, relation in enumerate(document.get("relations", [])):
        subject = base[relation["id"]]
        graph.add((subject, RDF.type, OWL.ObjectProperty))
        graph.add((subject, PDFO.id, Literal(relation["id"])))
        graph.add((subject, PDFO.order, Literal(order)))
        graph.add((subject, PDFO.kind, Literal("relation")))
        graph.add((subject, RDFS.domain, base[relation["domain"]]))
        graph.add((subject, RDFS.range, base[relation["range"]]))
        _labels(graph, subject, relation.get("labels", {}))
        _description(graph, subject, relation)
    return graph


def to_turtle(ontology: Ontology) -> str:
    return to_graph(ontology).serialize(format="turtle")


def from_turtle(text: str | bytes) -> dict[str, Any]:
    """A project-format document from Turtle; raises :class:`InvalidInput` when the text is not usable."""
    graph = Graph()
    try:
        graph.parse(data=text, format="turtle")
    except Exception as exc:  # rdflib raises many parser-specific types
        raise InvalidInput(f"$: not valid Turtle ({exc})") from None
    return from_graph(graph)


def from_graph(graph: Graph) -> dict[str, Any]:
    """A project-format document from an OWL graph (see the module docstring)."""
    ontology_node = next(iter(graph.subjects(RDF.type, OWL.Ontology)), None)
    classes = sorted(graph.subjects(RDF.type, OWL.Class), key=lambda node: _order_key(graph, node))
    classes = [node for node in classes if isinstance(node, URIRef)]
    if not classes:
        raise InvalidInput("$: the graph declares no owl:Class")
    class_ids: dict[Any, str] = {node: _id_of(graph, node) for node in classes}
    document: dict[str, Any] = {"format": PROJECT_FORMAT}
    if ontology_node is not None:
        document["id"] = _text(graph, ontology_node, PDFO.id) or _local_id(ontology_node)
        document["name"] = (
            _text(graph, ontology_node, PDFO.name) or _best_label(graph, ontology_node) or document["id"]
        )
        version = _text(graph, ontology_node, OWL.versionInfo)
        if version is not None:
            document["version"] = version
        iri = str(classes[0])[: -len(class_ids[classes[0]])]
        if iri != "urn:pdfonto:ontology:" + document["id"] + "#":
            document["iri"] = iri
        _read_labels(graph, ontology_node, document)
        _read_description(graph, ontology_node, document)
        for key, predicate in (
            ("metadata", PDFO.metadata),
            ("strategies", PDFO.strategies),
            ("extra", PDFO.extra),
        ):
            value = _text(graph, ontology_node, predicate)
            if value is not None:
                document[key] = json.loads(value)
    else:
        document["id"], document["name"] = "imported", "imported"
    properties = [
        node
        for kind in (OWL.DatatypeProperty, OWL.ObjectProperty)
        for node in graph.subjects(RDF.type, kind)
        if _text(graph, node, PDFO.kind) != "relation" and graph.value(node, PDFO.parent) is None
    ]
    document["classes"] = []
    for node in classes:
        item: dict[str, Any] = {
            "id": class_ids[node],
            "name": _text(graph, node, PDFO.name) or _best_label(graph, node) or class_ids[node],
        }
        _read_labels(graph, node, item)
        _read_description(graph, node, item)
        _read_words(graph, node, item, "synonyms", PDFO.synonyms, alt_labels=True)
        _read_words(graph, node, item, "keywords", PDFO.keywords)
        for key, predicate in (("priority", PDFO.priority), ("max_tokens", PDFO.maxTokens)):
            value = _python(graph, node, predicate)
            if value is not None:
                item[key] = int(value)
        extra = _text(graph, node, PDFO.extra)
        if extra is not None:
            item["extra"] = json.loads(extra)
        owned = [
            p
            for p in properties
            if graph.value(p, RDFS.domain) == node and not _is_relation(graph, p, classes)
        ]
        owned.sort(key=lambda p: _order_key(graph, p))
        item["attributes"] = [_read_attribute(graph, p, class_ids) for p in owned]
        if item["attributes"]:
            document["classes"].append(item)
    relations = [
        node
        for node in graph.subjects(RDF.type, OWL.ObjectProperty)
        if _text(graph, node, PDFO.kind) == "relation" or _is_relation(graph, node, classes)
    ]
    relations.sort(key=lambda node: _order_key(graph, node))
    if relations:
        document["relations"] = []
        for node in relations:
            relation: dict[str, Any] = {
                "id": _id_of(graph, node),
                "domain": class_ids[graph.value(node, RDFS.domain)],
                "range": class_ids[graph.value(node, RDFS.range)],
            }
            _read_labels(graph, node, relation)
            _read_description(graph, node, relation)
            document["relations"].append(
                _ordered(relation, ("id", "labels", "description", "domain", "range"))
            )
    return document


# --- export helpers --------------------------------------------------------------------------------------


def _attribute(
    graph: Graph,
    base: Namespace,
    domain: URIRef,
    prefix: str,
    attr: dict[str, Any],
    order: int,
    parent: URIRef | None,
) -> None:
    subject = base[prefix + attr["id"]]
    subfields = attr.get("subfields", [])
    graph.add((subject, RDF.type, OWL.ObjectProperty if subfields else OWL.DatatypeProperty))
    graph.add((subject, RDFS.domain, domain))
    if not subfields:
        graph.add((subject, RDFS.range, XSD_OF_DATATYPE.get(attr["datatype"], XSD.string)))
    graph.add((subject, PDFO.id, Literal(attr["id"])))
    graph.add((subject, PDFO.name, Literal(attr["name"])))
    graph.add((subject, PDFO.order, Literal(order)))
    graph.add((subject, PDFO.datatype, Literal(attr["datatype"])))
    graph.add((subject, PDFO.strategy, Literal(attr["strategy"])))
    if parent is not None:
        graph.add((subject, PDFO.parent, parent))
    if "multiple" in attr:
        graph.add((subject, PDFO.multiple, Literal(attr["multiple"])))
    if "type" in attr:
        graph.add((subject, PDFO.originalType, Literal(attr["type"])))
    if "include_reference" in attr:
        graph.add((subject, PDFO.includeReference, Literal(attr["include_reference"])))
    _labels(graph, subject, attr.get("labels", {}))
    _description(graph, subject, attr)
    _words(graph, subject, attr, "synonyms", PDFO.synonyms, alt_labels=True)
    _words(graph, subject, attr, "keywords", PDFO.keywords)
    if "source_classes" in attr:
        _list(graph, subject, PDFO.sourceClasses, [base[class_id] for class_id in attr["source_classes"]])
    for key, predicate in (("hints", PDFO.hints), ("extra", PDFO.extra)):
        if key in attr:
            graph.add((subject, predicate, _json(attr[key])))
    if "options" in attr:
        nodes: list[Node] = []
        for option in attr["options"]:
            node = BNode()
            graph.add((node, RDF.value, Literal(option["value"])))
            _labels(graph, node, option.get("labels", {}))
            _words(graph, node, option, "synonyms", PDFO.synonyms)
            nodes.append(node)
        _list(graph, subject, PDFO.options, nodes)
    for index, sub in enumerate(subfields):
        _attribute(graph, base, domain, f"{prefix}{attr['id']}.", sub, index, parent=subject)


def _labels(graph: Graph, subject: Node, labels: dict[str, str]) -> None:
    for language, label in labels.items():
        graph.add((subject, RDFS.label, Literal(label, lang=language)))


def _description(graph: Graph, subject: Node, item: dict[str, Any]) -> None:
    if "description" in item:
        graph.add((subject, RDFS.comment, Literal(item["description"])))


def _words(
    graph: Graph,
    subject: Node,
    item: dict[str, Any],
    key: str,
    predicate: URIRef,
    *,
    alt_labels: bool = False,
) -> None:
    if key not in item:
        return
    _list(graph, subject, predicate, [Literal(word) for word in item[key]])
    if alt_labels:
        for word in item[key]:
            graph.add((subject, SKOS.altLabel, Literal(word)))


def _list(graph: Graph, subject: Node, predicate: URIRef, items: list[Node]) -> None:
    head = BNode()
    Collection(graph, head, items)
    graph.add((subject, predicate, head))


def _json(value: Any) -> Literal:
    return Literal(json.dumps(value, ensure_ascii=False, sort_keys=True), datatype=RDF.JSON)


# --- import helpers --------------------------------------------------------------------------------------


def _read_attribute(graph: Graph, node: Node, class_ids: dict[Any, str]) -> dict[str, Any]:
    attr: dict[str, Any] = {"id": _id_of(graph, node)}
    attr["name"] = _text(graph, node, PDFO.name) or _best_label(graph, node) or attr["id"]
    _read_labels(graph, node, attr)
    _read_description(graph, node, attr)
    datatype = _text(graph, node, PDFO.datatype)
    if datatype is None:
        datatype = _DATATYPE_OF_XSD.get(graph.value(node, RDFS.range), "string")
    attr["datatype"] = datatype
    multiple = _python(graph, node, PDFO.multiple)
    if multiple is not None:
        attr["multiple"] = bool(multiple)
    original = _text(graph, node, PDFO.originalType)
    if original is not None:
        attr["type"] = original
    attr["strategy"] = _text(graph, node, PDFO.strategy) or "copy_exact"
    options = graph.value(node, PDFO.options)
    if options is not None:
        attr["options"] = []
        for option in Collection(graph, options):
            entry: dict[str, Any] = {"value": _text(graph, option, RDF.value) or ""}
            _read_labels(graph, option, entry)
            _read_words(graph, option, entry, "synonyms", PDFO.synonyms)
            attr["options"].append(entry)
    _read_words(graph, node, attr, "synonyms", PDFO.synonyms, alt_labels=True)
    _read_words(graph, node, attr, "keywords", PDFO.keywords)
    sources = graph.value(node, PDFO.sourceClasses)
    if sources is not None:
        attr["source_classes"] = [class_ids[item] for item in Collection(graph, sources)]
    include = _python(graph, node, PDFO.includeReference)
    if include is not None:
        attr["include_reference"] = bool(include)
    for key, predicate in (("hints", PDFO.hints), ("extra", PDFO.extra)):
        value = _text(graph, node, predicate)
        if value is not None:
            attr[key] = json.loads(value)
    children = sorted(graph.subjects(PDFO.parent, node), key=lambda child: _order_key(graph, child))
    if children:
        attr["subfields"] = [_read_attribute(graph, child, class_ids) for child in children]
    return _ordered(
        attr,
        (
            "id",
            "name",
            "labels",
            "description",
            "datatype",
            "multiple",
            "type",
            "strategy",
            "options",
            "synonyms",
            "keywords",
            "source_classes",
            "include_reference",
            "hints",
            "extra",
            "subfields",
        ),
    )


def _is_relation(graph: Graph, node: Node, classes: list[Any]) -> bool:
    return (
        graph.value(node, PDFO.datatype) is None
        and (node, RDF.type, OWL.ObjectProperty) in graph
        and graph.value(node, RDFS.domain) in classes
        and graph.value(node, RDFS.range) in classes
    )


def _read_labels(graph: Graph, node: Node, item: dict[str, Any]) -> None:
    labels = {
        label.language: str(label)
        for label in graph.objects(node, RDFS.label)
        if isinstance(label, Literal) and label.language
    }
    if labels:
        item["labels"] = dict(sorted(labels.items(), key=lambda pair: _LANGUAGE_ORDER.get(pair[0], 9)))


_LANGUAGE_ORDER = {"zh": 0, "en": 1}


def _read_description(graph: Graph, node: Node, item: dict[str, Any]) -> None:
    value = _text(graph, node, RDFS.comment)
    if value is not None:
        item["description"] = value


def _read_words(
    graph: Graph, node: Node, item: dict[str, Any], key: str, predicate: URIRef, *, alt_labels: bool = False
) -> None:
    head = graph.value(node, predicate)
    if head is not None:
        item[key] = [str(word) for word in Collection(graph, head)]
    elif alt_labels:
        words = sorted(str(word) for word in graph.objects(node, SKOS.altLabel))
        if words:
            item[key] = words


def _text(graph: Graph, node: Node, predicate: URIRef) -> str | None:
    value = graph.value(node, predicate)
    return None if value is None else str(value)


def _best_label(graph: Graph, node: Node) -> str | None:
    labels = [label for label in graph.objects(node, RDFS.label) if isinstance(label, Literal)]
    labels.sort(key=lambda label: _LANGUAGE_ORDER.get(label.language or "", 5))
    return str(labels[0]) if labels else None


def _id_of(graph: Graph, node: Node) -> str:
    return _text(graph, node, PDFO.id) or _local_id(node)


def _local_id(node: Node) -> str:
    local = re.split(r"[#/:.]", str(node).rstrip("#/:"))[-1]
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", local)
    if not _ID.fullmatch(cleaned):
        cleaned = ("x_" + cleaned)[:64]
    return cleaned


def _order_key(graph: Graph, node: Node) -> tuple[int, str]:
    order = _python(graph, node, PDFO.order)
    return (int(order) if order is not None else 1 << 30, str(node))


def _python(graph: Graph, node: Node, predicate: URIRef) -> Any:
    """The Python value of a literal object (None when there is none)."""
    value = graph.value(node, predicate)
    return value.toPython() if isinstance(value, Literal) else value


def _ordered(item: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: item[key] for key in keys if key in item}
