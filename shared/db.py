"""Engine and session factories. Nothing connects at import time.

SQLite gets WAL and a busy timeout so the API and several worker processes can share one
file, and a separate "writer" engine whose transactions start with BEGIN IMMEDIATE: taking
the write lock up front makes concurrent writers queue instead of failing on lock upgrade.
PostgreSQL gets one pooled engine per process.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def fetch_rows(connection: Connection, sql: str, params: Sequence[object]) -> list[Any]:
    """`sql` (positional `?` placeholders) run on the connection's DB-API cursor, in its
    transaction; errors raised as SQLAlchemy's (OperationalError stays retryable).

    For lookups every document makes with dozens of parameters and hundreds of rows:
    SQLAlchemy binds each parameter and builds a row object for each result, which cost
    more than SQLite's own work for them (dedupe's LSH lookup 0.71 → 0.46 ms a document)."""
    with _dbapi_cursor(connection, sql) as (cursor, native):
        cursor.execute(native, tuple(params))
        return list(cursor.fetchall())


def insert_rows(connection: Connection, sql: str, rows: Sequence[Sequence[object]]) -> None:
    """`executemany` of `sql` (positional `?`) on the DB-API cursor, as `fetch_rows`: for
    the ~70 rows a document adds to dedupe's index, inside the write turn."""
    with _dbapi_cursor(connection, sql) as (cursor, native):
        cursor.executemany(native, rows)


@contextmanager
def _dbapi_cursor(connection: Connection, sql: str) -> Iterator[tuple[Any, str]]:
    native = sql if connection.dialect.paramstyle == "qmark" else sql.replace("?", "%s")
    dbapi = connection.dialect.loaded_dbapi
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        yield cursor, native
    except dbapi.Error as exc:
        dialect = connection.dialect
        raise DBAPIError.instance(native, None, exc, dbapi.Error, dialect=dialect) from exc
    finally:
        cursor.close()


MMAP_BYTES = 1 << 30


def make_engine(url: str, *, immediate: bool = False) -> Engine:
    if not is_sqlite(url):
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)

        @event.listens_for(engine, "connect")
        def _pg_session(dbapi_conn: Any, _record: Any) -> None:
            # psycopg prepares a statement run 5 times, and PostgreSQL then plans it once
            # for all values when that looks no dearer. Dedupe's lookups start on an empty
            # index that grows ~100 rows a document, with buckets of very different sizes:
            # a generic plan made early kept the workers waiting on the LSH lookup (47 % of
            # their time). Planning each execution costs ~0.1 ms and keeps the parsing
            # saved; 2,000 documents: 26–29 → 38–44 docs/s.
            with dbapi_conn.cursor() as cur:
                cur.execute("SET plan_cache_mode = force_custom_plan")
            dbapi_conn.commit()

        return engine
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        # Reads of the database file through a memory map: in WAL mode every commit by
        # another process empties this connection's page cache, and the workers then read
        # ~2.9 MB a document back with `pread` (whole rows, index pages); mapped, those
        # reads cost no system call or copy (worker CPU per document −6 %, dedupe's work
        # 5.9 → 4.3 ms). Address space only: the pages are the kernel's file cache.
        cur.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        # No checkpoint inside a commit: it ran while the writer still held the write
        # turn, and every writer, API requests too, queued behind it (ingest p99 ~90 ms
        # with nothing else running). Writers checkpoint after letting go of the turn
        # (`_checkpoint_if_large`).
        cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        if immediate:
            _write_turn(conn, url).acquire()
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    if immediate:

        @event.listens_for(engine, "checkin")
        def _sqlite_end(dbapi_conn: Any, record: Any) -> None:
            # Back in the pool: committed or rolled back, SQLite's lock is free.
            turn = record.info.get("write_turn")
            if turn is not None:
                turn.release()
                if not turn.urgent:  # API processes: their relay does it (`checkpoint`)
                    _checkpoint_if_large(dbapi_conn, url)

    return engine


# Dedupe's bucket inserts dirty pages all over their index; writing the WAL back every
# ~10,000 pages instead of 1,000 writes each page once per many commits (commits of a
# dedupe slice 7.4 → 4.7 ms at 2,000 documents).
CHECKPOINT_WAL_BYTES = 10_000 * 4096
# SQLite reuses the WAL file from its start after a checkpoint and never shrinks it unless
# told to: without this limit the file stayed past CHECKPOINT_WAL_BYTES once it had got
# there, and every write transaction checkpointed after it (an fsync each, 5–10 ms of a
# worker's time per slice). With it, the file's size is what was written since.
WAL_SIZE_LIMIT = CHECKPOINT_WAL_BYTES // 4


def _checkpoint_if_large(dbapi_conn: Any, url: str) -> None:
    """Write the WAL back into the database once it is over `CHECKPOINT_WAL_BYTES`.
    PASSIVE: it waits for nobody and blocks no writer, so it runs outside the turn.

    The size comes from `stat`: opening and closing the `-shm` file here (to read its
    header) would drop SQLite's POSIX locks on it for the whole process."""
    database = sqlite_file(url)
    try:
        large = database is not None and os.path.getsize(f"{database}-wal") > CHECKPOINT_WAL_BYTES
    except OSError:
        return  # no WAL yet
    if large:
        dbapi_conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


