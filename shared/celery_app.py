"""Celery application factory shared by the extract workers and the search indexer.

JSON only; late acks with prefetch 1 so a killed worker's task is redelivered; the
SQLite broker (kombu's SQLAlchemy transport) is the embedded default, Redis in production.
"""

from __future__ import annotations

import sqlite3
from functools import partial

from celery import Celery

from shared.settings import Settings, get_settings
from shared.tasks import TASK_QUEUES

SQLITE_BROKER = "sqla+sqlite:///"


def _transport_options(broker_url: str) -> dict[str, object]:
    if broker_url.startswith("sqla+"):
        # kombu's SQLAlchemy transport hands every transport option to create_engine(),
        # so its polling interval is set on the class: a hop should cost ~100 ms, not 1 s.
        from kombu.transport.sqlalchemy import Transport

        Transport.polling_interval = 0.1
        if broker_url.startswith(SQLITE_BROKER):
            return {"creator": partial(_broker_connection, broker_url[len(SQLITE_BROKER) :])}
        return {}
    # Redis: redeliver unacked tasks of a dead worker after this long; our tasks take
    # seconds, so 5 minutes is ample and bounds recovery time.
    return {"visibility_timeout": 300, "polling_interval": 0.1}


def _broker_connection(path: str) -> sqlite3.Connection:
    """A connection to the SQLite broker as the main database has them: WAL, no sync per
    commit. kombu's default (rollback journal, synchronous FULL) made every publish and
    every claimed message an fsync, the relay waited seconds for the broker's lock during
    a bulk load, and a third of the ingest process's time went into broker commits."""
    con = sqlite3.connect(path, timeout=60, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    return con


def prepare_sqlite_broker(broker_url: str) -> None:
    """Create kombu's tables and an index for its queue polls (`policy-search run`, before
    the processes start). kombu looks for a queue's next message with `queue_id = ? AND
    visible ORDER BY timestamp, id`, which without this walks every queue's messages in
    time order, under the broker's write lock, ten times a second per worker."""
    if not broker_url.startswith(SQLITE_BROKER):
        return
    from kombu import Connection

    with Connection(broker_url, transport_options=_transport_options(broker_url)) as conn:
        for queue in sorted(set(TASK_QUEUES.values())):
            conn.default_channel.queue_declare(queue=queue)  # creates the tables too
    con = _broker_connection(broker_url[len(SQLITE_BROKER) :])
    try:
        con.execute(
            "CREATE INDEX IF NOT EXISTS ix_kombu_message_queue_order"
            " ON kombu_message (queue_id, timestamp, id)"
        )
    finally:
        con.close()


def make_celery(name: str, settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    app = Celery(name, broker=settings.resolved_broker_url)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,  # redeliver when the worker process dies mid-task
        worker_prefetch_multiplier=1,
        task_routes={name: {"queue": queue} for name, queue in TASK_QUEUES.items()},
        task_default_queue="extract",
        broker_connection_retry_on_startup=True,
        broker_transport_options=_transport_options(settings.resolved_broker_url),
        worker_hijack_root_logger=False,
        worker_send_task_events=True,
        task_send_sent_event=True,
        enable_utc=True,
    )
    return app
