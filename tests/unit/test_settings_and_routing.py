from __future__ import annotations

from pathlib import Path

import pytest

from core import keys
from core.errors import ConfigurationError, InvalidInput
from core.routing import ROUTES, route_for
from core.settings import Buckets, Settings


def test_defaults_match_the_original_deployment() -> None:
    settings = Settings.from_env({})
    assert settings.max_upload_size == 52_428_800
    assert settings.database_url is None and settings.s3 is None
    assert settings.mineru.tier == "flash" and settings.mineru.backend == "local"
    assert not settings.llm.enabled
    assert settings.buckets.all() == ("pdf", "mineru", "documents", "extraction")


def test_environment_is_read_and_secrets_stay_out_of_repr() -> None:
    env = {
        "DATABASE_URL": "postgresql://u:pw@db/x",
        "S3_ENDPOINT": "https://minio:9000",
        "S3_ACCESS_KEY": "ak",
        "S3_SECRET_KEY": "topsecret",
        "DEEPSEEK_API_KEY": "sk-123",
        "MAX_UPLOAD_SIZE": "1000",
        "PDFONTO_DATA_DIR": "/srv/pdfonto",
        "BUCKET_PDF": "incoming",
    }
    settings = Settings.from_env(env)
    assert settings.s3 is not None and settings.s3.secure and settings.s3.endpoint == "minio:9000"
    assert settings.max_upload_size == 1000 and settings.data_dir == Path("/srv/pdfonto")
    assert settings.buckets.pdf == "incoming" and settings.llm.enabled
    text = repr(settings)
    for secret in ("pw@db", "topsecret", "sk-123"):
        assert secret not in text


@pytest.mark.parametrize(
    "env",
    [
        {"MAX_UPLOAD_SIZE": "50MB"},
        {"S3_ENDPOINT": "minio:9000"},
        {"EVENTS_MODE": "kafka"},
        {"BUCKET_MINERU": "pdf"},
    ],
)
def test_bad_settings_fail_at_start_up(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        Settings.from_env(env)


def test_routes_chain_the_stages_without_loops() -> None:
    buckets = Buckets()
    assert route_for("pdf", "p/f.pdf", buckets).function == "parse"  # type: ignore[union-attr]
    assert route_for("mineru", "p/f/manifest.json", buckets).function == "structure"  # type: ignore[union-attr]
    assert route_for("documents", "p/f/document.json", buckets).function == "extract"  # type: ignore[union-attr]
    assert route_for("mineru", "p/f/content_list.json", buckets) is None
    assert route_for("extraction", "p/f/v1/result.json", buckets) is None
    assert len({route.bucket for route in ROUTES}) == len(ROUTES)


def test_keys_round_trip_and_refuse_foreign_names() -> None:
    pid, fid = "0b7a6f0e-5a53-4c5e-9f43-2f0d7f4a8b11", "6d0e2c4b-1f7a-4b5e-8c9d-0a1b2c3d4e5f"
    assert keys.parse_pdf_key(keys.pdf_key(pid, fid)) == keys.FileRef(pid, fid)
    ref = keys.FileRef(pid, fid)
    assert keys.parse_file_prefix(keys.document_key(ref)) == ref
    assert keys.file_ref_of(keys.result_key(ref, 3)) == ref
    for bad in ("notes.pdf", f"{pid}/../{fid}.pdf", f"{pid}/{fid}.PDF", "x" * 36 + "/" + "y" * 36 + ".pdf"):
        with pytest.raises(InvalidInput):
            keys.parse_pdf_key(bad)
