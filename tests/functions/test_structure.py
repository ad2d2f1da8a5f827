"""document.json from content lists: outline levels, glued headings, joined paragraphs, furniture, chunks."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from core.errors import InvalidInput
from functions.structure.chunking import chunk_fields, estimate_tokens
from functions.structure.document import build_document, parse_numbering, render_markdown
from functions.structure.pdf_lines import PdfLines
from functions.structure.spans import block_range_to_fragments, chunk_range_to_blocks
from tests.pdfgen import write_pdf

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "core" / "schemas" / "document.schema.json").read_text(encoding="utf-8"))
TEXT_KEYS = (
    "text",
    "list_items",
    "code_body",
    "table_caption",
    "table_footnote",
    "image_caption",
    "image_footnote",
)
FURNITURE = ("header", "footer", "page_number")


def heading(text: str, page: int = 0, level: int = 1) -> dict[str, Any]:
    return {"type": "text", "text": text, "text_level": level, "page_idx": page, "bbox": [100, 100, 900, 120]}


def para(text: str, page: int = 0, bbox: list[float] | None = None) -> dict[str, Any]:
    return {"type": "text", "text": text, "page_idx": page, "bbox": bbox or [100, 130, 900, 300]}


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
    """Characters of all blocks, plus those a paragraph join dropped (recorded in ``joins``)."""
    chars: Counter[str] = Counter()
    for block in document["blocks"]:
        for key in ("text", "caption", "footnote"):
            chars.update(char for char in block.get(key, "") if not char.isspace())
        chars.update(join["dropped"] for join in block.get("joins", []) if join["dropped"])
    return chars


def check_invariants(document: dict[str, Any], content_list: list[dict[str, Any]]) -> None:
    """What every document must satisfy: schema, provenance of every block character, exact chunk spans,
    every non-furniture character in exactly one chunk."""
    jsonschema.validate(json.loads(json.dumps(document)), SCHEMA)
    blocks = {block["id"]: block for block in document["blocks"]}
    for block in document["blocks"]:
        covered = 0
        for frag in block["fragments"]:
            source = content_list[frag["source"]]
            source_text = source.get("text") or "\n".join(source.get("list_items") or [])
            length = frag["end"] - frag["start"]
            assert (
                block["text"][frag["start"] : frag["end"]]
                == (source_text[frag["source_start"] : frag["source_start"] + length])
            )
            covered += length
        assert covered == len(block["text"]) - sum(len(join["separator"]) for join in block.get("joins", []))
    seen: Counter[tuple[str, str, int]] = Counter()
    for chunk in document["chunks"]:
        assert chunk["token_estimate"] <= document["metadata"]["chunk_tokens"]
        for span in chunk["spans"]:
            block = blocks[span["block_id"]]
            assert block["type"] not in FURNITURE
            expected = block[span["field"]][span["block_start"] : span["block_end"]]
            assert chunk["text"][span["chunk_start"] : span["chunk_end"]] == expected
            for offset in range(span["block_start"], span["block_end"]):
                seen[(span["block_id"], span["field"], offset)] += 1
    assert all(count == 1 for count in seen.values())
    for block in document["blocks"]:
        if block["type"] in FURNITURE:
            continue
        for field, value in chunk_fields(block):
            for offset, char in enumerate(value):
                if not char.isspace():
                    assert seen[(block["id"], field, offset)] == 1, (block["id"], field, offset)


# --- numbering --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "scheme", "prefix", "depth"),
    [
        ("第一章 总则", "chapter", "第一章", 1),
        ("第二节 施工", "section", "第二节", 1),
        ("第十二条 安全生产", "article", "第十二条", 1),
        ("三、事故原因", "cn_list", "三、", 1),
        ("（十二）其他", "cn_paren", "（十二）", 1),
        ("(一)概况", "cn_paren", "(一)", 1),
        ("(3)现场", "arabic_paren", "(3)", 1),
        ("（1）现场", "arabic_paren", "（1）", 1),
        ("1.2.3 细则", "arabic", "1.2.3", 3),
        ("4、教育培训", "arabic", "4、", 1),
        ("1. Introduction", "arabic", "1.", 1),
        ("2.3 Method", "arabic", "2.3", 2),
        ("1 Introduction", "arabic", "1", 1),
        ("II. BACKGROUND", "roman", "II.", 1),
        ("A. Two-Pass Spatial Cost Aggregation", "letter", "A.", 1),
        ("Appendix A Proofs", "appendix", "Appendix A", 1),
        ("附录A 计算书", "appendix", "附录A", 1),
        ("**1 들어가며**", "arabic", "1", 1),
    ],
)
def test_parse_numbering(text: str, scheme: str, prefix: str, depth: int) -> None:
    numbering = parse_numbering(text)
    assert numbering is not None
    assert (numbering.scheme, numbering.prefix, numbering.depth) == (scheme, prefix, depth)


@pytest.mark.parametrize(
    "text",
    [
        "2021 年5 月 14 日",
        "2021年7月15日印发",
        "3.8 米",
        "事故经过",
        "17号线",
        "1 day later",
        "2020.1.1. 시행",
    ],
)
def test_parse_numbering_ignores_non_numbering(text: str) -> None:
    assert parse_numbering(text) is None


# --- outline ----------------------------------------------------------------------------------------------


def test_numbering_nests_chinese_schemes_by_first_appearance() -> None:
    document = build_document(chinese_report())
    levels = {section["title"]: section["level"] for section in document["sections"]}
    assert levels == {"基本情况": 1, "事故单位情况": 2, "项目概况": 3, "项目情况": 2, "事故经过": 1}
    assert document["metadata"]["title"] == "某工程“3.21”较大坍塌事故调查报告"
    title = document["blocks"][0]
    assert (title["type"], title["level"], title["section_id"]) == ("heading", 0, None)


def test_scheme_order_comes_from_the_document_not_a_table() -> None:
    # Here Arabic numbering is the outer scheme and （一） the inner one: the reverse of the report above.
    document = build_document(
        [heading("1. 总则"), heading("（一）目的"), para("正文。"), heading("2. 范围"), heading("（一）适用")]
    )
    assert [(s["numbering"], s["level"]) for s in document["sections"]] == [
        ("1.", 1),
        ("（一）", 2),
        ("2.", 1),
        ("（一）", 2),
    ]


def test_chapters_sections_articles_and_appendix() -> None:
    document = build_document(
        [
            heading("第一章 总则"),
            heading("第一节 目的"),
            heading("第一条 为了加强安全生产"),
            para("正文。"),
            heading("第二章 责任"),
            heading("第二条 单位负责"),
            para("正文。"),
            heading("附录A 表格"),
            para("附表。"),
        ]
    )
    levels = [(s["numbering"], s["level"]) for s in document["sections"]]
    assert levels == [("第一章", 1), ("第一节", 2), ("第一条", 3), ("第二章", 1), ("第二条", 3), ("附录A", 1)]


def test_sections_have_parents_numbering_pages_and_paths() -> None:
    document = build_document(chinese_report())
    by_title = {section["title"]: section for section in document["sections"]}
    assert by_title["事故单位情况"]["parent_id"] == by_title["基本情况"]["id"]
    assert by_title["项目概况"]["parent_id"] == by_title["事故单位情况"]["id"]
    assert by_title["项目情况"]["parent_id"] == by_title["基本情况"]["id"]
    assert by_title["事故经过"]["parent_id"] is None
    assert by_title["事故单位情况"]["numbering"] == "（一）"
    assert (by_title["基本情况"]["page_start"], by_title["基本情况"]["page_end"]) == (0, 1)
    block = next(b for b in document["blocks"] if b["text"] == "项目位于某区某路。")
    assert block["section_path"] == [by_title[t]["id"] for t in ("基本情况", "事故单位情况", "项目概况")]


def test_unnumbered_headings_take_the_level_of_numbered_ones_with_the_same_hint() -> None:
    content_list = [
        heading("A study", level=1),
        heading("Abstract", level=2),
        para("We study things."),
        heading("1. Introduction", level=2),
        heading("2. Methods", level=2),
        heading("2.1. Data", level=2),
        para("We measured 3.5 things."),
        heading("References", level=2),
        para("[1] A. Author, A paper, 2001."),
    ]
    document = build_document(content_list)
    assert [(s["title"], s["level"]) for s in document["sections"]] == [
        ("Abstract", 1),
        ("Introduction", 1),
        ("Methods", 1),
        ("Data", 2),
        ("References", 1),
    ]
    assert (document["metadata"]["title"], document["metadata"]["language"]) == ("A study", "en")


def test_roman_and_letter_headings_nest() -> None:
    document = build_document(
        [
            heading("Stereo matching", level=1),
            heading("I. INTRODUCTION", level=2),
            heading("II. METHOD", level=2),
            heading("A. Cost aggregation", level=2),
            para("We aggregate costs."),
        ]
    )
    assert [(s["numbering"], s["level"]) for s in document["sections"]] == [("I.", 1), ("II.", 1), ("A.", 2)]


def test_hinted_non_headings_are_demoted() -> None:
    document = build_document(
        [
            heading("JavaScript Code Example", level=2),
            para("Some code follows."),
            heading("Listing 1: Simple JavaScript Program", level=2),
            para("console.log(1)"),
            heading("Formula", level=2),
            para("E = mc^2 describes it."),
            heading("朝阳区应急管理局", level=2, page=1),
            heading("2021 年 7 月 15 日印发", level=2, page=1),
        ]
    )
    headings = [b["text"] for b in document["blocks"] if b["type"] == "heading"]
    assert headings == ["JavaScript Code Example", "Formula"]


def test_standalone_numbered_lines_are_promoted_but_list_items_are_not() -> None:
    document = build_document(
        [
            heading("调查报告", level=2),
            para("五、建议和措施"),
            para("（一）北京某公司班组长违章作业，导致事故发生，对事故发生负有直接责任。"),
            para("1.作业班组未按照施工方案施工。"),
            para("(2) 생명보험 표준약관 재해분류표"),
        ]
    )
    kinds = [(b["type"], b["text"][:6]) for b in document["blocks"]]
    assert kinds == [
        ("heading", "调查报告"),
        ("heading", "五、建议和措"),
        ("paragraph", "（一）北京某"),
        ("paragraph", "1.作业班组"),
        ("heading", "(2) 생명"),
    ]


# --- glued headings ---------------------------------------------------------------------------------------

GLUED_PAGE = [
    (13, "一、基本情况"),
    (12, "（一）事故单位情况"),
    (12, "某建设工程有限公司，成立于2010年，具有建筑工程施工总承包二级资质，注册"),
    (12, "资本5000万元。"),
    (12, "（二）项目情况"),
    (12, "该项目为住宅楼工程，总建筑面积约3万平方米，建设单位为某置业有限公司，监"),
    (12, "理单位为某监理公司。"),
]


def glued_input(folder: Path) -> tuple[bytes, list[dict[str, Any]]]:
    """A generated PDF and the content list MinerU's flash tier makes of it: all lines in one block."""
    pdf = write_pdf(folder / "glued.pdf", [GLUED_PAGE]).read_bytes()
    with PdfLines(pdf) as lines:
        printed = lines.lines_in(0, [0, 0, 1000, 1000], limit=50)
    assert [line.text.strip() for line in printed] == [text for _, text in GLUED_PAGE]
    bbox = [
        min(line.bbox[0] for line in printed),
        min(line.bbox[1] for line in printed),
        max(line.bbox[2] for line in printed),
        max(line.bbox[3] for line in printed),
    ]
    text = "".join(text for _, text in GLUED_PAGE)
    return pdf, [{"type": "text", "text": text, "page_idx": 0, "bbox": [round(v) for v in bbox]}]


