"""A task's chain of stages (clean → dedupe → extract), computed together and applied in
one write per document, against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import fcntl
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url, select
from sqlalchemy.orm import Session

from bench.corpus import make_document
from services.extract.pipeline import runner
from services.extract.pipeline.base import Applied, TransientError
from services.extract.pipeline.clean import CleanStage
from services.extract.pipeline.dedupe import DedupeStage
from services.extract.pipeline.extract import ExtractStage
from services.extract.pipeline.runner import run_stages
from shared.db import _requests_file, dispose_all, session_scope
from shared.migrate import upgrade
from shared.models import Document, StageRun, Status
from tests.sql_statements import starting, statements


class CrashingDedupe(DedupeStage):
    """Dedupe whose write crashes for one document (a bug met in production)."""

    def __init__(self, victim: str) -> None:
        super().__init__()
        self.victim = victim

    def apply(self, session: Session, doc: Document, result: Any) -> Applied:
        applied = super().apply(session, doc, result)
        if doc.id == self.victim:
            raise RuntimeError("boom")
        return applied


def _received(url: str, *texts: str) -> list[str]:
    with session_scope(url, write=True) as s:
        docs = [
            Document(status=Status.RECEIVED, original=t.encode(), input_format="text")
            for t in texts
        ]
        s.add_all(docs)
        s.flush()
        return [d.id for d in docs]


def _history(url: str, doc_id: str) -> list[tuple[str, str]]:
    with session_scope(url) as s:
        rows = s.scalars(
            select(StageRun).where(StageRun.document_id == doc_id).order_by(StageRun.id)
        )
        return [(r.stage, r.status) for r in rows]


def _statuses(url: str, ids: list[str]) -> dict[str, str]:
    with session_scope(url) as s:
        rows = s.execute(select(Document.id, Document.status).where(Document.id.in_(ids)))
        return {doc_id: status for doc_id, status in rows}


def _policy(seed: int) -> str:
    return make_document(random.Random(seed), f"c{seed}", target_chars=1500).text


def test_chain_takes_documents_from_received_to_indexing(database_url: str) -> None:
    first, copy, other = _received(database_url, _policy(1), _policy(1), _policy(2))
    outcomes = run_stages(
        [CleanStage(), DedupeStage(), ExtractStage()],
        [first, copy, other],
        database_url=database_url,
        sender=None,
    )
    # The copy posted second is the duplicate, whatever order the database returns.
    assert outcomes == {first: "indexing", copy: "duplicate", other: "indexing"}
    with session_scope(database_url) as s:
        doc = s.get(Document, first)
        assert doc is not None and doc.text and doc.title and doc.meta.get("doc_type")
        dup = s.get(Document, copy)
        assert dup is not None and dup.duplicate_of == first and dup.text == doc.text
    # Each stage keeps its own history row; the copy stopped at dedupe.
    assert _history(database_url, first) == [("clean", "ok"), ("dedupe", "ok"), ("extract", "ok")]
    assert _history(database_url, copy) == [("clean", "ok"), ("dedupe", "ok")]


def test_the_chain_writes_each_document_row_once(database_url: str) -> None:
    # SQLite rewrites a whole row on UPDATE, original and texts included: the chain's
    # changes to a document go out together, not once per stage that queried meanwhile
    # (three rewrites a document before, inside the write turn every writer waits for).
    ids = _received(database_url, *(_policy(20 + i) for i in range(4)), _policy(20))
    with statements() as seen:
        outcomes = run_stages(
            [CleanStage(), DedupeStage(), ExtractStage()],
            ids,
            database_url=database_url,
            sender=None,
        )
    assert sorted(outcomes.values()) == ["duplicate"] + ["indexing"] * 4
    # The claim (one statement for the batch), then one UPDATE a document.
    assert len(starting(seen, "UPDATE documents")) == 1 + len(ids)
    with session_scope(database_url) as s:
        docs = s.scalars(select(Document).where(Document.id.in_(ids))).all()
        # Every stage's writes are there: cleaned text, the identity dedupe kept for the
        # copy, the metadata extracted for the others.
        assert all(d.text for d in docs)
        assert all(
            "_identity" in d.meta
            if d.status == Status.DUPLICATE
            else d.title and d.meta["doc_type"]
            for d in docs
        )


def test_a_crash_in_a_later_stage_keeps_the_earlier_stages_work(database_url: str) -> None:
    victim, bystander = _received(database_url, _policy(3), _policy(4))
    outcomes = run_stages(
        [CleanStage(), CrashingDedupe(victim), ExtractStage()],
        [victim, bystander],
        database_url=database_url,
        sender=None,
    )
    assert outcomes == {victim: "failed", bystander: "indexing"}
    with session_scope(database_url) as s:
        doc = s.get(Document, victim)
        assert doc is not None
        assert doc.failed_stage == "dedupe" and "RuntimeError: boom" in (doc.error or "")
        # What clean produced is stored, though dedupe's writes were rolled back.
        assert doc.text and doc.raw_text and doc.content_hash
        assert doc.cluster_id is None and "_identity" not in (doc.meta or {})
    assert _history(database_url, victim) == [("clean", "ok"), ("dedupe", "failed")]
    assert _history(database_url, bystander)[-1] == ("extract", "ok")


def test_each_document_starts_at_the_stage_its_status_asks_for(database_url: str) -> None:
    fresh, halfway = _received(database_url, _policy(5), _policy(6))
    run_stages([CleanStage()], [halfway], database_url=database_url, sender=None)
    outcomes = run_stages(
        [CleanStage(), DedupeStage(), ExtractStage()],
        [fresh, halfway],
        database_url=database_url,
        sender=None,
    )
    assert outcomes == {fresh: "indexing", halfway: "indexing"}
    # Cleaned once: the second run began the half-done document at dedupe.
    assert [st for st, _ in _history(database_url, halfway)] == ["clean", "dedupe", "extract"]


@pytest.fixture
def sqlite_migrated(tmp_path: Path) -> Iterator[str]:
    """A database file: the write turn exists only beside one."""
    url = f"sqlite:///{tmp_path / 'chain.db'}"
    upgrade(url)
    yield url
    dispose_all()


class WatchingExtract(ExtractStage):
    """Extract that notes, as it computes each document, which of the batch were written."""

    def __init__(self, url: str, batch: list[str], computed: threading.Event) -> None:
        super().__init__()
        self.url, self.batch, self.computed = url, batch, computed
        self.written_before: dict[str, set[str]] = {}

    def compute(self, doc: Document, reader: Session) -> Any:
        self.written_before[doc.id] = {
            i
            for i, status in _statuses(self.url, self.batch).items()
            if status in (Status.INDEXING, Status.DUPLICATE)
        }
        if doc.id == self.batch[-1]:
            self.computed.set()
        return super().compute(doc, reader)


def _chain(url: str, ids: list[str]) -> tuple[list[Any], WatchingExtract]:
    watcher = WatchingExtract(url, ids, threading.Event())
    return [CleanStage(), DedupeStage(), watcher], watcher


def test_while_requests_keep_coming_a_worker_writes_in_shorter_transactions(
    sqlite_migrated: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A request arriving mid-transaction waits for the worker's commit, which grows with
    # the transaction: under requests, slices end at the shorter budget (here, at once).
    monkeypatch.setattr(runner, "EARLY_APPLY_DOCS", 100)  # one apply, after computing
    monkeypatch.setattr(runner, "SLICE_SECONDS", 60.0)
    monkeypatch.setattr(runner, "SLICE_SECONDS_UNDER_REQUESTS", 0.0)
    url = sqlite_migrated
    database = url.removeprefix("sqlite:///")
    transactions = []
    for recently in (False, True):
        ids = _received(url, *(_policy(30 + i + 10 * recently) for i in range(4)))
        ago = 0 if recently else 10  # the last request's write, seconds ago
        os.utime(_requests_file(database), (time.time() - ago, time.time() - ago))
        with statements() as seen:
            outcomes = run_stages(
                [CleanStage(), DedupeStage(), ExtractStage()], ids, database_url=url, sender=None
            )
        assert set(outcomes.values()) == {"indexing"}
        transactions.append(len(starting(seen, "BEGIN IMMEDIATE")))
    # The claim, then the batch in one slice; under requests, a slice a document.
    assert transactions == [2, 5]


def test_a_worker_writes_what_it_computed_while_the_turn_is_free(
    sqlite_migrated: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite: documents computed early in a batch are written while the rest is computed,
    # and the copy posted second is still the duplicate when its original went first.
    monkeypatch.setattr(runner, "EARLY_APPLY_DOCS", 2)
    url = sqlite_migrated
    ids = _received(url, _policy(11), _policy(11), _policy(12), _policy(13), _policy(14))
    stages, watcher = _chain(url, ids)
    outcomes = run_stages(stages, ids, database_url=url, sender=None)
    assert outcomes == {ids[0]: "indexing", ids[1]: "duplicate", **{i: "indexing" for i in ids[2:]}}
    assert watcher.written_before[ids[1]] == set()
    assert watcher.written_before[ids[2]] == set(ids[:2])
    assert watcher.written_before[ids[4]] == set(ids[:4])


def test_a_worker_goes_on_computing_while_another_writer_holds_the_turn(
    sqlite_migrated: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Instead of queueing behind the other writer after the first documents, it computes
    # the whole batch, and writes it all once the turn is let go.
    monkeypatch.setattr(runner, "EARLY_APPLY_DOCS", 1)
    url = sqlite_migrated
    ids = _received(url, *(_policy(20 + i) for i in range(4)))
    with session_scope(url, write=True) as s:  # claimed already (a redelivery): no write
        for doc in s.scalars(select(Document).where(Document.id.in_(ids))):
            doc.status = Status.CLEANING
    stages, watcher = _chain(url, ids)
    turn = os.open(f"{make_url(url).database}.turn", os.O_RDWR | os.O_CREAT)
    fcntl.flock(turn, fcntl.LOCK_EX)  # as another worker's transaction holds it
    outcomes: dict[str, str] = {}
    worker = threading.Thread(
        target=lambda: outcomes.update(run_stages(stages, ids, database_url=url, sender=None))
    )
    try:
        worker.start()
        assert watcher.computed.wait(60), "the batch was not computed while the turn was held"
        assert all(written == set() for written in watcher.written_before.values())
    finally:
        fcntl.flock(turn, fcntl.LOCK_UN)
        os.close(turn)
        worker.join(60)
    assert outcomes == dict.fromkeys(ids, "indexing")


class FlakyExtract(ExtractStage):
    """Extract whose compute meets a transient fault (the database away) at one document."""

    def __init__(self, victim: str) -> None:
        super().__init__()
        self.victim = victim

    def compute(self, doc: Document, reader: Session) -> Any:
        if doc.id == self.victim:
            raise TransientError("database away")
        return super().compute(doc, reader)


def test_a_transient_fault_after_early_writes_keeps_them_and_the_retry_does_the_rest(
    sqlite_migrated: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "EARLY_APPLY_DOCS", 2)
    url = sqlite_migrated
    ids = _received(url, *(_policy(30 + i) for i in range(4)))
    with pytest.raises(TransientError):
        run_stages(
            [CleanStage(), DedupeStage(), FlakyExtract(ids[3])], ids, database_url=url, sender=None
        )
    statuses = _statuses(url, ids)
    assert [statuses[i] for i in ids] == ["indexing", "indexing", "cleaning", "cleaning"]
    # The task's retry (a redelivery) takes up the documents not written, and only those.
    outcomes = run_stages(
        [CleanStage(), DedupeStage(), ExtractStage()], ids, database_url=url, sender=None
    )
    assert outcomes == {ids[2]: "indexing", ids[3]: "indexing"}
    assert _history(url, ids[0]) == [("clean", "ok"), ("dedupe", "ok"), ("extract", "ok")]
