"""The extracted values as an RDF graph: ``graph.ttl`` and ``graph.jsonld``.

Each category with at least one value becomes an instance of its ontology class
(``<file IRI>/<class id>``), each value a triple with the attribute's property and a literal typed by the
attribute's datatype (dates written ``2021年5月14日1时52分`` become ``xsd:dateTime``/``xsd:date`` when they
parse, else stay strings); a structured value becomes a blank node carrying its subfields; a list gives one
triple per item. The ontology's relations link the instances when both ends exist. Every instance points to
the source document and to the blocks its values were quoted from.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV

from core.ontology import Field, Ontology
from core.ontology_project import iri_of
from core.ontology_rdf import PDFO

_CN_DATETIME = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日(?:\s*(?:凌晨|早上|上午|中午|下午|傍晚|晚上|夜间)?\s*(\d{1,2})\s*[时点](?:\s*(\d{1,2})\s*分)?)?"
)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?")


def file_iri(project_id: str, file_id: str) -> URIRef:
    return URIRef(f"urn:pdfonto:project:{project_id}:file:{file_id}")


def build_graph(result: dict[str, Any], ontology: Ontology, *, document_iri: URIRef) -> Graph:
    base = Namespace(iri_of(ontology))
    graph = Graph()
    graph.bind("onto", base)
    graph.bind("pdfo", PDFO)
    graph.bind("prov", PROV)
    graph.bind("dcterms", DCTERMS)
    graph.add((document_iri, RDF.type, PDFO.Document))
    title = result.get("_metadata", {}).get("document_title")
    if title:
        graph.add((document_iri, DCTERMS.title, Literal(title)))
    instances: dict[str, URIRef] = {}
    for category in ontology.categories:
        entries = result.get(category.name, {})
        filled = [
            (item, entries[item.name])
            for item in category.fields
            if entries.get(item.name, {}).get("status") == "filled"
        ]
        if not filled:
            continue
        node = URIRef(f"{document_iri}/{category.id}")
        instances[category.id] = node
        graph.add((node, RDF.type, base[category.id]))
        graph.add((node, RDFS.label, Literal(category.name)))
        graph.add((node, PROV.wasDerivedFrom, document_iri))
        blocks: set[str] = set()
        for item, entry in filled:
            predicate = base[f"{category.id}.{item.id}"]
            for value in entry["value"] if isinstance(entry["value"], list) else [entry["value"]]:
                _add_value(graph, base, node, predicate, f"{category.id}.{item.id}", item, value)
            blocks.update(e["block_id"] for e in entry.get("evidence", []) if e.get("verified"))
        for block_id in sorted(blocks):
            graph.add((node, PDFO.evidenceBlock, Literal(block_id)))
    for relation in ontology.relations:
        if relation.domain in instances and relation.range in instances:
            graph.add((instances[relation.domain], base[relation.id], instances[relation.range]))
    return graph


def serialise(graph: Graph) -> tuple[bytes, bytes]:
    """(Turtle, JSON-LD) bytes."""
    turtle = graph.serialize(format="turtle").encode("utf-8")
    jsonld = graph.serialize(format="json-ld", indent=1, ensure_ascii=False).encode("utf-8")
    return turtle, jsonld


def _add_value(
    graph: Graph,
    base: Namespace,
    subject: URIRef | BNode,
    predicate: URIRef,
    path: str,
    item: Field,
    value: Any,
) -> None:
    if value is None or value == "" or value == {}:
        return
    if item.subfields and isinstance(value, dict):
        record = BNode()
        graph.add((subject, predicate, record))
        for sub in item.subfields:
            inner = value.get(sub.name)
            for element in inner if isinstance(inner, list) else [inner]:
                _add_value(graph, base, record, base[f"{path}.{sub.id}"], f"{path}.{sub.id}", sub, element)
        return
    graph.add((subject, predicate, typed_literal(item, value)))


def typed_literal(item: Field, value: Any) -> Literal:
    datatype = item.datatype or item.type
    if isinstance(value, bool):
        return Literal(value)
    if datatype == "integer" and isinstance(value, int):
        return Literal(value, datatype=XSD.integer)
    if datatype in ("decimal", "number") and isinstance(value, (int, float)):
        return Literal(value, datatype=XSD.decimal)
    if datatype in ("date", "datetime") and isinstance(value, str):
        parsed = parse_date(value)
        if parsed is not None:
            return Literal(parsed)
    if isinstance(value, (dict, list)):
        import json

        return Literal(json.dumps(value, ensure_ascii=False), datatype=RDF.JSON)
    return Literal(str(value))


def parse_date(text: str) -> date | datetime | None:
    """``2021 年5 月 14 日1 时 52 分许`` → datetime(2021, 5, 14, 1, 52); ISO dates too; None otherwise."""
    match = _CN_DATETIME.search(text)
    try:
        if match:
            year, month, day, hour, minute = match.groups()
            if hour is None:
                return date(int(year), int(month), int(day))
            hours = int(hour)
            if re.search(r"下午|傍晚|晚上", match.group(0)) and hours < 12:
                hours += 12
            return datetime(int(year), int(month), int(day), hours, int(minute or 0))
        iso = _ISO.search(text)
        if iso:
            value = iso.group(0).replace(" ", "T")
            return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    except ValueError:
        return None
    return None
