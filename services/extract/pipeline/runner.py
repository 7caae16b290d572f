"""Run one stage over a batch of documents: claim, compute, apply, hand on.

Claim (status → running; a read when the previous stage already set it), then the CPU
work with no lock held, then apply + history + the outbox event for the next stage in
short write transactions (slices), then the event is sent.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, defer
from sqlalchemy.sql.base import ExecutableOption

from services.extract.pipeline.base import LARGE_COLUMNS, PermanentError, Stage, TransientError
from shared import outbox, tasks
from shared.db import requests_waiting, session_scope
from shared.events import DocumentBatch
from shared.models import Document, OutboxEvent, StageRun, Status, utcnow
from shared.outbox import TaskSender, publish_own

log = logging.getLogger(__name__)


def run_stage(
    stage: Stage,
    document_ids: Sequence[str],
    *,
    database_url: str,
    sender: TaskSender | None,
    request_id: str | None = None,
    sent_at: datetime | None = None,
    hand_on: bool = True,
) -> dict[str, str]:
    """Returns {document_id: outcome} for the documents this run touched.

    `hand_on=False`: the caller runs the next stage itself on the same documents, so no
    event is sent for it (other documents to re-index still are)."""
    claimed = _claim(stage, document_ids, database_url)
    if not claimed:
        return {}
    queued_ms = int((utcnow() - sent_at).total_seconds() * 1000) if sent_at else None
    computed: dict[str, tuple[object | None, str | None, int]] = {}
    with session_scope(database_url) as reader:
        for doc in claimed:
            start = time.perf_counter()
            try:
                result, error = stage.compute(doc, reader), None
            except PermanentError as exc:
                result, error = None, str(exc)
            except (TransientError, OperationalError):
                _release(stage, [d.id for d in claimed], database_url)
                raise
            except Exception as exc:  # a bug or unforeseen input: fail this document, go on
                log.exception("stage %s crashed on %s", stage.name, doc.id)
                error = f"{stage.name} failed unexpectedly: {type(exc).__name__}: {exc}"
                result = None
            computed[doc.id] = (result, error, int((time.perf_counter() - start) * 1000))
    outcomes, onward = _apply(
        stage,
        computed,
        database_url,
        request_id=request_id,
        queued_ms=queued_ms,
        sending=sender is not None,
        hand_on=hand_on,
    )
    log.info(
        "%s: %s",
        stage.name,
        ", ".join(f"{n} {s}" for s, n in Counter(outcomes.values()).items()) or "nothing to do",
        extra={"stage": stage.name, "ms": sum(ms for _, _, ms in computed.values())},
    )
    if sender is not None and onward:
        try:
            publish_own(database_url, sender, onward)
        except Exception:  # the relay will publish it
            log.warning("could not publish after %s; the relay will", stage.name)
    return outcomes


def _light(*names: str) -> list[ExecutableOption]:
    """Loader options leaving these columns unloaded until touched."""
    return [defer(getattr(Document, name)) for name in sorted(names)]


def _claim(stage: Stage, ids: Sequence[str], database_url: str) -> list[Document]:
    # The documents are detached for `compute`: what it may read must be loaded now.
    query = (
        select(Document)
        .where(Document.id.in_(list(ids)), Document.status.in_(stage.accepts))
        .options(*_light(*(LARGE_COLUMNS - stage.reads)))
    )
    # Most stages' documents already carry the running status (the previous stage set
    # it): then claiming is a read, and does not queue for SQLite's one write lock.
    with session_scope(database_url) as session:
        docs = list(session.scalars(query))
        if all(doc.status == stage.running_status for doc in docs):
            session.expunge_all()
            return docs
    with session_scope(database_url, write=True) as session:
        docs = list(session.scalars(query))
        for doc in docs:
            doc.status = stage.running_status
        session.flush()
        session.expunge_all()
        return docs


def _release(stage: Stage, ids: list[str], database_url: str) -> None:
    """Leave documents claimable again when the whole task will be retried."""
    with session_scope(database_url, write=True) as session:
        for doc in session.scalars(select(Document).where(Document.id.in_(ids))):
            if doc.status == stage.running_status:
                session.add(
                    StageRun(
                        document_id=doc.id,
                        stage=stage.name,
                        status="retry",
                        detail="transient error",
                    )
                )


# Applying is done in short write transactions: on SQLite every writer, an ingest request
# too, waits for the one write lock, so the longest transaction is the floor of their
# latency (a 32-document dedupe batch held it ~80 ms). A slice ends after this many
# documents or this long, whichever comes first.
SLICE_DOCS = 8
SLICE_SECONDS = 0.010


def _apply(
    stage: Stage,
    computed: dict[str, tuple[object | None, str | None, int]],
    database_url: str,
    *,
    request_id: str | None,
    queued_ms: int | None,
    sending: bool,
    hand_on: bool,
) -> tuple[dict[str, str], list[OutboxEvent]]:
    outcomes: dict[str, str] = {}
    events: list[OutboxEvent] = []
    remaining = list(computed)
    while remaining:
        applied_ids: list[str] = []
        onward: dict[str, list[str]] = defaultdict(list)
        with session_scope(database_url, write=True) as session:
            began = time.perf_counter()
            # Applying writes the large columns but reads none of them (a deferred column
            # that is touched loads then, in this session).
            docs = {
                d.id: d
                for d in session.scalars(
                    select(Document)
                    .where(Document.id.in_(remaining[:SLICE_DOCS]))
                    .options(*_light(*LARGE_COLUMNS))
                )
            }
            for doc_id in remaining[:SLICE_DOCS]:
                applied_ids.append(doc_id)
                doc = docs.get(doc_id)
                if doc is None or doc.status != stage.running_status:
                    continue  # deleted, or taken over by a retry: not ours any more
                status = _apply_one(stage, session, doc, computed[doc_id], queued_ms, onward)
                outcomes[doc_id] = status
                if stage.next_task and hand_on and status not in (Status.DUPLICATE, Status.FAILED):
                    onward[stage.next_task].append(doc_id)
                if time.perf_counter() - began > SLICE_SECONDS or requests_waiting(database_url):
                    break
            events += [
                outbox.enqueue(
                    session,
                    task_name,
                    DocumentBatch(document_ids=list(dict.fromkeys(ids)), request_id=request_id),
                    sent_after_commit=sending,
                )
                for task_name, ids in onward.items()
            ]
        remaining = remaining[len(applied_ids) :]
    return outcomes, events


def _apply_one(
    stage: Stage,
    session: Session,
    doc: Document,
    computed: tuple[object | None, str | None, int],
    queued_ms: int | None,
    onward: dict[str, list[str]],
) -> str:
    result, error, ms = computed
    detail = None
    if error is None:
        try:
            # A savepoint: a crash in one document's apply must not poison the others'
            # writes in this transaction.
            with session.begin_nested():
                applied = stage.apply(session, doc, result)
        except PermanentError as exc:
            error = str(exc)
        except OperationalError:
            raise  # the database is unwell: retry the whole task later
        except Exception as exc:  # a bug or unforeseen input: fail it, visibly
            log.exception("stage %s apply crashed on %s", stage.name, doc.id)
            error = f"{stage.name} failed unexpectedly: {type(exc).__name__}: {exc}"
        else:
            doc.status = applied.status
            detail = applied.detail
            if applied.also_index:
                onward[tasks.INDEX].extend(applied.also_index)
    if error is not None:
        doc.status = Status.FAILED
        doc.error = error
        doc.failed_stage = stage.name
    session.add(
        StageRun(
            document_id=doc.id,
            stage=stage.name,
            status="failed" if error else "ok",
            ms=ms,
            queued_ms=queued_ms,
            detail=error or detail,
        )
    )
    return str(doc.status)


def parse_sent_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
