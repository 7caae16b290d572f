"""Dedupe decisions against a real database (SQLite and PostgreSQL), as workers make them."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bench.corpus import make_document, to_traditional
from services.extract.cleaning import clean_document
from services.extract.dedupe import DocIdentity, deduplicate
from services.extract.dedupe.signatures import SAMPLE_BAND, signature
from shared.db import session_scope
from shared.models import Document, Relation, Status, utcnow
from shared.models.dedupe import LshBucket

LANZHOU = DocIdentity("兰政发〔2021〕13号", ("兰州市人民政府",))


def _policy(seed: int, chars: int = 3000) -> str:
    return make_document(random.Random(seed), f"k{seed}", target_chars=chars).text


def _add(url: str, raw: str, *, age_s: int = 0) -> str:
    cleaned = clean_document(raw)
    with session_scope(url, write=True) as s:
        doc = Document(
            status=Status.DEDUPLICATING,
            text=cleaned.text,
            content_hash=cleaned.content_hash,
            received_at=utcnow() - timedelta(seconds=age_s),
        )
        s.add(doc)
        s.flush()
        return doc.id


def _dedupe(url: str, doc_id: str, identity: DocIdentity = LANZHOU):  # type: ignore[no-untyped-def]
    with session_scope(url, write=True) as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        return deduplicate(s, doc, identity=identity)


def _relations(url: str, doc_id: str) -> dict[str, tuple[str, float]]:
    with session_scope(url) as s:
        rows = s.scalars(select(Relation).where(Relation.document_id == doc_id))
        return {r.other_id: (r.relation, r.similarity) for r in rows}


def _flags(url: str, *ids: str) -> dict[str, tuple[bool, str | None]]:
    with session_scope(url) as s:
        return {i: (d.is_canonical, d.cluster_id) for i in ids if (d := s.get(Document, i))}


def test_traditional_copy_is_an_exact_duplicate(database_url: str) -> None:
    text = _policy(1)
    first = _add(database_url, text)
    copy = _add(database_url, to_traditional(text).replace("\n", "\n\n  "))
    assert _dedupe(database_url, first).duplicate_of is None
    outcome = _dedupe(database_url, copy)
    assert outcome.duplicate_of == first
    assert first in outcome.reindex_ids  # its copy count changed


def test_republication_joins_a_cluster_with_one_canonical(database_url: str) -> None:
    text = _policy(2)
    lines = text.split("\n")
    lines[5] = lines[5].replace("推进", "积极推进", 1) + "(本条有修改)"
    original = _add(database_url, text, age_s=60)
    repost = _add(database_url, "\n".join(lines) + "\n来源:某某发布")
    _dedupe(database_url, original)
    outcome = _dedupe(database_url, repost)
    kind, similarity = _relations(database_url, repost)[original]
    assert kind == "near_duplicate" and 0.8 <= similarity < 1.0
    assert _relations(database_url, original)[repost][0] == "near_duplicate"  # symmetric
    flags = _flags(database_url, original, repost)
    assert flags[original][1] == flags[repost][1] == outcome.cluster_id is not None
    assert sum(canonical for canonical, _ in flags.values()) == 1


def test_other_issuers_copy_is_related_but_stays_searchable(database_url: str) -> None:
    template = _policy(3)
    city_copy = template.replace("兰州", "天水").replace("齐齐哈尔", "天水")
    a, b = _add(database_url, template), _add(database_url, city_copy + "\n结合本地实际。")
    _dedupe(database_url, a)
    outcome = _dedupe(database_url, b, DocIdentity("天政发〔2021〕20号", ("天水市人民政府",)))
    assert _relations(database_url, b)[a][0] == "near_duplicate"
    assert outcome.cluster_id is None and outcome.is_canonical
    assert _flags(database_url, a)[a][0] is True


@pytest.mark.parametrize("fragment_first", [True, False])
def test_fragment_is_contained_in_its_source_in_either_order(
    database_url: str, fragment_first: bool
) -> None:
    full = _policy(4, chars=6000)
    excerpt = full[len(full) // 2 : len(full) // 2 + 900]
    ids = {"full": _add(database_url, full), "fragment": _add(database_url, excerpt)}
    order = ["fragment", "full"] if fragment_first else ["full", "fragment"]
    for name in order:
        _dedupe(database_url, ids[name], DocIdentity(None, ()))
    assert _relations(database_url, ids["fragment"])[ids["full"]][0] == "contained_in"
    assert _relations(database_url, ids["full"])[ids["fragment"]][0] == "contains"
    flags = _flags(database_url, ids["full"], ids["fragment"])
    assert flags[ids["full"]][0] is True  # the complete text represents the cluster


def test_running_twice_changes_nothing(database_url: str) -> None:
    text = _policy(5)
    a = _add(database_url, text, age_s=10)
    b = _add(database_url, text.replace("加强", "切实加强", 2))
    _dedupe(database_url, a)
    first = _dedupe(database_url, b)
    before = (_relations(database_url, a), _relations(database_url, b), _flags(database_url, a, b))
    second = _dedupe(database_url, b)
    after = (_relations(database_url, a), _relations(database_url, b), _flags(database_url, a, b))
    assert before == after
    assert first.cluster_id == second.cluster_id


def test_a_more_complete_copy_becomes_canonical(database_url: str) -> None:
    full = _policy(6, chars=4000)
    trimmed = "\n".join(full.split("\n")[:-3])
    short = _add(database_url, trimmed, age_s=100)
    _dedupe(database_url, short)
    assert _flags(database_url, short)[short][0] is True
    longer = _add(database_url, full)
    outcome = _dedupe(database_url, longer)
    flags = _flags(database_url, short, longer)
    assert flags[longer][0] is True and flags[short][0] is False
    assert short in outcome.reindex_ids


def test_concurrent_workers_end_with_one_canonical(postgres_url: str) -> None:
    from shared.migrate import upgrade

    upgrade(postgres_url)
    text = _policy(7)
    copies = [_add(postgres_url, text + f"\n编辑/{name}") for name in ("甲", "乙", "丙", "丁")]
    barrier = threading.Barrier(len(copies))
    errors: list[BaseException] = []

    def work(doc_id: str) -> None:
        try:
            barrier.wait()
            _dedupe(postgres_url, doc_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in copies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    flags = _flags(postgres_url, *copies)
    with session_scope(postgres_url) as s:
        duplicates = s.scalars(select(Document.id).where(Document.duplicate_of.is_not(None))).all()
    # The copies differ only in the editor line: exact duplicates of one holder, or cluster
    # members; either way exactly one stays canonical and searchable.
    canonical = [i for i, (flag, _) in flags.items() if flag and i not in duplicates]
    assert len(canonical) == 1


def _race_worker(url: str, doc_id: str, barrier: Any) -> None:
    barrier.wait(30)
    _dedupe(url, doc_id)


@pytest.mark.parametrize("variant", ["exact", "near"])
def test_two_worker_processes_racing_end_with_one_canonical(
    postgres_url: str, variant: str
) -> None:
    """Two OS processes (as two Celery workers would be) decide on copies at one moment."""
    import multiprocessing

    from shared.migrate import upgrade

    upgrade(postgres_url)
    text = _policy(8)
    other = text if variant == "exact" else text.replace("推进", "积极推进", 2)
    ids = [_add(postgres_url, text), _add(postgres_url, other)]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_race_worker, args=(postgres_url, i, barrier)) for i in ids]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    flags = _flags(postgres_url, *ids)
    assert sum(canonical for canonical, _ in flags.values()) == 1
    if variant == "near":
        cluster_ids = {cluster for _, cluster in flags.values()}
        assert len(cluster_ids) == 1 and None not in cluster_ids


def _prepare(url: str, doc_id: str) -> tuple[Any, Any]:
    from services.extract.dedupe.core import Thresholds, prepare
    from services.extract.dedupe.signatures import signature

    with session_scope(url) as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        sig = signature(doc.text or "", threshold=0.6)
        return sig, prepare(s, doc_id, sig, Thresholds())


@pytest.mark.parametrize("kind", ["near", "fragment"])
def test_a_copy_decided_after_the_preparation_is_still_found(database_url: str, kind: str) -> None:
    # Workers compare candidates before taking the decision lock; what another worker
    # decides in between must be checked under the lock, or both copies stay canonical.
    full = _policy(7, chars=6000)
    other = (
        full.replace("加强", "切实加强", 2)
        if kind == "near"
        else full[len(full) // 3 : len(full) // 3 + 900]
    )
    late, early = _add(database_url, full), _add(database_url, other)
    sig, prepared = _prepare(database_url, late)
    assert prepared.found == ()
    _dedupe(database_url, early, DocIdentity(None, ()))  # another worker, meanwhile
    with session_scope(database_url, write=True) as s:
        doc = s.get(Document, late)
        assert doc is not None
        deduplicate(s, doc, identity=LANZHOU, signature=sig, prepared=prepared)
    expected = {"near": "near_duplicate", "fragment": "contains"}[kind]
    assert _relations(database_url, late)[early][0] == expected


def test_copies_in_one_batch_find_each_other(database_url: str) -> None:
    from services.extract.dedupe.core import DecisionBatch

    text = _policy(8)
    ids = [_add(database_url, text.replace("加强", f"加强{'切实' * n}", 1)) for n in range(3)]
    ids.append(_add(database_url, _policy(9)))  # unrelated
    prepared = {i: _prepare(database_url, i) for i in ids}  # all before any decision
    batch = DecisionBatch()
    with session_scope(database_url, write=True) as s:
        for doc_id in ids:
            doc = s.get(Document, doc_id)
            assert doc is not None
            sig, prep = prepared[doc_id]
            deduplicate(s, doc, identity=LANZHOU, signature=sig, prepared=prep, batch=batch)
    flags = _flags(database_url, *ids)
    assert len({flags[i][1] for i in ids[:3]}) == 1 and flags[ids[0]][1] is not None
    assert sum(flags[i][0] for i in ids[:3]) == 1
    assert flags[ids[3]] == (True, None)
    assert set(_relations(database_url, ids[2])) == set(ids[:2])


def test_stock_passages_shared_by_many_documents_do_not_hide_a_fragments_source(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.extract.dedupe import store

    monkeypatch.setattr(store, "COMMON_SAMPLE_DOCS", 3)  # "many", at test scale
    monkeypatch.setattr(store, "_KNOWN_COMMON", {})
    stock = _policy(20, chars=1500).split("\n", 3)[3]  # a passage every document repeats
    docs = [_add(database_url, _policy(30 + n, chars=3000) + "\n" + stock) for n in range(5)]
    for doc_id in docs:
        _dedupe(database_url, doc_id, DocIdentity(None, ()))
    source = _policy(33, chars=3000)
    excerpt = source[1000:1900] + "\n" + stock[:600]
    fragment = _add(database_url, excerpt)
    _dedupe(database_url, fragment, DocIdentity(None, ()))
    relations = _relations(database_url, fragment)
    assert relations[docs[3]][0] == "contained_in"
    assert set(relations) == {docs[3]}
    # Once known to be stock, a passage's samples get no more postings (never read): the
    # fourth document made them common, the fifth and the fragment added none.
    stock_samples = signature(stock, threshold=0.6).samples
    with session_scope(database_url) as s:
        postings = s.execute(
            select(LshBucket.bucket, func.count())
            .where(LshBucket.band == SAMPLE_BAND, LshBucket.bucket.in_(stock_samples))
            .group_by(LshBucket.bucket)
        ).all()
    assert postings and max(n for _, n in postings) == 4, postings


def test_a_batch_committed_in_slices_sees_what_others_decided_in_between(
    database_url: str,
) -> None:
    from services.extract.dedupe.core import DecisionBatch

    text = _policy(10)
    first, mine = _add(database_url, _policy(11)), _add(database_url, text)
    theirs = _add(database_url, text.replace("加强", "切实加强", 1))
    prepared = {i: _prepare(database_url, i) for i in (first, mine)}
    batch = DecisionBatch()

    def decide(doc_id: str) -> None:
        with session_scope(database_url, write=True) as s:  # one slice
            doc = s.get(Document, doc_id)
            assert doc is not None
            sig, prep = prepared[doc_id]
            deduplicate(s, doc, identity=LANZHOU, signature=sig, prepared=prep, batch=batch)

    decide(first)
    _dedupe(database_url, theirs)  # another worker, between two slices
    decide(mine)
    assert _relations(database_url, mine)[theirs][0] == "near_duplicate"


def test_a_document_decided_again_is_compared_as_it_is_now(database_url: str) -> None:
    # Workers cache the signatures and shingles of candidates they have read; a document
    # given a new text since must be compared by that text, not by what was cached.
    from services.extract.dedupe.signatures import jaccard, shingle_hashes

    text = _policy(11, chars=6000)
    rewritten = text[: len(text) * 3 // 4] + _policy(12, chars=2000)
    a = _add(database_url, text, age_s=20)
    _dedupe(database_url, a)
    b = _add(database_url, text.replace("加强", "切实加强", 2), age_s=10)
    _dedupe(database_url, b)  # reads (and caches) a as a candidate
    assert a in _relations(database_url, b)
    cleaned = clean_document(rewritten)
    with session_scope(database_url, write=True) as s:
        doc = s.get(Document, a)
        assert doc is not None
        doc.text, doc.content_hash = cleaned.text, cleaned.content_hash
    _dedupe(database_url, a)  # a new version of a
    c_text = clean_document(text.replace("推动", "大力推动", 2)).text
    c = _add(database_url, c_text)
    _dedupe(database_url, c)
    now = jaccard(shingle_hashes(cleaned.text), shingle_hashes(c_text))
    before = jaccard(shingle_hashes(clean_document(text).text), shingle_hashes(c_text))
    assert before >= 0.8 > now  # a near-duplicate of a's old text; three quarters of its new one
    assert _relations(database_url, c)[a][0] == "contained_in"
