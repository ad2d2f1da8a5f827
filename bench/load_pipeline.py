"""Load on the whole cluster: N concurrent uploads of a small generated PDF, processed to completion.

    python bench/load_pipeline.py [--uploads 100] [--pollers 8]

Starts what tests/e2e/test_load.py starts (a throw-away Postgres, moto's S3 server behind the MinIO-style
notifier, gateway under gunicorn, source, router, parse/structure/extract under functions-framework) and
prints upload and status latency percentiles, upload throughput and end-to-end files per minute.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from moto.server import ThreadedMotoServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import free_port
from tests.e2e.harness.cluster import Cluster
from tests.e2e.harness.load import run_load
from tests.e2e.harness.postgres import PostgresServer
from tests.pdfgen import write_pdf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--pollers", type=int, default=8)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pdfonto-load-"))
    postgres = PostgresServer()
    port = free_port()
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    s3.start()
    cluster = Cluster(root, postgres.url(), f"127.0.0.1:{port}")
    try:
        project = cluster.client("bench").create_project("load")
        figures = run_load(
            cluster.gateway,
            "bench",
            project,
            write_pdf(root / "small.pdf"),
            uploads=args.uploads,
            pollers=args.pollers,
        )
        print(json.dumps(figures.summary(), indent=1, ensure_ascii=False))
    finally:
        cluster.stop()
        s3.stop()
        postgres.remove()


if __name__ == "__main__":
    main()
