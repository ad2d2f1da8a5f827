"""Ontology loading and validation in the original JSON format."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from core.errors import InvalidInput
from core.ontology import KNOWN_STRATEGIES, default_ontology, load_ontology

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


def small_ontology() -> dict[str, Any]:
    return {
        "ontology_metadata": {"name": "t", "version": "1", "extra": [1, 2]},
        "ontology_structure": {
            "事故概况": {
                "priority": 0,
                "description": "概况",
                "keywords": ["事故"],
                "max_tokens": 2000,
                "fields": {
                    "死亡人数": {
                        "type": "integer",
                        "extraction_strategy": "extract_format",
                        "description": "人数",
                    },
                    "事故等级": {
                        "type": "string",
                        "extraction_strategy": "classify_with_options",
                        "description": "等级",
                        "options": ["一般事故", "较大事故"],
                    },
                    "时间": {
                        "type": "object",
                        "extraction_strategy": "structured_extract",
                        "description": "时间",
                        "subfields": {
                            "发生时间": {
                                "type": "string",
                                "extraction_strategy": "copy_exact",
                                "description": "x",
                            }
                        },
                        "source_categories": ["事故概况"],
                    },
                },
            }
        },
        "extraction_strategies": {
            "copy_exact": {"description": "d", "prompt_template": "{field_name} {content}"}
        },
    }


def test_small_ontology_loads_into_typed_tree() -> None:
    data = small_ontology()
    ontology = load_ontology(data)
    assert (ontology.name, ontology.version) == ("t", "1")
    category = ontology.category("事故概况")
    assert [field.name for field in category.fields] == ["死亡人数", "事故等级", "时间"]
    assert category.fields[1].options == ("一般事故", "较大事故")
    assert category.fields[2].subfields[0].name == "发生时间"
    assert ontology.field_count == 4
    assert ontology.raw == data


def test_raw_is_a_private_copy() -> None:
    data = small_ontology()
    ontology = load_ontology(data)
    data["ontology_metadata"]["name"] = "changed"
    assert ontology.raw["ontology_metadata"]["name"] == "t"
    assert ontology.to_dict() == ontology.raw and ontology.to_dict() is not ontology.raw


def test_json_text_is_accepted_and_bad_json_rejected() -> None:
    assert load_ontology(json.dumps(small_ontology(), ensure_ascii=False)).field_count == 4
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load_ontology("{not json")


def mutate(path: list[str], value: Any) -> dict[str, Any]:
    data = small_ontology()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


DELETE = object()
FIELDS = ["ontology_structure", "事故概况", "fields"]


@pytest.mark.parametrize(
    ("path", "value", "location", "reason"),
    [
        (["ontology_structure"], DELETE, "ontology_structure", "is required"),
        (["ontology_structure"], {}, "ontology_structure", "at least one category"),
        ([*FIELDS[:2], "fields"], DELETE, "ontology_structure.事故概况", '"fields" is required'),
        (
            [*FIELDS, "死亡人数", "extraction_strategy"],
            "guess",
            "ontology_structure.事故概况.fields.死亡人数",
            '"extraction_strategy" must be one of',
        ),
        (
            [*FIELDS, "死亡人数", "type"],
            "int",
            "ontology_structure.事故概况.fields.死亡人数",
            '"type" must be one of',
        ),
        (
            [*FIELDS, "事故等级", "options"],
            [],
            "ontology_structure.事故概况.fields.事故等级",
            '"options" must not be empty',
        ),
        (
            [*FIELDS, "时间", "subfields"],
            DELETE,
            "ontology_structure.事故概况.fields.时间",
            'needs "subfields"',
        ),
        (
            [*FIELDS, "时间", "subfields", "发生时间", "extraction_strategy"],
            "x",
            "ontology_structure.事故概况.fields.时间.subfields.发生时间",
            "extraction_strategy",
        ),
        (
            [*FIELDS, "时间", "source_categories"],
            ["无此类"],
            "ontology_structure.事故概况.fields.时间",
            "unknown categories",
        ),
        ([*FIELDS[:2], "priority"], "high", "ontology_structure.事故概况", '"priority" must be an integer'),
        ([*FIELDS[:2], "keywords"], "事故", "ontology_structure.事故概况", '"keywords" must be a list'),
        (
            ["extraction_strategies", "copy_exact"],
            "text",
            "extraction_strategies.copy_exact",
            "must be an object",
        ),
    ],
)
def test_invalid_ontologies_name_the_location(
    path: list[str], value: Any, location: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_ontology(mutate(path, value))
    message = str(caught.value)
    assert message.startswith(f"{location}: ")
    assert reason in message


def test_names_with_dots_are_quoted_in_locations() -> None:
    data = small_ontology()
    data["ontology_structure"] = {"1.报告": copy.deepcopy(data["ontology_structure"]["事故概况"])}
    data["ontology_structure"]["1.报告"]["fields"]["死亡人数"]["extraction_strategy"] = "nope"
    data["ontology_structure"]["1.报告"]["fields"]["时间"].pop("source_categories")
    with pytest.raises(InvalidInput, match=r'^ontology_structure\["1\.报告"\]\.fields\.死亡人数: '):
        load_ontology(data)


def test_non_object_input_is_rejected() -> None:
    with pytest.raises(InvalidInput, match=r"^\$: "):
        load_ontology([1, 2])
    with pytest.raises(ValueError):  # InvalidInput is also a ValueError
        load_ontology({"ontology_structure": {"c": "not an object"}})


def test_custom_strategy_declared_in_the_ontology_is_accepted() -> None:
    data = small_ontology()
    data["extraction_strategies"]["my_strategy"] = {"description": "d", "prompt_template": "{content}"}
    data["ontology_structure"]["事故概况"]["fields"]["死亡人数"]["extraction_strategy"] = "my_strategy"
    assert "my_strategy" in load_ontology(data).strategies


def test_default_ontology_is_valid_and_rich() -> None:
    ontology = default_ontology()
    assert ontology.field_count >= 80
    assert 18 <= len(ontology.categories) <= 24
    strategies = {field.extraction_strategy for _, field in ontology.iter_fields()}
    assert strategies <= set(KNOWN_STRATEGIES)
    for _, field in ontology.iter_fields():
        assert field.description, field.name
        if field.extraction_strategy == "classify_with_options":
            assert field.options, field.name
    assert ontology.format == "project" and ontology.id == "accident_report"
    assert set(ontology.raw["strategies"]) == set(KNOWN_STRATEGIES)
    assert load_ontology(ontology.to_dict()) == ontology


def test_original_ontology_v2_round_trips() -> None:
    path = SHARED / "data" / "ontology" / "ontology_v2.json"
    if not path.exists():
        pytest.skip(f"{path} absent (the ../shared reference data is not part of a fresh clone)")
    data = json.loads(path.read_text(encoding="utf-8"))
    ontology = load_ontology(data)
    assert len(ontology.categories) == 23
    assert ontology.field_count == 137
    assert ontology.raw == data
    assert set(data["extraction_strategies"]) == set(KNOWN_STRATEGIES)
