"""One behaviour suite, every engine: embedded always, Elasticsearch where one answers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.search.engines.base import SearchEngine
from shared.runtime import run_async


def _elasticsearch_url() -> str | None:
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        return None
    try:
        httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return None
    return url


@pytest.fixture(params=["embedded", "elasticsearch"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchEngine]:
    if request.param == "embedded":
        from services.search.engines.embedded import EmbeddedEngine

        eng: SearchEngine = EmbeddedEngine(tmp_path / "index")
    else:
        url = _elasticsearch_url()
        if url is None:
            pytest.skip("no Elasticsearch: set ELASTICSEARCH_URL to one with the IK plugin")
        from services.search.engines.elastic import ElasticEngine

        eng = ElasticEngine(url, index=f"contract-{uuid.uuid4().hex[:8]}")
    yield eng
    if request.param == "elasticsearch":
        run_async(eng.drop())  # type: ignore[attr-defined]
    run_async(eng.close())
