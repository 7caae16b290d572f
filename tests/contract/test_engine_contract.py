"""What every search engine must do, asserted the way a front-end would notice."""

from __future__ import annotations

from datetime import date

import pytest

from services.search.engines.base import IndexDocument, SearchEngine, SearchQuery, SearchResult
from shared.runtime import run_async

DOCS = [
    IndexDocument(
        id="lz-plan",
        title="兰州市人民政府关于印发《兰州市深化产教融合实施方案》的通知",
        text="为深化产教融合、校企合作,建设双师型教师队伍,现印发实施方案。兰政发〔2021〕13号",
        doc_number="兰政发〔2021〕13号",
        issuers=["兰州市人民政府"],
        date=date(2021, 3, 22),
        province="甘肃省",
        city="兰州市",
        doc_type="通知",
        topics=["产教融合", "职业教育"],
    ),
    IndexDocument(
        id="ts-opinion",
        title="天水市关于推进职业教育高质量发展的实施意见",
        text="推进职业教育改革,产教融合取得新进展。加强实训基地建设,推动乡村振兴。",
        issuers=["天水市人民政府"],
        date=date(2022, 6, 1),
        province="甘肃省",
        city="天水市",
        doc_type="实施意见",
        topics=["职业教育"],
    ),
    IndexDocument(
        id="cd-rural",
        title="成都市乡村振兴促进办法",
        text="全面推进乡村振兴,发展乡村产业。职业教育服务乡村人才培养。",
        issuers=["成都市人民政府"],
        date=date(2020, 1, 15),
        province="四川省",
        city="成都市",
        doc_type="办法",
        topics=["乡村振兴"],
    ),
    IndexDocument(
        id="tw-copy",
        title="關於職教改革的通知",
        text="職教改革:雙師型教師培養,產教融合。",
        province="甘肃省",
        doc_type="通知",
        is_canonical=False,
        cluster_id="c1",
    ),
]


def _search(engine: SearchEngine, **kw: object) -> SearchResult:
    return run_async(engine.search(SearchQuery(**kw)))  # type: ignore[arg-type]


def _ids(result: SearchResult) -> list[str]:
    return [h.id for h in result.hits]


@pytest.fixture
def loaded(engine: SearchEngine) -> SearchEngine:
    run_async(engine.index(DOCS))
    return engine


def test_title_match_ranks_first(loaded: SearchEngine) -> None:
    assert _ids(_search(loaded, text="产教融合"))[0] == "lz-plan"


def test_phrase_must_be_contiguous(loaded: SearchEngine) -> None:
    assert _ids(_search(loaded, text='"实训基地建设"')) == ["ts-opinion"]
    assert _search(loaded, text='"基地实训"').total == 0


def test_exclusion(loaded: SearchEngine) -> None:
    assert _ids(_search(loaded, text="产教融合")) == ["lz-plan", "ts-opinion"]
    assert _ids(_search(loaded, text="产教融合 -乡村")) == ["lz-plan"]
    assert _ids(_search(loaded, text='产教融合 -"实训基地"')) == ["lz-plan"]


def test_traditional_query_finds_simplified_text(loaded: SearchEngine) -> None:
    assert _ids(_search(loaded, text="鄉村振興")) == ["cd-rural", "ts-opinion"]


def test_synonym_expands(loaded: SearchEngine) -> None:
    # Neither text says 职教; both say 职业教育, its synonym.
    assert set(_ids(_search(loaded, text="职教"))) == {"ts-opinion", "cd-rural"}


@pytest.mark.parametrize("number", ["兰政发〔2021〕13号", "兰政发[2021]13号", "兰政发(2021)13号"])
def test_doc_number_in_any_bracket_form(loaded: SearchEngine, number: str) -> None:
    assert _ids(_search(loaded, text=number))[0] == "lz-plan"


def test_filters_are_and_across_fields_or_within(loaded: SearchEngine) -> None:
    assert set(_ids(_search(loaded, province=["甘肃省"]))) == {"lz-plan", "ts-opinion"}
    assert set(_ids(_search(loaded, city=["兰州市", "成都市"]))) == {"lz-plan", "cd-rural"}
    assert _ids(_search(loaded, province=["甘肃省"], doc_type=["通知"])) == ["lz-plan"]
    assert _ids(_search(loaded, issuer=["天水市人民政府"])) == ["ts-opinion"]
    assert _ids(_search(loaded, topic=["乡村振兴"])) == ["cd-rural"]