@pytest.fixture(scope="module")
def glued_pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[dict[str, Any]]]:
    return glued_input(tmp_path_factory.mktemp("glued"))


def test_glued_headings_are_split_at_printed_line_ends(glued_pdf: tuple[bytes, list[dict[str, Any]]]) -> None:
    pdf, content_list = glued_pdf
    document = build_document(content_list, pdf=pdf)
    assert document["metadata"]["heading_evidence"] == "pdf_lines"
    assert [(b["type"], b["text"][:9]) for b in document["blocks"]] == [
        ("heading", "一、基本情况"),
        ("heading", "（一）事故单位情况"),
        ("paragraph", "某建设工程有限公司"),
        ("heading", "（二）项目情况"),
        ("paragraph", "该项目为住宅楼工程"),
    ]
    assert [(s["title"], s["level"]) for s in document["sections"]] == [
        ("基本情况", 1),
        ("事故单位情况", 2),
        ("项目情况", 2),
    ]
    check_invariants(document, content_list)


def test_without_the_pdf_only_run_on_headings_are_split(
    glued_pdf: tuple[bytes, list[dict[str, Any]]],
) -> None:
    _, content_list = glued_pdf
    document = build_document(content_list)
    assert document["metadata"]["heading_evidence"] == "text"
    assert [(b["type"], b["text"][:6]) for b in document["blocks"]] == [
        ("heading", "一、基本情况"),
        ("paragraph", "（一）事故单"),
    ]
    check_invariants(document, content_list)


