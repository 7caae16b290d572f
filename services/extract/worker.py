"""The extract workers' Celery app (`celery -A services.extract.worker:celery_app worker`)."""

from __future__ import annotations

from typing import Any

from celery.signals import setup_logging, worker_init, worker_process_init

from shared.celery_app import make_celery
from shared.db import dispose_all
from shared.observability import configure_logging
from shared.settings import get_settings

settings = get_settings()
celery_app = make_celery("extract", settings)
celery_app.conf.include = ["services.extract.tasks"]  # its schedule: services.extract.beat


@setup_logging.connect
def _logging(**_: Any) -> None:
    configure_logging("extract", level=settings.log_level, json_logs=settings.log_json)


@worker_init.connect
def _before_fork(**_: Any) -> None:
    from services.extract.warmup import warm_up

    warm_up()


@worker_process_init.connect
def _after_fork(**_: Any) -> None:
    dispose_all()  # never share pooled connections across forked processes
