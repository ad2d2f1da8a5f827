"""docker-compose.yml against the Compose JSON Schema, and the Dockerfile's targets against the commands
the tests start services with."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import dockerfile
import jsonschema
import pytest
import yaml

from core.routing import ROUTES
from core.settings import Buckets
from tests.conftest import ROOT, shared_path
from tests.deploy.commands import COMMANDS

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
LONG_RUNNING = ("postgres", "minio", "gateway", "source", "router", "parse", "structure", "extract")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


@pytest.fixture(scope="module")
def stages() -> dict[str, list[dockerfile.Command]]:
    """Commands of each named stage of the Dockerfile, parsed by BuildKit's own parser."""
    found: dict[str, list[dockerfile.Command]] = {}
    current: list[dockerfile.Command] = []
    for command in dockerfile.parse_file(str(DOCKERFILE)):
        if command.cmd == "FROM":
            current = []
            assert len(command.value) == 3 and command.value[1].upper() == "AS", command.original
            found[command.value[2]] = current
        current.append(command)
    return found


def test_compose_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(shared_path("data", "compose", "compose-spec.json").read_text())
    jsonschema.Draft7Validator(schema).validate(compose)


def test_compose_services_wait_for_what_they_need(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in LONG_RUNNING:
        assert "healthcheck" in services[name], f"{name} has no health check"
    for name in ("gateway", "parse", "structure", "extract"):
        needs = services[name]["depends_on"]
        assert needs["postgres"]["condition"] == "service_healthy"
        assert needs["migrate"]["condition"] == "service_completed_successfully"
    assert services["minio-init"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert all(dep["condition"] == "service_healthy" for dep in services["router"]["depends_on"].values())
    image = services["minio"]["image"]
    assert "RELEASE." in image and "latest" not in image


def test_compose_router_and_minio_follow_the_routing_rules(compose: dict[str, Any]) -> None:
    services = compose["services"]
    router_env = services["router"]["environment"]
    assert {key for key in router_env if key.startswith("ROUTE_")} == {
        f"ROUTE_{route.function.upper()}_URL" for route in ROUTES
    }
    for route in ROUTES:
        assert router_env[f"ROUTE_{route.function.upper()}_URL"] == f"http://{route.function}:8080/"
        assert services[route.function]["build"]["target"] == route.function
    from gateway.deadletter import PATH

    assert router_env["DEAD_LETTER_URL"].endswith(PATH)
    assert services["source"]["environment"]["K_SINK"] == "http://router:8080/"
    script = services["minio-init"]["command"][0]
    assert f"mc mb --ignore-existing {' '.join('pdfonto/' + b for b in Buckets().all())}" in script
    assert (
        "auth_token=" in script and "queue_dir=/queue" in script and "endpoint=http://source:8080/" in script
    )
    assert "minio-queue:/queue" in services["minio"]["volumes"]
    assert "MINIO_WEBHOOK_TOKEN" in services["source"]["environment"]


def test_every_compose_build_target_exists(compose: dict[str, Any], stages: dict[str, Any]) -> None:
    targets = {svc["build"]["target"] for svc in compose["services"].values() if "build" in svc}
    assert targets <= set(stages)
    assert targets == set(COMMANDS), "every service the tests start runs in compose"


@pytest.mark.parametrize("target", sorted(COMMANDS))
def test_dockerfile_targets_run_the_commands_the_tests_use(
    stages: dict[str, list[dockerfile.Command]], target: str
) -> None:
    commands = stages[target]
    [cmd] = [c for c in commands if c.cmd == "CMD"]
    assert cmd.json, "exec form, so the process gets signals (Knative drains on SIGTERM)"
    assert list(cmd.value) == COMMANDS[target]
    users = [c.value[0] for c in commands if c.cmd == "USER"]
    assert users and users[-1] not in ("root", "0"), f"{target} must run as a non-root user"


def test_dependency_layers_come_before_the_code(stages: dict[str, list[dockerfile.Command]]) -> None:
    base = stages["base"]
    copies = [c for c in base if c.cmd == "COPY"]
    assert [c.value for c in copies] == [("pyproject.toml", "./")], "base copies only pyproject.toml"
    assert any(c.cmd == "RUN" and "pip install" in c.value[0] for c in base)
    for name, commands in stages.items():
        if name in ("base", "app-code"):
            continue
        kinds = [c.cmd for c in commands]
        code = kinds.index("COPY")
        assert all(kind != "RUN" for kind in kinds[code:]), (
            f"{name}: a RUN after the code invalidates caching"
        )
    parse_args = [c.value for c in stages["parse"] if c.cmd == "ARG"]
    assert ("MINERU_MODELS_TIER=",) in parse_args or ('MINERU_MODELS_TIER=""',) in parse_args
    assert any("mineru-kit models download" in c.value[0] for c in stages["parse"] if c.cmd == "RUN")


def test_requirements_script_lists_pyproject_dependencies(
    stages: dict[str, list[dockerfile.Command]], tmp_path: Path
) -> None:
    """Runs the Dockerfile's own requirements generator (the shell that writes it, then the script)."""
    [writer] = [c for c in stages["base"] if c.cmd == "RUN" and "requirements.py" in c.value[0]]
    write = writer.value[0].split(" && ")[0]
    script = tmp_path / "requirements.py"
    write = write.replace("/usr/local/bin/requirements.py", str(script))
    write = write.replace("/app/pyproject.toml", str(ROOT / "pyproject.toml"))
    subprocess.run(["sh", "-c", write], check=True, timeout=30)
    result = subprocess.run(
        [sys.executable, str(script), "gateway", "parse"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    listed = result.stdout.splitlines()
    assert any(line.startswith("functions-framework") for line in listed)
    assert any(line.startswith("flask") for line in listed) and any(
        line.startswith("mineru") for line in listed
    )
    assert not any(line.startswith("pytest") for line in listed)


def test_migrate_command_applies_migrations(database_url: str, tmp_path: Path) -> None:
    import os
    import shutil

    argv = COMMANDS["migrate"]
    executable = sys.executable if argv[0] == "python" else shutil.which(argv[0])
    assert executable
    env = {**os.environ, "DATABASE_URL": database_url, "PDFONTO_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [executable, *argv[1:]], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "already up to date" in result.stdout  # the fixture's database is migrated already
