"""Pipeline metrics read from the database at scrape time.

Counting from the database (not per-process counters) gives the same answer from every
replica and needs no multiprocess setup for prefork workers.
"""

from __future__ import annotations

from collections.abc import Iterator

from kombu import Connection
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from shared.db import session_scope
from shared.models import Document, OutboxEvent, StageRun, Status, utcnow
from shared.tasks import EXTRACT_QUEUE, SEARCH_QUEUE


class PipelineCollector(Collector):
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def collect(self) -> Iterator[GaugeMetricFamily]:
        by_status = GaugeMetricFamily(
            "policy_documents", "Documents by pipeline status", labels=["status"]
        )
        pending = GaugeMetricFamily("policy_outbox_pending", "Events not yet published")
        lag = GaugeMetricFamily(
            "policy_index_lag_documents", "Documents accepted but not yet in a final status"
        )
        stage_ms = GaugeMetricFamily(
            "policy_stage_duration_ms_avg",
            "Mean stage duration over the last hour",
            labels=["stage"],
        )
        wait_ms = GaugeMetricFamily(
            "policy_stage_queue_wait_ms_avg",
            "Mean time a stage's task waited in the queue, over the last hour",
            labels=["stage"],
        )
        try:
            with session_scope(self.database_url) as session:
                counts = dict(
                    session.execute(
                        select(Document.status, func.count()).group_by(Document.status)
                    ).all()
                )
                for status in Status:
                    by_status.add_metric([status.value], counts.get(status.value, 0))
                final = {Status.INDEXED, Status.DUPLICATE, Status.FAILED}
                lag.add_metric([], sum(v for k, v in counts.items() if k not in final))
                pending.add_metric(
                    [],
                    session.scalar(
                        select(func.count())
                        .select_from(OutboxEvent)
                        .where(OutboxEvent.published_at.is_(None))
                    )
                    or 0,
                )
                since = utcnow().timestamp() - 3600
                from datetime import UTC, datetime

                rows = session.execute(
                    select(StageRun.stage, func.avg(StageRun.ms), func.avg(StageRun.queued_ms))
                    .where(StageRun.at >= datetime.fromtimestamp(since, UTC))
                    .group_by(StageRun.stage)
                ).all()
                for stage, avg, avg_wait in rows:
                    stage_ms.add_metric([stage], float(avg or 0))
                    if avg_wait is not None:
                        wait_ms.add_metric([stage], float(avg_wait))
        except Exception:  # a scrape must not fail because the database is down
            return
        yield by_status
        yield pending
        yield lag
        yield stage_ms
        yield wait_ms


class QueueDepthCollector(Collector):
    """Messages waiting in each broker queue (Redis or the SQLite broker alike)."""

    def __init__(self, broker_url: str, queues: tuple[str, ...] = (EXTRACT_QUEUE, SEARCH_QUEUE)):
        self.broker_url = broker_url
        self.queues = queues

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "policy_queue_depth", "Messages waiting in the broker queue", labels=["queue"]
        )
        try:
            with Connection(self.broker_url, connect_timeout=2) as conn:
                channel = conn.default_channel
                for queue in self.queues:
                    try:
                        ok = channel.queue_declare(queue=queue, passive=True)
                    except conn.channel_errors:  # not declared yet: nothing ever queued
                        depth.add_metric([queue], 0)
                        continue
                    depth.add_metric([queue], ok.message_count)
        except Exception:  # a scrape must not fail because the broker is down
            return
        yield depth
