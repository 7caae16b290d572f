"""The production stack checked without a Docker engine: schema, wiring, images, settings."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
APP_SERVICES = ("migrate", "ingest", "relay", "search", "extract", "indexer", "beat")


def _env_example() -> dict[str, str]:
    """The settings `.env.example` gives compose, by name."""
    return dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def test_compose_file_matches_the_compose_spec_schema() -> None:
    cli = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(cli), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if name == "migrate":
            continue
        assert "healthcheck" in service, f"{name} has no healthcheck"


def test_apps_wait_for_healthy_dependencies_and_migrations(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in APP_SERVICES[1:]:
        deps = services[name]["depends_on"]
        for dep in ("postgres", "redis", "elasticsearch"):
            assert deps[dep]["condition"] == "service_healthy", (name, dep)
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
    assert services["migrate"]["command"] == ["policy-search", "migrate"]


def test_the_relay_service_publishes_for_ingest_and_reports_its_health(
    compose: dict[str, Any],
) -> None:
    from services.ingest.relay import HEARTBEAT_FILE

    services = compose["services"]
    assert services["ingest"]["environment"]["INGEST_RELAY"] == "false"
    assert services["relay"]["command"] == ["policy-search", "relay"]
    data_dir = _env_example()["DATA_DIR"]
    assert f"{data_dir}/{HEARTBEAT_FILE}" in " ".join(services["relay"]["healthcheck"]["test"])


def test_extract_workers_can_be_scaled(compose: dict[str, Any]) -> None:
    extract = compose["services"]["extract"]
    assert "container_name" not in extract and "ports" not in extract


def test_one_image_for_the_python_services(compose: dict[str, Any]) -> None:
    images = {compose["services"][name]["image"] for name in APP_SERVICES}
    assert images == {"policy-search:latest"}


def test_data_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    assert set(compose["volumes"]) == {"pgdata", "redisdata", "esdata"}


def test_service_commands_exist_in_the_cli(compose: dict[str, Any]) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    runner = CliRunner()
    for name in APP_SERVICES:
        command = compose["services"][name]["command"]
        assert command[0] == "policy-search"
        result = runner.invoke(app, [command[1], "--help"])
        assert result.exit_code == 0, (name, result.output)


def test_env_example_covers_every_setting() -> None:
    documented = _env_example()
    settings = {name.upper() for name in Settings.model_fields}
    assert settings <= set(documented), sorted(settings - set(documented))
    env = {k: v for k, v in documented.items() if k.lower() in Settings.model_fields}
    Settings(**{k.lower(): v for k, v in env.items() if not v.startswith("[")})  # values parse


def test_images_run_as_non_root_and_build_in_stages() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) >= 2
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "--frozen" in dockerfile  # the lock file decides what is installed


def test_ik_plugin_matches_the_elasticsearch_version(compose: dict[str, Any]) -> None:
    es = compose["services"]["elasticsearch"]
    version = es["build"]["args"]["ES_VERSION"]
    dockerfile = (ROOT / es["build"]["dockerfile"]).read_text()
    assert f"ARG ES_VERSION={version}" in dockerfile
    assert "analysis-ik/${ES_VERSION}" in dockerfile
    assert es["image"].endswith(f":{version}")
    for copied in re.findall(r"^COPY \S+ (\S+) ", dockerfile, re.M):
        assert (ROOT / copied).is_file(), copied


def test_python_client_major_version_matches_the_server(compose: dict[str, Any]) -> None:
    from importlib.metadata import version

    server = compose["services"]["elasticsearch"]["build"]["args"]["ES_VERSION"]
    assert version("elasticsearch").split(".")[0] == server.split(".")[0]


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "deploy/elasticsearch/Dockerfile"])
def test_dockerfiles_pass_hadolint(dockerfile: str) -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "warning", str(ROOT / dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _shell_words_outside_quotes(command: str) -> str:
    """The command with quoted parts removed: what the shell parses as operators."""
    return re.sub(r"'[^']*'|\"[^\"]*\"", "''", command)


def test_shell_healthchecks_do_not_background_their_probe(compose: dict[str, Any]) -> None:
    # `curl http://…?a=1&b=2 || exit 1` runs curl in the background and always passes.
    for name, service in compose["services"].items():
        test = service.get("healthcheck", {}).get("test", [])
        if test[:1] == ["CMD-SHELL"]:
            bare = _shell_words_outside_quotes(test[1])
            assert not re.search(r"(?<![&|>])&(?![&>])", bare), (name, test[1])


def test_the_editable_install_points_at_the_code_in_the_runtime_stage() -> None:
    # `uv sync` installs the project editable: a .pth names the builder's directory, so
    # the runtime stage must hold the code at that same path (or install --no-editable).
    dockerfile = (ROOT / "Dockerfile").read_text()
    if "--no-editable" in dockerfile:
        return
    builder, runtime = re.split(r"^FROM .* AS runtime$", dockerfile, flags=re.M)
    workdir = re.findall(r"^WORKDIR (\S+)", builder, re.M)[-1]
    copied = re.findall(r"^COPY --from=builder \S* ?(\S+) (\S+)$", runtime, re.M)
    assert (workdir, workdir) in copied, (workdir, copied)


def test_flower_watches_the_broker_the_workers_use(compose: dict[str, Any]) -> None:
    broker = compose["services"]["flower"]["environment"]["CELERY_BROKER_URL"]
    assert broker.startswith("${BROKER_URL"), broker
