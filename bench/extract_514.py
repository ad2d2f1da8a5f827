"""Calls, tokens and time of the extract step on the 5.14 sample report (../shared), both extractors.

The LLM path runs against the tests' local OpenAI-compatible server answering from the end-to-end script
(tests/functions/test_extract_report_514.py), so requests and prompt tokens are what pdfonto would send
DeepSeek; completion tokens depend on the script, not on a model. Token counts use DeepSeek's published
rule of thumb (0.6 per CJK character, 0.3 per other) as the server computes them; "cached" is the prompt
prefix a DeepSeek-style cache would serve (the system message, identical across requests).

Run: /tmp/probe/venv/bin/python bench/extract_514.py
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pgserver
import psycopg
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.db import Database, migrate  # noqa: E402
from core.extraction_queries import UsageRecord  # noqa: E402
from core.ontology import default_ontology  # noqa: E402
from core.settings import LlmSettings  # noqa: E402
from functions.extract.cache import PostgresCache  # noqa: E402
from functions.extract.llm import ChatClient  # noqa: E402
from functions.extract.llm_extract import LlmExtractor  # noqa: E402
from functions.extract.offline import extract_offline  # noqa: E402
from functions.extract.routing import render_context, route_document  # noqa: E402
from functions.structure.document import build_document  # noqa: E402
from tests.functions.extract_llm_server import API_KEY, chat_server  # noqa: E402
from tests.functions.test_extract_report_514 import answer  # noqa: E402

CONTENT_LIST = ROOT.parent / "shared" / "data" / "mineru" / "report_514" / "content_list.json"
ORIGINAL_CALLS = 112  # one DeepSeek call per field, sequential (the original service on this report)


def main() -> None:
    if not CONTENT_LIST.exists():
        sys.exit(f"{CONTENT_LIST} is absent (../shared is not part of a clone)")
    document = build_document(json.loads(CONTENT_LIST.read_text(encoding="utf-8")))
    ontology = default_ontology()

    runs = []
    for _ in range(20):
        started = time.perf_counter()
        offline = extract_offline(document, ontology)
        runs.append(time.perf_counter() - started)
    meta = offline["_metadata"]
    print(
        f"offline: {statistics.median(runs) * 1000:.1f} ms median of 20; filled {meta['filled_count']}"
        f"/{meta['field_count']} fields, {meta['unverified_count']} unverified, {meta['empty_count']} empty"
    )

    routes = route_document(document, ontology)
    contexts = [len(render_context(route, document)) for route in routes.values() if not route.empty]
    print(
        f"routing: {len(contexts)}/{len(ontology.categories)} categories have text; "
        "context chars per request "
        f"median {statistics.median(contexts):.0f}, max {max(contexts)}, total {sum(contexts)} "
        f"(document body {sum(len(b.get('text', '')) for b in document['blocks'])})"
    )

    folder = Path(tempfile.mkdtemp(prefix="pdfonto-bench-"))
    server_pg = pgserver.get_server(folder, cleanup_mode="delete")
    try:
        with psycopg.connect(server_pg.get_uri(), autocommit=True, row_factory=dict_row) as conn:
            migrate(conn)
        db = Database(server_pg.get_uri())
        with chat_server(answer) as server:
            settings = LlmSettings(api_key=API_KEY, api_base=server.url, max_concurrency=4)
            for label in ("first run", "re-run"):
                usage: list[UsageRecord] = []
                client = ChatClient(settings)
                started = time.perf_counter()
                result = LlmExtractor(client, PostgresCache(db), settings, usage).extract(document, ontology)
                elapsed = time.perf_counter() - started
                client.close()
                llm = result["_metadata"]["llm"]
                prompt, cached = llm["prompt_tokens"], llm["cached_prompt_tokens"]
                print(
                    f"llm {label}: {llm['requests']} requests (original: {ORIGINAL_CALLS}), "
                    f"{llm['cache_hits']} cache hits, prompt tokens {prompt} (prefix-cached {cached}, "
                    f"uncached {prompt - cached}), completion tokens {llm['completion_tokens']}, "
                    f"{elapsed:.2f} s wall with concurrency {settings.max_concurrency}"
                )
        db.close()
    finally:
        server_pg.cleanup()


if __name__ == "__main__":
    main()