def test_facets_count_the_filtered_result(loaded: SearchEngine) -> None:
    facets = _search(loaded, text="职业教育").facets
    province = {f.value: f.count for f in facets["province"]}
    assert province == {"甘肃省": 1, "四川省": 1}
    assert {f.value: f.count for f in facets["year"]} == {"2022": 1, "2020": 1}
    assert {f.value: f.count for f in facets["doc_type"]} == {"实施意见": 1, "办法": 1}
    everything = _search(loaded).facets
    assert {f.value: f.count for f in everything["province"]} == {"甘肃省": 2, "四川省": 1}


def _counts(result: SearchResult) -> dict[str, dict[str, int]]:
    return {name: {f.value: f.count for f in values} for name, values in result.facets.items()}


def test_every_facet_counts_within_the_filters(loaded: SearchEngine) -> None:
    # Multi-select facets: each facet counts under every filter except its own.
    gansu = _counts(_search(loaded, province=["甘肃省"]))  # the traditional copy is hidden
    assert gansu["province"] == {"甘肃省": 2, "四川省": 1}  # its own filter is left out
    assert gansu["city"] == {"兰州市": 1, "天水市": 1}
    assert gansu["issuer"] == {"兰州市人民政府": 1, "天水市人民政府": 1}
    assert gansu["topic"] == {"产教融合": 1, "职业教育": 2}
    assert gansu["doc_type"] == {"通知": 1, "实施意见": 1}
    assert gansu["year"] == {"2021": 1, "2022": 1}
    dated = _counts(_search(loaded, date_from=date(2020, 1, 1), date_to=date(2021, 12, 31)))
    assert dated["year"] == {"2020": 1, "2021": 1, "2022": 1}  # the date range is year's own
    assert dated["city"] == {"兰州市": 1, "成都市": 1}
    assert dated["province"] == {"甘肃省": 1, "四川省": 1}
    assert _counts(_search(loaded, text="碳达峰")) == {name: {} for name in gansu}


def test_a_filtered_field_still_offers_its_other_values(loaded: SearchEngine) -> None:
    r = _search(loaded, text="职业教育", province=["甘肃省"])
    assert (r.total, _ids(r)) == (1, ["ts-opinion"])
    facets = _counts(r)
    # The other provinces, counted under the text query (and every other filter).
    assert facets["province"] == {"甘肃省": 1, "四川省": 1}
    assert facets["city"] == {"天水市": 1}
    assert facets["doc_type"] == {"实施意见": 1}
    assert facets["year"] == {"2022": 1}
    # Choosing the other value too (OR within a field) gives what the facet promised.
    both = _search(loaded, text="职业教育", province=["甘肃省", "四川省"])
    assert both.total == 2 and set(_ids(both)) == {"ts-opinion", "cd-rural"}
    assert _counts(both)["province"] == facets["province"]
    # A multi-valued field: other topics stay listed while one is chosen.
    topic = _search(loaded, topic=["职业教育"])
    assert set(_ids(topic)) == {"lz-plan", "ts-opinion"}
    assert _counts(topic)["topic"] == {"职业教育": 2, "产教融合": 1, "乡村振兴": 1}
    assert _counts(topic)["province"] == {"甘肃省": 2}


def test_with_two_filters_each_facet_leaves_out_only_its_own(loaded: SearchEngine) -> None:
    r = _search(loaded, province=["甘肃省"], doc_type=["通知"])
    assert (r.total, _ids(r)) == (1, ["lz-plan"])
    facets = _counts(r)
    assert facets["province"] == {"甘肃省": 1}  # 通知 only: the copy is hidden
    assert facets["doc_type"] == {"通知": 1, "实施意见": 1}  # 甘肃省 only
    assert facets["city"] == {"兰州市": 1}  # both filters
    assert facets["year"] == {"2021": 1}
    none = _search(loaded, province=["四川省"], doc_type=["通知"])
    assert (none.total, _ids(none)) == (0, [])
    facets = _counts(none)
    assert facets["province"] == {"甘肃省": 1}  # 通知 documents, in every province
    assert facets["doc_type"] == {"办法": 1}  # 四川省 documents, of every kind
    assert facets["city"] == facets["issuer"] == facets["topic"] == facets["year"] == {}


