"""Run a chain of stages over a batch of documents: claim, compute, apply, hand on.

Claim (status → the first stage's running status; a read when it is set already), then
every stage's CPU work with no lock held, then apply + history + the outbox event for
the next task in write transactions (slices), then the event is sent.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, defer
from sqlalchemy.sql.base import ExecutableOption

from services.extract.pipeline.base import (
    LARGE_COLUMNS,
    Applied,
    PermanentError,
    Stage,
    TransientError,
)
from shared import outbox, tasks
from shared.db import requests_lately, requests_waiting, session_scope, write_turn_free
from shared.events import DocumentBatch
from shared.models import Document, OutboxEvent, StageRun, Status, add_history, utcnow
from shared.outbox import TaskSender, publish_own

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(slots=True)
class _Step:
    """One stage's computed result for one document (or why it failed)."""

    stage: Stage
    result: object | None
    error: str | None
    ms: int


def run_stages(
    stages: Sequence[Stage],
    document_ids: Sequence[str],
    *,
    database_url: str,
    sender: TaskSender | None,
    request_id: str | None = None,
    sent_at: datetime | None = None,
) -> dict[str, str]:
    """Take each document through `stages`, starting at the first one that accepts its
    status; returns {document_id: outcome} for the documents this run touched.

    The documents' stages are computed with no lock held (each stage's `carry` hands
    what the next one reads to it), then applied together: one write per document for
    the whole chain instead of one per stage. On SQLite, what is computed is applied
    whenever the write turn is free (`EARLY_APPLY_DOCS`), the rest after the batch.
    Per stage, the claims, re-reads, savepoints and commits were ~40 % of the extract
    workers' CPU, and each stage's status change rewrote the document's row (its texts
    included) in the WAL."""
    claimed = _claim(stages, document_ids, database_url)
    if not claimed:
        return {}
    queued_ms = int((utcnow() - sent_at).total_seconds() * 1000) if sent_at else None
    plans: dict[str, list[_Step]] = {}
    pending: dict[str, list[_Step]] = {}
    outcomes: dict[str, str] = {}
    onward: list[OutboxEvent] = []

    def write_pending() -> None:
        nonlocal pending
        plans.update(pending)
        done, events = _apply(
            pending,
            database_url,
            last=stages[-1],
            request_id=request_id,
            queued_ms={stages[0].name: queued_ms},
            sending=sender is not None,
        )
        outcomes.update(done)
        onward.extend(events)
        pending = {}

    with session_scope(database_url) as reader:
        for doc, first in claimed:
            try:
                pending[doc.id] = _compute(stages[first:], doc, reader)
            except (TransientError, OperationalError):
                _release(claimed, stages, database_url)  # what was applied is not claimed
                raise
            if len(pending) >= EARLY_APPLY_DOCS and write_turn_free(database_url):
                write_pending()
    write_pending()
    log.info(
        "%s: %s",
        " → ".join(stage.name for stage in stages),
        ", ".join(f"{n} {s}" for s, n in Counter(outcomes.values()).items()) or "nothing to do",
        extra={
            "stage": stages[0].name,
            "ms": sum(step.ms for steps in plans.values() for step in steps),
        },
    )
    if sender is not None and onward:
        try:
            publish_own(database_url, sender, onward)
        except Exception:  # the relay will publish it
            log.warning("could not publish after %s; the relay will", stages[-1].name)
    return outcomes


# On SQLite, a worker that has computed this many documents applies them as soon as the
# write turn is free, and otherwise goes on computing: waiting for the turn while the other
# worker applied was 16 % of the extract workers' time (py-spy, 2,000 documents). Fewer
# would mean more, smaller transactions (see SLICE_DOCS). Elsewhere (no turn) a task
# applies once, after computing.
EARLY_APPLY_DOCS = 8


def _guarded(
    stage: Stage,
    doc: Document,
    work: Callable[[], T],
    *,
    passing: tuple[type[Exception], ...],
    phase: str = "",
) -> tuple[T | None, str | None]:
    """(result, None), or (None, why the document fails): a `PermanentError`'s reason, or
    a crash (a bug or unforeseen input), logged. `passing` propagates (retry the task)."""
    try:
        return work(), None
    except PermanentError as exc:
        return None, str(exc)
    except passing:
        raise
    except Exception as exc:
        log.exception("stage %s%s crashed on %s", stage.name, phase, doc.id)
        return None, f"{stage.name} failed unexpectedly: {type(exc).__name__}: {exc}"


