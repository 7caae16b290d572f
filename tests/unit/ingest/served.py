"""The ingest app served in-process for a test: its lifespan run (relay, engine pool),
requests through an ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI


@asynccontextmanager
async def ingest_client(
    app: FastAPI, *, raise_app_exceptions: bool = True, **client_options: Any
) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ingest", **client_options
        ) as client:
            yield client
