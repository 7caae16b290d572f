"""Fuzz both services' OpenAPI schemas with schemathesis: no input may cause a 500.

Runs the schemathesis CLI against the running stack (bounded: a fixed number of examples
per operation and a fixed seed, so a failure reproduces), with a write key so the write
endpoints are exercised past authentication.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.stack import RunningStack

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("service", ["ingest", "search"])
def test_no_input_makes_a_server_error(stack: RunningStack, service: str, tmp_path: Path) -> None:
    client = stack.ingest if service == "ingest" else stack.search
    base = str(client.base_url).rstrip("/")
    cli = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [
            str(cli),
            "run",
            f"{base}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "25",
            "--seed",
            "20261122",
            "--request-timeout",
            "30",
            "--header",
            f"X-API-Key: {stack.api_key}",
            "--generation-database",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert "Server error" not in report