def _compute(stages: Sequence[Stage], doc: Document, reader: Session) -> list[_Step]:
    """The document's stages in order, until one fails it. Transient errors propagate."""
    steps: list[_Step] = []
    for stage in stages:
        start = time.perf_counter()
        result, error = _guarded(
            stage,
            doc,
            partial(stage.compute, doc, reader),
            passing=(TransientError, OperationalError),
        )
        steps.append(_Step(stage, result, error, int((time.perf_counter() - start) * 1000)))
        if error is not None:
            break
        stage.carry(doc, result)
    return steps


def _light(*names: str) -> list[ExecutableOption]:
    """Loader options leaving these columns unloaded until touched."""
    return [defer(getattr(Document, name)) for name in sorted(names)]


def _claim(
    stages: Sequence[Stage], ids: Sequence[str], database_url: str
) -> list[tuple[Document, int]]:
    """The documents some stage accepts, in the event's order (the first posted of two
    copies is the one the other duplicates), each with the index of its first stage, in
    that stage's running status."""
    order = {doc_id: i for i, doc_id in enumerate(ids)}
    accepts = frozenset().union(*(stage.accepts for stage in stages))
    reads = frozenset().union(*(stage.reads for stage in stages))
    # The documents are detached for `compute`: what it may read must be loaded now.
    query = (
        select(Document)
        .where(Document.id.in_(list(ids)), Document.status.in_(accepts))
        .options(*_light(*(LARGE_COLUMNS - reads)))
    )

    def found(session: Session) -> list[tuple[Document, int]]:
        docs = sorted(session.scalars(query), key=lambda doc: order[doc.id])
        return [
            (doc, next(i for i, st in enumerate(stages) if doc.status in st.accepts))
            for doc in docs
        ]

    # Documents often already carry the running status (the previous stage set it, or a
    # redelivery): then claiming is a read, and does not queue for SQLite's write lock.
    with session_scope(database_url) as session:
        claimed = found(session)
        if all(doc.status == stages[i].running_status for doc, i in claimed):
            session.expunge_all()
            return claimed
    with session_scope(database_url, write=True) as session:
        claimed = found(session)
        for doc, i in claimed:
            doc.status = stages[i].running_status
        session.flush()
        session.expunge_all()
        return claimed


def _release(
    claimed: list[tuple[Document, int]], stages: Sequence[Stage], database_url: str
) -> None:
    """Leave documents claimable again when the whole task will be retried."""
    first = {doc.id: stages[i] for doc, i in claimed}
    with session_scope(database_url, write=True) as session:
        for doc in session.scalars(select(Document).where(Document.id.in_(list(first)))):
            if doc.status == first[doc.id].running_status:
                session.add(
                    StageRun(
                        document_id=doc.id,
                        stage=first[doc.id].name,
                        status="retry",
                        detail="transient error",
                    )
                )


# Applying is done in write transactions of a slice of the batch: on SQLite every writer,
# an ingest request too, waits for the one write lock. A request does not wait for a
# whole slice: a worker ends its slice at the next document once a request is waiting
# (`requests_waiting`). So a slice can be the whole batch; it ends after this many
# documents or this long, whichever comes first. Slices of 8 documents or 10 ms made the
# commits, re-reads and lock handoffs ~13 % of the extract workers' CPU (30.5 → 26.5 ms
# a document with these), and ingest p99 at 40 requests/s while they ran was no better
# (77–106 ms, against 47–55 ms).
SLICE_DOCS = 32
SLICE_SECONDS = 0.050
# While API requests keep arriving (`requests_lately`), slices end sooner: a request that
# arrives mid-slice waits for the document being applied and then the slice's commit
# (p99 26 ms), which grows with the slice. 100 single POSTs a second during a bulk load,
# nine runs each: p99 median 34 ms with 50 ms slices, 30 ms with 20 ms ones (the spread,
# 25–66 ms, is the machine's). 20 ms slices throughout cost ~4 % of throughput, so only
# under requests.
SLICE_SECONDS_UNDER_REQUESTS = 0.020


