"""document.json from MinerU content lists: outline levels, furniture, character conservation, markdown."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from core.errors import InvalidInput
from functions.structure.document import build_document, parse_numbering, render_markdown

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
TEXT_KEYS = (
    "text",
    "list_items",
    "code_body",
    "table_caption",
    "table_footnote",
    "image_caption",
    "image_footnote",
)


def heading(text: str, page: int = 0, level: int = 1) -> dict[str, Any]:
    return {"type": "text", "text": text, "text_level": level, "page_idx": page, "bbox": [100, 100, 900, 120]}


def para(text: str, page: int = 0) -> dict[str, Any]:
    return {"type": "text", "text": text, "page_idx": page, "bbox": [100, 130, 900, 300]}


def chinese_report() -> list[dict[str, Any]]:
    return [
        heading("某工程“3.21”较大坍塌事故调查报告"),
        para("2022年3月21日9时30分许，某工地发生一起坍塌事故，造成3人死亡。"),
        heading("一、基本情况"),
        heading("（一）事故单位情况"),
        para("某建设集团有限公司，法定代表人张三。"),
        {"type": "header", "text": "某市应急管理局", "page_idx": 1, "bbox": [100, 20, 900, 40]},
        {"type": "page_number", "text": "2", "page_idx": 1, "bbox": [480, 960, 520, 980]},
        heading("1.项目概况", page=1),
        para("项目位于某区某路。", page=1),
        heading("（二）项目情况", page=1),
        {"type": "text", "text": "   ", "page_idx": 1, "bbox": [0, 0, 1, 1]},
        heading("二、事故经过", page=2),
        para("作业人员在基坑内作业时边坡坍塌。", page=2),
        {
            "type": "table",
            "table_body": "<table><tr><td>姓名</td><td>年龄</td></tr>"
            "<tr><td>李四</td><td>45</td></tr></table>",
            "table_caption": ["表1 伤亡人员"],
            "table_footnote": [],
            "img_path": "images/t1.jpg",
            "page_idx": 2,
            "bbox": [100, 400, 900, 500],
        },
        {
            "type": "image",
            "img_path": "images/p1.jpg",
            "image_caption": ["图1 现场"],
            "page_idx": 2,
            "bbox": [1, 2, 3, 4],
        },
        {"type": "footer", "text": "第3页", "page_idx": 2, "bbox": [100, 960, 900, 980]},
    ]


def input_chars(content_list: list[dict[str, Any]]) -> Counter[str]:
    chars: Counter[str] = Counter()
    for raw in content_list:
        for key in TEXT_KEYS:
            value = raw.get(key)
            values = value if isinstance(value, list) else [value]
            for item in values:
                if isinstance(item, str):
                    chars.update(char for char in item if not char.isspace())
    return chars


def output_chars(document: dict[str, Any]) -> Counter[str]:
    chars: Counter[str] = Counter()
    for block in document["blocks"]:
        for key in ("text", "caption", "footnote"):
            chars.update(char for char in block.get(key, "") if not char.isspace())
    return chars


def test_numbering_nests_chinese_schemes_by_first_appearance() -> None:
    document = build_document(chinese_report())
    levels = {section["title"]: section["level"] for section in document["sections"]}
    assert levels["基本情况"] == 1
    assert levels["事故单位情况"] == 2
    assert levels["项目概况"] == 3
    assert levels["项目情况"] == 2
    assert levels["事故经过"] == 1


def test_sections_have_parents_numbering_and_pages() -> None:
    document = build_document(chinese_report())
    by_title = {section["title"]: section for section in document["sections"]}
    assert by_title["事故单位情况"]["parent_id"] == by_title["基本情况"]["id"]
    assert by_title["项目概况"]["parent_id"] == by_title["事故单位情况"]["id"]
    assert by_title["项目情况"]["parent_id"] == by_title["基本情况"]["id"]
    assert by_title["事故经过"]["parent_id"] is None
    assert by_title["事故单位情况"]["numbering"] == "（一）"
    assert by_title["基本情况"]["numbering"] == "一、"
    assert (by_title["基本情况"]["page_start"], by_title["基本情况"]["page_end"]) == (0, 1)


def test_page_furniture_is_kept_outside_sections() -> None:
    document = build_document(chinese_report())
    furniture = [
        block for block in document["blocks"] if block["type"] in ("header", "footer", "page_number")
    ]
    assert {block["type"] for block in furniture} == {"header", "footer", "page_number"}
    assert all(block["section_id"] is None for block in furniture)
    in_sections = {block_id for section in document["sections"] for block_id in section["block_ids"]}
    assert not in_sections & {block["id"] for block in furniture}


def test_every_content_block_belongs_to_exactly_one_section() -> None:
    document = build_document(chinese_report())
    listed = [block_id for section in document["sections"] for block_id in section["block_ids"]]
    assert len(listed) == len(set(listed))
    for block in document["blocks"]:
        if block["section_id"] is not None:
            section = next(s for s in document["sections"] if s["id"] == block["section_id"])
            assert block["id"] in section["block_ids"]


def test_characters_are_conserved_and_empty_blocks_dropped() -> None:
    content_list = chinese_report()
    document = build_document(content_list)
    assert output_chars(document) == input_chars(content_list)
    assert document["metadata"]["block_count"] == len(content_list) - 1
    assert [block["id"] for block in document["blocks"]][:3] == ["b0001", "b0002", "b0003"]


def test_metadata_tables_and_images() -> None:
    document = build_document(chinese_report(), source={"bucket": "mineru", "name": "p/f/content_list.json"})
    metadata = document["metadata"]
    assert metadata["title"] == "某工程“3.21”较大坍塌事故调查报告"
    assert metadata["language"] == "zh"
    assert metadata["page_count"] == 3
    assert metadata["source"] == {"bucket": "mineru", "name": "p/f/content_list.json"}
    (table,) = document["tables"]
    assert table["caption"] == "表1 伤亡人员" and "<td>李四</td>" in table["html"]
    image = next(block for block in document["blocks"] if block["type"] == "image")
    assert image["img_path"] == "images/p1.jpg" and image["caption"] == "图1 现场"


def test_markdown_heading_levels_and_omitted_furniture() -> None:
    markdown = render_markdown(build_document(chinese_report()))
    lines = markdown.splitlines()
    assert "# 一、基本情况" in lines
    assert "## （一）事故单位情况" in lines
    assert "### 1.项目概况" in lines
    assert "![图1 现场](images/p1.jpg)" in lines
    assert any(line.startswith("<table>") for line in lines)
    assert "某市应急管理局" not in markdown and "第3页" not in markdown


def test_unnumbered_headings_keep_mineru_levels_and_dotted_numbers_nest() -> None:
    content_list = [
        heading("A study", level=1),
        heading("Abstract", level=2),
        heading("1. Introduction", level=2),
        heading("2. Methods", level=2),
        heading("2.1. Data", level=2),
        para("We measured 3.5 things."),
    ]
    document = build_document(content_list)
    assert [section["level"] for section in document["sections"]] == [1, 2, 2, 2, 3]
    assert document["metadata"]["language"] == "en"


@pytest.mark.parametrize(
    ("text", "scheme", "prefix"),
    [
        ("第一章 总则", "chapter", "第一章"),
        ("第二节 施工", "section", "第二节"),
        ("三、事故原因", "cn_list", "三、"),
        ("（十二）其他", "cn_paren", "（十二）"),
        ("(3)现场", "arabic_paren", "(3)"),
        ("1.2.3 细则", "arabic", "1.2.3"),
        ("4、教育培训", "arabic", "4、"),
    ],
)
def test_parse_numbering(text: str, scheme: str, prefix: str) -> None:
    numbering = parse_numbering(text)
    assert numbering is not None
    assert (numbering.scheme, numbering.prefix) == (scheme, prefix)


@pytest.mark.parametrize("text", ["2021 年5 月 14 日", "3.8 米", "事故经过", "17号线"])
def test_parse_numbering_ignores_non_numbering(text: str) -> None:
    assert parse_numbering(text) is None


def test_invalid_content_list_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        build_document({"type": "text"})  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"\[1\]"):
        build_document([para("ok"), "not a block"])  # type: ignore[list-item]


# --- real MinerU output (skipped on a fresh clone) ---------------------------------------------------------


def load_shared(relative: str) -> list[dict[str, Any]]:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{path} absent (the ../shared reference data is not part of a fresh clone)")
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(
    "relative", ["data/mineru/report_514/content_list.json", "data/mineru/demo1_flash_content_list_v1.json"]
)
def test_real_samples_conserve_characters(relative: str) -> None:
    content_list = load_shared(relative)
    document = build_document(content_list)
    assert output_chars(document) == input_chars(content_list)
    assert build_document(content_list) == document


def test_report_514_outline_follows_chinese_numbering() -> None:
    document = build_document(load_shared("data/mineru/report_514/content_list.json"))
    sections = document["sections"]
    top = [
        s for s in sections if s["numbering"].endswith("、") and s["numbering"][0] in "一二三四五六七八九十"
    ]
    assert len(top) >= 4 and all(section["level"] == 1 for section in top)
    nested = [s for s in sections if s["numbering"].startswith("（")]
    assert nested and all(s["level"] == 2 and s["parent_id"] in {t["id"] for t in top} for s in nested)
    assert document["metadata"]["language"] == "zh"
    assert "调查报告" in (document["metadata"]["title"] or "")


def test_demo1_keeps_furniture_typed_and_tables() -> None:
    content_list = load_shared("data/mineru/demo1_flash_content_list_v1.json")
    document = build_document(content_list)
    kinds = Counter(block["type"] for block in document["blocks"])
    assert kinds["header"] > 0 and kinds["page_number"] > 0
    assert len(document["tables"]) == sum(1 for raw in content_list if raw["type"] == "table")
    assert document["metadata"]["language"] == "en"
    levels = {s["numbering"]: s["level"] for s in document["sections"] if s["numbering"]}
    assert levels["2.1."] == levels["2."] + 1