def checkpoint(url: str) -> None:
    """For API processes, off the request path (their outbox relay calls it): their own
    writes never checkpoint, and without workers running nobody else would."""
    if not is_sqlite(url):
        return
    with get_engine(url).connect() as conn:
        _checkpoint_if_large(conn.connection.dbapi_connection, url)


class _WriteTurn:
    """Waiting for SQLite's write lock in the kernel (`flock` on a file beside the
    database), one per connection, with the APIs first.

    SQLite's busy handler sleeps 1, 2, 5 … then 100 ms between tries, so a waiting API
    request kept losing the lock to workers taking it again between its naps (ingest
    p99 ~1 s at 100 requests/s during a bulk load); a process blocked in `flock` is woken
    when the holder lets go. Even so, a request queued behind every worker's next slice
    (waits of 25 ms at the median, 170 ms at p99, during a bulk load). So processes that
    answer requests (`prefer_writes`) hold `<db>.turn.api` shared while they wait and
    write; a worker takes the turn only when nobody holds that file, and gives the turn
    back if a request arrived while it was waiting: a request waits for one worker
    transaction at most. SQLite's lock still guards the data: this only orders the
    waiters, and a writer that does not take it (another tool) is waited for as before.
    `path=None` (an in-memory database, one process): nothing to order."""

    def __init__(self, database: str | None, *, urgent: bool) -> None:
        # (the turn, the requests' file); none for an in-memory database
        self._fds = None
        if database is not None:
            self._fds = (_lock_file(f"{database}.turn"), _lock_file(_requests_file(database)))
        self.urgent = urgent
        self._held = False

    def acquire(self) -> None:
        if self._fds is None or self._held:
            return
        turn, requests = self._fds
        if self.urgent:
            fcntl.flock(requests, fcntl.LOCK_SH)
            os.utime(requests)  # "a request wrote just now" (`requests_lately`)
            fcntl.flock(turn, fcntl.LOCK_EX)
        else:
            while True:
                fcntl.flock(requests, fcntl.LOCK_EX)  # no request waiting or writing
                fcntl.flock(requests, fcntl.LOCK_UN)
                fcntl.flock(turn, fcntl.LOCK_EX)
                if _nobody_holds(requests):
                    break
                fcntl.flock(turn, fcntl.LOCK_UN)  # a request came meanwhile: after it
        self._held = True

    def release(self) -> None:
        if self._fds is not None and self._held:
            self._held = False
            turn, requests = self._fds
            fcntl.flock(turn, fcntl.LOCK_UN)
            if self.urgent:
                fcntl.flock(requests, fcntl.LOCK_UN)


def _lock_file(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def _requests_file(database: str) -> str:
    """Held shared by API processes while they wait for or hold the write turn."""
    return f"{database}.turn.api"


def _nobody_holds(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True


_PREFER_WRITES = False
_PROBE_FILES: dict[str, int] = {}


def requests_waiting(url: str) -> bool:
    """Whether an API process waits for the write turn (SQLite): a worker holding it ends
    its transaction at the next document instead of finishing its slice, so a request
    waits for one document's writes, not a slice's."""
    database = sqlite_file(url)
    if database is None:
        return False
    return not _nobody_holds(_probe_fd(_requests_file(database)))


def requests_lately(url: str, *, within: float = 1.0) -> bool:
    """Whether an API process took the write turn in the last `within` seconds (SQLite):
    while requests keep coming, workers write in shorter transactions, so a request that
    arrives waits for less (`requests_waiting` only tells of one waiting now)."""
    database = sqlite_file(url)
    if database is None:
        return False
    return time.time() - os.fstat(_probe_fd(_requests_file(database))).st_mtime < within


def write_turn_free(url: str) -> bool | None:
    """Whether nobody holds or waits for SQLite's write turn at this moment; None for a
    database without one. A hint, not a claim: a worker with other work to do does that
    work first rather than queue behind another writer."""
    database = sqlite_file(url)
    if database is None:
        return None
    return _nobody_holds(_probe_fd(f"{database}.turn")) and not requests_waiting(url)


def _probe_fd(path: str) -> int:
    """The process's descriptor for looking at a lock file (never held: only tried)."""
    fd = _PROBE_FILES.get(path)
    if fd is None:
        fd = _PROBE_FILES[path] = _lock_file(path)
    return fd


def prefer_writes() -> None:
    """This process answers requests: its SQLite writes go before the workers' (see
    `_WriteTurn`). Called by the API factories before their first write."""
    global _PREFER_WRITES
    _PREFER_WRITES = True


@lru_cache
def sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL; None for another database or one in memory.
    Cached: asked per commit and per applied document."""
    if not is_sqlite(url):
        return None
    database = make_url(url).database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    return database


def _write_turn(conn: Any, url: str) -> _WriteTurn:
    info = conn.connection.info  # the pool entry's: lives as long as the DBAPI connection
    turn = info.get("write_turn")
    if turn is None:
        turn = info["write_turn"] = _WriteTurn(sqlite_file(url), urgent=_PREFER_WRITES)
    return cast(_WriteTurn, turn)


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
