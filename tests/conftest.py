"""Fixtures every test folder may use: databases, free ports, the seeds folder.

PostgreSQL and Redis are real services (127.0.0.1:5432 database `test`, 127.0.0.1:6379).
Tests needing them skip with a reason when they are unreachable, except in CI, which sets
POLICY_SEARCH_REQUIRE_POSTGRES=1 so that a missing service fails loudly instead.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO.parent / "shared" / "seeds"
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# Redis databases by user, so a running end-to-end stack's workers (session-scoped, alive
# while the unit tests run) never consume a queue another test is counting. 15: benchmarks.
E2E_REDIS_DBS = range(1, 7)
UNIT_REDIS_DBS = range(7, 13)
RATE_LIMIT_REDIS_DB = 14


def assert_problem(r: httpx.Response, status: int) -> dict[str, Any]:
    """An RFC 9457 problem response with `status` and every required member; its body."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = dict(r.json())
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_services(*names: str) -> None:
    """Skip (or, in CI, fail) when PostgreSQL or Redis is not reachable."""
    where = {"postgres": ("127.0.0.1", 5432), "redis": (REDIS_HOST, REDIS_PORT)}
    missing = [n for n in names if not _reachable(*where[n])]
    if missing:
        reason = f"{' and '.join(missing)} not reachable on 127.0.0.1"
        if os.environ.get("POLICY_SEARCH_REQUIRE_POSTGRES"):
            pytest.fail(f"{reason}, but POLICY_SEARCH_REQUIRE_POSTGRES is set")
        pytest.skip(reason)


@pytest.fixture
def seeds_dir() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"the seeds folder {SEEDS} is not beside the repository")
    return SEEDS


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


class PostgresSchema:
    """A fresh schema in the `test` database, dropped afterwards."""

    def __init__(self) -> None:
        self.name = f"t_{uuid.uuid4().hex[:12]}"
        self.admin = sa.create_engine(POSTGRES_URL)
        with self.admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.name}"'))

    @property
    def url(self) -> str:
        return f"{POSTGRES_URL}?options=-csearch_path%3D{self.name}"

    def drop(self) -> None:
        with self.admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self.admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    require_services("postgres")
    schema = PostgresSchema()
    try:
        yield schema.url
    finally:
        schema.drop()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database, once on SQLite and once on PostgreSQL."""
    from shared.db import dispose_all
    from shared.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        upgrade(url)
        yield url
        dispose_all()
        return
    require_services("postgres")
    schema = PostgresSchema()
    try:
        upgrade(schema.url)
        yield schema.url
    finally:
        dispose_all()
        schema.drop()
