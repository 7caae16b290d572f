"""The ingest service: app factory and lifespan (run with `uvicorn --factory`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from services.ingest.api import router
from services.ingest.inbox import Inbox, InboxCollector
from services.ingest.nul_guard import NulGuardMiddleware
from services.ingest.relay import OutboxRelay
from services.ingest.sources_api import router as sources_router
from shared.celery_app import make_celery
from shared.db import get_engine, prefer_writes
from shared.formats import ParseLimits
from shared.metrics import PipelineCollector, QueueDepthCollector
from shared.observability import configure_logging
from shared.problems import install_problem_handlers
from shared.rate_limit import make_rate_limiter
from shared.settings import Settings, get_settings
from shared.web import install_common


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging("ingest", level=settings.log_level, json_logs=settings.log_json)
    prefer_writes()
    registry = CollectorRegistry()
    registry.register(PipelineCollector(settings.resolved_database_url))
    registry.register(QueueDepthCollector(settings.resolved_broker_url))
    if (inbox := Inbox.of(settings.resolved_database_url)) is not None:
        registry.register(InboxCollector(inbox))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        celery = make_celery("ingest", settings)
        app.state.celery = celery
        app.state.relay = OutboxRelay(
            settings.resolved_database_url,
            celery,
            interval=settings.outbox_relay_interval,
            inbox=app.state.inbox,
        )
        # Where `policy-search relay` runs beside this process, it publishes (its work
        # here ran between the requests' steps on one interpreter lock); the requests'
        # `wake()` then wakes nothing.
        if settings.ingest_relay:
            app.state.relay.start()
        yield
        app.state.relay.stop()
        get_engine(settings.resolved_database_url).dispose()

    app = FastAPI(
        title="policy-search ingest",
        version="1",
        description="Submit Chinese policy documents (text, HTML, files, URLs) for processing.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.inbox = inbox
    app.state.parse_limits = ParseLimits()
    app.state.rate_limiter = make_rate_limiter(
        settings.resolved_broker_url, settings.write_rate_limit_per_minute
    )

    async def database() -> tuple[bool, str]:
        def ping() -> None:
            with get_engine(settings.resolved_database_url).connect() as conn:
                conn.execute(text("SELECT 1"))

        await asyncio.wait_for(asyncio.to_thread(ping), timeout=3)
        return True, "ok"

    async def broker() -> tuple[bool, str]:
        def ping() -> None:
            with app.state.celery.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)

        await asyncio.wait_for(asyncio.to_thread(ping), timeout=5)
        return True, "ok"

    install_common(
        app,
        service="ingest",
        registry=registry,
        max_body_bytes=settings.max_upload_bytes,
        cors_origins=settings.cors_origins,
        readiness={"database": database, "broker": broker},
    )
    install_problem_handlers(app)
    app.add_middleware(NulGuardMiddleware)
    app.include_router(router)
    app.include_router(sources_router)
    return app
