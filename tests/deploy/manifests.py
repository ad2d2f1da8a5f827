"""Rendering the chart with the real helm binary and validating objects against the real schemas."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import ROOT, shared_path

CHART = ROOT / "charts" / "pdfonto"
KNATIVE = ROOT / "knative" / "pdfonto.yaml"
# knative/ is the chart rendered exactly so (kubectl users apply it into namespace "pdfonto").
RENDER_ARGS = ["template", "pdfonto", str(CHART), "--namespace", "pdfonto"]


def helm() -> str:
    """The helm binary `make tools` installs (or HELM / PATH); skipped outside CI when absent."""
    for candidate in (os.environ.get("HELM"), str(ROOT / ".tools" / "helm"), shutil.which("helm")):
        if candidate and Path(candidate).is_file():
            return candidate
    if os.environ.get("CI"):
        pytest.fail("helm is missing: `make tools` must install it before the tests run")
    pytest.skip("helm is not installed; run `make tools`")


def run_helm(*args: str) -> str:
    result = subprocess.run([helm(), *args], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def render(*extra: str) -> str:
    return run_helm(*RENDER_ARGS, *extra)


def documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def of_kind(docs: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


# --- Knative CRDs ------------------------------------------------------------------------------------

CRD_FILES = {
    ("serving.knative.dev", "Service"): ("serving", "service.yaml"),
    ("eventing.knative.dev", "Broker"): ("eventing", "broker.yaml"),
    ("eventing.knative.dev", "Trigger"): ("eventing", "trigger.yaml"),
    ("sources.knative.dev", "SinkBinding"): ("eventing", "sinkbindings.yaml"),
}


def crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    """The CRD's openAPIV3Schema for this version, made strict the way the API server prunes.

    An object that declares properties and does not preserve unknown fields rejects others, as
    the API server would silently drop them — a typo must fail here rather than vanish in a cluster.
    """
    group, version = api_version.split("/")
    folder, name = CRD_FILES[(group, kind)]
    crd = yaml.safe_load(shared_path("data", "k8s", "crds", folder, name).read_text())
    assert crd["spec"]["names"]["kind"] == kind
    [entry] = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = _strict(copy.deepcopy(entry["schema"]["openAPIV3Schema"]))
    schema.setdefault("properties", {}).update(
        {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}
    )
    return schema


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _strict(value) for key, value in node.items()}
    if node.pop("x-kubernetes-int-or-string", False):
        node.pop("type", None)
        node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.pop("nullable", False) and "type" in node:
        node["type"] = [node["type"], "null"]
    preserve = node.pop("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in node and not preserve and "additionalProperties" not in node:
        node["additionalProperties"] = False
    for key in [key for key in node if key.startswith("x-kubernetes-")]:
        del node[key]
    return node


def validate_knative(doc: dict[str, Any]) -> None:
    jsonschema.Draft7Validator(crd_schema(doc["apiVersion"], doc["kind"])).validate(doc)
