"""The search API's contract details a front-end depends on (API.md "Search service")."""

from __future__ import annotations

import pytest

from tests.e2e.stack import RunningStack


@pytest.mark.parametrize(
    "params",
    [{"sort": "newest"}, {"size": 101}, {"date_from": "2021-13-01"}, {"page": 0}],
)
def test_bad_parameters_are_422_problems(stack: RunningStack, params: dict[str, object]) -> None:
    r = stack.search.get("/v1/search", params=params)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"]


def test_response_shape(stack: RunningStack) -> None:
    body = stack.search.get("/v1/search", params={"q": "產教融合", "size": 5}).json()
    assert {"total", "took_ms", "page", "size", "hits", "facets", "query"} <= set(body)
    assert set(body["facets"]) == {"province", "city", "doc_type", "year", "issuer", "topic"}
    assert body["query"]["normalized"] == "产教融合"  # traditional input, simplified


def test_analyze_shows_both_modes(stack: RunningStack) -> None:
    fine = stack.search.get("/v1/analyze", params={"text": "职业教育产教融合", "mode": "max_word"})
    coarse = stack.search.get("/v1/analyze", params={"text": "职业教育产教融合", "mode": "smart"})
    fine_tokens = [t["token"] for t in fine.json()["tokens"]]
    coarse_tokens = [t["token"] for t in coarse.json()["tokens"]]
    assert coarse_tokens == ["职业教育", "产教融合"]
    assert {"职业", "教育", "职业教育", "产教融合"} <= set(fine_tokens)
    first = fine.json()["tokens"][0]
    assert {"token", "start", "end"} <= set(first)


def test_suggest_and_similar_for_unknown(stack: RunningStack) -> None:
    assert stack.search.get("/v1/suggest", params={"q": "产教"}).status_code == 200
    r = stack.search.get("/v1/documents/no-such-document/similar")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
