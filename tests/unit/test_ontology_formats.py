"""pdfonto's own ontology format: JSON Schema validation with JSON paths, lossless conversion to and from
the original format, and OWL/Turtle round trips through rdflib."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from rdflib import OWL, RDF, RDFS, Graph, URIRef

from core.errors import InvalidInput
from core.ontology import default_ontology, load_ontology
from core.ontology_project import json_schema, to_original, to_project
from core.ontology_rdf import from_turtle, to_turtle
from tests.conftest import shared_path
from tests.unit.test_ontology import small_ontology


def project_document() -> dict[str, Any]:
    return {
        "format": "pdfonto.ontology/1",
        "id": "mini",
        "name": "mini",
        "version": "2",
        "labels": {"zh": "小本体", "en": "Mini"},
        "classes": [
            {
                "id": "accident",
                "name": "事故",
                "labels": {"zh": "事故", "en": "Accident"},
                "synonyms": ["事件"],
                "attributes": [
                    {
                        "id": "deaths",
                        "name": "死亡人数",
                        "labels": {"zh": "死亡人数", "en": "Deaths"},
                        "datatype": "integer",
                        "strategy": "extract_format",
                        "synonyms": ["遇难人数"],
                        "hints": {"unit": "人"},
                    },
                    {
                        "id": "grade",
                        "name": "等级",
                        "datatype": "enum",
                        "strategy": "classify_with_options",
                        "options": [
                            {"value": "一般事故", "labels": {"en": "ordinary"}},
                            {"value": "较大事故", "synonyms": ["较大"]},
                        ],
                    },
                    {
                        "id": "victims",
                        "name": "伤亡人员",
                        "datatype": "object",
                        "multiple": True,
                        "strategy": "structured_list_extract",
                        "subfields": [
                            {"id": "name", "name": "姓名", "datatype": "string", "strategy": "copy_exact"},
                            {
                                "id": "age",
                                "name": "年龄",
                                "datatype": "integer",
                                "strategy": "extract_format",
                            },
                        ],
                    },
                    {"id": "when", "name": "发生时间", "datatype": "datetime", "strategy": "extract_format"},
                ],
            },
            {
                "id": "site",
                "name": "地点",
                "attributes": [
                    {
                        "id": "city",
                        "name": "城市",
                        "datatype": "string",
                        "strategy": "copy_exact",
                        "source_classes": ["accident"],
                    }
                ],
            },
        ],
        "relations": [
            {"id": "happened_at", "labels": {"en": "happened at"}, "domain": "accident", "range": "site"}
        ],
    }


def test_project_format_loads_into_the_typed_view() -> None:
    ontology = load_ontology(project_document())
    assert ontology.format == "project" and ontology.id == "mini" and ontology.version == "2"
    accident = ontology.category_by_id("accident")
    deaths, grade, victims, when = accident.fields
    assert (deaths.id, deaths.datatype, deaths.type, deaths.synonyms) == (
        "deaths",
        "integer",
        "integer",
        ("遇难人数",),
    )
    assert deaths.label("en") == "Deaths" and dict(deaths.hints) == {"unit": "人"}
    assert grade.options == ("一般事故", "较大事故") and grade.option_synonyms("较大事故") == (
        "较大事故",
        "较大",
    )
    assert (
        victims.type == "array" and victims.multiple and [s.id for s in victims.subfields] == ["name", "age"]
    )
    assert when.datatype == "datetime" and when.type == "string"
    assert ontology.category("地点").fields[0].source_categories == ("事故",)
    assert [(r.id, r.domain, r.range) for r in ontology.relations] == [("happened_at", "accident", "site")]
    assert ontology.field_count == 7


def mutated(path: list[Any], value: Any) -> dict[str, Any]:
    document = project_document()
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "location", "reason"),
    [
        (
            ["classes", 0, "attributes", 0, "datatype"],
            "int",
            "$.classes[0].attributes[0].datatype",
            "is not one of",
        ),
        (["classes", 1, "id"], "地点", "$.classes[1].id", "does not match"),
        (
            ["classes", 0, "attributes", 1, "options"],
            [],
            "$.classes[0].attributes[1].options",
            "at least one option",
        ),
        (
            ["classes", 0, "attributes", 2, "subfields"],
            [],
            "$.classes[0].attributes[2].subfields",
            "should be non-empty",
        ),
        (["classes", 1, "id"], "accident", "$.classes[1].id", "already the id of $.classes[0]"),
        (["relations", 0, "range"], "nowhere", "$.relations[0].range", "not the id of a class"),
        (
            ["classes", 1, "attributes", 0, "source_classes"],
            ["x"],
            "$.classes[1].attributes[0].source_classes",
            "not the id",
        ),
        (["classes", 0, "labels"], {"Chinese!": "x"}, "$.classes[0].labels", "does not match"),
        (
            ["classes", 0, "attributes", 3, "strategy"],
            "guess",
            "$.classes[0].attributes[3].strategy",
            "not a known strategy",
        ),
        (["classes", 0, "colour"], "red", "$.classes[0]", "Additional properties"),
    ],
)
def test_invalid_project_documents_name_the_json_path(
    path: list[Any], value: Any, location: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_ontology(mutated(path, value))
    message = str(caught.value)
    assert message.startswith(f"{location}: "), message
    assert reason in message, message


def test_the_published_schema_is_valid_and_accepts_the_default() -> None:
    Draft202012Validator.check_schema(json_schema())
    Draft202012Validator(json_schema()).validate(default_ontology().raw)


def test_default_ontology_covers_the_domain_with_ids_labels_and_relations() -> None:
    ontology = default_ontology()
    ids = [category.id for category in ontology.categories]
    for wanted in (
        "report",
        "location",
        "time_weather",
        "project",
        "construction_unit",
        "general_contractor",
        "supervisor",
        "subcontractor",
        "equipment_lessor",
        "surveyor",
        "designer",
        "third_party",
        "accident_type",
        "accident_grade",
        "casualties_losses",
        "course_of_events",
        "direct_causes",
        "indirect_causes",
        "responsibility",
        "sanctions",
        "corrective_measures",
    ):
        assert wanted in ids
    for category, item in ontology.iter_fields():
        assert item.id.isascii() and item.label("en") != item.name, (category.name, item.name)
    assert {(r.domain, r.range) for r in ontology.relations} >= {
        ("project", "general_contractor"),
        ("project", "supervisor"),
    }


def test_original_to_project_and_back_is_lossless() -> None:
    original = small_ontology()
    original["ontology_structure"]["事故概况"]["fields"]["事故等级"]["option_keywords"] = {
        "较大事故": ["较大"]
    }
    original["ontology_structure"]["事故概况"]["custom_flag"] = True
    project = to_project(load_ontology(original))
    assert project["format"] == "pdfonto.ontology/1"
    grade = project["classes"][0]["attributes"][1]
    assert grade["datatype"] == "enum" and grade["options"][1] == {"value": "较大事故", "synonyms": ["较大"]}
    assert project["classes"][0]["extra"] == {"custom_flag": True}
    back = load_ontology(project)
    assert to_original(back) == original
    assert [c.id for c in back.categories] == [c.id for c in load_ontology(original).categories]


def test_ids_of_original_files_are_stable() -> None:
    first, second = load_ontology(small_ontology()), load_ontology(copy.deepcopy(small_ontology()))
    assert [f.id for _, f in first.iter_fields()] == [f.id for _, f in second.iter_fields()]
    assert all(f.id.startswith("f_") for _, f in first.iter_fields())


def test_project_to_original_loads_as_original() -> None:
    ontology = load_ontology(project_document())
    original = to_original(ontology)
    assert set(original) == {"ontology_metadata", "ontology_structure", "extraction_strategies"}
    again = load_ontology(original)
    assert again.format == "original" and again.field_count == ontology.field_count
    assert original["ontology_structure"]["事故"]["fields"]["伤亡人员"]["type"] == "array"


def test_ontology_v2_survives_every_conversion() -> None:
    data = json.loads(shared_path("data", "ontology", "ontology_v2.json").read_text(encoding="utf-8"))
    ontology = load_ontology(data)
    project = to_project(ontology)
    assert to_original(load_ontology(project)) == data
    assert from_turtle(to_turtle(ontology)) == project


@pytest.mark.parametrize("make", [project_document, lambda: to_project(default_ontology())])
def test_turtle_round_trip(make: Any) -> None:
    document = make()
    ontology = load_ontology(document)
    turtle = to_turtle(ontology)
    graph = Graph().parse(data=turtle, format="turtle")
    assert len(list(graph.subjects(RDF.type, OWL.Class))) == len(ontology.categories)
    assert from_turtle(turtle) == document
    assert load_ontology(from_turtle(turtle)) == ontology


def test_turtle_export_is_plain_owl() -> None:
    graph = Graph().parse(data=to_turtle(load_ontology(project_document())), format="turtle")
    base = "urn:pdfonto:ontology:mini#"
    deaths = URIRef(base + "accident.deaths")
    assert (deaths, RDF.type, OWL.DatatypeProperty) in graph
    assert graph.value(deaths, RDFS.domain) == URIRef(base + "accident")
    assert str(graph.value(deaths, RDFS.range)).endswith("#integer")
    assert (URIRef(base + "happened_at"), RDF.type, OWL.ObjectProperty) in graph
    assert {str(label) for label in graph.objects(deaths, RDFS.label)} == {"死亡人数", "Deaths"}


def test_foreign_owl_is_imported() -> None:
    turtle = """
    @prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    @prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix ex: <http://example.org/acc#> .
    <http://example.org/acc> a owl:Ontology ; rdfs:label "Accidents"@en .
    ex:Accident a owl:Class ; rdfs:label "Accident"@en, "事故"@zh .
    ex:Site a owl:Class ; rdfs:label "Site"@en .
    ex:deaths a owl:DatatypeProperty ; rdfs:domain ex:Accident ; rdfs:range xsd:integer ;
        rdfs:label "deaths"@en .
    ex:city a owl:DatatypeProperty ; rdfs:domain ex:Site ; rdfs:range xsd:string .
    ex:occurredAt a owl:ObjectProperty ; rdfs:domain ex:Accident ; rdfs:range ex:Site .
    """
    document = from_turtle(turtle)
    ontology = load_ontology(document)
    accident = ontology.category_by_id("Accident")
    assert accident.name == "事故" and accident.fields[0].datatype == "integer"
    assert [(r.id, r.domain, r.range) for r in ontology.relations] == [("occurredAt", "Accident", "Site")]


def test_bad_turtle_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match=r"^\$: not valid Turtle"):
        from_turtle("this is not turtle")
    with pytest.raises(InvalidInput, match="no owl:Class"):
        from_turtle("@prefix ex: <http://e/> . ex:a ex:b ex:c .")
