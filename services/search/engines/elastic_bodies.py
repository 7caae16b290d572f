"""Elasticsearch request bodies, as pure functions (unit-tested without a server).

Analysis mirrors the embedded engine: `ik_max_word` indexes title and text, `ik_smart`
plus a `synonym_graph` filter (the project's synonyms file) analyses queries; a `.smart`
sub-field (ik_smart both ways) carries phrases and highlights, because phrase queries and
highlights break when index and search analyzers disagree; a `.char` sub-field (the
standard tokenizer: one token per Han character) matches any substring as a phrase, like
the embedded engine's character field. 发文字号 is a normalised keyword.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.search.engines.base import (
    FACET_FIELDS,
    FACET_OWN_FILTER,
    IndexDocument,
    SearchQuery,
)
from services.search.query import ParsedQuery

SYNONYMS_PATH = "analysis/synonyms.txt"  # relative to the Elasticsearch config directory
FACET_SOURCES = {
    "province": "province",
    "city": "city",
    "doc_type": "doc_type",
    "year": "year",
    "issuer": "issuers",
    "topic": "topics",
}
TITLE_BOOST = 3


def analysis_settings(*, ik: bool) -> dict[str, Any]:
    """Index analysis: IK when the plugin is there, else the built-in CJK bigram analyzer."""
    synonyms = {"type": "synonym_graph", "synonyms_path": SYNONYMS_PATH, "updateable": True}
    if ik:
        return {
            "filter": {"policy_synonyms": synonyms},
            "analyzer": {
                "policy_index": {"type": "custom", "tokenizer": "ik_max_word"},
                "policy_search": {
                    "type": "custom",
                    "tokenizer": "ik_smart",
                    "filter": ["policy_synonyms"],
                },
                "policy_smart": {"type": "custom", "tokenizer": "ik_smart"},
                "policy_char": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase"]},
            },
        }
    # No IK means no IK config directory either: the synonyms file is not there, so the
    # fallback leaves synonyms to the query side (services.search.query expands them).
    return {
        "analyzer": {
            "policy_index": {"type": "cjk"},
            "policy_search": {"type": "cjk"},
            "policy_smart": {"type": "cjk"},
            "policy_char": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase"]},
        },
    }


def _text_field() -> dict[str, Any]:
    return {
        "type": "text",
        "analyzer": "policy_index",
        "search_analyzer": "policy_search",
        "fields": {
            "smart": {
                "type": "text",
                "analyzer": "policy_smart",
                "search_analyzer": "policy_smart",
            },
            "char": {"type": "text", "analyzer": "policy_char"},
        },
    }


def mappings() -> dict[str, Any]:
    keyword = {"type": "keyword"}
    return {
        "dynamic": "strict",
        "properties": {
            "id": keyword,
            "title": {**_text_field(), "fields": {**_text_field()["fields"], "raw": keyword}},
            "text": _text_field(),
            "doc_number": keyword,
            "issuers": keyword,
            "province": keyword,
            "city": keyword,
            "county": keyword,
            "doc_type": keyword,
            "topics": keyword,
            "keywords": keyword,
            "date": {"type": "date", "format": "yyyy-MM-dd"},
            "year": {"type": "integer"},
            "is_canonical": {"type": "boolean"},
            "cluster_id": keyword,
            "duplicates_count": {"type": "integer"},
            "dictionary_version": keyword,
            "suggest": {"type": "completion", "analyzer": "policy_char"},
        },
    }


def index_template(alias: str, *, ik: bool) -> dict[str, Any]:
    return {
        "index_patterns": [f"{alias}-v*"],
        "template": {
            "settings": {
                "number_of_shards": 1,
                "number_of_replicas": 0,
                "refresh_interval": "1s",
                "analysis": analysis_settings(ik=ik),
            },
            "mappings": mappings(),
        },
        "priority": 100,
    }


def source(doc: IndexDocument) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": doc.id,
        "title": doc.title,
        "text": doc.text,
        "doc_number": doc.doc_number,
        "issuers": doc.issuers,
        "province": doc.province,
        "city": doc.city,
        "county": doc.county,
        "doc_type": doc.doc_type,
        "topics": doc.topics,
        "keywords": doc.keywords,
        "date": doc.date.isoformat() if doc.date else None,
        "year": doc.date.year if doc.date else None,
        "is_canonical": doc.is_canonical,
        "cluster_id": doc.cluster_id,
        "duplicates_count": doc.duplicates_count,
        "dictionary_version": doc.dictionary_version,
    }
    # A cluster's copy is never suggested (as in the embedded engine): the completion
    # suggester cannot filter on another field, so the copy gets no input at all.
    if doc.title and doc.is_canonical:
        body["suggest"] = {"input": [doc.title]}
    return body


def bulk_actions(index: str, docs: list[IndexDocument]) -> list[dict[str, Any]]:
    return [{"_op_type": "index", "_index": index, "_id": d.id, "_source": source(d)} for d in docs]


def alias_swap(alias: str, new_index: str, old_indices: list[str]) -> dict[str, Any]:
    actions: list[dict[str, Any]] = [{"add": {"index": new_index, "alias": alias}}]
    actions += [{"remove": {"index": old, "alias": alias}} for old in old_indices]
    return {"actions": actions}


def _phrase(text: str) -> dict[str, Any]:
    return {
        "bool": {
            "should": [
                {"match_phrase": {"title.char": {"query": text, "boost": TITLE_BOOST}}},
                {"match_phrase": {"text.char": {"query": text}}},
            ],
            "minimum_should_match": 1,
        }
    }


def _term(text: str) -> dict[str, Any]:
    # Relevance on the ik fields; the character phrase keeps recall when IK segments a
    # word differently in context (what the embedded engine does for unknown tokens).
    return {
        "bool": {
            "should": [
                {
                    "multi_match": {
                        "query": text,
                        "fields": [f"title^{TITLE_BOOST}", "text"],
                        "type": "best_fields",
                        "operator": "and",
                    }
                },
                {"match_phrase": {"title.char": {"query": text, "boost": TITLE_BOOST}}},
                {"match_phrase": {"text.char": {"query": text}}},
            ],
            "minimum_should_match": 1,
        }
    }


def facet_filters(query: SearchQuery) -> dict[str, dict[str, Any]]:
    """The filters a facet can ignore, keyed by what they filter (`FACET_OWN_FILTER`)."""
    out: dict[str, dict[str, Any]] = {}
    for key, field, values in (
        ("province", "province", query.province),
        ("city", "city", query.city),
        ("issuer", "issuers", query.issuer),
        ("doc_type", "doc_type", query.doc_type),
        ("topic", "topics", query.topic),
    ):
        if values:
            out[key] = {"terms": {field: list(values)}}
    if query.date_from or query.date_to:
        bounds: dict[str, str] = {}
        if query.date_from:
            bounds["gte"] = query.date_from.isoformat()
        if query.date_to:
            bounds["lte"] = query.date_to.isoformat()
        out["date"] = {"range": {"date": bounds}}
    return out


def filters(query: SearchQuery) -> list[dict[str, Any]]:
    """Filters that apply to hits and to every facet alike (in the query itself)."""
    return [] if query.include_duplicates else [{"term": {"is_canonical": True}}]


def _all_of(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"filter": clauses}} if clauses else {"match_all": {}}


def facet_aggs(query: SearchQuery) -> dict[str, Any]:
    """Multi-select facets: the field filters go to `post_filter` (hits only) and each facet
    is a `filter` aggregation holding every field filter except its own around its `terms`
    aggregation; the year facet's own filter is the date range."""
    field_filters = facet_filters(query)
    return {
        name: {
            "filter": _all_of(
                [f for key, f in field_filters.items() if key != FACET_OWN_FILTER[name]]
            ),
            "aggs": {"values": {"terms": {"field": FACET_SOURCES[name], "size": 30}}},
        }
        for name in FACET_FIELDS
    }


