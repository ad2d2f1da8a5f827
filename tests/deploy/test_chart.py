"""The Helm chart: lints, renders, validates against the Knative CRDs and Kubernetes schemas, and its
Triggers route exactly as core.routing does."""

from __future__ import annotations

import copy
import re
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from core import events
from core.routing import ROUTES, route_for
from core.settings import Buckets
from tests.deploy.manifests import (
    CHART,
    KNATIVE,
    RENDER_ARGS,
    documents,
    helm,
    of_kind,
    render,
    run_helm,
    validate_knative,
)

CUSTOM_BUCKETS = Buckets(pdf="in-pdf", mineru="out-mineru", documents="out-docs", extraction="out-results")
CUSTOM_ARGS = [f"--set=buckets.{name}={getattr(CUSTOM_BUCKETS, name)}" for name in vars(Buckets())]


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    return documents(render())


def is_knative(doc: dict[str, Any]) -> bool:
    return str(doc["apiVersion"]).split("/")[0].endswith("knative.dev")


def test_helm_lint_is_clean() -> None:
    output = run_helm("lint", str(CHART), "--strict")
    assert "0 chart(s) failed" in output


def test_knative_folder_is_the_chart_rendered_with_default_values() -> None:
    expected = render()
    assert KNATIVE.read_text() == expected, (
        f"knative/ is stale: regenerate with `.tools/helm {' '.join(RENDER_ARGS)} > knative/pdfonto.yaml`"
    )


def test_every_knative_object_matches_its_crd(rendered: list[dict[str, Any]]) -> None:
    knative = [doc for doc in rendered if is_knative(doc)]
    assert {doc["kind"] for doc in knative} == {"Service", "Broker", "Trigger", "SinkBinding"}
    for doc in knative:
        validate_knative(doc)


def test_crd_validation_rejects_unknown_fields(rendered: list[dict[str, Any]]) -> None:
    service = copy.deepcopy(of_kind(rendered, "Service")[0])
    service["spec"]["template"]["spec"]["containers"][0]["imagePullPolizy"] = "Always"
    with pytest.raises(jsonschema.ValidationError, match="imagePullPolizy"):
        validate_knative(service)
    broker = copy.deepcopy(of_kind(rendered, "Broker")[0])
    broker["spec"]["delivery"]["retry"] = "five"
    with pytest.raises(jsonschema.ValidationError):
        validate_knative(broker)


@pytest.mark.parametrize("version", ["1.28.0", kubernetes_validate.latest_version()])
def test_core_objects_are_valid_kubernetes(rendered: list[dict[str, Any]], version: str) -> None:
    core = [doc for doc in rendered if not is_knative(doc)]
    assert {doc["kind"] for doc in core} == {"ConfigMap", "Ingress", "Job", "NetworkPolicy"}
    for doc in core:
        kubernetes_validate.validate(doc, version, strict=True)


