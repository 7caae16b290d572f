"""The Elasticsearch engine reads a search response into the contract.

No Elasticsearch runs here, so a local HTTP server answers `_search` with a canned body
the way Elasticsearch does (product header included): the official client, its
serialisation and the engine's parsing are the real ones.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from services.search.engines.base import SearchQuery
from services.search.engines.elastic import ElasticEngine
from shared.runtime import run_async

RESPONSE: dict[str, Any] = {
    "took": 3,
    "timed_out": False,
    "hits": {
        "total": {"value": 1, "relation": "eq"},
        "max_score": 1.5,
        "hits": [{"_id": "lz", "_score": 1.5, "_source": {"title": "t", "province": "甘肃省"}}],
    },
    "aggregations": {
        "province": {
            "doc_count": 3,
            "values": {
                "buckets": [{"key": "甘肃省", "doc_count": 1}, {"key": "四川省", "doc_count": 2}]
            },
        },
        "year": {"doc_count": 1, "values": {"buckets": [{"key": 2021, "doc_count": 1}]}},
    },
}


class _Elasticsearch(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.requests.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
        body = json.dumps(RESPONSE).encode()
        self.send_response(200)
        self.send_header("content-type", "application/vnd.elasticsearch+json;compatible-with=9")
        self.send_header("x-elastic-product", "Elasticsearch")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def es_url() -> Iterator[str]:
    _Elasticsearch.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Elasticsearch)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_facets_come_from_the_filter_aggregations_and_the_total_from_the_hits(
    es_url: str,
) -> None:
    engine = ElasticEngine(es_url, index="policy")
    engine._ready = True  # the index template and alias exist (not what this test is about)
    try:
        result = run_async(engine.search(SearchQuery(text="职业教育", province=["甘肃省"])))
    finally:
        run_async(engine.close())
    assert result.total == 1 and [h.id for h in result.hits] == ["lz"]
    assert [(f.value, f.count) for f in result.facets["province"]] == [("甘肃省", 1), ("四川省", 2)]
    assert [(f.value, f.count) for f in result.facets["year"]] == [("2021", 1)]
    assert result.facets["city"] == [] and set(result.facets) >= {"issuer", "topic", "doc_type"}
    (request,) = _Elasticsearch.requests
    assert request["path"].startswith("/policy/_search")
    body = request["body"]
    assert body["post_filter"] == {"bool": {"filter": [{"terms": {"province": ["甘肃省"]}}]}}
    assert body["aggs"]["province"]["filter"] == {"match_all": {}}
