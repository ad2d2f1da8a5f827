"""Parse-step throughput and text fidelity on the shared born-digital PDFs.

For each document, in the same run: ``mineru.parse`` called directly (warm, in this process), the parse
step end to end (download from the store, PDF check, MinerU in the isolated worker, outputs and manifest
written, step bookkeeping in an embedded Postgres), and pypdfium2's raw text extraction as the floor
reference for "how fast can text come out of this PDF at all". Peak RSS is the worker's process tree during
the document (sampled). Fidelity compares the step's ``document.md`` with docling's reference markdown.

Run: /tmp/probe/venv/bin/python bench/parse_bench.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"

DOCUMENTS = [
    "docling_amt_handbook_sample.pdf",
    "docling_code_and_formula.pdf",
    "docling_multi_page.pdf",
    "docling_normal_4pages.pdf",
    "en_mineru_demo1.pdf",
    "en_mineru_demo2.pdf",
    "en_mineru_demo3.pdf",
    "zh_accident_report_514.pdf",
    "zh_chem_intro.pdf",
]


def pdfium_text_seconds(pdf: Path) -> float:
    import pypdfium2 as pdfium

    started = time.perf_counter()
    document = pdfium.PdfDocument(pdf)
    for page in document:
        textpage = page.get_textpage()
        textpage.get_text_range()
        textpage.close()
        page.close()
    document.close()
    return time.perf_counter() - started


def direct_seconds(pdf: Path) -> float:
    from functions.parse.mineru_local import configure_mineru

    configure_mineru()
    from mineru import parse

    started = time.perf_counter()
    parse(pdf, tier="flash")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2, help="runs per document and path; the median counts")
    args = parser.parse_args()

    from bench.parse_fidelity import similarity
    from core import events, keys, queries
    from core.context import build_context
    from core.ontology import default_ontology
    from core.settings import Settings
    from functions.parse import step

    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is absent: the benchmark needs the shared PDFs")
    with tempfile.TemporaryDirectory(prefix="parse-bench-") as tmp:
        settings = Settings.from_env({}, data_dir=Path(tmp), events_mode="external")
        ctx = build_context(settings)
        with ctx.db.connect() as conn:
            queries.ensure_user(conn, "bench")
            project = str(queries.create_project(conn, "bench", "bench", "", default_ontology())["id"])

        def run_step(pdf: Path) -> tuple[float, dict[str, object], str]:
            file_id = str(uuid.uuid4())
            key = keys.pdf_key(project, file_id)
            with ctx.db.connect() as conn:
                queries.create_file(
                    conn,
                    file_id=file_id,
                    project_id=project,
                    owner_id="bench",
                    original_name=pdf.name,
                    object_key=key,
                    size_bytes=pdf.stat().st_size,
                    sha256=None,
                )
            info = ctx.store.put_file("pdf", key, pdf, "application/pdf")
            event = events.parse(events.build(info))
            started = time.perf_counter()
            outcome = step.handle(ctx, event)
            seconds = time.perf_counter() - started
            assert outcome.value == "done", (pdf.name, outcome)
            ref = keys.FileRef(project, file_id)
            manifest = json.loads(ctx.store.get("mineru", keys.mineru_key(ref, keys.MANIFEST)))
            markdown = ctx.store.get("mineru", keys.mineru_key(ref, "document.md")).decode()
            return seconds, manifest, markdown

        # Warm both paths (imports, MinerU's render workers, the isolated worker) before timing anything.
        warm = SHARED / "pdfs" / "zh_chem_intro.pdf"
        direct_seconds(warm)
        run_step(warm)

        rows = []
        for name in DOCUMENTS:
            pdf = SHARED / "pdfs" / name
            direct, stepped, floor = [], [], []
            manifest: dict[str, object] = {}
            markdown = ""
            for _ in range(args.repeat):
                direct.append(direct_seconds(pdf))
                seconds, manifest, markdown = run_step(pdf)
                stepped.append(seconds)
                floor.append(pdfium_text_seconds(pdf))
            reference = SHARED / "groundtruth" / name.replace(".pdf", ".md")
            fidelity = (
                similarity(markdown, reference.read_text(encoding="utf-8")) if reference.exists() else None
            )
            rows.append(
                Row(
                    document=name,
                    pages=int(manifest["page_count"]),  # type: ignore[call-overload]
                    direct_s=statistics.median(direct),
                    step_s=statistics.median(stepped),
                    pdfium_s=statistics.median(floor),
                    peak_rss_mb=float(manifest["peak_rss_mb"]),  # type: ignore[arg-type]
                    fidelity=fidelity,
                )
            )
            print(rows[-1], flush=True)
        ctx.close()
    report(rows)


@dataclass(frozen=True)
class Row:
    document: str
    pages: int
    direct_s: float
    step_s: float
    pdfium_s: float
    peak_rss_mb: float
    fidelity: float | None


def report(rows: list[Row]) -> None:
    pages = sum(row.pages for row in rows)
    direct = sum(row.direct_s for row in rows)
    stepped = sum(row.step_s for row in rows)
    floor = sum(row.pdfium_s for row in rows)
    print()
    print(
        "| document | pages | mineru.parse s | step s | overhead | pdfium text s | peak RSS MB | fidelity |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        fidelity = "" if row.fidelity is None else f"{row.fidelity:.3f}"
        print(
            f"| {row.document} | {row.pages} | {row.direct_s:.2f} | {row.step_s:.2f} | "
            f"{row.step_s / row.direct_s - 1:+.0%} | {row.pdfium_s:.3f} | {row.peak_rss_mb:.0f} | "
            f"{fidelity} |"
        )
    print(
        f"| **all** | {pages} | {direct:.2f} ({pages / direct:.2f} p/s) | {stepped:.2f} "
        f"({pages / stepped:.2f} p/s) | {stepped / direct - 1:+.0%} | {floor:.3f} "
        f"({pages / floor:.0f} p/s) | | |"
    )


if __name__ == "__main__":
    main()
