"""The whole production stack under Docker (pytest-docker): ingest a document, search it.

Runs wherever a Docker engine with `docker compose` exists; skipped with the reason
elsewhere (this development machine has neither).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[2]


def _compose_available() -> str | None:
    if shutil.which("docker") is None:
        return "no docker binary on PATH"
    try:
        subprocess.run(["docker", "info"], check=True, capture_output=True, timeout=20)
    except (subprocess.SubprocessError, OSError):
        return "docker is installed but no Docker engine answers"
    try:
        subprocess.run(
            ["docker", "compose", "version"], check=True, capture_output=True, timeout=20
        )
    except (subprocess.SubprocessError, OSError):
        return "the docker compose plugin is missing"
    return None


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(ROOT / "docker-compose.yml")


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    if not (ROOT / ".env").exists():
        (ROOT / ".env").write_text((ROOT / ".env.example").read_text())
    return ["up --build -d"]


@pytest.fixture(scope="session")
def stack_urls(request: pytest.FixtureRequest) -> tuple[str, str]:
    reason = _compose_available()
    if reason:
        pytest.skip(f"compose stack not started: {reason}")
    services = request.getfixturevalue("docker_services")
    ingest, search = "http://localhost:8001", "http://localhost:8002"

    def ready(url: str) -> bool:
        try:
            return httpx.get(f"{url}/readyz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    services.wait_until_responsive(
        timeout=600, pause=5, check=lambda: ready(ingest) and ready(search)
    )
    return ingest, search


def test_compose_stack_ingests_and_searches(stack_urls: tuple[str, str]) -> None:
    ingest, search = stack_urls
    key = (
        subprocess.run(
            [
                "docker",
                "compose",
                "exec",
                "-T",
                "ingest",
                "policy-search",
                "keys",
                "create",
                "compose-test",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .split()[-1]
    )
    text = (
        "兰州市人民政府关于推进产教融合的实施意见\n兰政发〔2021〕13号\n深化产教融合,推进校企合作。"
    )
    r = httpx.post(f"{ingest}/v1/documents", json={"text": text}, headers={"X-API-Key": key})
    assert r.status_code == 202, r.text
    doc_id = r.json()["id"]
    deadline = time.monotonic() + 120
    status = ""
    while time.monotonic() < deadline and status not in ("indexed", "failed"):
        status = httpx.get(f"{ingest}/v1/documents/{doc_id}").json()["status"]
        time.sleep(1)
    assert status == "indexed"
    hits = httpx.get(f"{search}/v1/search", params={"q": "产教融合"}).json()["hits"]
    assert doc_id in [h["id"] for h in hits]
    assert (
        "ik" not in httpx.get(f"{search}/readyz").text.lower()
        or "missing" not in httpx.get(f"{search}/readyz").text
    )
