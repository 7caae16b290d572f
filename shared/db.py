"""Engine and session factories. Nothing connects at import time.

SQLite gets WAL and a busy timeout so the API and several worker processes can share one
file, and a separate "writer" engine whose transactions start with BEGIN IMMEDIATE: taking
the write lock up front makes concurrent writers queue instead of failing on lock upgrade.
PostgreSQL gets one pooled engine per process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, immediate: bool = False) -> Engine:
    if not is_sqlite(url):
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


_ENGINES: dict[tuple[str, bool], Engine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(url: str, *, write: bool = False) -> Engine:
    """One engine (one pool) per database and mode in a process. Locked: the first burst of
    requests after start-up made one engine each under a bare cache, and they queued on
    the dialect's import lock and opened a pool apiece (seconds of latency on PostgreSQL)."""
    key = (url, write and is_sqlite(url))
    if (engine := _ENGINES.get(key)) is None:
        with _ENGINES_LOCK:
            if (engine := _ENGINES.get(key)) is None:
                engine = _ENGINES[key] = make_engine(url, immediate=key[1])
    return engine


@lru_cache
def session_factory(url: str, *, write: bool = False) -> sessionmaker[Session]:
    engine = get_engine(url, write=write and is_sqlite(url))
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(url: str, *, write: bool = False) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error.

    Pass `write=True` for any transaction that writes (it matters only on SQLite).
    """
    with session_factory(url, write=write)() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def dispose_all() -> None:
    """Forget pooled connections (after fork, in Celery's worker_process_init)."""
    with _ENGINES_LOCK:
        _ENGINES.clear()
    session_factory.cache_clear()
