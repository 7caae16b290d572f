"""The search service: app factory and lifespan (run with `uvicorn --factory`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from services.search.api import router
from services.search.engines import create_engine
from shared.metrics import PipelineCollector, QueueDepthCollector
from shared.observability import configure_logging
from shared.problems import install_problem_handlers
from shared.settings import Settings, get_settings
from shared.web import install_common

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging("search", level=settings.log_level, json_logs=settings.log_json)
    registry = CollectorRegistry()
    # The same pipeline gauges as ingest: a search operator watches index lag and queues.
    registry.register(PipelineCollector(settings.resolved_database_url))
    registry.register(QueueDepthCollector(settings.resolved_broker_url))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = create_engine(settings, writable=False)
        yield
        await app.state.engine.close()

    app = FastAPI(
        title="policy-search search",
        version="1",
        description="Search Chinese policy documents: full text, filters, facets, highlights.",
        lifespan=lifespan,
    )
    app.state.settings = settings

    async def engine_ready() -> tuple[bool, str]:
        health = await app.state.engine.health()
        detail = health.detail + (
            f" (degraded: {', '.join(health.degraded)})" if health.degraded else ""
        )
        return health.ok, f"{health.engine}: {detail}".strip()

    install_common(
        app,
        service="search",
        registry=registry,
        max_body_bytes=64 * 1024,
        cors_origins=settings.cors_origins,
        readiness={"search_engine": engine_ready},
    )
    install_problem_handlers(app)
    app.include_router(router)
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")

        @app.get("/", include_in_schema=False)
        async def index_page() -> FileResponse:
            return FileResponse(STATIC / "index.html")

        @app.get("/ui/config.json", include_in_schema=False)
        async def ui_config() -> dict[str, str]:
            # Document detail lives in the ingest service; tell the page where it is.
            return {
                "ingest_url": settings.public_ingest_url
                or f"http://{settings.host}:{settings.ingest_port}"
            }

    return app