def test_run_on_heading_sequences_in_one_hinted_block_are_split() -> None:
    document = build_document(
        [heading("三、事故的原因和性质（一）事故的直接原因"), para("作业班组违章作业。")]
    )
    assert [(s["numbering"], s["title"], s["level"]) for s in document["sections"]] == [
        ("三、", "事故的原因和性质", 1),
        ("（一）", "事故的直接原因", 2),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "二、事故经过2021 年 5 月 13 日19 时许，北京某公司班组长带领工人作业。",
        "1.作业班组未按照方案第四章 3.2（3）项的要求施工。",
        "北京地铁 17 号线工程 08 合同段发生事故，1. 已处理。",
    ],
)
def test_numbers_in_running_text_and_dates_do_not_split(text: str) -> None:
    document = build_document([para(text)])
    assert [b["text"] for b in document["blocks"]] == [text]


# --- paragraphs and furniture -----------------------------------------------------------------------------


def test_cjk_paragraph_broken_by_a_page_is_joined_without_a_space() -> None:
    content_list = [
        heading("一、基本情况"),
        para("注册资本 4000万元。经营范围:施工总承包、专业承包、劳务分包等。安", bbox=[151, 670, 849, 879]),
        {"type": "page_number", "text": "1", "page_idx": 0, "bbox": [480, 950, 520, 970]},
        para("全生产许可证有效期至 2023 年 10 月 25 日。", page=1, bbox=[151, 100, 675, 119]),
        para("（二）项目基本情况", page=1, bbox=[151, 138, 400, 160]),
    ]
    document = build_document(content_list)
    joined = document["blocks"][1]
    assert joined["text"].endswith("劳务分包等。安全生产许可证有效期至 2023 年 10 月 25 日。")
    assert joined["joins"] == [{"offset": joined["text"].index("全"), "separator": "", "dropped": ""}]
    assert [f["page_idx"] for f in joined["fragments"]] == [0, 1]
    page_number = document["blocks"][2]
    assert page_number["type"] == "page_number" and page_number["section_id"] is None
    check_invariants(document, content_list)


