"""Transactional outbox: record an event with the state change, publish after commit.

`enqueue` adds an OutboxEvent row in the caller's transaction. After the commit the
caller may `publish_pending` right away (fast path); the relay loop publishes whatever is
still pending (broker down, process died between commit and publish). A published task
may therefore be sent twice; every task is idempotent, so that is harmless.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.db import is_sqlite, session_scope
from shared.models import OutboxEvent, utcnow
from shared.settings import get_settings
from shared.tasks import TASK_QUEUES

log = logging.getLogger(__name__)
LEASE_SECONDS = 30  # a relay that dies mid-publish leaves rows to others after this
NO_SYNC = {"synchronize_session": False}  # bulk updates of rows this session has not loaded


class TaskSender(Protocol):
    def send_task(self, name: str, *, kwargs: dict, queue: str) -> object: ...


Pending = tuple[int, str, dict, str]  # id, task name, payload, queue


def enqueue(
    session: Session, task_name: str, event: BaseModel, *, sent_after_commit: bool = False
) -> OutboxEvent:
    """`sent_after_commit`: the caller publishes the row itself right after its commit
    (`publish_own`), so the row starts leased to it and the relay leaves it alone; the
    relay sends it only if the caller dies or fails first."""
    row = OutboxEvent(
        task_name=task_name,
        queue=TASK_QUEUES[task_name],
        payload=event.model_dump(mode="json"),
    )
    if sent_after_commit:
        row.available_at = utcnow() + timedelta(seconds=LEASE_SECONDS)
    session.add(row)
    session.flush()
    return row


def publish_own(database_url: str, sender: TaskSender, rows: Sequence[OutboxEvent]) -> int:
    """Publish rows enqueued with `sent_after_commit` once the caller has committed: no
    lease transaction (on SQLite every write transaction queues for the one write lock)."""
    return _send(database_url, sender, [(r.id, r.task_name, r.payload, r.queue) for r in rows])


def publish_pending(
    database_url: str, sender: TaskSender, *, ids: Sequence[int] | None = None, limit: int = 200
) -> int:
    """Publish due pending events (all, or just `ids`); returns how many were sent.

    Rows are leased (available_at pushed forward) in a short transaction and published
    outside it, so a slow or absent broker never holds a database lock. Core statements,
    not ORM objects: the relay runs in the ingest process, and loading and flushing rows
    cost as much CPU as the requests it relays.
    """
    due = [OutboxEvent.published_at.is_(None), OutboxEvent.available_at <= utcnow()]
    if ids is not None:
        due.append(OutboxEvent.id.in_(list(ids)))
    # Nothing due (the relay polls every second): a read only. On SQLite a write
    # transaction takes the write turn ahead of the workers and tells them requests are
    # arriving (`requests_lately`), which shortens their transactions.
    with session_scope(database_url) as session:
        if session.execute(select(OutboxEvent.id).where(*due).limit(1)).first() is None:
            return 0
    with session_scope(database_url, write=True) as session:
        stmt = (
            select(OutboxEvent.id, OutboxEvent.task_name, OutboxEvent.payload, OutboxEvent.queue)
            .where(*due)
            .order_by(OutboxEvent.id)
            .limit(limit)
        )
        if not is_sqlite(database_url):
            stmt = stmt.with_for_update(skip_locked=True)  # several relays share the table
        claimed: list[Pending] = [tuple(r) for r in session.execute(stmt)]
        if claimed:
            lease = utcnow() + timedelta(seconds=LEASE_SECONDS)
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_([c[0] for c in claimed]))
                .values(available_at=lease),
                execution_options=NO_SYNC,
            )
    return _send(database_url, sender, claimed)


# Fields of an event whose documents can travel with another's (`DocumentBatch`,
# `FetchRequested`): the task is the same for each of them.
MERGEABLE_FIELDS = frozenset({"type", "document_ids", "request_id", "sent_at"})


def _messages(claimed: list[Pending], *, most: int) -> list[tuple[list[int], str, dict, str]]:
    """The broker messages for these events: events of one task whose payloads only name
    documents travel together (up to `most` documents), in order of their first event.

    At 100 single-document requests a second the relay found two or three events a pass,
    and publishing each through kombu's SQLAlchemy transport (an ORM insert and commit a
    message) was about a third of the ingest process's CPU; the workers then ran each
    document's stages as a task of its own. A merged event's `request_id` names every
    request it carries, comma-separated, so a request's id still finds its logs."""
    messages: list[tuple[list[int], str, dict, str]] = []
    open_for: dict[tuple[str, str, str], int] = {}
    requests: dict[int, list[str]] = {}  # per merged message, the request ids it carries
    for row_id, task_name, payload, queue in claimed:
        ids = payload.get("document_ids")
        if not isinstance(ids, list) or not set(payload) <= MERGEABLE_FIELDS:
            messages.append(([row_id], task_name, payload, queue))
            continue
        key = (task_name, queue, str(payload.get("type")))
        request = payload.get("request_id")
        at = open_for.get(key)
        if at is not None:
            rows, _, merged, _ = messages[at]
            documents = list(dict.fromkeys([*merged["document_ids"], *ids]))
            if len(documents) <= most:
                if request and request not in requests[at]:
                    requests[at].append(request)
                merged["document_ids"] = documents
                merged["request_id"] = ",".join(requests[at]) or None
                rows.append(row_id)
                continue
        at = open_for[key] = len(messages)
        requests[at] = [request] if request else []
        messages.append(([row_id], task_name, {**payload, "document_ids": list(ids)}, queue))
    return messages


def _send(database_url: str, sender: TaskSender, claimed: list[Pending]) -> int:
    """Publish, then record what was sent; returns how many events were."""
    if not claimed:
        return 0
    most = get_settings().batch_event_size  # what a pipeline task takes at most
    sent: list[int] = []
    failure: tuple[int, str] | None = None
    for rows, task_name, payload, queue in _messages(claimed, most=most):
        try:
            payload = {**payload, "sent_at": utcnow().isoformat()}
            sender.send_task(task_name, kwargs=payload, queue=queue)
        except Exception as exc:  # broker down: keep it and the rest pending, back off
            failure = (rows[0], f"{type(exc).__name__}: {exc}"[:500])
            log.warning("outbox publish failed: %s", exc)
            break
        sent.extend(rows)
    with session_scope(database_url, write=True) as session:
        now = utcnow()
        if sent:
            session.execute(
                update(OutboxEvent).where(OutboxEvent.id.in_(sent)).values(published_at=now),
                execution_options=NO_SYNC,
            )
        published = set(sent)
        unsent = [c[0] for c in claimed if c[0] not in published]
        if not unsent:
            return len(sent)
        for row in session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(unsent))):
            row.attempts += 1
            if failure is not None:
                row.last_error = failure[1]
            delay = min(30.0, 0.5 * 2 ** min(row.attempts, 6)) * random.uniform(0.5, 1.0)
            row.available_at = now + timedelta(seconds=delay)
    return len(sent)


def pending_count(session: Session) -> int:
    from sqlalchemy import func

    return (
        session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
        )
        or 0
    )
