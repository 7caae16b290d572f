"""Whatever a client sends is refused with a problem or stored; never a 500.

The ingest app in-process on a real database, once on SQLite and once on PostgreSQL:
PostgreSQL refuses a NUL in any text column or query parameter and enforces column
lengths, so characters and lengths SQLite takes silently used to surface as 500s there.
Each refusal is a problem+json body, and nothing is stored.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.ingest.app import create_app
from shared.api_keys import create_key
from shared.db import session_scope
from shared.settings import Settings
from tests.conftest import assert_problem
from tests.unit.ingest.served import ingest_client

Scenario = Callable[[httpx.AsyncClient], Awaitable[None]]
TEXT = "关于推进产教融合的通知\n各单位:现将有关事项通知如下。"


def _run(tmp_path: Path, database_url: str, scenario: Scenario) -> None:
    settings = Settings(data_dir=tmp_path, database_url=database_url, log_json=False)
    with session_scope(database_url, write=True) as s:
        _, key = create_key(s, "client")
    app = create_app(settings)

    async def main() -> None:
        async with ingest_client(
            app, raise_app_exceptions=False, headers={"X-API-Key": key}
        ) as client:
            await scenario(client)

    asyncio.run(main())


async def _count(client: httpx.AsyncClient) -> int:
    r = await client.get("/v1/documents", params={"limit": 500})
    assert r.status_code == 200, r.text
    return len(r.json()["items"])


def _json(body: Any) -> dict[str, Any]:
    return {"content": json.dumps(body), "headers": {"content-type": "application/json"}}


BAD_JSON = [
    pytest.param({"text": TEXT + "\x00"}, "NUL", id="nul-in-text"),
    pytest.param({"html": f"<p>{TEXT}\x00</p>"}, "NUL", id="nul-in-html"),
    pytest.param({"text": TEXT + "\ud800"}, "surrogate", id="surrogate-in-text"),
    pytest.param({"text": TEXT, "title": "标题\x00"}, "U+0000", id="nul-in-title"),
    pytest.param({"text": TEXT, "title": "标题\x07"}, "U+0007", id="bell-in-title"),
    pytest.param({"text": TEXT, "external_id": "a\x00b"}, "U+0000", id="nul-in-external-id"),
    pytest.param({"text": TEXT, "source_url": "http://a/\x00"}, "U+0000", id="nul-in-source-url"),
    pytest.param({"text": TEXT, "title": "标题\udc00"}, "unicode", id="surrogate-in-title"),
    pytest.param({"text": TEXT, "metadata": {"doc_number": "a\x00"}}, "NUL", id="nul-in-meta"),
    pytest.param({"text": TEXT, "metadata": {"k\x00": 1}}, "NUL", id="nul-in-meta-key"),
    pytest.param({"text": TEXT, "metadata": {"l": [{"x": "\x00"}]}}, "NUL", id="nul-deep-in-meta"),
    pytest.param(
        {"html": "<div>" * 600 + TEXT + "</div>" * 600}, "levels deep", id="html-nested-too-deep"
    ),
]


@pytest.mark.parametrize(("body", "says"), BAD_JSON)
def test_unstorable_json_is_422_and_stores_nothing(
    tmp_path: Path, database_url: str, body: dict[str, Any], says: str
) -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        # json.dumps escapes what UTF-8 cannot carry (an unpaired surrogate), as clients do.
        problem = assert_problem(await client.post("/v1/documents", **_json(body)), 422)
        assert says in str(problem)
        batch = await client.post(
            "/v1/documents:batch", **_json({"documents": [body, {"text": TEXT}]})
        )
        assert batch.status_code == 202, batch.text
        items = batch.json()["items"]
        assert items[0]["error"]["status"] == 422 and says in str(items[0]["error"])
        assert "id" in items[1]
        assert await _count(client) == 1  # only the good batch item

    _run(tmp_path, database_url, scenario)


@pytest.mark.parametrize(
    ("fields", "filename", "content_type", "field"),
    [
        pytest.param({"title": "标题\x00"}, "a.txt", "text/plain", "title", id="nul-title"),
        pytest.param(
            {"external_id": "x" * 513}, "a.txt", "text/plain", "external_id", id="long-id"
        ),
        pytest.param(
            {"metadata": '{"a": "\\u0000"}'}, "a.txt", "text/plain", "metadata", id="meta"
        ),
        pytest.param({}, "长" * 600 + ".txt", "text/plain", "filename", id="long-filename"),
        pytest.param(
            {}, "a.txt", "text/plain; x=" + "y" * 200, "content_type", id="long-content-type"
        ),
    ],
)
def test_unstorable_upload_fields_are_422_and_store_nothing(
    tmp_path: Path,
    database_url: str,
    fields: dict[str, str],
    filename: str,
    content_type: str,
    field: str,
) -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        r = await client.post(
            "/v1/documents",
            files={"file": (filename, TEXT.encode(), content_type)},
            data=fields,
        )
        problem = assert_problem(r, 422)
        assert [e["field"] for e in problem["errors"]] == [field]
        assert await _count(client) == 0

    _run(tmp_path, database_url, scenario)


def test_nul_in_paths_and_queries_is_a_problem_not_a_500(tmp_path: Path, database_url: str) -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        for method, path in [
            ("GET", "/v1/documents/a%00b"),
            ("GET", "/v1/documents/a%00b/original"),
            ("POST", "/v1/documents/a%00b/retry"),
            ("DELETE", "/v1/documents/a%00b"),
            ("GET", "/v1/sources/a%00b"),
            ("DELETE", "/v1/sources/a%00b"),
        ]:
            assert_problem(await client.request(method, path), 404)
        assert_problem(await client.get("/v1/documents", params={"cursor": "a\x00"}), 422)
        forged = base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|a\x00").decode()
        assert_problem(await client.get("/v1/documents", params={"cursor": forged}), 422)
        fetch = await client.post(
            "/v1/fetches", json={"url": "http://93.184.215.14/a", "title": "标题\x00"}
        )
        assert assert_problem(fetch, 422)["errors"][0]["field"] == "title"
        source = await client.post("/v1/sources", json={"url": "http://93.184.215.14/\x00"})
        assert assert_problem(source, 422)["errors"][0]["field"] == "url"
        assert await _count(client) == 0
        assert (await client.get("/v1/sources")).json()["items"] == []

    _run(tmp_path, database_url, scenario)
