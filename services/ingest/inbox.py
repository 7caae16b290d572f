"""Where a single posted document waits on an embedded (SQLite) stack until the relay
moves it into the database.

SQLite has one writer at a time. A request that wrote its document there waited for the
write turn behind the workers' transactions, and those stretch while their process waits
for a CPU (workers run at a lower priority): at 100 requests/s during a bulk load, ingest
p99 36–42 ms, with stalls of 100–200 ms that no ordering of the turn removed. So a new
document (no `external_id`, no `Idempotency-Key`: nothing to look up first) is written to
a file of its own beside the database, and the request answers without touching the
database; the relay moves the files into it in batches, with the pipeline's event, in
one transaction (`move`). Reads of a document still here move the inbox first, so a
client that posted a document finds it at once (`settle`). PostgreSQL has no single
writer: there a request writes the database itself.

A file is written under a temporary name and renamed, so the relay never reads half of
one; like the database's commits (`synchronous=NORMAL`), it survives the process dying,
not the machine losing power. A file is removed only after the transaction holding its
document committed, and moving it again finds the row and skips it: a relay killed
between the two repeats nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.ingest import service
from services.ingest.submissions import Submission
from shared.db import session_scope, sqlite_file
from shared.models import Document, new_id, utcnow
from shared.problems import ServiceUnavailable

SUFFIX = ".doc"
PARTIAL = ".part"
ID_LENGTH = len(new_id())
BATCH = 200  # documents per moving transaction (one pipeline event per request in it)
# The submission's fields a file's header line carries (the original follows it as is):
# read off the dataclass, so a field added to `Submission` travels through the inbox too.
HEADER_FIELDS = tuple(f.name for f in fields(Submission) if f.name != "original")
# A file still half-written after this long was left by a process that died writing it.
ABANDONED_S = 600.0


@dataclass(frozen=True, slots=True)
class Waiting:
    """A document written to the inbox: what the request answers with."""

    id: str
    received_at: datetime


class Inbox:
    def __init__(self, path: Path, database_url: str) -> None:
        self.path = path
        self.database_url = database_url

    @classmethod
    def of(cls, database_url: str) -> Inbox | None:
        """The inbox beside a SQLite database file; None for any other database."""
        database = sqlite_file(database_url)
        if database is None:
            return None
        return cls(Path(f"{database}.inbox"), database_url)

    def takes(self, sub: Submission, *, idempotency_key: str | None) -> bool:
        """Whether a submission can wait here: a new document whose answer needs nothing
        from the database (an `external_id` may name a stored document, a key a stored
        answer)."""
        return sub.external_id is None and idempotency_key is None

    def put(self, sub: Submission, *, request_id: str | None) -> Waiting:
        waiting = Waiting(id=new_id(), received_at=utcnow())
        header = {
            "id": waiting.id,
            "received_at": waiting.received_at.isoformat(),
            "request_id": request_id,
            **{name: getattr(sub, name) for name in HEADER_FIELDS},
        }
        final = self.path / f"{waiting.id}{SUFFIX}"
        partial = final.with_suffix(PARTIAL)
        try:
            self.path.mkdir(exist_ok=True)
            with open(partial, "wb") as f:
                f.write(json.dumps(header, ensure_ascii=False).encode() + b"\n")
                f.write(sub.original)
            os.replace(partial, final)
        except OSError as exc:  # a full disk, say: the client may send it again
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            raise ServiceUnavailable(
                f"The document could not be stored ({exc.strerror}); nothing was kept. "
                "Send it again later."
            ) from exc
        return waiting

    def holds(self, document_id: str) -> bool:
        # An id a client sent may be anything: only a name one of ours could have is
        # looked up (a path, or a name too long for the file system, is not).
        return (
            len(document_id) <= ID_LENGTH
            and document_id.isalnum()
            and (self.path / f"{document_id}{SUFFIX}").exists()
        )

    def waiting(self) -> list[Path]:
        """The files waiting, oldest first."""
        return [path for _, path in self.scan()]

    def scan(self) -> list[tuple[int, Path]]:
        """The files waiting with their modification times (ns), oldest first; a file
        moved by another process while this looked is left out."""
        try:
            entries = list(os.scandir(self.path))
        except (FileNotFoundError, NotADirectoryError):
            return []
        self._remove_abandoned(entries)
        files = []
        for e in entries:
            if e.name.endswith(SUFFIX):
                try:
                    files.append((e.stat().st_mtime_ns, e.name, Path(e.path)))
                except FileNotFoundError:
                    continue
        files.sort()
        return [(written, path) for written, _, path in files]

    def settle(self, document_id: str | None = None) -> None:
        """Before a read: move everything waiting if `document_id` (or, with None, any
        document) is still here, so the read finds it in the database."""
        if not document_id or self.holds(document_id):
            self.move()  # with nothing waiting, one directory scan and no transaction

    def move(self) -> int:
        """Move the waiting documents into the database; returns how many were moved."""
        moved = 0
        while files := self.waiting()[:BATCH]:
            moved += self._move(files)
            if len(files) < BATCH:
                break
        return moved

    def _move(self, files: list[Path]) -> int:
        loaded = [(path, loaded) for path in files if (loaded := _load(path)) is not None]
        # Files written within one clock tick share their time: the header's is exact.
        loaded.sort(key=lambda item: datetime.fromisoformat(item[1][0]["received_at"]))
        # New documents by the request that posted them: one event each, which the relay
        # sends as one message per task with the request ids together (tracing).
        new: dict[str | None, list[str]] = {}
        with session_scope(self.database_url, write=True) as session:
            for path, (header, original) in loaded:
                # Checked with the write lock held: a request that moved this file, and
                # then deleted its document, removed the file before its delete.
                if not path.exists() or session.get(Document, header["id"]) is not None:
                    continue
                session.add(_document(header, original))
                new.setdefault(header["request_id"], []).append(header["id"])
            session.flush()
            for request_id, ids in new.items():
                service.announce_received(session, ids, request_id=request_id)
        for path, _ in loaded:
            path.unlink(missing_ok=True)
        return sum(len(ids) for ids in new.values())

    def _remove_abandoned(self, entries: list[os.DirEntry[str]]) -> None:
        now = time.time()
        for e in entries:
            if e.name.endswith(PARTIAL):
                try:
                    if now - e.stat().st_mtime > ABANDONED_S:
                        os.unlink(e.path)
                except FileNotFoundError:
                    pass


class InboxCollector(Collector):
    """What waits in the inbox: not yet in the database, so not in its status counts."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def collect(self) -> Iterator[GaugeMetricFamily]:
        files = self.inbox.scan()
        oldest = time.time() - files[0][0] / 1e9 if files else 0.0
        yield GaugeMetricFamily(
            "policy_inbox_waiting",
            "Posted documents waiting in the SQLite inbox for the relay",
            value=len(files),
        )
        yield GaugeMetricFamily(
            "policy_inbox_oldest_seconds",
            "Age of the oldest document waiting in the SQLite inbox",
            value=oldest,
        )


def _load(path: Path) -> tuple[dict[str, Any], bytes] | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None  # moved meanwhile by another process
    line, _, original = raw.partition(b"\n")
    return json.loads(line), original


def _document(header: dict[str, Any], original: bytes) -> Document:
    sub = Submission(original=original, **{name: header[name] for name in HEADER_FIELDS})
    doc = service.new_document(sub, request_id=header["request_id"])
    doc.id = header["id"]
    doc.received_at = datetime.fromisoformat(header["received_at"])
    return doc
