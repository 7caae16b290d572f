"""Elasticsearch requests built for each kind of query, checked without a server.

What is asserted is what the Elasticsearch docs say the request must contain for the
behaviour we promise (ik analyzers, phrase field, keyword filters, alias swap...).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from services.search.engines import elastic_bodies as b
from services.search.engines.base import IndexDocument, SearchQuery
from services.search.query import parse_query


def _body(**kw: Any) -> dict[str, Any]:
    query = SearchQuery(**kw)
    return b.search_body(query, parse_query(query.text))


def test_template_uses_ik_max_word_to_index_and_ik_smart_with_synonyms_to_search() -> None:
    t = b.index_template("policy", ik=True)
    assert t["index_patterns"] == ["policy-v*"]
    analyzers = t["template"]["settings"]["analysis"]["analyzer"]
    assert analyzers["policy_index"]["tokenizer"] == "ik_max_word"
    assert analyzers["policy_search"] == {
        "type": "custom",
        "tokenizer": "ik_smart",
        "filter": ["policy_synonyms"],
    }
    synonyms = t["template"]["settings"]["analysis"]["filter"]["policy_synonyms"]
    assert (
        synonyms["type"] == "synonym_graph" and synonyms["synonyms_path"] == "analysis/synonyms.txt"
    )
    props = t["template"]["mappings"]["properties"]
    assert props["text"]["analyzer"] == "policy_index"
    assert props["text"]["search_analyzer"] == "policy_search"
    # Phrases and highlights run where index and search analysis agree.
    assert (
        props["text"]["fields"]["smart"]["analyzer"]
        == props["text"]["fields"]["smart"]["search_analyzer"]
    )
    assert props["text"]["fields"]["char"]["analyzer"] == "policy_char"
    for keyword in ("doc_number", "province", "city", "issuers", "doc_type", "topics"):
        assert props[keyword] == {"type": "keyword"}
    assert props["date"]["type"] == "date" and props["suggest"]["type"] == "completion"


def test_without_ik_the_template_falls_back_to_builtin_cjk() -> None:
    analysis = b.index_template("policy", ik=False)["template"]["settings"]["analysis"]
    assert "ik" not in json.dumps(analysis)
    assert analysis["analyzer"]["policy_index"]["type"] == "cjk"


def test_terms_are_required_and_search_title_boosted_and_characters() -> None:
    must = _body(text="实训基地")["query"]["bool"]["must"]
    assert len(must) == 1
    should = must[0]["bool"]["should"]
    assert should[0]["multi_match"]["fields"] == ["title^3", "text"]
    assert should[0]["multi_match"]["operator"] == "and"
    assert {"match_phrase": {"text.char": {"query": "实训基地"}}} in should


def test_synonyms_become_alternatives() -> None:
    must = _body(text="职教")["query"]["bool"]["must"]
    alternatives = must[0]["bool"]["should"]
    queries = {a["bool"]["should"][0]["multi_match"]["query"] for a in alternatives}
    assert queries == {"职教", "职业教育"}


def test_phrase_and_exclusion() -> None:
    q = _body(text='"双师型教师" -乡村')["query"]["bool"]
    assert q["must"][0]["bool"]["should"][1] == {
        "match_phrase": {"text.char": {"query": "双师型教师"}}
    }
    assert q["must_not"][0]["bool"]["should"][0]["match_phrase"]["title.char"]["query"] == "乡村"


def test_doc_number_in_square_brackets_matches_the_normalised_keyword() -> None:
    must = _body(text="兰政发[2021]13号")["query"]["bool"]["must"]
    assert {"term": {"doc_number": "兰政发〔2021〕13号"}} in must[0]["bool"]["should"]


def test_filters_dates_duplicates_sort_and_pages() -> None:
    body = _body(
        text="职业教育",
        province=["甘肃省", "四川省"],
        doc_type=["通知"],
        date_from=date(2021, 1, 1),
        date_to=date(2021, 12, 31),
        sort="date_desc",
        page=3,
        size=20,
    )
    # Field filters and the date range narrow the hits in post_filter (after aggregations);
    # only what every facet respects stays in the query.
    assert body["query"]["bool"]["filter"] == [{"term": {"is_canonical": True}}]
    post = body["post_filter"]["bool"]["filter"]
    assert {"terms": {"province": ["甘肃省", "四川省"]}} in post
    assert {"terms": {"doc_type": ["通知"]}} in post
    assert {"range": {"date": {"gte": "2021-01-01", "lte": "2021-12-31"}}} in post
    assert len(post) == 3
    assert body["sort"][0] == {"date": {"order": "desc", "missing": "_last"}}
    assert (body["from"], body["size"]) == (40, 20)
    assert body["track_total_hits"] is True
    assert set(body["aggs"]) == {"province", "city", "doc_type", "year", "issuer", "topic"}
    assert body["aggs"]["issuer"]["aggs"]["values"]["terms"] == {"field": "issuers", "size": 30}


def test_each_facet_is_a_filter_aggregation_without_its_own_filter() -> None:
    province = {"terms": {"province": ["甘肃省"]}}
    doc_type = {"terms": {"doc_type": ["通知"]}}
    issuer = {"terms": {"issuers": ["兰州市人民政府"]}}
    topic = {"terms": {"topics": ["产教融合"]}}
    city = {"terms": {"city": ["兰州市"]}}
    dates = {"range": {"date": {"gte": "2021-01-01"}}}
    aggs = _body(
        province=["甘肃省"],
        city=["兰州市"],
        doc_type=["通知"],
        issuer=["兰州市人民政府"],
        topic=["产教融合"],
        date_from=date(2021, 1, 1),
    )["aggs"]
    every = [province, city, issuer, doc_type, topic, dates]
    own = {
        "province": province,
        "city": city,
        "doc_type": doc_type,
        "issuer": issuer,
        "topic": topic,
        "year": dates,  # the year facet's own filter is the date range
    }
    sources = {"province": "province", "city": "city", "doc_type": "doc_type"}
    sources |= {"year": "year", "issuer": "issuers", "topic": "topics"}
    for name, agg in aggs.items():
        assert agg["filter"] == {"bool": {"filter": [f for f in every if f != own[name]]}}, name
        assert agg["aggs"] == {"values": {"terms": {"field": sources[name], "size": 30}}}


def test_two_filters_each_facet_ignores_only_its_own() -> None:
    body = _body(text="职业教育", province=["甘肃省"], doc_type=["通知"])
    province, doc_type = {"terms": {"province": ["甘肃省"]}}, {"terms": {"doc_type": ["通知"]}}
    assert body["post_filter"] == {"bool": {"filter": [province, doc_type]}}
    aggs = body["aggs"]
    assert aggs["province"]["filter"] == {"bool": {"filter": [doc_type]}}
    assert aggs["doc_type"]["filter"] == {"bool": {"filter": [province]}}
    for name in ("city", "year", "issuer", "topic"):
        assert aggs[name]["filter"] == {"bool": {"filter": [province, doc_type]}}


def test_without_field_filters_no_post_filter_and_facets_match_all() -> None:
    body = _body(text="职业教育")
    assert "post_filter" not in body
    assert body["query"]["bool"]["filter"] == [{"term": {"is_canonical": True}}]
    assert all(agg["filter"] == {"match_all": {}} for agg in body["aggs"].values())
    # A date range alone: the year facet ignores it, every other facet counts within it.
    aggs = _body(date_to=date(2020, 12, 31))["aggs"]
    assert aggs["year"]["filter"] == {"match_all": {}}
    assert aggs["city"]["filter"] == {
        "bool": {"filter": [{"range": {"date": {"lte": "2020-12-31"}}}]}
    }


def test_include_duplicates_drops_the_canonical_filter() -> None:
    filters = _body(text="x", include_duplicates=True)["query"]["bool"]["filter"]
    assert {"term": {"is_canonical": True}} not in filters


def test_highlight_on_the_character_fields_with_em_tags() -> None:
    h = _body(text="产教融合")["highlight"]
    assert (h["pre_tags"], h["post_tags"], h["encoder"]) == (["<em>"], ["</em>"], "html")
    assert set(h["fields"]) == {"title.char", "text.char"}


def test_bulk_actions_upsert_by_id() -> None:
    doc = IndexDocument(
        id="d1", title="标题", text="正文", date=date(2021, 3, 22), doc_number="兰政发〔2021〕13号"
    )
    (action,) = b.bulk_actions("policy-v1", [doc])
    assert (
        action["_op_type"] == "index" and action["_id"] == "d1" and action["_index"] == "policy-v1"
    )
    assert action["_source"]["year"] == 2021 and action["_source"]["date"] == "2021-03-22"
    assert set(action["_source"]) <= set(b.mappings()["properties"])  # strict mapping accepts it


def test_only_a_canonical_document_is_offered_as_a_suggestion() -> None:
    # The completion suggester cannot filter on is_canonical: a copy gets no input, so a
    # front-end's autocomplete never offers a cluster's copy (the embedded engine's rule).
    canonical = b.source(IndexDocument(id="d1", title="关于职教改革的通知", text="正文"))
    copy = b.source(
        IndexDocument(id="d2", title="關於職教改革的通知", text="正文", is_canonical=False)
    )
    assert canonical["suggest"] == {"input": ["关于职教改革的通知"]}
    assert "suggest" not in copy and copy["is_canonical"] is False


def test_alias_swap_is_one_atomic_request() -> None:
    assert b.alias_swap("policy", "policy-v2", ["policy-v1"]) == {
        "actions": [
            {"add": {"index": "policy-v2", "alias": "policy"}},
            {"remove": {"index": "policy-v1", "alias": "policy"}},
        ]
    }


def test_more_like_this_excludes_itself_and_its_cluster() -> None:
    body = b.more_like_this_body("policy-v1", "d1", 5, "c9")
    must_not = body["query"]["bool"]["must_not"]
    assert {"ids": {"values": ["d1"]}} in must_not and {"term": {"cluster_id": "c9"}} in must_not
    assert body["query"]["bool"]["must"][0]["more_like_this"]["like"] == [
        {"_index": "policy-v1", "_id": "d1"}
    ]
