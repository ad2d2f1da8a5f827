"""Each service's start path stays light: what importing its entry module loads, in a fresh interpreter.

Scale-to-zero pays the start path on every burst (see ``python -m bench.cold_start``). The model stack and the
LLM SDK load only where they are used (MinerU in the parse worker, openai when an API key is set), and so do
the libraries moved off the start path: httpx (MinerU's API backends), jsonschema (ontology validation) and
rdflib (Turtle import/export; extract keeps it, since every extract event writes graph.ttl) and
pypdfium2 (extract never opens a PDF).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

ENTRIES = {
    "gateway": "gateway",
    **{name: f"functions.{name}.main" for name in ("source", "router", "parse", "structure", "extract")},
}
NEVER_AT_START = {"mineru", "torch", "onnxruntime", "rapidocr", "openai"}
DEFERRED = {"httpx", "jsonschema", "rdflib", "pypdfium2"}
# Every event of these services uses the library, so importing it later would only move the cost.
KEPT = {"extract": {"rdflib"}, "parse": {"pypdfium2"}, "structure": {"pypdfium2"}}


def loaded_at_start(module: str) -> set[str]:
    """Top-level packages in ``sys.modules`` once ``module`` is imported by a fresh interpreter."""
    probe = f"import json, sys\nimport {module}\nprint(json.dumps(sorted(sys.modules)))"
    finished = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return {name.split(".")[0] for name in json.loads(finished.stdout)}


@pytest.mark.parametrize("service", sorted(ENTRIES))
def test_heavy_libraries_stay_off_the_start_path(service: str) -> None:
    unwanted = (NEVER_AT_START | DEFERRED) - KEPT.get(service, set())
    assert loaded_at_start(ENTRIES[service]) & unwanted == set()
