"""Celery beat's app (`celery -A services.extract.beat:celery_app beat`): the schedule only.

Beat sends its tasks by name (routed by `shared.tasks.TASK_QUEUES`), so it imports none of
the stages; started from the workers' app it imported all of them (scipy, trafilatura,
the segmenter) for nothing: ~1.2 s of CPU at each start and ~100 MB resident.
"""

from __future__ import annotations

from typing import Any

from celery.signals import setup_logging

from shared.celery_app import make_celery
from shared.observability import configure_logging
from shared.settings import get_settings
from shared.tasks import POLL_SOURCES, SWEEP_STUCK

settings = get_settings()
celery_app = make_celery("extract", settings)
celery_app.conf.beat_schedule = {
    "sweep-stuck-documents": {"task": SWEEP_STUCK, "schedule": settings.sweeper_interval_seconds},
    "poll-watched-sources": {"task": POLL_SOURCES, "schedule": 60.0},
}


@setup_logging.connect
def _logging(**_: Any) -> None:
    configure_logging("beat", level=settings.log_level, json_logs=settings.log_json)