def test_english_hyphenation_is_repaired_across_columns() -> None:
    content_list = [
        para("The catchment response was exam-", bbox=[80, 700, 480, 900]),
        para("ined in detail for every year.", bbox=[520, 100, 920, 300]),
        para("A new paragraph starts here.", bbox=[520, 320, 920, 400]),
    ]
    document = build_document(content_list)
    assert [b["text"] for b in document["blocks"]] == [
        "The catchment response was examined in detail for every year.",
        "A new paragraph starts here.",
    ]
    assert document["blocks"][0]["joins"] == [{"offset": 31, "separator": "", "dropped": "-"}]
    assert output_chars(document) == input_chars(content_list)
    check_invariants(document, content_list)


def test_finished_sentences_and_numbered_items_are_not_joined() -> None:
    content_list = [
        para("第一段结束。", bbox=[151, 800, 849, 900]),
        para("第二段开始。", page=1, bbox=[151, 100, 849, 200]),
        para("第三段没有结束", page=1, bbox=[151, 800, 849, 900]),
        para("2、第二项。", page=2, bbox=[151, 100, 849, 200]),
    ]
    document = build_document(content_list)
    assert len(document["blocks"]) == 4


def test_repeated_running_headers_and_page_numbers_are_typed() -> None:
    content_list = []
    for page in range(4):
        content_list.append(para("Journal of Hydrology 310 (2005)", page=page, bbox=[300, 30, 700, 50]))
        content_list.append(para(f"Body text of page {page}.", page=page))
        content_list.append(para(f"- {page + 1} -", page=page, bbox=[480, 950, 520, 970]))
    document = build_document(content_list)
    kinds = Counter(block["type"] for block in document["blocks"])
    assert kinds == {"header": 4, "paragraph": 4, "page_number": 4}
    assert document["metadata"]["furniture"] == {"footer": 0, "header": 4, "page_number": 4}
    assert all(chunk["text"].count("Journal") == 0 for chunk in document["chunks"])


def test_characters_are_conserved_and_empty_blocks_dropped() -> None:
    content_list = chinese_report()
    document = build_document(content_list)
    assert output_chars(document) == input_chars(content_list)
    assert document["metadata"]["block_count"] == len(content_list) - 1
    assert [block["id"] for block in document["blocks"]][:3] == ["b0001", "b0002", "b0003"]
    check_invariants(document, content_list)


