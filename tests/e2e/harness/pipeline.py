"""What the scenarios share: the cluster fixture's plumbing, small distinct PDFs, scripted LLM answers."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core import keys
from tests.e2e.harness.cluster import Cluster
from tests.e2e.harness.postgres import fresh_database
from tests.functions.extract_llm_server import Reply, category_of, user_message
from tests.pdfgen import REPORT_PAGES, write_pdf

# A two-category ontology the generated report answers, so every LLM request can be counted and checked.
ONTOLOGY: dict[str, Any] = {
    "format": "pdfonto.ontology/1",
    "id": "e2e",
    "name": "e2e",
    "classes": [
        {
            "id": "facts",
            "name": "概况",
            "keywords": ["事故", "死亡"],
            "attributes": [
                {
                    "id": "deaths",
                    "name": "死亡人数",
                    "datatype": "integer",
                    "strategy": "extract_format",
                    "keywords": ["死亡"],
                }
            ],
        },
        {
            "id": "parties",
            "name": "参建单位",
            "keywords": ["建设单位"],
            "attributes": [
                {
                    "id": "client",
                    "name": "建设单位名称",
                    "datatype": "string",
                    "strategy": "copy_exact",
                    "keywords": ["建设单位"],
                }
            ],
        },
    ],
}
CATEGORIES = len(ONTOLOGY["classes"])


@contextmanager
def running_cluster(
    root: Path,
    server_url: str,
    template: str,
    s3_endpoint: str,
    env: Mapping[str, str] | None = None,
    service_env: Mapping[str, Mapping[str, str]] | None = None,
) -> Iterator[Cluster]:
    with fresh_database(server_url, template) as url:
        cluster = Cluster(root, url, s3_endpoint, env=env, service_env=service_env)
        try:
            yield cluster
        finally:
            cluster.stop()


def report_pdf(path: Path, number: int) -> Path:
    """The generated two-page report made distinct by ``number`` (deaths, client): no LLM answer is cached."""

    def vary(text: str) -> str:
        return text.replace("造成1人死亡", f"造成{number}人死亡").replace("为某置业", f"为第{number}置业")

    return write_pdf(path, [[(size, vary(text)) for size, text in page] for page in REPORT_PAGES])


def good_answer(request: dict[str, Any], index: int) -> Reply:
    """What a well-behaved model answers for the report: the deaths from the text, the client's name."""
    category = category_of(request)
    if category == "概况":
        found = re.search(r"造成(\d+)人死亡", user_message(request))
        number = int(found.group(1)) if found else 0
        answer = {"死亡人数": {"value": number, "quote": f"造成{number}人死亡"}}
    else:
        found = re.search(r"建设单位为(\S+?有限公司)", user_message(request))
        name = found.group(1) if found else ""
        answer = {"建设单位名称": {"value": name, "quote": f"建设单位为{name}"}}
    return Reply(content=json.dumps(answer, ensure_ascii=False))


def expected_objects(cluster: Cluster, project_id: str, file_id: str) -> dict[str, list[str]]:
    """Every object one processed file must leave, per bucket."""
    ref = keys.FileRef(project_id, file_id)
    buckets = cluster.buckets
    return {
        buckets.pdf: [keys.pdf_key(project_id, file_id)],
        buckets.mineru: [
            keys.mineru_key(ref, name)
            for name in ("content_list.json", "middle.json", "document.md", "manifest.json")
        ],
        buckets.documents: [keys.document_key(ref)],
        buckets.extraction: [keys.result_key(ref, 1), f"{keys.result_prefix(ref, 1)}graph.ttl"],
    }


def objects_of(cluster: Cluster, project_id: str, file_id: str) -> dict[str, list[str]]:
    ref = keys.FileRef(project_id, file_id)
    found = {bucket: cluster.objects(bucket, ref.prefix) for bucket in cluster.buckets.all()}
    found[cluster.buckets.pdf] = cluster.objects(cluster.buckets.pdf, keys.pdf_key(project_id, file_id))
    return found


def wait_quiet(cluster: Cluster, seconds: float = 1.0, timeout: float = 30) -> None:
    """Wait until the notifier has nothing queued for ``seconds`` in a row (late duplicates included)."""
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        if not cluster.notifier.idle():
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= seconds:
            return
        time.sleep(0.05)
