"""The end-to-end stack, once per configuration: embedded defaults, then PostgreSQL + Redis."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import (
    E2E_REDIS_DBS,
    REDIS_HOST,
    REDIS_PORT,
    PostgresSchema,
    require_services,
)
from tests.e2e.stack import RunningStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session", params=["embedded", "postgres"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    data_dir = tmp_path_factory.mktemp(f"stack-{request.param}")
    env: dict[str, str] = {}
    schema: PostgresSchema | None = None
    redis_db: int | None = None
    if request.param == "postgres":
        require_services("postgres", "redis")
        schema = PostgresSchema()
        redis_db = random.choice(E2E_REDIS_DBS)
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=redis_db).flushdb()
        env = {
            "DATABASE_URL": schema.url,
            "BROKER_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}",
        }
    running = RunningStack(data_dir=data_dir, env=env, log_path=data_dir / "stack.log")
    running.start()
    try:
        yield running
    finally:
        running.stop()
        if schema is not None:
            schema.drop()
        if redis_db is not None:
            redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=redis_db).flushdb()


@pytest.fixture
def policies() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "policies"