def test_metadata_tables_and_images() -> None:
    document = build_document(chinese_report(), source={"bucket": "mineru", "name": "p/f/content_list.json"})
    metadata = document["metadata"]
    assert metadata["language"] == "zh"
    assert metadata["page_count"] == 3
    assert metadata["source"] == {"bucket": "mineru", "name": "p/f/content_list.json"}
    (table,) = document["tables"]
    assert table["caption"] == "表1 伤亡人员" and "<td>李四</td>" in table["html"]
    assert table["section_id"] == next(s["id"] for s in document["sections"] if s["title"] == "事故经过")
    image = next(block for block in document["blocks"] if block["type"] == "image")
    assert image["img_path"] == "images/p1.jpg" and image["caption"] == "图1 现场"


def test_markdown_heading_levels_and_omitted_furniture() -> None:
    lines = render_markdown(build_document(chinese_report())).splitlines()
    assert lines[0] == "# 某工程“3.21”较大坍塌事故调查报告"
    assert "## 一、基本情况" in lines
    assert "### （一）事故单位情况" in lines
    assert "#### 1.项目概况" in lines
    assert "![图1 现场](images/p1.jpg)" in lines
    assert any(line.startswith("<table>") for line in lines)
    assert "某市应急管理局" not in lines and "第3页" not in lines


def test_invalid_content_list_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        build_document({"type": "text"})  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"\[1\]"):
        build_document([para("ok"), "not a block"])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match="page_idx"):
        build_document([{"type": "text", "text": "x", "page_idx": "zero"}])


def test_unreadable_pdf_falls_back_to_text() -> None:
    document = build_document([para("一、基本情况（一）概况正文。")], pdf=b"%PDF-1.4 not really")
    assert document["metadata"]["heading_evidence"] == "text"


# --- chunks -----------------------------------------------------------------------------------------------


def test_token_estimate_needs_no_tokenizer() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("事故经过") == 4
    assert estimate_tokens("characterisation of flow") == 4 + 1 + 1
    assert estimate_tokens("2021, 170.5") == 2 + 1 + 1 + 1 + 1


def test_small_sections_merge_under_their_parent_and_headings_stay_with_text() -> None:
    document = build_document(chinese_report(), chunk_tokens=60)
    check_invariants(document, chinese_report())
    sections = {section["heading_block_id"]: section for section in document["sections"]}
    for chunk in document["chunks"]:
        last = chunk["block_ids"][-1]
        # A chunk ends on a heading only when that heading's section has nothing else in it.
        assert last not in sections or sections[last]["block_ids"] == [last]
    whole = build_document(chinese_report(), chunk_tokens=10_000)
    assert len(whole["chunks"]) == 1 and whole["chunks"][0]["section_path"] == []


def test_long_paragraphs_are_cut_between_sentences() -> None:
    sentences = [f"第{i}句话说明了事故的一个细节。" for i in range(40)]
    content_list = [heading("一、经过"), para("".join(sentences))]
    document = build_document(content_list, chunk_tokens=100)
    check_invariants(document, content_list)
    assert len(document["chunks"]) > 3
    for chunk in document["chunks"]:
        assert chunk["text"].endswith("。")
        assert chunk["headings"] == ["一、经过"]


@pytest.mark.parametrize(
    "text", ["无标点的长句" * 200, "see https://example.org/" + "a1b2c3d4" * 300 + " and 1234567890" * 40]
)
def test_a_sentence_longer_than_the_budget_is_still_cut(text: str) -> None:
    content_list = [para(text)]
    document = build_document(content_list, chunk_tokens=50)
    check_invariants(document, content_list)
    assert len(document["chunks"]) > 5


def test_chunk_ranges_map_back_to_blocks_pages_and_boxes() -> None:
    content_list = chinese_report()
    document = build_document(content_list, chunk_tokens=60)
    blocks = {block["id"]: block for block in document["blocks"]}
    chunk = next(c for c in document["chunks"] if "某建设集团" in c["text"])
    start = chunk["text"].index("法定代表人")
    (found,) = chunk_range_to_blocks(chunk, start, start + 5)
    block = blocks[found["block_id"]]
    assert block[found["field"]][found["block_start"] : found["block_end"]] == "法定代表人"
    (where,) = block_range_to_fragments(block, found["block_start"], found["block_end"])
    assert (where["page_idx"], where["bbox"]) == (0, [100, 130, 900, 300])
    assert content_list[where["source"]]["text"][where["source_start"] : where["source_end"]] == "法定代表人"
    with pytest.raises(ValueError, match="outside"):
        chunk_range_to_blocks(chunk, 0, len(chunk["text"]) + 1)


def test_documents_are_deterministic_and_valid() -> None:
    first = build_document(chinese_report())
    assert build_document(chinese_report()) == first
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(json.loads(json.dumps(first)), SCHEMA)