def _apply(
    plans: dict[str, list[_Step]],
    database_url: str,
    *,
    last: Stage,
    request_id: str | None,
    queued_ms: dict[str, int | None],
    sending: bool,
) -> tuple[dict[str, str], list[OutboxEvent]]:
    outcomes: dict[str, str] = {}
    events: list[OutboxEvent] = []
    remaining = list(plans)
    while remaining:
        applied_ids: list[str] = []
        onward: dict[str, list[str]] = defaultdict(list)
        runs: list[dict[str, object]] = []  # the slice's history rows
        budget = SLICE_SECONDS_UNDER_REQUESTS if requests_lately(database_url) else SLICE_SECONDS
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
                doc, steps = docs.get(doc_id), plans[doc_id]
                if doc is None or doc.status != steps[0].stage.running_status:
                    continue  # deleted, or taken over by a retry: not ours any more
                status, finished = _apply_document(session, doc, steps, queued_ms, onward, runs)
                outcomes[doc_id] = status
                if finished and last.next_task and status not in (Status.DUPLICATE, Status.FAILED):
                    onward[last.next_task].append(doc_id)
                if time.perf_counter() - began > budget or requests_waiting(database_url):
                    break
            add_history(session, runs)  # the slice's, in one executemany
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


def _apply_document(
    session: Session,
    doc: Document,
    steps: list[_Step],
    queued_ms: dict[str, int | None],
    onward: dict[str, list[str]],
    runs: list[dict[str, object]],
) -> tuple[str, bool]:
    """Apply a document's steps in one savepoint; returns (status, went through all).

    A crash in one document's apply must not poison the others' writes in this
    transaction. Only if one does are its steps applied again, each in its own savepoint,
    so that the stages before the one that crashed keep their results (a savepoint per
    stage and document cost more than the stages' writes)."""
    reindex: dict[str, list[str]] = defaultdict(list)
    history: list[dict[str, object]] = []  # kept only if the steps' writes are
    # No autoflush: the steps' changes to the document go out in one UPDATE when the
    # savepoint ends. On SQLite an UPDATE rewrites the whole row, original and texts
    # included, and a query in one stage's apply flushed the stages before it.
    try:
        with session.begin_nested(), session.no_autoflush:
            status, finished = _apply_steps(
                session, doc, steps, queued_ms, reindex, history, isolate=False
            )
    except OperationalError:
        raise  # the database is unwell: retry the whole task later
    except Exception:
        reindex.clear()
        history.clear()
        with session.no_autoflush:
            status, finished = _apply_steps(
                session, doc, steps, queued_ms, reindex, history, isolate=True
            )
    for task_name, ids in reindex.items():
        onward[task_name].extend(ids)
    runs.extend(history)
    return status, finished


def _apply_steps(
    session: Session,
    doc: Document,
    steps: list[_Step],
    queued_ms: dict[str, int | None],
    onward: dict[str, list[str]],
    history: list[dict[str, object]],
    *,
    isolate: bool,
) -> tuple[str, bool]:
    after = [*(later.stage for later in steps[1:]), None]
    for step, following in zip(steps, after, strict=True):
        stage, error, detail = step.stage, step.error, None
        if error is None:
            if isolate:
                applied, error = _apply_isolated(session, doc, step)
            else:  # raises: the caller applies the steps again, isolated
                applied = stage.apply(session, doc, step.result)
            if applied is not None:
                doc.status = applied.status
                detail = applied.detail
                if applied.also_index:
                    onward[tasks.INDEX].extend(applied.also_index)
        if error is not None:
            doc.status = Status.FAILED
            doc.error = error
            doc.failed_stage = stage.name
        history.append(
            {
                "document_id": doc.id,
                "stage": stage.name,
                "status": "failed" if error else "ok",
                "ms": step.ms,
                "queued_ms": queued_ms.get(stage.name),
                "detail": error or detail,
            }
        )
        if following is None or doc.status != following.running_status:
            break
    return str(doc.status), following is None and error is None


def _apply_isolated(
    session: Session, doc: Document, step: _Step
) -> tuple[Applied | None, str | None]:
    def apply() -> Applied:
        with session.begin_nested():
            return step.stage.apply(session, doc, step.result)

    # The database unwell: retry the whole task later.
    return _guarded(step.stage, doc, apply, passing=(OperationalError,), phase=" apply")


def parse_sent_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
