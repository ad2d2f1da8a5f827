"""``pdfonto serve | process | migrate``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from core import keys, queries
from core.context import AppContext
from core.db import Database, migrate, stop_embedded
from core.errors import PdfontoError
from core.ontology import Ontology, default_ontology, load_ontology
from core.settings import Settings
from core.steps import Outcome, StepInput

CLI_USER = "cli"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pdfonto", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway and every function in one process")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--data-dir", type=Path, help="database, objects and caches (default: PDFONTO_DATA_DIR)"
    )
    serve.add_argument("--threads", type=int, default=8)

    process = sub.add_parser("process", help="run the pipeline once on a PDF, without a server")
    process.add_argument("pdf", type=Path)
    process.add_argument(
        "--ontology", type=Path, help="ontology JSON (default: the built-in accident ontology)"
    )
    process.add_argument("--out", type=Path, default=Path("pdfonto-out"))
    process.add_argument(
        "--data-dir", type=Path, help="keep the embedded database and caches here between runs"
    )

    sub.add_parser("migrate", help="apply database migrations to DATABASE_URL")

    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        # pgserver logs every pg_ctl command line at INFO; only its problems are worth showing.
        logging.getLogger("pgserver").setLevel(max(logging.WARNING, logging.getLevelName(settings.log_level)))
        if args.command == "serve":
            return _serve(settings, args)
        if args.command == "process":
            if "LOG_LEVEL" not in os.environ:
                # The stage lines are the progress report; start-up chatter would only bury them.
                logging.getLogger().setLevel(logging.WARNING)
            return _process(settings, args)
        return _migrate(settings)
    except PdfontoError as exc:
        print(f"pdfonto: {exc}", file=sys.stderr)
        return 2


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from pdfonto.server import serve

    if args.data_dir:
        settings = replace(settings, data_dir=args.data_dir.expanduser().resolve())
    base = f"http://{args.host}:{args.port}"
    print(f"pdfonto serving on {base}  (data: {settings.data_dir})", flush=True)
    print(f"  API docs:  {base}/api/docs/   OpenAPI: {base}/api/schema/", flush=True)
    serve(settings, host=args.host, port=args.port, threads=args.threads)
    return 0


def _process(settings: Settings, args: argparse.Namespace) -> int:
    from pdfonto.embedded import start

    pdf: Path = args.pdf
    if not pdf.is_file():
        print(f"pdfonto: {pdf} does not exist", file=sys.stderr)
        return 2
    ontology = (
        load_ontology(json.loads(args.ontology.read_text(encoding="utf-8")))
        if args.ontology
        else default_ontology()
    )
    scratch = None
    if args.data_dir:
        data_dir = args.data_dir.expanduser().resolve()
    else:
        scratch = Path(tempfile.mkdtemp(prefix="pdfonto-"))
        data_dir = scratch
    settings = replace(settings, data_dir=data_dir, s3=None, events_mode="inprocess")
    ctx = start(settings)
    try:
        return _run_once(ctx, pdf, ontology, args.out)
    finally:
        ctx.close()
        if scratch is not None:
            stop_embedded(scratch)
            shutil.rmtree(scratch, ignore_errors=True)


def _run_once(ctx: AppContext, pdf: Path, ontology: Ontology, out: Path) -> int:
    started = {"t": time.monotonic()}

    def progress(item: StepInput, outcome: Outcome, reason: str | None) -> None:
        elapsed = time.monotonic() - started["t"]
        started["t"] = time.monotonic()
        detail = f": {reason}" if reason else ""
        print(f"  {item.step:<9} {outcome.value:<8} {elapsed:6.1f}s{detail}", flush=True)

    ctx.runtime.subscribe(progress)
    file_id = str(uuid.uuid4())
    with ctx.db.connect() as conn:
        queries.ensure_user(conn, CLI_USER)
        project = queries.create_project(conn, CLI_USER, f"process {pdf.name}", "", ontology)
        key = keys.pdf_key(str(project["id"]), file_id)
        queries.create_file(
            conn,
            file_id=file_id,
            project_id=project["id"],
            owner_id=CLI_USER,
            original_name=pdf.name,
            object_key=key,
            size_bytes=pdf.stat().st_size,
            sha256=None,
        )
    print(f"processing {pdf} ({pdf.stat().st_size / 1024:.0f} KiB)", flush=True)
    ctx.store.put_file(ctx.settings.buckets.pdf, key, pdf, "application/pdf")
    assert ctx.bus is not None
    ctx.bus.wait_idle()
    with ctx.db.connect() as conn:
        row = queries.get_file(conn, CLI_USER, file_id)
    assert row is not None
    ref = keys.FileRef(str(project["id"]), file_id)
    written = _export(ctx, ref, row.get("ontology_version"), out)
    if row["status"] != "completed":
        print(f"failed: {row['error']}", file=sys.stderr)
        return 1
    print(f"completed: {len(written)} files in {out}/ (result.json, document.json, document.md, mineru/)")
    return 0


def _export(ctx: AppContext, ref: keys.FileRef, version: int | None, out: Path) -> list[Path]:
    buckets = ctx.settings.buckets
    plan = [(buckets.mineru, ref.prefix, out / "mineru"), (buckets.documents, ref.prefix, out)]
    if version is not None:
        plan.append((buckets.extraction, keys.result_prefix(ref, version), out))
    written = []
    for bucket, prefix, target in plan:
        for info in ctx.store.list(bucket, prefix):
            path = target / info.key[len(prefix) :]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(ctx.store.get(bucket, info.key))
            written.append(path)
    return written


def _migrate(settings: Settings) -> int:
    if not settings.database_url:
        print(
            "pdfonto migrate: set DATABASE_URL (serve and process migrate the embedded database themselves)",
            file=sys.stderr,
        )
        return 2
    db = Database(settings.database_url, min_size=1, max_size=1)
    try:
        with db.connect() as conn:
            applied = migrate(conn)
    finally:
        db.close()
    print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'already up to date'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
