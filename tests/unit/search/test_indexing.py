"""The indexer's database side: documents read, handed to the engine, marked indexed."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from services.search.documents import duplicate_counts, iter_indexable, to_index_document
from services.search.engines.base import SearchQuery
from services.search.engines.embedded import EmbeddedEngine
from services.search.indexing import index_documents
from shared import db
from shared.db import session_scope
from shared.models import Document, StageRun, Status
from shared.runtime import run_async
from tests.sql_statements import starting, statements


@pytest.fixture(autouse=True)
def _as_a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The indexer is a worker: its SQLite writes are not an API's, which would hold the
    requests' lock themselves (an API test may have run in this process before)."""
    monkeypatch.setattr(db, "_PREFER_WRITES", False)


def _add(url: str, n: int, *, cluster: str) -> list[str]:
    with session_scope(url, write=True) as s:
        docs = [
            Document(
                status=Status.INDEXING,
                text=f"第{i}条 推进产教融合,建设实训基地。",
                raw_text="(the decoded text before cleaning)",
                original=b"\xff" * 20_000,
                meta={"title": f"关于产教融合的通知{i}", "province": "甘肃省", "doc_type": "通知"},
                cluster_id=cluster,
                is_canonical=i == 0,
            )
            for i in range(n)
        ]
        s.add_all(docs)
        s.flush()
        return [d.id for d in docs]


def test_documents_are_indexed_and_marked_in_statements_that_do_not_grow_per_document(
    database_url: str, tmp_path: Path
) -> None:
    engine = EmbeddedEngine(tmp_path / "index", writable=True)
    counts = []
    for n, cluster in ((2, "c-small"), (9, "c-large")):
        ids = _add(database_url, n, cluster=cluster)
        with statements() as seen:
            outcomes = index_documents(
                engine, ids, database_url=database_url, dictionary_version="v1"
            )
        assert outcomes == dict.fromkeys(ids, Status.INDEXED)
        # Reads and slices only: a column the indexer uses but does not load would be
        # fetched once per document (and the original, 20 KB here, is never needed).
        counts.append(len(starting(seen, "SELECT")))
    assert counts[0] == counts[1]
    with session_scope(database_url) as s:
        marked = s.scalars(select(Document).where(Document.cluster_id == "c-large")).all()
        assert {(d.status, d.dictionary_version) for d in marked} == {(Status.INDEXED, "v1")}
        runs = s.scalars(select(StageRun).where(StageRun.document_id.in_([d.id for d in marked])))
        assert sorted(r.stage for r in runs) == ["index"] * 9
    found = run_async(engine.search(SearchQuery(text="实训基地", province=["甘肃省"])))
    hit = found.hits[0]
    assert found.total == 2  # one canonical per cluster; copies hidden
    assert hit.title.startswith("关于产教融合的通知") and hit.duplicates_count in (1, 8)
    run_async(engine.close())


def test_marking_lets_a_waiting_ingest_request_in_after_each_document(
    database_url: str, tmp_path: Path
) -> None:
    """On SQLite an ingest request that arrives while the indexer marks documents waits
    for one document's marking, not a slice's (a slice of re-indexed documents held the
    write turn ~100 ms in the bench); every document is still marked."""
    if not db.is_sqlite(database_url):
        pytest.skip("PostgreSQL has no write turn to wait for")
    engine = EmbeddedEngine(tmp_path / "index", writable=True)
    path = db._requests_file(str(db.sqlite_file(database_url)))
    requests = os.open(path, os.O_RDWR | os.O_CREAT)
    arriving = False
    waiting = False

    # A request arrives with each transaction's first read of the documents (what an API
    # process holds while it waits for the turn: shared.db._WriteTurn) and is let in
    # when the transaction ends.
    def arrive(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal waiting
        if arriving and not waiting and "FROM documents" in statement:
            fcntl.flock(requests, fcntl.LOCK_SH)
            waiting = True

    def let_in(_conn: Any) -> None:
        nonlocal waiting
        if waiting:
            fcntl.flock(requests, fcntl.LOCK_UN)
            waiting = False

    event.listen(Engine, "before_cursor_execute", arrive)
    event.listen(Engine, "commit", let_in)
    marked_in = []
    try:
        for arriving in (False, True):
            ids = _add(database_url, 6, cluster=f"c-{arriving}")
            with statements() as seen:
                outcomes = index_documents(
                    engine, ids, database_url=database_url, dictionary_version="v1"
                )
            assert outcomes == dict.fromkeys(ids, Status.INDEXED)
            marked_in.append(len(starting(seen, "UPDATE documents")))
    finally:
        event.remove(Engine, "before_cursor_execute", arrive)
        event.remove(Engine, "commit", let_in)
        os.close(requests)
    assert marked_in == [1, 6]  # the slice in one transaction; then one per document
    run_async(engine.close())


def test_a_full_reindex_reads_what_it_indexes_in_statements_that_do_not_grow_per_document(
    database_url: str,
) -> None:
    # `policy-search reindex` reads every indexable document through `iter_indexable`.
    counts = []
    for n, cluster in ((2, "c-small"), (9, "c-large")):
        _add(database_url, n, cluster=cluster)
        with statements() as seen, session_scope(database_url) as session:
            built = [
                to_index_document(d, duplicates=dups.get(d.id, 0), dictionary_version="v1")
                for rows in iter_indexable(session)
                for dups in (duplicate_counts(session, rows),)
                for d in rows
            ]
        counts.append(len(starting(seen, "SELECT")))
        assert len(built) == {"c-small": 2, "c-large": 11}[cluster]
    assert counts[0] == counts[1]
    assert {d.title for d in built} >= {f"关于产教融合的通知{i}" for i in range(9)}
    assert {d.duplicates_count for d in built if d.is_canonical} == {1, 8}