def test_the_year_facet_ignores_the_date_range_but_not_the_other_filters(
    loaded: SearchEngine,
) -> None:
    r = _search(loaded, province=["甘肃省"], date_from=date(2021, 1, 1), date_to=date(2021, 12, 31))
    assert (r.total, _ids(r)) == (1, ["lz-plan"])
    facets = _counts(r)
    assert facets["year"] == {"2021": 1, "2022": 1}  # 甘肃省, any date
    assert facets["province"] == {"甘肃省": 1}  # 2021, any province
    assert facets["city"] == {"兰州市": 1}


def test_facets_leave_out_cluster_copies_unless_asked(loaded: SearchEngine) -> None:
    r = _search(loaded, province=["四川省"])
    assert _counts(r)["province"] == {"甘肃省": 2, "四川省": 1}
    r = _search(loaded, province=["四川省"], include_duplicates=True)
    assert _counts(r)["province"] == {"甘肃省": 3, "四川省": 1}
    assert _ids(r) == ["cd-rural"]


def test_date_range_and_sorting(loaded: SearchEngine) -> None:
    r = _search(loaded, date_from=date(2021, 1, 1), date_to=date(2021, 12, 31))
    assert _ids(r) == ["lz-plan"]
    assert _ids(_search(loaded, sort="date_desc")) == ["ts-opinion", "lz-plan", "cd-rural"]
    assert _ids(_search(loaded, sort="date_asc")) == ["cd-rural", "lz-plan", "ts-opinion"]


def test_pagination_keeps_the_total(loaded: SearchEngine) -> None:
    first = _search(loaded, sort="date_desc", size=2, page=1)
    second = _search(loaded, sort="date_desc", size=2, page=2)
    assert first.total == second.total == 3
    assert _ids(first) + _ids(second) == ["ts-opinion", "lz-plan", "cd-rural"]


def test_cluster_copies_hidden_unless_asked(loaded: SearchEngine) -> None:
    assert "tw-copy" not in _ids(_search(loaded, text="双师型"))
    assert "tw-copy" in _ids(_search(loaded, text="双师型", include_duplicates=True))
    # Nor do suggestions and similar documents offer a copy (its title matches 职教).
    for prefix in ("职教", "关于职教"):  # inside its title, and the start of it
        assert "關於職教改革的通知" not in [s.text for s in run_async(loaded.suggest(prefix))]
    assert "tw-copy" not in [h.id for h in run_async(loaded.similar("lz-plan", size=50))]


def test_highlights_mark_the_match_in_title_and_text(loaded: SearchEngine) -> None:
    hit = _search(loaded, text="产教融合").hits[0]
    assert "<em>产教融合</em>" in hit.highlights["title"][0]
    assert "<em>产教融合</em>" in hit.highlights["text"][0]


def test_highlight_on_traditional_text_marks_original_characters(loaded: SearchEngine) -> None:
    hit = _search(loaded, text="双师型", include_duplicates=True, city=[])
    copy = next(h for h in hit.hits if h.id == "tw-copy")
    assert "<em>雙師型" in copy.highlights["text"][0]


def test_suggest_completes_a_chinese_prefix(loaded: SearchEngine) -> None:
    suggestions = run_async(loaded.suggest("产教"))
    texts = [s.text for s in suggestions]
    assert "产教融合" in texts
    assert any(s.kind == "title" and "产教融合" in s.text for s in suggestions)


def test_similar_documents(loaded: SearchEngine) -> None:
    similar = [h.id for h in run_async(loaded.similar("lz-plan"))]
    assert similar and similar[0] == "ts-opinion"
    assert run_async(loaded.similar("no-such-id")) == []


def test_reindexing_is_an_upsert_and_delete_removes(loaded: SearchEngine) -> None:
    run_async(loaded.index(DOCS[:1]))
    assert run_async(loaded.count()) == len(DOCS)
    run_async(loaded.delete(["cd-rural", "unknown-id"]))
    assert _search(loaded, text="乡村振兴").total == 1  # the 天水 opinion mentions it
    assert run_async(loaded.count()) == len(DOCS) - 1


