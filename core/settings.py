"""Settings read once from the environment into frozen, typed objects.

Names follow the original deployment where one existed (``DATABASE_URL``, ``MINERU_API_URL``,
``MAX_UPLOAD_SIZE``…). Secrets are excluded from ``repr`` so a logged settings object leaks nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.errors import ConfigurationError

DEFAULT_MAX_UPLOAD_SIZE = 52_428_800  # 50 MiB, the original service's limit


@dataclass(frozen=True)
class Buckets:
    """Physical bucket names for the four pipeline stages."""

    pdf: str = "pdf"
    mineru: str = "mineru"
    documents: str = "documents"
    extraction: str = "extraction"

    def all(self) -> tuple[str, ...]:
        return (self.pdf, self.mineru, self.documents, self.extraction)


@dataclass(frozen=True)
class S3Settings:
    endpoint: str
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    secure: bool = False
    region: str | None = None
    # Presigned URLs must name a host the *client* can reach, which is often not the in-cluster one.
    public_endpoint: str | None = None
    # Seconds to connect, and to wait for each read; the SDK's own 5 minutes would let a stalled
    # S3 server hold a step for half an hour across its retries.
    timeout: float = 60.0


MINERU_BACKENDS = ("local", "api", "api-legacy")


@dataclass(frozen=True)
class MineruSettings:
    backend: str = "local"
    tier: str = "flash"
    api_url: str | None = None
    timeout: float = 1800.0
    home: Path | None = None
    max_pages: int = 1000
    # Ceiling on the resident memory of the local parse worker and its render processes (None: no ceiling).
    memory_limit_mb: int | None = 4096
    # The local parse worker is replaced after this many documents (1: a fresh process per document).
    worker_max_jobs: int = 50
    # Only for MINERU_BACKEND=api-legacy: the 2.x server's `backend` and `lang_list` form fields.
    legacy_backend: str = "pipeline"
    lang: str = "ch"


@dataclass(frozen=True)
class LlmSettings:
    api_key: str | None = field(default=None, repr=False)
    api_base: str = "https://api.deepseek.com"
    model: str = "deepseek-chat"
    max_concurrency: int = 4
    token_budget: int = 400_000  # per file, prompt + completion tokens actually spent
    timeout: float = 120.0  # seconds per HTTP request
    max_attempts: int = 5  # per call, for 429 / 5xx / timeouts
    repair_attempts: int = 1  # extra calls that feed validation errors back to the model

    @property
    def enabled(self) -> bool:
        return bool(self.api_key)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str | None = field(default=None, repr=False)
    max_upload_size: int = DEFAULT_MAX_UPLOAD_SIZE
    log_level: str = "INFO"
    buckets: Buckets = field(default_factory=Buckets)
    s3: S3Settings | None = None
    mineru: MineruSettings = field(default_factory=MineruSettings)
    llm: LlmSettings = field(default_factory=LlmSettings)
    auth_proxy_secret: str | None = field(default=None, repr=False)
    # Bearer token MinIO sends with its webhook; functions/source refuses every request without it.
    minio_webhook_token: str | None = field(default=None, repr=False)
    # Where the gateway posts CloudEvents it originates (reprocess); K_SINK is injected by a SinkBinding.
    event_sink_url: str | None = None
    # "inprocess": a put on the store emits the event itself (embedded mode);
    # "external": MinIO's webhook → functions/source → Broker does it.
    events_mode: str = "inprocess"
    step_lease_seconds: int = 1800
    # How often unfinished files whose event was lost get their next step announced again (0: never).
    resume_interval_seconds: int = 60
    max_delivery_attempts: int = 5
    # Token budget of one chunk in document.json (estimated without a tokenizer download).
    structure_chunk_tokens: int = 800

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``env`` (default ``os.environ``); ``overrides`` win over the environment."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("PDFONTO_DATA_DIR", "~/.local/share/pdfonto")).expanduser()
        s3 = None
        if env.get("S3_ENDPOINT"):
            endpoint = env["S3_ENDPOINT"]
            secure = endpoint.startswith("https://")
            s3 = S3Settings(
                endpoint=endpoint.split("://", 1)[-1].rstrip("/"),
                access_key=_required(env, "S3_ACCESS_KEY"),
                secret_key=_required(env, "S3_SECRET_KEY"),
                secure=_bool(env.get("S3_SECURE"), secure),
                region=env.get("S3_REGION") or None,
                public_endpoint=env.get("S3_PUBLIC_ENDPOINT") or None,
                timeout=float(_int(env, "S3_TIMEOUT", 60)),
            )
        settings = cls(
            data_dir=data_dir,
            database_url=env.get("DATABASE_URL") or None,
            max_upload_size=_int(env, "MAX_UPLOAD_SIZE", DEFAULT_MAX_UPLOAD_SIZE),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            buckets=Buckets(
                pdf=env.get("BUCKET_PDF", "pdf"),
                mineru=env.get("BUCKET_MINERU", "mineru"),
                documents=env.get("BUCKET_DOCUMENTS", "documents"),
                extraction=env.get("BUCKET_EXTRACTION", "extraction"),
            ),
            s3=s3,
            mineru=MineruSettings(
                backend=env.get("MINERU_BACKEND", "local"),
                tier=env.get("MINERU_TIER", "flash"),
                api_url=env.get("MINERU_API_URL") or None,
                timeout=float(_int(env, "MINERU_TIMEOUT", 1800)),
                home=Path(env["MINERU_HOME"]).expanduser() if env.get("MINERU_HOME") else None,
                max_pages=_int(env, "MAX_PAGES", 1000),
                memory_limit_mb=_int(env, "MINERU_MEMORY_LIMIT_MB", 4096) or None,
                worker_max_jobs=_int(env, "MINERU_WORKER_MAX_JOBS", 50),
                legacy_backend=env.get("MINERU_LEGACY_BACKEND", "pipeline"),
                lang=env.get("MINERU_LANG", "ch"),
            ),
            llm=LlmSettings(
                api_key=env.get("DEEPSEEK_API_KEY") or None,
                api_base=env.get("DEEPSEEK_API_BASE", "https://api.deepseek.com"),
                model=env.get("LLM_MODEL") or env.get("DEEPSEEK_MODEL") or "deepseek-chat",
                max_concurrency=max(1, _int(env, "LLM_MAX_CONCURRENCY", 4)),
                token_budget=_int(env, "LLM_TOKEN_BUDGET", 400_000),
                timeout=float(_int(env, "LLM_TIMEOUT", 120)),
                max_attempts=max(1, _int(env, "LLM_MAX_ATTEMPTS", 5)),
                repair_attempts=max(0, _int(env, "LLM_REPAIR_ATTEMPTS", 1)),
            ),
            auth_proxy_secret=env.get("AUTH_PROXY_SECRET") or None,
            minio_webhook_token=env.get("MINIO_WEBHOOK_TOKEN") or None,
            event_sink_url=env.get("K_SINK") or env.get("EVENT_SINK_URL") or None,
            events_mode=env.get("EVENTS_MODE", "inprocess"),
            step_lease_seconds=_int(env, "STEP_LEASE_SECONDS", 1800),
            resume_interval_seconds=_int(env, "RESUME_INTERVAL_SECONDS", 60),
            max_delivery_attempts=_int(env, "MAX_DELIVERY_ATTEMPTS", 5),
            structure_chunk_tokens=_int(env, "STRUCTURE_CHUNK_TOKENS", 800),
        )
        settings = replace(settings, **overrides)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.events_mode not in ("inprocess", "external"):
            raise ConfigurationError(
                f"EVENTS_MODE must be 'inprocess' or 'external', not {self.events_mode!r}"
            )
        if self.max_upload_size <= 0:
            raise ConfigurationError("MAX_UPLOAD_SIZE must be a positive number of bytes")
        if self.mineru.backend not in MINERU_BACKENDS:
            raise ConfigurationError(
                f"MINERU_BACKEND must be one of {', '.join(MINERU_BACKENDS)}, not {self.mineru.backend!r}"
            )
        if self.mineru.backend != "local" and not self.mineru.api_url:
            raise ConfigurationError(
                f"MINERU_API_URL must be set when MINERU_BACKEND is {self.mineru.backend}"
            )
        if self.mineru.timeout <= 0:
            raise ConfigurationError("MINERU_TIMEOUT must be a positive number of seconds")
        if self.structure_chunk_tokens < 50:
            raise ConfigurationError("STRUCTURE_CHUNK_TOKENS must be at least 50 (tokens per chunk)")
        if len(set(self.buckets.all())) != 4:
            # Distinct buckets per stage are what makes trigger loops impossible.
            raise ConfigurationError(f"the four bucket names must differ: {self.buckets.all()}")


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name)
    if not value:
        raise ConfigurationError(f"{name} must be set when S3_ENDPOINT is set")
    return value


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None


def _bool(raw: str | None, default: bool) -> bool:
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")