def search_body(query: SearchQuery, parsed: ParsedQuery) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    for term in parsed.terms:
        options = [_term(term.text)] + [_term(s) for s in term.synonyms]
        must.append(
            options[0]
            if len(options) == 1
            else {"bool": {"should": options, "minimum_should_match": 1}}
        )
    must += [_phrase(p) for p in parsed.phrases]
    for number in parsed.doc_numbers:
        must.append(
            {
                "bool": {
                    "should": [{"term": {"doc_number": number}}, _phrase(number)],
                    "minimum_should_match": 1,
                }
            }
        )
    bool_query: dict[str, Any] = {
        "must": must or [{"match_all": {}}],
        "filter": filters(query),
    }
    if parsed.excluded:
        bool_query["must_not"] = [_phrase(x) for x in parsed.excluded]
    # Field filters and the date range narrow the hits after the aggregations ran, so the
    # facets can count without their own filter (facet_aggs); the hits' total counts them.
    post = list(facet_filters(query).values())
    sort: list[Any]
    if query.sort == "date_desc" or (query.sort == "relevance" and parsed.is_empty):
        sort = [{"date": {"order": "desc", "missing": "_last"}}, "_score"]
    elif query.sort == "date_asc":
        sort = [{"date": {"order": "asc", "missing": "_last"}}, "_score"]
    else:
        sort = ["_score", {"date": {"order": "desc", "missing": "_last"}}]
    body: dict[str, Any] = {
        "query": {"bool": bool_query},
        "from": (query.page - 1) * query.size,
        "size": query.size,
        "sort": sort,
        "track_total_hits": True,
        "_source": {"excludes": ["text", "suggest"]},
        "aggs": facet_aggs(query),
        "highlight": {
            "pre_tags": ["<em>"],
            "post_tags": ["</em>"],
            "encoder": "html",
            "fields": {
                "title.char": {"number_of_fragments": 0},
                "text.char": {"fragment_size": 100, "number_of_fragments": 2},
            },
        },
    }
    if post:
        body["post_filter"] = _all_of(post)
    return body


def suggest_body(prefix: str, size: int) -> dict[str, Any]:
    return {
        "suggest": {
            "titles": {
                "prefix": prefix,
                "completion": {"field": "suggest", "size": size, "skip_duplicates": True},
            }
        },
        "_source": False,
    }


def more_like_this_body(
    index: str, doc_id: str, size: int, cluster_id: str | None
) -> dict[str, Any]:
    must_not: list[dict[str, Any]] = [{"ids": {"values": [doc_id]}}]
    if cluster_id:
        must_not.append({"term": {"cluster_id": cluster_id}})
    return {
        "size": size,
        "_source": {"excludes": ["text", "suggest"]},
        "query": {
            "bool": {
                "must": [
                    {
                        "more_like_this": {
                            "fields": ["title.smart", "text.smart"],
                            "like": [{"_index": index, "_id": doc_id}],
                            "min_term_freq": 1,
                            "min_doc_freq": 1,
                            "max_query_terms": 25,
                        }
                    }
                ],
                "filter": [{"term": {"is_canonical": True}}],
                "must_not": must_not,
            }
        },
    }


def parse_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