def trigger_rows(docs: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(function, bucket, suffix) per Trigger, read back from its filters and subscriber."""
    rows = set()
    for trigger in of_kind(docs, "Trigger"):
        spec = trigger["spec"]
        assert "filter" not in spec, "use the `filters` API only"
        exact, suffix = spec["filters"]
        assert set(exact) == {"exact"} and set(suffix) == {"suffix"}
        assert exact["exact"]["type"] == events.FINALIZED
        source = exact["exact"]["source"]
        assert source.startswith(events.SOURCE_PREFIX)
        service = spec["subscriber"]["ref"]["name"]
        assert spec["subscriber"]["ref"]["kind"] == "Service"
        rows.add(
            (
                service.removeprefix("pdfonto-"),
                source[len(events.SOURCE_PREFIX) :],
                suffix["suffix"]["subject"],
            )
        )
    return rows


@pytest.mark.parametrize(
    "buckets, args", [(Buckets(), []), (CUSTOM_BUCKETS, CUSTOM_ARGS)], ids=["default", "custom"]
)
def test_triggers_encode_exactly_the_routes_in_core(buckets: Buckets, args: list[str]) -> None:
    docs = documents(render(*args))
    expected = {(route.function, route.physical_bucket(buckets), route.suffix) for route in ROUTES}
    assert trigger_rows(docs) == expected
    config = of_kind(docs, "ConfigMap")[0]["data"]
    assert [config[f"BUCKET_{name.upper()}"] for name in vars(Buckets())] == list(buckets.all())


def knative_would_deliver(trigger: dict[str, Any], event: dict[str, str]) -> bool:
    """Knative's `filters` semantics: every expression must hold; exact/suffix on the named attributes."""
    for expression in trigger["spec"]["filters"]:
        for dialect, attributes in expression.items():
            for name, value in attributes.items():
                actual = event.get(name, "")
                if dialect == "exact" and actual != value:
                    return False
                if dialect == "suffix" and not actual.endswith(value):
                    return False
    return True


def test_trigger_filters_select_the_same_events_as_core_routing(rendered: list[dict[str, Any]]) -> None:
    triggers = of_kind(rendered, "Trigger")
    pid, fid = "0b7f3f3e-6a51-4c35-9d8e-4a0c1f1f2a10", "5d0e8a4c-93b2-4d6e-8f0a-1c2b3d4e5f60"
    tails = [".pdf", ".PDF", "/manifest.json", "/document.json", "/content_list.json", "/v1/result.json", ""]
    checked = 0
    for bucket in [*Buckets().all(), "images"]:
        for tail in tails:
            for kind in (events.FINALIZED, events.DELETED):
                name = f"{pid}/{fid}{tail}"
                event = {"type": kind, "source": events.SOURCE_PREFIX + bucket, "subject": "objects/" + name}
                chosen = {
                    t["spec"]["subscriber"]["ref"]["name"]
                    for t in triggers
                    if knative_would_deliver(t, event)
                }
                route = route_for(bucket, name, Buckets()) if kind == events.FINALIZED else None
                assert chosen == ({f"pdfonto-{route.function}"} if route else set()), (bucket, name, kind)
                checked += 1
    assert checked == 5 * len(tails) * 2


def test_parse_service_is_sized_for_mineru(rendered: list[dict[str, Any]]) -> None:
    services = {doc["metadata"]["name"]: doc for doc in of_kind(rendered, "Service")}
    parse = services["pdfonto-parse"]["spec"]["template"]
    spec = parse["spec"]
    assert spec["containerConcurrency"] == 1
    assert spec["timeoutSeconds"] >= 1800
    resources = spec["containers"][0]["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == resources["requests"]["nvidia.com/gpu"] == "1"
    assert spec["nodeSelector"] and spec["tolerations"]
    for name in ("pdfonto-structure", "pdfonto-extract"):
        annotations = services[name]["spec"]["template"]["metadata"]["annotations"]
        assert annotations["autoscaling.knative.dev/min-scale"] == "0"
        assert int(annotations["autoscaling.knative.dev/max-scale"]) >= 1
    for name, service in services.items():
        container = service["spec"]["template"]["spec"]["containers"][0]
        assert container["resources"]["requests"] and container["resources"]["limits"], name
        assert container["securityContext"]["runAsNonRoot"] is True


def test_models_volume_and_cpu_only_values(rendered: list[dict[str, Any]]) -> None:
    docs = documents(
        render(
            "--set=parse.models.existingClaim=mineru-models",
            "--set=parse.gpu.enabled=false",
            "--set=parse.mineru.tier=flash",
        )
    )
    [parse] = [doc for doc in of_kind(docs, "Service") if doc["metadata"]["name"] == "pdfonto-parse"]
    validate_knative(parse)
    spec = parse["spec"]["template"]["spec"]
    assert spec["volumes"][0]["persistentVolumeClaim"]["claimName"] == "mineru-models"
    container = spec["containers"][0]
    assert container["volumeMounts"][0]["mountPath"] == "/opt/mineru"
    assert "nvidia.com/gpu" not in container["resources"]["limits"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["MINERU_TIER"] == "flash" and env["MINERU_HOME"] == "/opt/mineru"


def test_broker_dead_letters_to_the_gateway_endpoint(rendered: list[dict[str, Any]]) -> None:
    from gateway.deadletter import PATH

    [broker] = of_kind(rendered, "Broker")
    delivery = broker["spec"]["delivery"]
    assert delivery["backoffPolicy"] == "exponential" and delivery["retry"] >= 1
    sink = delivery["deadLetterSink"]
    assert sink["ref"]["name"] == "pdfonto-gateway" and sink["uri"] == PATH
    bindings = {
        doc["spec"]["subject"]["name"]: doc["spec"]["sink"]["ref"] for doc in of_kind(rendered, "SinkBinding")
    }
    assert set(bindings) == {"pdfonto-source", "pdfonto-gateway"}
    assert all(
        ref["kind"] == "Broker" and ref["name"] == broker["metadata"]["name"] for ref in bindings.values()
    )


def test_secrets_only_by_reference_and_migration_is_a_hook(rendered: list[dict[str, Any]]) -> None:
    assert not of_kind(rendered, "Secret")
    text = yaml.safe_dump_all(rendered)
    for variable in ("DATABASE_URL", "S3_SECRET_KEY", "MINIO_WEBHOOK_TOKEN", "DEEPSEEK_API_KEY"):
        assert re.search(rf"name: {variable}\n\s+valueFrom:\n\s+secretKeyRef:", text), variable
    [job] = of_kind(rendered, "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    [ingress] = of_kind(rendered, "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/auth-response-headers"] == "X-User-ID"
    assert annotations["nginx.ingress.kubernetes.io/auth-url"]
    assert [path["path"] for path in ingress["spec"]["rules"][0]["http"]["paths"]] == ["/api"]


def test_values_schema_refuses_bad_values() -> None:
    helm()
    import subprocess

    for bad in ("--set=parse.mineru.tier=turbo", "--set=secrets.existingSecret=", "--set=typo=1"):
        result = subprocess.run([helm(), *RENDER_ARGS, bad], capture_output=True, text=True, timeout=120)
        assert result.returncode != 0, bad


def leaves(values: Any, prefix: str = "") -> list[str]:
    if (
        isinstance(values, dict)
        and values
        and prefix.rstrip(".").split(".")[-1] not in ("requests", "limits", "nodeSelector")
    ):
        return [leaf for key, value in values.items() for leaf in leaves(value, f"{prefix}{key}.")]
    return [prefix.rstrip(".")]


def test_every_value_is_documented_in_values_readme_and_schema() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    documented = set(re.findall(r"## @param (\S+)", (CHART / "values.yaml").read_text()))
    readme = (CHART / "README.md").read_text()
    import json

    schema = json.loads((CHART / "values.schema.json").read_text())
    for leaf in leaves(values):
        assert leaf in documented, f"{leaf} has no ## @param line"
        assert f"`{leaf}`" in readme, f"{leaf} is missing from the chart README"
        node = schema
        for part in leaf.split("."):
            node = node["properties"][part]
    assert "kn service list" in (CHART / "templates" / "NOTES.txt").read_text()
