"""In a cluster the gateway re-announces a step whose events were all lost, through the Broker (K_SINK)."""

from __future__ import annotations

from pathlib import Path

from core import events, keys
from core.settings import Settings
from gateway import create_app
from tests.conftest import insert_file
from tests.deploy.services import RecordingSink


def test_gateway_announces_a_stalled_step_to_the_broker(database_url: str, tmp_path: Path) -> None:
    with RecordingSink() as sink:
        settings = Settings.from_env(
            {"EVENTS_MODE": "external", "K_SINK": sink.url, "RESUME_INTERVAL_SECONDS": "1"},
            data_dir=tmp_path,
            database_url=database_url,
        )
        app = create_app(settings)
        context = app.config["PDFONTO"]
        try:
            with context.db.connect() as conn:
                ref = insert_file(conn)
                # The PDF arrived but its event never did (MinIO's queue lost it, or the Broker gave up).
                conn.execute(
                    "UPDATE files SET updated_at = now() - interval '1 hour' WHERE id = %s", (ref.file_id,)
                )
            key = keys.pdf_key(ref.project_id, ref.file_id)
            context.store.put(settings.buckets.pdf, key, b"%PDF-1.7 stalled")
            received = sink.wait_for(1, timeout=15)
        finally:
            context.close()
    announced = events.from_request(received[0].headers, received[0].body)
    assert (announced.bucket, announced.name) == (settings.buckets.pdf, key)
