"""SQLite write ordering and checkpoints (shared/db.py), on real files and real locks."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, text

from shared import db
from shared.celery_app import prepare_sqlite_broker


def _database(tmp_path: Path) -> str:
    return str(tmp_path / "policy.db")


def _take(turn: db._WriteTurn, order: list[str], name: str) -> threading.Thread:
    def run() -> None:
        turn.acquire()
        order.append(name)
        time.sleep(0.05)
        turn.release()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_waiting_request_goes_before_waiting_workers(tmp_path: Path) -> None:
    path = _database(tmp_path)
    holder = db._WriteTurn(path, urgent=False)
    holder.acquire()
    order: list[str] = []
    workers = [_take(db._WriteTurn(path, urgent=False), order, f"worker{i}") for i in range(3)]
    time.sleep(0.1)  # the workers are queued first
    request = _take(db._WriteTurn(path, urgent=True), order, "request")
    time.sleep(0.1)
    holder.release()
    for t in [*workers, request]:
        t.join(5)
    assert order[0] == "request", order
    assert sorted(order[1:]) == ["worker0", "worker1", "worker2"]


def test_workers_see_a_waiting_request_and_none_once_it_is_done(tmp_path: Path) -> None:
    path = _database(tmp_path)
    url = f"sqlite:///{path}"
    holder = db._WriteTurn(path, urgent=False)
    holder.acquire()
    assert not db.requests_waiting(url)
    order: list[str] = []
    request = _take(db._WriteTurn(path, urgent=True), order, "request")
    time.sleep(0.1)
    assert db.requests_waiting(url)  # a worker ends its transaction at the next document
    holder.release()
    request.join(5)
    assert order == ["request"]
    assert not db.requests_waiting(url)
    assert not db.requests_waiting("sqlite://")  # in memory: nobody else to wait for


def test_workers_know_requests_came_lately_and_not_once_they_stop(tmp_path: Path) -> None:
    path = _database(tmp_path)
    url = f"sqlite:///{path}"
    worker = db._WriteTurn(path, urgent=False)
    requests = db._requests_file(path)
    os.utime(requests, (time.time() - 5, time.time() - 5))  # the last request, 5 s ago
    worker.acquire()
    worker.release()
    assert not db.requests_lately(url)  # a worker's own turns do not count
    request = db._WriteTurn(path, urgent=True)
    request.acquire()
    request.release()
    assert db.requests_lately(url)  # workers write in short slices meanwhile
    assert not db.requests_lately(url, within=0.0)
    assert not db.requests_lately("sqlite://")  # in memory: nobody else to wait for


def test_writers_checkpoint_after_their_turn_so_the_wal_stays_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "CHECKPOINT_WAL_BYTES", 64 * 1024)
    monkeypatch.setattr(db, "WAL_SIZE_LIMIT", 16 * 1024)
    monkeypatch.setattr(db, "_PREFER_WRITES", False)  # a worker (an API test may have run)
    database = tmp_path / "wal.db"
    engine = db.make_engine(f"sqlite:///{database}", immediate=True)
    checkpoints: list[str] = []

    @event.listens_for(engine, "connect")
    def _trace(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.set_trace_callback(
            lambda sql: checkpoints.append(sql) if "wal_checkpoint" in sql else None
        )

    with engine.begin() as conn:
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == 0
        conn.execute(text("CREATE TABLE t (x TEXT)"))
    sizes = []
    for _ in range(200):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": "字" * 2000})
        sizes.append(os.path.getsize(f"{database}-wal"))
    engine.dispose()
    # Without checkpoints the WAL would hold all 200 commits (> 1.2 MB).
    assert max(sizes) < 256 * 1024, max(sizes)
    # ~1.2 MB in 64 KB steps: a checkpoint every ten commits or so, not after each one
    # (as when the reused WAL file kept its size).
    assert 5 <= len(checkpoints) < 60, len(checkpoints)


def test_the_sqlite_broker_is_prepared_for_its_polls(tmp_path: Path) -> None:
    path = tmp_path / "broker.db"
    url = f"sqla+sqlite:///{path}"
    prepare_sqlite_broker(url)
    prepare_sqlite_broker(url)  # again, as every `policy-search run` does
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        plan = con.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM kombu_message WHERE queue_id = 1"
            " AND visible != 0 ORDER BY timestamp, id LIMIT 1"
        ).fetchall()
    finally:
        con.close()
    assert "ix_kombu_message_queue_order" in str(plan), plan
