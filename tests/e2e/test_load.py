"""Load: 100 concurrent uploads of a small real PDF through the cluster → 100 completed, none twice or lost.

The figures (upload and status latency, throughput) are printed and recorded in docs/reliability.md;
``bench/load_pipeline.py`` runs the same load outside pytest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core import keys
from tests.e2e.harness.cluster import Cluster
from tests.e2e.harness.load import run_load
from tests.e2e.harness.pipeline import running_cluster
from tests.pdfgen import write_pdf

pytestmark = pytest.mark.slow

UPLOADS = 100


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, pg_server_url: str, template_db: str, s3_endpoint: str
) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory.mktemp("load"), pg_server_url, template_db, s3_endpoint) as running:
        yield running


def test_100_concurrent_uploads_all_complete_once(
    cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> None:
    alice = cluster.client("alice")
    project = alice.create_project("load")
    pdf = write_pdf(tmp_path_factory.mktemp("pdf") / "small.pdf")
    figures = run_load(cluster.gateway, "alice", project, pdf, uploads=UPLOADS)
    print("\nload:", figures.summary())

    assert figures.upload_statuses == {201: UPLOADS}
    assert figures.outcomes == {"completed": UPLOADS, "unsettled": 0}
    assert figures.status_errors == 0
    assert len(set(figures.file_ids)) == UPLOADS
    # Nothing twice, nothing lost: one row per upload, three completed steps each run exactly once,
    # one object per file and stage.
    [files] = cluster.query("SELECT count(*) AS n FROM files WHERE project_id = %s", project)
    assert files["n"] == UPLOADS
    steps = cluster.query(
        "SELECT step, count(*) AS n, sum(attempts) AS runs, bool_and(s.status = 'completed') AS ok"
        " FROM steps s JOIN files f ON f.id = s.file_id WHERE f.project_id = %s GROUP BY step",
        project,
    )
    assert {row["step"]: (row["n"], row["runs"], row["ok"]) for row in steps} == {
        step: (UPLOADS, UPLOADS, True) for step in ("parse", "structure", "extract")
    }
    buckets = cluster.buckets
    outputs = {
        buckets.pdf: [keys.pdf_key(project, f) for f in figures.file_ids],
        buckets.mineru: [keys.mineru_key(keys.FileRef(project, f), keys.MANIFEST) for f in figures.file_ids],
        buckets.documents: [keys.document_key(keys.FileRef(project, f)) for f in figures.file_ids],
        buckets.extraction: [keys.result_key(keys.FileRef(project, f), 1) for f in figures.file_ids],
    }
    for bucket, expected in outputs.items():
        found = cluster.objects(bucket, f"{project}/")
        wanted = set(expected)
        assert wanted <= set(found), (bucket, len(wanted - set(found)))
        assert len([key for key in found if key in wanted]) == UPLOADS
