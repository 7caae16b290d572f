"""The Elasticsearch engine (production): async official client, IK analysis, alias swap.

Versioned indices `<alias>-v<timestamp>` sit behind the alias the API searches; `rebuild`
fills a new one with bulk requests and swaps the alias atomically. Transient failures
(429, 5xx, connection) are retried with exponential backoff and jitter; when the cluster
cannot be reached the caller gets `EngineUnavailable` and indexing waits. Without the IK
plugin the engine still starts, on the built-in CJK analyzer, and says so in `health()`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from elasticsearch import (
    ApiError,
    AsyncElasticsearch,
    ConnectionTimeout,
    NotFoundError,
    TransportError,
)
from elasticsearch import (
    ConnectionError as ESConnectionError,
)
from elasticsearch.helpers import async_bulk

from services.search.analysis import get_analyzer
from services.search.engines import elastic_bodies as bodies
from services.search.engines.base import (
    FACET_FIELDS,
    EngineHealth,
    EngineUnavailable,
    FacetValue,
    IndexDocument,
    SearchHit,
    SearchQuery,
    SearchResult,
    Suggestion,
)
from services.search.query import parse_query

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_STATUSES = {429, 502, 503, 504}
MAX_ATTEMPTS = 5


class ElasticEngine:
    name = "elasticsearch"

    def __init__(self, url: str, *, index: str) -> None:
        # No I/O here: the client connects lazily, so a down cluster does not stop startup.
        self.alias = index
        # max_retries=0: retries (with backoff and jitter) are ours, not stacked on the client's.
        self.client = AsyncElasticsearch(url, request_timeout=30, max_retries=0)
        self._ready = False
        self.ik = True
        self.degraded: list[str] = []

    async def _retry(self, call: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(MAX_ATTEMPTS):
            try:
                return await call()
            except (ESConnectionError, ConnectionTimeout) as exc:
                if attempt == MAX_ATTEMPTS - 1:
                    raise EngineUnavailable(f"Elasticsearch unreachable: {exc}") from exc
            except ApiError as exc:
                if exc.meta.status not in RETRY_STATUSES or attempt == MAX_ATTEMPTS - 1:
                    if exc.meta.status in RETRY_STATUSES:
                        raise EngineUnavailable(f"Elasticsearch busy: {exc}") from exc
                    raise
            await asyncio.sleep(min(10.0, 0.2 * 2**attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    async def _ensure(self) -> None:
        """Template and a first index behind the alias, once per process."""
        if self._ready:
            return
        self.ik = await self._has_ik()
        if not self.ik:
            self.degraded = ["ik plugin missing: using the built-in cjk analyzer"]
            log.warning("Elasticsearch has no analysis-ik plugin; searching on the cjk analyzer")
        await self._retry(
            lambda: self.client.indices.put_index_template(
                name=f"{self.alias}-template", **bodies.index_template(self.alias, ik=self.ik)
            )
        )
        if not await self._retry(lambda: self.client.indices.exists_alias(name=self.alias)):
            first = self._new_index_name()
            await self._retry(lambda: self.client.indices.create(index=first))
            await self._retry(
                lambda: self.client.indices.update_aliases(
                    **bodies.alias_swap(self.alias, first, [])
                )
            )
        self._ready = True

    async def _has_ik(self) -> bool:
        try:
            await self._retry(
                lambda: self.client.indices.analyze(tokenizer="ik_smart", text="产教融合")
            )
        except ApiError:
            return False
        return True

    def _new_index_name(self) -> str:
        return f"{self.alias}-v{time.strftime('%Y%m%d%H%M%S')}{random.randint(100, 999)}"

    async def health(self) -> EngineHealth:
        try:
            # Short and unretried: /readyz must answer quickly while the cluster is down.
            info = await self.client.options(request_timeout=3, max_retries=0).cluster.health()
            await self._ensure()
        except (TransportError, ApiError, EngineUnavailable) as exc:
            return EngineHealth(False, self.name, f"unreachable: {exc}")
        status = info.get("status")
        return EngineHealth(
            status in ("green", "yellow"), self.name, f"cluster {status}", list(self.degraded)
        )

    async def index(self, docs: Sequence[IndexDocument]) -> None:
        if not docs:
            return
        await self._ensure()
        await self._bulk(self.alias, list(docs), refresh="wait_for")

    async def _bulk(self, index: str, docs: list[IndexDocument], *, refresh: str | bool) -> None:
        async def send() -> None:
            await async_bulk(
                self.client,
                bodies.bulk_actions(index, docs),
                refresh=refresh,
                max_retries=3,  # per-item 429s inside a bulk
                initial_backoff=1,
            )

        await self._retry(send)

    async def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        await self._ensure()
        actions = [{"_op_type": "delete", "_index": self.alias, "_id": i} for i in ids]

        async def send() -> None:
            await async_bulk(self.client, actions, refresh="wait_for", raise_on_error=False)

        await self._retry(send)

    async def rebuild(self, batches: Iterable[Sequence[IndexDocument]]) -> None:
        await self._ensure()
        new = self._new_index_name()
        await self._retry(lambda: self.client.indices.create(index=new))
        for batch in batches:
            await self._bulk(new, list(batch), refresh=False)
        await self._retry(lambda: self.client.indices.refresh(index=new))
        old = list(
            (await self._retry(lambda: self.client.indices.get_alias(name=self.alias))).keys()
        )
        await self._retry(
            lambda: self.client.indices.update_aliases(**bodies.alias_swap(self.alias, new, old))
        )
        stale = [name for name in old if name != new]
        if stale:
            await self._retry(lambda: self.client.indices.delete(index=",".join(stale)))

    async def count(self) -> int:
        await self._ensure()
        r = await self._retry(lambda: self.client.count(index=self.alias))
        return int(r["count"])

    async def contains(self, doc_id: str) -> bool:
        await self._ensure()
        return bool(await self._retry(lambda: self.client.exists(index=self.alias, id=doc_id)))

    async def search(self, query: SearchQuery) -> SearchResult:
        await self._ensure()
        parsed = parse_query(query.text, get_analyzer())
        body = bodies.search_body(query, parsed)
        r = await self._retry(lambda: self.client.search(index=self.alias, **body))
        aggs = r.get("aggregations", {})  # facet -> filter aggregation -> "values" terms
        facets = {
            name: [
                FacetValue(value=str(b["key"]), count=int(b["doc_count"]))
                for b in aggs.get(name, {}).get("values", {}).get("buckets", [])
            ]
            for name in FACET_FIELDS
        }
        return SearchResult(
            total=int(r["hits"]["total"]["value"]),
            hits=[_hit(h) for h in r["hits"]["hits"]],
            facets=facets,
            normalized_query=parsed.normalized,
            query_tokens=parsed.tokens,
        )

    async def suggest(self, prefix: str, *, size: int = 10) -> list[Suggestion]:
        await self._ensure()
        normalized = get_analyzer().normalize(prefix.strip())
        r = await self._retry(
            lambda: self.client.search(index=self.alias, **bodies.suggest_body(normalized, size))
        )
        found = [Suggestion(o["text"], "title") for o in r["suggest"]["titles"][0]["options"]]
        for term in get_analyzer().user_terms:
            if len(found) >= size:
                break
            if term.startswith(normalized) and term != normalized:
                found.append(Suggestion(term, "term"))
        return found[:size]

    async def similar(self, doc_id: str, *, size: int = 10) -> list[SearchHit]:
        await self._ensure()
        try:
            source = await self._retry(
                lambda: self.client.get(index=self.alias, id=doc_id, source_includes=["cluster_id"])
            )
        except NotFoundError:
            return []
        real_index = source["_index"]
        body = bodies.more_like_this_body(
            real_index, doc_id, size, source["_source"].get("cluster_id")
        )
        r = await self._retry(lambda: self.client.search(index=self.alias, **body))
        return [_hit(h) for h in r["hits"]["hits"]]

    async def drop(self) -> None:
        """Remove this engine's indices and template (tests)."""
        await self.client.indices.delete(index=f"{self.alias}-v*", ignore_unavailable=True)
        await self.client.indices.delete_index_template(name=f"{self.alias}-template")

    async def close(self) -> None:
        await self.client.close()


def _hit(h: dict[str, Any]) -> SearchHit:
    s = h["_source"]
    highlight = h.get("highlight", {})
    highlights = {
        name: highlight[field]
        for name, field in (("title", "title.char"), ("text", "text.char"))
        if field in highlight
    }
    return SearchHit(
        id=h["_id"],
        score=float(h.get("_score") or 0.0),
        title=s.get("title") or "",
        doc_number=s.get("doc_number"),
        issuers=s.get("issuers") or [],
        date=bodies.parse_date(s.get("date")),
        province=s.get("province"),
        city=s.get("city"),
        doc_type=s.get("doc_type"),
        highlights=highlights,
        duplicates_count=int(s.get("duplicates_count") or 0),
    )