def test_rebuild_switches_to_the_new_contents(loaded: SearchEngine) -> None:
    run_async(loaded.rebuild([DOCS[:2]]))
    assert run_async(loaded.count()) == 2
    assert _ids(_search(loaded, text="产教融合"))[0] == "lz-plan"


def test_health_reports_ok(loaded: SearchEngine) -> None:
    health = run_async(loaded.health())
    assert health.ok and health.engine == loaded.name


@pytest.fixture
def corpus(loaded: SearchEngine) -> SearchEngine:
    """DOCS plus the 32 documents of the relevance set: 36 in all."""
    import json
    from pathlib import Path

    data = json.loads(
        (Path(__file__).resolve().parents[1] / "data" / "relevance" / "judgments.json").read_text(
            encoding="utf-8"
        )
    )
    run_async(
        loaded.index(
            [
                IndexDocument(id=i, title=d["title"], text=d["text"])
                for i, d in data["documents"].items()
            ]
        )
    )
    return loaded


def test_a_term_inside_a_longer_word(corpus: SearchEngine) -> None:
    # 融合 is indexed inside 产教融合 and 文旅融合; 学徒 inside 现代学徒制.
    ids = set(_ids(_search(corpus, text="融合", size=50)))
    assert {"lz-plan", "d01", "d18", "d22"} <= ids
    assert "d11" in _ids(_search(corpus, text="学徒", size=50))


def test_pagination_edges(corpus: SearchEngine) -> None:
    total = _search(corpus, size=100).total
    assert total == 35  # 36 documents, one hidden copy
    last = _search(corpus, size=10, page=4)
    assert last.total == total and len(last.hits) == 5
    beyond = _search(corpus, size=10, page=9)
    assert beyond.total == total and beyond.hits == []
    pages = [
        h.id for p in range(1, 5) for h in _search(corpus, size=10, page=p, sort="date_desc").hits
    ]
    assert len(pages) == len(set(pages)) == total  # no document twice, none lost


def test_relevance_orders_title_matches_before_body_mentions(corpus: SearchEngine) -> None:
    ids = _ids(_search(corpus, text="乡村振兴", size=10))
    assert ids[0] in {"cd-rural", "d03"}
    assert ids.index("ts-opinion") > ids.index("cd-rural")


def test_doc_number_pasted_inside_a_title(loaded: SearchEngine) -> None:
    assert _ids(_search(loaded, text="关于印发兰政发[2021]13号的通知"))[0] == "lz-plan"
    assert _search(loaded, text="兰政发〔2021〕99号").total == 0


def test_numbers_match_apart_from_their_units(loaded: SearchEngine) -> None:
    extra = IndexDocument(
        id="fund",
        title="2023年职业教育专项资金分配方案",
        text="安排专项资金2.5亿元,其中中央资金占比30%。",
        date=date(2023, 5, 4),
    )
    run_async(loaded.index([extra]))
    assert "fund" in _ids(_search(loaded, text="2023"))
    assert "fund" in _ids(_search(loaded, text="2.5亿元"))
    assert "fund" in _ids(_search(loaded, text="30% 专项资金"))


def test_every_query_word_must_match(loaded: SearchEngine) -> None:
    assert _ids(_search(loaded, text="产教融合 乡村振兴")) == ["ts-opinion"]
    assert _search(loaded, text="产教融合 碳达峰").total == 0


def test_a_document_without_a_date_sorts_last(loaded: SearchEngine) -> None:
    ids = _ids(_search(loaded, text="双师型", include_duplicates=True, sort="date_desc"))
    assert ids[-1] == "tw-copy"
    ids = _ids(_search(loaded, text="双师型", include_duplicates=True, sort="date_asc"))
    assert ids[-1] == "tw-copy"


def test_a_word_indexed_elsewhere_still_matches_inside_longer_words(loaded: SearchEngine) -> None:
    # 产教 is a word of its own in the new document, but only part of 产教融合 in the others.
    extra = IndexDocument(id="alone", title="推动产教双向赋能", text="产教深度对接。")
    run_async(loaded.index([extra]))
    assert {"alone", "lz-plan", "ts-opinion"} <= set(_ids(_search(loaded, text="产教")))
    assert _ids(_search(loaded, text="产教"))[0] in {"alone", "lz-plan"}  # title matches first
