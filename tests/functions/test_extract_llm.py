"""The LLM path against a local OpenAI-compatible HTTP server: wire format, retries, repair, cache, budget."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from core.db import Database
from core.errors import TransientError
from core.extraction_queries import UsageRecord
from core.ontology import Ontology, load_ontology
from core.settings import LlmSettings
from functions.extract.cache import PostgresCache
from functions.extract.llm import ChatClient, LlmRejected, retry_after
from functions.extract.llm_extract import BudgetExceeded, LlmExtractor
from functions.structure.document import build_document
from tests.functions.extract_llm_server import (
    API_KEY,
    ChatServer,
    Reply,
    category_of,
    chat_server,
    user_message,
)

MESSAGES = [
    {"role": "system", "content": "你是抽取助手"},
    {"role": "user", "content": "CATEGORY: 概况\n原文"},
]


def settings_for(server: ChatServer, **changes: Any) -> LlmSettings:
    values: dict[str, Any] = {
        "api_key": API_KEY,
        "api_base": server.url,
        "timeout": 5.0,
        "max_attempts": 3,
        "max_concurrency": 2,
        "token_budget": 100_000,
        "repair_attempts": 1,
    }
    values.update(changes)
    return LlmSettings(**values)


def ok(content: dict[str, Any] | str) -> Reply:
    return Reply(content=content if isinstance(content, str) else json.dumps(content, ensure_ascii=False))


# --- the client --------------------------------------------------------------------------------


def test_client_sends_json_mode_and_reads_usage() -> None:
    with chat_server(lambda request, index: ok({"a": 1})) as server:
        client = ChatClient(settings_for(server))
        first = client.complete(MESSAGES, max_tokens=300)
        second = client.complete(MESSAGES, max_tokens=300)
    request = server.requests[0]
    assert request["response_format"] == {"type": "json_object"}
    assert (
        request["model"] == "deepseek-chat" and request["max_tokens"] == 300 and request["temperature"] == 0
    )
    assert json.loads(first.text) == {"a": 1}
    assert first.prompt_tokens > 0 and first.completion_tokens > 0
    assert first.cached_prompt_tokens == 0 and second.cached_prompt_tokens > 0  # the prefix was seen before
    assert first.attempts == 1 and client.requests == 2


def test_429_waits_what_retry_after_asks() -> None:
    def responder(request: dict[str, Any], index: int) -> Reply:
        return Reply(status=429, headers={"Retry-After": "1"}) if index == 0 else ok({"a": 1})

    with chat_server(responder) as server:
        started = time.monotonic()
        completion = ChatClient(settings_for(server)).complete(MESSAGES, max_tokens=100)
        elapsed = time.monotonic() - started
    assert len(server.requests) == 2 and completion.attempts == 2
    assert elapsed >= 1.0


def test_5xx_and_timeouts_are_retried() -> None:
    def responder(request: dict[str, Any], index: int) -> Reply:
        if index == 0:
            return Reply(status=500)
        if index == 1:
            return Reply(content="{}", delay=1.5)  # longer than the client's timeout
        return ok({"a": 2})

    with chat_server(responder) as server:
        completion = ChatClient(settings_for(server, timeout=0.5, max_attempts=4)).complete(
            MESSAGES, max_tokens=50
        )
    assert json.loads(completion.text) == {"a": 2}
    assert len(server.requests) == 3


def test_persistent_failure_is_transient_and_bounded() -> None:
    with (
        chat_server(lambda request, index: Reply(status=503)) as server,
        pytest.raises(TransientError, match="3 times"),
    ):
        ChatClient(settings_for(server, max_attempts=3)).complete(MESSAGES, max_tokens=50)
    assert len(server.requests) == 3


def test_refused_request_is_permanent_and_not_retried() -> None:
    with chat_server(lambda request, index: ok("{}")) as server:
        client = ChatClient(settings_for(server, api_key="sk-wrong"))
        with pytest.raises(LlmRejected, match=r"HTTP 401.*DEEPSEEK_API_KEY"):
            client.complete(MESSAGES, max_tokens=50)
    assert server.requests == []  # the server refused before counting: one HTTP exchange, no retry


def test_retry_after_forms() -> None:
    assert retry_after({"retry-after": "2"}) == 2.0
    assert retry_after({"retry-after-ms": "1500"}) == 1.5
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after({"retry-after": "soon"}) is None and retry_after({}) is None


# --- the extractor -----------------------------------------------------------------------------


def small_document() -> dict[str, Any]:
    def block(text: str, level: int | None = None, page: int = 0) -> dict[str, Any]:
        raw: dict[str, Any] = {"type": "text", "text": text, "page_idx": page, "bbox": [10, 20, 990, 60]}
        if level:
            raw["text_level"] = level
        return raw

    return build_document(
        [
            block("某工程“6.18”坍塌事故调查报告", 1),
            block(
                "2023年6月18日14时20分许，某工地发生一起基坑坍塌事故，造成 3 人死亡，直接经济损失约860万元。"
            ),
            block("一、参建单位", 1),
            block("建设单位甲置业有限公司，施工单位乙建工集团有限公司，监理单位丙监理咨询有限公司。", page=1),
            block("二、天文", 1, page=1),
            block("当天月亮很圆。", page=1),
        ]
    )


def small_ontology() -> Ontology:
    def attr(
        id_: str, name: str, datatype: str = "string", strategy: str = "copy_exact", **extra: Any
    ) -> dict[str, Any]:
        return {"id": id_, "name": name, "datatype": datatype, "strategy": strategy, **extra}

    return load_ontology(
        {
            "format": "pdfonto.ontology/1",
            "id": "t",
            "name": "t",
            "classes": [
                {
                    "id": "facts",
                    "name": "概况",
                    "keywords": ["事故", "死亡"],
                    "attributes": [
                        attr("deaths", "死亡人数", "integer", "extract_format", keywords=["死亡"]),
                        attr(
                            "grade",
                            "事故等级",
                            "enum",
                            "classify_with_options",
                            options=[{"value": "一般事故"}, {"value": "较大事故", "synonyms": ["较大"]}],
                            keywords=["事故"],
                        ),
                    ],
                },
                {
                    "id": "parties",
                    "name": "参建单位",
                    "keywords": ["参建单位"],
                    "attributes": [attr("client", "建设单位名称", keywords=["建设单位"])],
                },
                {
                    "id": "equipment",
                    "name": "起重设备",
                    "keywords": ["塔吊"],
                    "attributes": [attr("crane", "塔吊型号", keywords=["塔吊", "型号"])],
                },
            ],
        }
    )


GOOD = {
    "概况": {
        "死亡人数": {"value": 3, "quote": "造成 3 人死亡"},
        "事故等级": {"value": "较大", "quote": "造成 3 人死亡，直接经济损失约860万元"},
    },
    "参建单位": {"建设单位名称": {"value": "甲置业有限公司", "quote": "甲置业有限公司"}},
}


def scripted(request: dict[str, Any], index: int) -> Reply:
    return ok(GOOD[category_of(request)])


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, max_size=4)
    yield database
    database.close()


def run_extractor(
    server: ChatServer, db: Database, **changes: Any
) -> tuple[dict[str, Any], list[UsageRecord]]:
    usage: list[UsageRecord] = []
    client = ChatClient(settings_for(server, **changes))
    try:
        extractor = LlmExtractor(client, PostgresCache(db), settings_for(server, **changes), usage)
        return extractor.extract(small_document(), small_ontology()), usage
    finally:
        client.close()


def test_one_request_per_routed_category_with_evidence(db: Database) -> None:
    with chat_server(scripted) as server:
        result, usage = run_extractor(server, db)
    assert sorted(category_of(request) for request in server.requests) == ["参建单位", "概况"]
    # The stable prefix: every request starts with the same system message.
    assert len({request["messages"][0]["content"] for request in server.requests}) == 1
    assert "当天月亮很圆" not in "".join(user_message(request) for request in server.requests)
    facts = result["概况"]
    assert facts["死亡人数"]["value"] == 3 and facts["死亡人数"]["status"] == "filled"
    assert facts["事故等级"]["value"] == "较大事故"  # a synonym mapped to its option
    evidence = facts["死亡人数"]["evidence"][0]
    assert evidence["verified"] and evidence["block_id"] == "b0002" and evidence["page_idx"] == 0
    block_text = small_document()["blocks"][1]["text"]
    assert block_text[evidence["char_start"] : evidence["char_end"]] == "造成 3 人死亡"
    assert result["参建单位"]["建设单位名称"]["reference"] == "甲置业有限公司"
    crane = result["起重设备"]["塔吊型号"]
    assert crane["status"] == "empty" and "not asked" in crane["note"]
    assert result["_metadata"]["llm"]["requests"] == 2 and result["_metadata"]["routed_categories"] == 2
    assert [record.outcome for record in usage] == ["valid", "valid"]


def test_malformed_json_and_wrong_names_are_repaired_with_the_errors_fed_back(db: Database) -> None:
    def responder(request: dict[str, Any], index: int) -> Reply:
        category = category_of(request)
        repairs = len(request["messages"]) > 2
        if category == "概况" and not repairs:
            return ok('{"死亡人数": {"value": 3, "quote": "造成 3 人死亡"')  # truncated JSON
        if category == "参建单位" and not repairs:
            return ok({"建设单位": {"value": "甲置业有限公司", "quote": "甲置业有限公司"}})
        return ok(GOOD[category])

    with chat_server(responder) as server:
        result, usage = run_extractor(server, db)
    assert len(server.requests) == 4
    repairs = {category_of(r): r["messages"] for r in server.requests if len(r["messages"]) == 4}
    assert "not valid JSON" in repairs["概况"][3]["content"]
    assert '"建设单位": not a field of 参建单位' in repairs["参建单位"][3]["content"]
    assert '"建设单位名称": missing' in repairs["参建单位"][3]["content"]
    assert repairs["参建单位"][2]["role"] == "assistant"
    assert result["参建单位"]["建设单位名称"]["value"] == "甲置业有限公司"
    assert sorted(record.outcome for record in usage) == ["invalid", "invalid", "valid", "valid"]


def test_answers_that_stay_invalid_are_recorded_as_invalid_not_emptied(db: Database) -> None:
    def responder(request: dict[str, Any], index: int) -> Reply:
        if category_of(request) == "概况":
            return ok(
                {
                    "死亡人数": {"value": "三个人左右", "quote": "造成 3 人死亡"},
                    "事故等级": {"value": "特大", "quote": ""},
                }
            )
        return ok(GOOD["参建单位"])

    with chat_server(responder) as server:
        result, _ = run_extractor(server, db)
    assert len(server.requests) == 3  # 2 categories + 1 bounded repair
    deaths = result["概况"]["死亡人数"]
    assert (
        deaths["status"] == "invalid"
        and deaths["value"] == "三个人左右"
        and "not an integer" in deaths["note"]
    )
    grade = result["概况"]["事故等级"]
    assert grade["status"] == "invalid" and "not one of the options" in grade["note"]
    assert result["_metadata"]["invalid_count"] == 2


def test_quotes_not_in_the_document_are_flagged_unverified(db: Database) -> None:
    def responder(request: dict[str, Any], index: int) -> Reply:
        if category_of(request) == "参建单位":
            return ok({"建设单位名称": {"value": "丁置业有限公司", "quote": "建设单位是丁置业"}})
        return ok({**GOOD["概况"], "事故等级": {"value": "较大事故", "quote": "较大事故"}})

    with chat_server(responder) as server:
        result, _ = run_extractor(server, db)
    entry = result["参建单位"]["建设单位名称"]
    assert entry["status"] == "filled" and entry["verified"] is False
    assert entry["value"] == "丁置业有限公司"  # kept, shown unverified, not dropped
    assert entry["evidence"] == [{"quote": "建设单位是丁置业", "verified": False}]
    assert "not found" in entry["note"]
    grade = result["概况"]["事故等级"]  # neither the quote nor the value occurs in the text
    assert grade["verified"] is False and grade["evidence"] == [{"quote": "较大事故", "verified": False}]
    assert result["_metadata"]["unverified_count"] == 2


def test_rerun_with_nothing_changed_makes_no_request(db: Database) -> None:
    with chat_server(scripted) as server:
        first, _ = run_extractor(server, db)
        sent = len(server.requests)
        second, usage = run_extractor(server, db)
    assert sent == 2 and len(server.requests) == sent
    assert [record.cache_hit for record in usage] == [True, True]
    assert second["_metadata"]["llm"]["requests"] == 0 and second["_metadata"]["llm"]["cache_hits"] == 2
    strip = lambda result: {k: v for k, v in result.items() if k != "_metadata"}  # noqa: E731
    assert strip(first) == strip(second)


def test_budget_fails_cleanly_and_keeps_usage(db: Database) -> None:
    with chat_server(scripted) as server:
        with pytest.raises(BudgetExceeded, match="LLM_TOKEN_BUDGET=50"):
            run_extractor(server, db, token_budget=50)
        assert server.requests == []
        usage: list[UsageRecord] = []
        settings = settings_for(server, token_budget=1500, max_concurrency=1)
        client = ChatClient(settings)
        with pytest.raises(BudgetExceeded):
            LlmExtractor(client, PostgresCache(db), settings, usage).extract(
                small_document(), small_ontology()
            )
        client.close()
    assert len(server.requests) == 1  # the second request would have passed the budget
    assert len(usage) == 1 and usage[0].prompt_tokens > 0


def test_concurrency_is_bounded(db: Database) -> None:
    def slow(request: dict[str, Any], index: int) -> Reply:
        reply = scripted(request, index)
        reply.delay = 0.3
        return reply

    with chat_server(slow) as server:
        run_extractor(server, db, max_concurrency=1)
    assert server.max_in_flight == 1 and len(server.requests) == 2
