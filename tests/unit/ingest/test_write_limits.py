"""The ingest app in-process (real SQLite database, real SQLite broker): rate limits per
key with 429 + Retry-After, revoked keys, and URLs refused before anything is stored."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from services.ingest.app import create_app
from shared.api_keys import create_key, list_keys, revoke_key
from shared.db import dispose_all, session_scope
from shared.migrate import upgrade
from shared.settings import Settings
from tests.unit.ingest.served import ingest_client

Scenario = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]


def _run(tmp_path: Path, scenario: Scenario, **overrides: object) -> None:
    settings = Settings(
        data_dir=tmp_path, write_rate_limit_per_minute=3, log_json=False, **overrides
    )
    upgrade(settings.resolved_database_url)
    with session_scope(settings.resolved_database_url, write=True) as s:
        _, first = create_key(s, "first")
        _, second = create_key(s, "second")
    app = create_app(settings)

    async def main() -> None:
        async with ingest_client(app) as client:
            await scenario(client, first, second)

    try:
        asyncio.run(main())
    finally:
        dispose_all()


async def _count(client: httpx.AsyncClient) -> int:
    return len((await client.get("/v1/documents", params={"limit": 100})).json()["items"])


def test_write_rate_limit_is_per_key_with_retry_after(tmp_path: Path) -> None:
    async def scenario(client: httpx.AsyncClient, first: str, second: str) -> None:
        statuses = [
            (
                await client.post(
                    "/v1/documents",
                    json={"text": f"关于推进产教融合的通知 第{i}号"},
                    headers={"X-API-Key": first},
                )
            ).status_code
            for i in range(4)
        ]
        assert statuses == [202, 202, 202, 429]
        limited = await client.post(
            "/v1/documents", json={"text": "再来一份"}, headers={"X-API-Key": first}
        )
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.headers["content-type"].startswith("application/problem+json")
        ok = await client.post(
            "/v1/documents", json={"text": "另一个调用方的文件"}, headers={"X-API-Key": second}
        )
        assert ok.status_code == 202  # another key has its own budget
        assert await _count(client) == 4

    _run(tmp_path, scenario)


def test_revoked_key_is_refused(tmp_path: Path) -> None:
    async def scenario(client: httpx.AsyncClient, first: str, second: str) -> None:
        with session_scope(f"sqlite:///{(tmp_path / 'policy.db').resolve()}", write=True) as s:
            row = next(k for k in list_keys(s) if k.name == "first")
            assert revoke_key(s, row.id) is not None
        r = await client.post("/v1/documents", json={"text": "正文"}, headers={"X-API-Key": first})
        assert r.status_code == 401

    _run(tmp_path, scenario)


def test_a_key_revoked_after_use_stops_working_once_its_check_expires(tmp_path: Path) -> None:
    async def scenario(client: httpx.AsyncClient, first: str, second: str) -> None:
        r = await client.post("/v1/documents", json={"text": "一"}, headers={"X-API-Key": first})
        assert r.status_code == 202
        with session_scope(f"sqlite:///{(tmp_path / 'policy.db').resolve()}", write=True) as s:
            row = next(k for k in list_keys(s) if k.name == "first")
            assert revoke_key(s, row.id) is not None
        # Trusted for API_KEY_CACHE_SECONDS from its check, then asked about again.
        r = await client.post("/v1/documents", json={"text": "二"}, headers={"X-API-Key": first})
        assert r.status_code == 202
        await asyncio.sleep(1.6)
        r = await client.post("/v1/documents", json={"text": "三"}, headers={"X-API-Key": first})
        assert r.status_code == 401

    _run(tmp_path, scenario, api_key_cache_seconds=1.5)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8001/v1/documents",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/",
        "http://[::1]/",
        "ftp://example.org/policy.txt",
        "http://10.0.0.8/internal.html",
    ],
)
def test_unsafe_urls_are_refused_and_nothing_stored(tmp_path: Path, url: str) -> None:
    async def scenario(client: httpx.AsyncClient, first: str, second: str) -> None:
        r = await client.post("/v1/fetches", json={"url": url}, headers={"X-API-Key": second})
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["errors"][0]["field"] == "url" and "cannot be fetched" in body["detail"]
        assert await _count(client) == 0

    _run(tmp_path, scenario)
