"""End to end on the Chinese sample report: the extract function through the functions-framework test
client, real Postgres, a real document.json (MinerU's content list → build_document) and a local
OpenAI-compatible server that answers each category from a script of what the report says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from rdflib import RDF, Graph, Namespace

import core.context
from core import events, extraction_queries, keys, queries
from core.context import AppContext
from core.ontology import default_ontology
from functions.structure.document import build_document
from tests.conftest import ROOT, shared_path
from tests.functions.extract_llm_server import (
    API_KEY,
    ChatServer,
    Reply,
    category_of,
    chat_server,
    user_message,
)

USER = "analyst"

# What the report states, per category, with quotes copied from it (MinerU's spacing included or not:
# evidence matching ignores whitespace). Categories left out are answered with nulls.
SCRIPT: dict[str, dict[str, Any]] = {
    "报告信息": {
        "报告名称": ("“5.14”一般生产安全事故调查报告", "“5.14”一般生产安全事故调查报告"),
        "调查依据": ("依据《生产安全事故报告和调查处理条例》和朝阳区政府的授权", ""),
        "报告印发日期": ("2021年7月15日", "2021 年 7 月 15 日印发"),
    },
    "事故地点": {
        "区县": ("朝阳区", "朝阳区香河园街道西坝河南路与七圣南路交叉口"),
        "详细地址": ("朝阳区香河园街道西坝河南路与七圣南路交叉口", ""),
        "事发部位": ("西坝河站附属结构C西南口南侧（即C1口）斜坡段", ""),
    },
    "时间天气情况": {
        "事故发生时间": ("2021年5月14日1时52分", "2021 年5 月 14 日1 时 52 分许"),
        "作业开始时间": ("2021年5月13日19时", "2021 年5 月 13 日19 时许"),
        "事发时段": ("凌晨", "14 日凌晨 1 时 52 分许"),
        "天气情况": ("晴", "当日天气晴朗"),  # not in the report: must come out unverified
    },
    "工程项目": {
        "项目名称": ("北京地铁17号线工程土建施工08合同段", ""),
        "工程类别": ("城市轨道交通工程", "北京地铁17 号线工程土建施工 08 合同段"),
        "施工阶段": ("附属结构", "正在进行西坝河站附属结构C 西南口底板卷材防水施工"),
    },
    "建设单位": {
        "建设单位名称": ("北京市轨道交通建设管理有限公司", "建设单位北京市轨道交通建设管理有限公司")
    },
    "施工总承包单位": {"总承包单位名称": ("中铁二十一局集团有限公司", "施工单位中铁二十一局集团有限公司")},
    "监理单位": {
        "监理单位名称": ("北京致远工程建设监理有限责任公司", "监理单位北京致远工程建设监理有限责任公司")
    },
    "分包单位": {
        "专业分包单位名称": ("北京怡立建筑工程有限公司", "专业分包单位北京怡立建筑工程有限公司"),
        "分包单位法定代表人": ("边立宾", "北京怡立建筑工程有限公司，法定代表人边立宾"),
    },
    "第三方服务机构": {"鉴定机构": ("北京市公安司法鉴定中心", "北京市公安司法鉴定中心出具的《鉴定书》")},
    "事故类型": {"事故类别": ("高处坠落", "发生一起高处坠落事故")},
    "事故等级": {
        "事故等级": ("一般事故", "该起事故是一起一般生产安全责任事故"),
        "事故性质": ("生产安全责任事故", "该起事故是一起一般生产安全责任事故"),
    },
    "伤亡及损失": {
        "死亡人数": (1, "造成 1 人死亡"),
        "直接经济损失": ("约170万元", "直接经济损失约170 万元"),
        "伤亡人员信息": (
            [{"姓名": "谢子兵", "性别": "男", "年龄": 50, "籍贯": "河南", "工种": "混凝土班组长"}],
            ["混凝土班组长谢子兵（男，50 岁，河南人）"],
        ),
    },
    "直接原因": {
        "直接原因": (
            "作业班组自上而下浇筑斜坡保护层，混凝土强度不够致防水卷材和保护层脱落下滑；谢子兵高处作业未系挂安全带。",
            [
                "由于停顿时间不足，混凝土强度不够，致使防水卷材和混凝土保护层脱落下滑",
                "未采取系挂安全带等安全防护措施",
            ],
        )
    },
    "责任认定": {
        "直接责任人": ("谢子兵", "班组长谢子兵违章作业，导致事故发生，对事故发生负有直接责任"),
        "主要责任人": ("边立宾", "北京怡立建筑工程有限公司总经理边立宾，作为该单位的主要负责人"),
        "责任单位": ("北京怡立建筑工程有限公司", "对事故发生负有主要管理责任"),
    },
}


def answer(request: dict[str, Any], index: int) -> Reply:
    """The scripted model: every field of the asked category, null unless the script knows it."""
    category = category_of(request)
    fields_line = next(line for line in user_message(request).splitlines() if line.startswith("FIELDS: "))
    names = json.loads(fields_line.removeprefix("FIELDS: "))
    known = SCRIPT.get(category, {})
    reply: dict[str, Any] = {}
    for name in names:
        if name in known:
            value, quote = known[name]
            reply[name] = {"value": value, "quotes" if isinstance(quote, list) else "quote": quote}
        else:
            reply[name] = {"value": None, "quote": ""}
    return Reply(content=json.dumps(reply, ensure_ascii=False))


@pytest.fixture
def document() -> dict[str, Any]:
    path = shared_path("data", "mineru", "report_514", "content_list.json")
    return build_document(json.loads(path.read_text(encoding="utf-8")))


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with chat_server(answer) as running:
        yield running


def start_function(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str, server: ChatServer, **env: str
) -> AppContext:
    """Configure the function service as Knative would (environment only) and build its context."""
    values = {
        "DATABASE_URL": database_url,
        "PDFONTO_DATA_DIR": str(tmp_path / "data"),
        "EVENTS_MODE": "external",
        "DEEPSEEK_API_KEY": API_KEY,
        "DEEPSEEK_API_BASE": server.url,
        "LLM_MAX_CONCURRENCY": "4",
        **env,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(core.context, "_context", None)
    return core.context.get_context()


def upload_document(ctx: AppContext, document: dict[str, Any]) -> tuple[keys.FileRef, Any]:
    with ctx.db.connect() as conn:
        queries.ensure_user(conn, USER)
        ontology = default_ontology()
        project = queries.create_project(conn, USER, "514", "", ontology)
        file_id = "7a0c5e1e-1111-4c3b-9a51-5b7c0e6c0514"
        queries.create_file(
            conn,
            file_id=file_id,
            project_id=project["id"],
            owner_id=USER,
            original_name="report_514.pdf",
            object_key=keys.pdf_key(str(project["id"]), file_id),
            size_bytes=1,
            sha256=None,
        )
    ref = keys.FileRef(str(project["id"]), file_id)
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    info = ctx.store.put(ctx.settings.buckets.documents, keys.document_key(ref), body, "application/json")
    return ref, info


def deliver(info: Any) -> None:
    app = functions_framework.create_app(
        target="handle", source=str(ROOT / "functions" / "extract" / "main.py"), signature_type="cloudevent"
    )
    headers, body = events.to_http(events.build(info))
    response = app.test_client().post("/", headers=headers, data=body)
    assert response.status_code == 200, response.data


def test_report_514_llm_extraction_end_to_end(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    database_url: str,
    server: ChatServer,
    document: dict[str, Any],
) -> None:
    ctx = start_function(monkeypatch, tmp_path, database_url, server)
    try:
        ref, info = upload_document(ctx, document)
        deliver(info)
        with ctx.db.connect() as conn:
            row = queries.get_file(conn, USER, ref.file_id)
            assert row is not None and row["status"] == "completed", row
            usage = extraction_queries.usage_for_file(conn, ref.file_id)
        result = json.loads(ctx.store.get(ctx.settings.buckets.extraction, keys.result_key(ref, 1)))
        meta = result["_metadata"]
        ontology = default_ontology()

        # Routing and cost: one request per category with routed text, never more (the original: 112).
        routed = meta["routed_categories"]
        assert len(server.requests) == routed <= len(ontology.categories) < 112
        assert routed >= 15
        assert {category_of(r) for r in server.requests} == {
            name for name, route in meta["routing"].items() if route["blocks"]
        }
        assert meta["routing"]["建设单位"]["reasons"]["b0009"].startswith("text mentions")
        assert usage is not None and usage["last_run"]["calls"] == routed
        assert usage["last_run"]["prompt_tokens"] > 0 and usage["last_run"]["cached_prompt_tokens"] > 0

        # The named parties, each for its own role.
        assert result["建设单位"]["建设单位名称"]["value"] == "北京市轨道交通建设管理有限公司"
        assert result["施工总承包单位"]["总承包单位名称"]["value"] == "中铁二十一局集团有限公司"
        assert result["监理单位"]["监理单位名称"]["value"] == "北京致远工程建设监理有限责任公司"
        assert result["分包单位"]["专业分包单位名称"]["value"] == "北京怡立建筑工程有限公司"
        assert result["伤亡及损失"]["死亡人数"]["value"] == 1
        # copy_exact values are the source's characters, MinerU's spaces included.
        assert result["工程项目"]["项目名称"]["value"] == "北京地铁17 号线工程土建施工 08 合同段"

        # Evidence: every value has located evidence, except the one the script made up, flagged.
        block_ids = {block["id"] for block in document["blocks"]}
        filled = [
            (category, name, entry)
            for category, entries in result.items()
            if category != "_metadata"
            for name, entry in entries.items()
            if entry["status"] == "filled"
        ]
        assert len(filled) == sum(len(fields) for fields in SCRIPT.values())
        unverified = [(c, n) for c, n, entry in filled if not entry["verified"]]
        assert unverified == [("时间天气情况", "天气情况")]
        for _, _, entry in filled:
            for evidence in entry["evidence"]:
                if evidence["verified"]:
                    assert (
                        evidence["block_id"] in block_ids and evidence["bbox"] and evidence["page_idx"] >= 0
                    )
                    assert evidence["char_end"] > evidence["char_start"]
        causes = result["直接原因"]["直接原因"]
        assert len(causes["evidence"]) == 2 and all(e["verified"] for e in causes["evidence"])
        assert {e["block_id"] for e in causes["evidence"]} == {"b0018", "b0019"}

        # Graphs: instances typed by the ontology's classes, linked by its relations.
        prefix = keys.result_prefix(ref, 1)
        graph = Graph().parse(
            data=ctx.store.get(ctx.settings.buckets.extraction, prefix + "graph.ttl"), format="turtle"
        )
        onto = Namespace("https://pdfonto.dev/ontology/accident-report#")
        contractors = list(graph.subjects(RDF.type, onto["general_contractor"]))
        assert len(contractors) == 1
        assert str(graph.value(contractors[0], onto["general_contractor.name"])) == "中铁二十一局集团有限公司"
        assert (None, onto["has_general_contractor"], contractors[0]) in graph
        jsonld = json.loads(ctx.store.get(ctx.settings.buckets.extraction, prefix + "graph.jsonld"))
        assert isinstance(jsonld, list) and jsonld

        # Values are indexed for the API.
        with ctx.db.connect() as conn:
            total, rows = extraction_queries.values_by_field(
                conn,
                USER,
                ref.project_id,
                field_id="construction_unit.name",
                category=None,
                field=None,
                ontology_version=None,
                include_empty=False,
                limit=10,
                offset=0,
            )
        assert total == 1 and rows[0]["value"] == "北京市轨道交通建设管理有限公司" and rows[0]["verified"]

        # A re-run with nothing changed makes no request.
        sent = len(server.requests)
        with ctx.db.connect() as conn:
            queries.reset_steps(conn, ref.file_id, ["extract"])
        deliver(info)
        assert len(server.requests) == sent
        with ctx.db.connect() as conn:
            again = extraction_queries.usage_for_file(conn, ref.file_id)
        assert again is not None
        assert again["last_run"]["calls"] == 0 and again["last_run"]["cache_hits"] == routed
        assert again["all_runs"]["calls"] == routed
        rerun = json.loads(ctx.store.get(ctx.settings.buckets.extraction, keys.result_key(ref, 1)))
        assert {k: v for k, v in rerun.items() if k != "_metadata"} == {
            k: v for k, v in result.items() if k != "_metadata"
        }
    finally:
        ctx.close()


def test_report_514_over_budget_fails_cleanly(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    database_url: str,
    server: ChatServer,
    document: dict[str, Any],
) -> None:
    ctx = start_function(
        monkeypatch, tmp_path, database_url, server, LLM_TOKEN_BUDGET="15000", LLM_MAX_CONCURRENCY="1"
    )
    try:
        ref, info = upload_document(ctx, document)
        deliver(info)
        with ctx.db.connect() as conn:
            row = queries.get_file(conn, USER, ref.file_id)
            usage = extraction_queries.usage_for_file(conn, ref.file_id)
        assert row is not None and row["status"] == "failed"
        assert "token budget exceeded" in row["error"] and "LLM_TOKEN_BUDGET=15000" in row["error"]
        assert 1 <= len(server.requests) < 5
        assert usage is not None and usage["last_run"]["calls"] == len(server.requests)
        assert usage["last_run"]["total_tokens"] <= 15000 + 2000  # bounded by one completion in flight
    finally:
        ctx.close()


def test_offline_when_no_key_through_the_function(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    database_url: str,
    server: ChatServer,
    document: dict[str, Any],
) -> None:
    ctx = start_function(monkeypatch, tmp_path, database_url, server, DEEPSEEK_API_KEY="")
    try:
        ref, info = upload_document(ctx, document)
        deliver(info)
        result = json.loads(ctx.store.get(ctx.settings.buckets.extraction, keys.result_key(ref, 1)))
        with ctx.db.connect() as conn:
            assert extraction_queries.usage_for_file(conn, ref.file_id) is None
    finally:
        ctx.close()
    assert server.requests == []
    assert result["_metadata"]["extractor"] == "offline"
    assert result["施工总承包单位"]["总承包单位名称"]["value"] == "中铁二十一局集团有限公司"
