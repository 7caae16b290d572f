"""Celery application factory shared by the extract workers and the search indexer.

JSON only; late acks with prefetch 1 so a killed worker's task is redelivered; the
SQLite broker (kombu's SQLAlchemy transport) is the embedded default, Redis in production.
"""

from __future__ import annotations

from celery import Celery

from shared.settings import Settings, get_settings
from shared.tasks import TASK_QUEUES


def _transport_options(broker_url: str) -> dict[str, object]:
    if broker_url.startswith("sqla+"):
        # kombu's SQLAlchemy transport hands every transport option to create_engine(),
        # so its polling interval is set on the class: a hop should cost ~100 ms, not 1 s.
        from kombu.transport.sqlalchemy import Transport

        Transport.polling_interval = 0.1
        return {}
    # Redis: redeliver unacked tasks of a dead worker after this long; our tasks take
    # seconds, so 5 minutes is ample and bounds recovery time.
    return {"visibility_timeout": 300, "polling_interval": 0.1}


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
