"""The offline (no-LLM) extractor: evidence-backed values from keyword heuristics."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from core.ontology import default_ontology, load_ontology
from functions.extract.offline import extract_offline, field_terms, split_sentences
from functions.structure.document import build_document

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
DATE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")


def block(text: str, *, level: int | None = None, page: int = 0) -> dict[str, Any]:
    raw: dict[str, Any] = {"type": "text", "text": text, "page_idx": page, "bbox": [10, 20, 990, 60]}
    if level:
        raw["text_level"] = level
    return raw


def report() -> dict[str, Any]:
    return build_document(
        [
            block("某市某工程“6.18”较大坍塌事故调查报告", level=1),
            block(
                "2023年6月18日14时20分许，某市某区某工地发生一起基坑坍塌事故，造成3人死亡、2人重伤，"
                "直接经济损失约860万元。"
            ),
            block("一、基本情况", level=1),
            block("（一）参建单位", level=1),
            block("建设单位甲置业有限公司，施工单位乙建工集团有限公司，监理单位丙监理咨询有限公司。"),
            block("二、事故原因", level=1, page=1),
            block("（一）直接原因", level=1, page=1),
            block("基坑开挖未按方案放坡，土体失稳，是导致事故发生的直接原因。", page=1),
            block("（二）间接原因", level=1, page=1),
            block("乙建工集团有限公司安全教育培训不到位，是导致事故发生的间接原因。", page=1),
            {"type": "footer", "text": "直接原因 页脚", "page_idx": 1, "bbox": [0, 950, 1000, 990]},
        ]
    )


def ontology() -> Any:
    return load_ontology(
        {
            "ontology_metadata": {"name": "test", "version": "0.1"},
            "ontology_structure": {
                "概况": {
                    "keywords": ["事故"],
                    "fields": {
                        "1.1事故发生时间（X年X月X日）": {
                            "type": "string",
                            "extraction_strategy": "copy_exact",
                            "description": "事故发生的时间",
                            "keywords": ["发生"],
                        },
                        "死亡人数": {
                            "type": "integer",
                            "extraction_strategy": "extract_format",
                            "description": "死亡人数",
                            "keywords": ["死亡"],
                        },
                        "直接经济损失": {
                            "type": "string",
                            "extraction_strategy": "extract_format",
                            "description": "损失金额",
                        },
                        "事故等级": {
                            "type": "string",
                            "extraction_strategy": "classify_with_options",
                            "description": "等级",
                            "options": ["一般事故", "较大事故", "重大事故"],
                            "option_keywords": {"较大事故": ["较大"]},
                        },
                        "天气": {
                            "type": "string",
                            "extraction_strategy": "copy_exact",
                            "description": "天气",
                            "keywords": ["天气", "降雨"],
                        },
                        "有无高处坠落": {
                            "type": "string",
                            "extraction_strategy": "classify_with_options",
                            "description": "是否高处坠落",
                            "options": ["否", "是"],
                        },
                    },
                },
                "参建单位": {
                    "keywords": ["参建单位"],
                    "fields": {
                        "建设单位名称": {
                            "type": "string",
                            "extraction_strategy": "copy_exact",
                            "description": "全称",
                        },
                        "单位": {
                            "type": "object",
                            "extraction_strategy": "structured_extract",
                            "description": "各方",
                            "subfields": {
                                "监理单位名称": {
                                    "type": "string",
                                    "extraction_strategy": "copy_exact",
                                    "description": "全称",
                                }
                            },
                        },
                    },
                },
                "直接原因": {
                    "keywords": ["直接原因"],
                    "fields": {
                        "直接原因": {
                            "type": "string",
                            "extraction_strategy": "cross_chunk_summarize",
                            "description": "直接原因",
                        }
                    },
                },
            },
        }
    )


def test_values_and_evidence_from_a_small_report() -> None:
    document = report()
    result = extract_offline(document, ontology())
    facts = result["概况"]
    assert DATE.search(facts["1.1事故发生时间（X年X月X日）"]["value"])
    assert facts["死亡人数"]["value"] == 3
    assert "860" in facts["直接经济损失"]["value"] and "万元" in facts["直接经济损失"]["value"]
    assert facts["事故等级"]["value"] == "较大事故"
    evidence = facts["死亡人数"]["evidence"][0]
    block_ids = {b["id"] for b in document["blocks"]}
    assert evidence["block_id"] in block_ids and "死亡" in evidence["quote"] and evidence["verified"]
    assert evidence["page_idx"] == 0 and evidence["bbox"] == [10, 20, 990, 60]
    block = next(b for b in document["blocks"] if b["id"] == evidence["block_id"])
    assert block["text"][evidence["char_start"] : evidence["char_end"]] == evidence["quote"]
    assert facts["死亡人数"]["reference"] == evidence["quote"] and facts["死亡人数"]["status"] == "filled"


def test_names_structured_values_and_summaries() -> None:
    result = extract_offline(report(), ontology())
    assert result["参建单位"]["建设单位名称"]["value"] == "甲置业有限公司"
    assert result["参建单位"]["单位"]["value"] == {"监理单位名称": "丙监理咨询有限公司"}
    summary = result["直接原因"]["直接原因"]
    assert "土体失稳" in summary["value"] and "页脚" not in summary["value"]


def test_missing_values_are_empty_without_reference() -> None:
    facts = extract_offline(report(), ontology())["概况"]
    weather = facts["天气"]
    assert (weather["value"], weather["reference"], weather["evidence"]) == ("", None, [])
    assert weather["status"] == "empty" and weather["note"] == "no sentence mentions 天气、降雨"
    default = facts["有无高处坠落"]
    assert (default["value"], default["verified"], default["evidence"]) == ("否", False, [])
    assert "default" in default["note"]


def test_metadata_counts_and_determinism() -> None:
    document, schema = report(), ontology()
    result = extract_offline(document, schema)
    metadata = result["_metadata"]
    assert metadata["extractor"] == "offline"
    assert (metadata["ontology_name"], metadata["ontology_version"]) == ("test", "0.1")
    assert metadata["field_count"] == schema.field_count
    assert 0 < metadata["filled_count"] <= metadata["field_count"]
    assert extract_offline(document, schema) == result
    assert json.loads(json.dumps(result, ensure_ascii=False)) == result


def test_field_terms_strip_numbering_and_parentheticals() -> None:
    field = ontology().category("概况").fields[0]
    assert field_terms(field) == ("发生", "事故发生时间")


def test_sentences_skip_furniture_and_headings() -> None:
    texts = [sentence.text for sentence in split_sentences(report())]
    assert texts[0] == "某市某工程“6.18”较大坍塌事故调查报告"
    assert not any("页脚" in text for text in texts)
    assert "一、基本情况" not in texts


def test_default_ontology_covers_every_field() -> None:
    schema = default_ontology()
    result = extract_offline(report(), schema)
    for category in schema.categories:
        assert set(result[category.name]) == {field.name for field in category.fields}


# --- the real 514 report (skipped on a fresh clone) --------------------------------------------------------


def test_report_514_with_default_ontology() -> None:
    path = SHARED / "data" / "mineru" / "report_514" / "content_list.json"
    if not path.exists():
        pytest.skip(f"{path} absent (the ../shared reference data is not part of a fresh clone)")
    content_list = json.loads(path.read_text(encoding="utf-8"))
    started = time.perf_counter()
    document = build_document(content_list)
    result = extract_offline(document, default_ontology())
    assert time.perf_counter() - started < 1.0
    values = [
        json.dumps(field["value"], ensure_ascii=False)
        for category, fields in result.items()
        if category != "_metadata"
        for field in fields.values()
    ]
    assert any(DATE.search(value) for value in values)
    assert result["_metadata"]["filled_count"] >= 40
    block_ids = {b["id"] for b in document["blocks"]}
    for category, fields in result.items():
        if category == "_metadata":
            continue
        for field in fields.values():
            for evidence in field["evidence"]:
                assert evidence["verified"] and evidence["block_id"] in block_ids and evidence["quote"]
            if field["status"] == "empty":
                assert field["note"], (category, field)
    # The named parties, each for its own role (the original named the subcontractor for all three).
    assert result["建设单位"]["建设单位名称"]["value"] == "北京市轨道交通建设管理有限公司"
    assert result["施工总承包单位"]["总承包单位名称"]["value"] == "中铁二十一局集团有限公司"
    assert result["监理单位"]["监理单位名称"]["value"] == "北京致远工程建设监理有限责任公司"
    assert result["分包单位"]["专业分包单位名称"]["value"] == "北京怡立建筑工程有限公司"
    assert result["分包单位"]["分包单位法定代表人"]["value"] == "边立宾"
    contractor_rep = result["施工总承包单位"]["法定代表人"]
    assert contractor_rep["value"] == "" and "中铁二十一局集团有限公司" in contractor_rep["note"]
    assert result["分包单位"]["劳务分包单位名称"]["status"] == "empty"
    assert result["工程项目"]["项目名称"]["value"] == "北京地铁17 号线工程土建施工 08 合同段"
    assert result["责任认定"]["直接责任人"]["value"] == "谢子兵"
    assert result["责任认定"]["主要责任人"]["value"] == "边立宾"
    # Time, casualties and losses.
    assert result["时间天气情况"]["事故发生时间"]["value"] == "2021 年5 月 14 日1 时 52 分许"
    assert result["时间天气情况"]["作业开始时间"]["value"] == "2021 年5 月 13 日19 时许"
    assert result["时间天气情况"]["事发时段"]["value"] == "凌晨"
    assert result["伤亡及损失"]["死亡人数"]["value"] == 1
    assert result["伤亡及损失"]["直接经济损失"]["value"] == "约170 万元"
    assert result["事故类型"]["事故类别"]["value"] == "高处坠落"
    assert result["事故等级"]["事故等级"]["value"] == "一般事故"
    assert result["_metadata"]["filled_count"] >= 80


def test_a_partys_fields_are_answered_only_by_text_about_that_party() -> None:
    document = build_document(
        [
            block("一、基本情况", level=1),
            block("施工单位乙建工集团有限公司，具有建筑工程施工总承包二级资质。"),
            block("监理单位丙监理咨询有限公司。"),
        ]
    )
    result = extract_offline(document, default_ontology())
    contractor, supervisor = result["施工总承包单位"], result["监理单位"]
    assert contractor["企业资质"]["value"] and "二级资质" in contractor["企业资质"]["value"]
    assert supervisor["监理单位名称"]["value"] == "丙监理咨询有限公司"
    # The only sentence about a qualification is the contractor's: it must not become the supervisor's.
    assert supervisor["监理资质"]["value"] == ""
    assert supervisor["监理资质"]["note"]
