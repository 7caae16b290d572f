"""The outbox publishes after commit, and keeps events while the broker is down."""

from __future__ import annotations

import random

import pytest
import redis

from shared import outbox, tasks
from shared.celery_app import make_celery
from shared.db import session_scope
from shared.events import DocumentBatch
from shared.models import Document, OutboxEvent
from shared.settings import Settings
from tests.conftest import REDIS_HOST, REDIS_PORT, UNIT_REDIS_DBS, free_port, require_services
from tests.sql_statements import starting, statements


def _celery(broker_url: str):  # type: ignore[no-untyped-def]
    app = make_celery("outbox-test", Settings(broker_url=broker_url))
    app.conf.broker_connection_timeout = 1
    app.conf.broker_connection_max_retries = 0
    app.conf.task_publish_retry_policy = {"max_retries": 0}
    return app


def _enqueue(url: str, n: int, *, task: str = tasks.CLEAN) -> list[int]:
    ids = []
    with session_scope(url, write=True) as session:
        for i in range(n):
            doc = Document(original=b"x")
            session.add(doc)
            session.flush()
            event = DocumentBatch(document_ids=[doc.id], request_id=f"req{i}")
            ids.append(outbox.enqueue(session, task, event).id)
    return ids


class Recorder:
    """A sender that keeps what it was asked to send (the broker's side is tested above)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict, str]] = []

    def send_task(self, name: str, *, kwargs: dict, queue: str) -> object:
        self.sent.append((name, kwargs, queue))
        return None


def test_events_of_one_task_travel_as_one_message(database_url: str) -> None:
    settings = Settings()
    first = _enqueue(database_url, 3)
    other = _enqueue(database_url, 1, task=tasks.INDEX)
    more = _enqueue(database_url, settings.batch_event_size)  # past what a task takes
    with session_scope(database_url) as session:
        docs = {
            row.id: row.payload["document_ids"][0]
            for row in session.query(OutboxEvent).where(OutboxEvent.id.in_(first + other + more))
        }
    recorder = Recorder()

    assert outbox.publish_pending(database_url, recorder) == len(first + other + more)
    names = [name for name, _, _ in recorder.sent]
    assert names == [tasks.CLEAN, tasks.INDEX, tasks.CLEAN]
    clean, index, rest = (kwargs for _, kwargs, _ in recorder.sent)
    everything = [docs[i] for i in first + more]
    assert clean["document_ids"] == everything[: settings.batch_event_size]
    assert rest["document_ids"] == everything[settings.batch_event_size :]
    assert index["document_ids"] == [docs[other[0]]]
    # Each request's id still finds the task that carried its document.
    assert clean["request_id"].split(",")[:3] == ["req0", "req1", "req2"]
    with session_scope(database_url) as session:
        assert outbox.pending_count(session) == 0


def test_pending_events_reach_the_broker_queue(database_url: str) -> None:
    require_services("redis")
    db = random.choice(UNIT_REDIS_DBS)
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db)
    client.flushdb()
    sender = _celery(f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}")
    _enqueue(database_url, 3)

    assert outbox.publish_pending(database_url, sender) == 3
    assert client.llen(tasks.EXTRACT_QUEUE) == 1  # one task for the three events' documents
    assert outbox.publish_pending(database_url, sender) == 0  # nothing published twice
    with session_scope(database_url) as session:
        assert outbox.pending_count(session) == 0
    client.flushdb()


def test_broker_down_keeps_events_pending_until_it_is_back(database_url: str) -> None:
    require_services("redis")
    dead = _celery(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    ids = _enqueue(database_url, 2)

    assert outbox.publish_pending(database_url, dead) == 0
    with session_scope(database_url) as session:
        rows = [session.get(OutboxEvent, i) for i in ids]
        assert all(r is not None and r.published_at is None and r.attempts == 1 for r in rows)
        assert all(r is not None and r.last_error for r in rows)
        # back off: not due again immediately
        for r in rows:
            assert r is not None
            r.available_at = r.created_at
    with session_scope(database_url, write=True) as session:
        for i in ids:
            row = session.get(OutboxEvent, i)
            assert row is not None
            row.available_at = row.created_at

    db = random.choice(UNIT_REDIS_DBS)
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db)
    client.flushdb()
    assert (
        outbox.publish_pending(database_url, _celery(f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"))
        == 2
    )
    assert client.llen(tasks.EXTRACT_QUEUE) == 1  # both events' documents, one task
    client.flushdb()


@pytest.mark.parametrize("n", [0, 1])
def test_publishing_nothing_is_harmless(database_url: str, n: int) -> None:
    require_services("redis")
    db = random.choice(UNIT_REDIS_DBS)
    sender = _celery(f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}")
    if n:
        _enqueue(database_url, n)
    assert outbox.publish_pending(database_url, sender) == n
    redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db).flushdb()


def test_a_pass_with_nothing_due_only_reads(database_url: str) -> None:
    # The relay polls every second: with nothing due it must not take SQLite's write turn
    # (ahead of the workers, and telling them requests are arriving) or lock rows.
    sender = Recorder()
    _enqueue(database_url, 1)
    assert outbox.publish_pending(database_url, sender) == 1
    with statements() as seen:
        assert outbox.publish_pending(database_url, sender) == 0
    assert seen and not starting(seen, "UPDATE") and not starting(seen, "BEGIN IMMEDIATE")
    assert not [s for s in seen if "FOR UPDATE" in s.upper()]
    assert len(sender.sent) == 1
