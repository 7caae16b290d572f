"""Pieces both FastAPI services share: request ids, body limits, metrics, health routes."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.observability import request_id_var
from shared.problems import problem, problem_response

access_log = logging.getLogger("policy_search.access")
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

ReadinessCheck = Callable[[], Awaitable[tuple[bool, str]]]


class BodyLimitMiddleware:
    """Reject bodies over `max_bytes` while they stream in, not after buffering them."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = problem(
            413,
            "Payload too large",
            f"The request body exceeds the limit of {self.max_bytes} bytes.",
            slug="payload-too-large",
        )
        await problem_response(body)(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


class HttpMetrics:
    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests",
            ["service", "method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["service", "method", "route"],
            registry=registry,
            buckets=(0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.service = service


def install_common(
    app: FastAPI,
    *,
    service: str,
    registry: CollectorRegistry,
    max_body_bytes: int,
    cors_origins: list[str],
    readiness: dict[str, ReadinessCheck],
) -> None:
    """Request ids, metrics, CORS, body limit and /healthz, /readyz, /metrics."""
    metrics = HttpMetrics(service, registry)

    @app.middleware("http")
    async def _request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        token = request_id_var.set(rid)
        start = time.perf_counter()
        try:
            response = await call_next(request)
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - start
            metrics.requests.labels(service, request.method, path, str(response.status_code)).inc()
            metrics.latency.labels(service, request.method, path).observe(elapsed)
            if path not in QUIET_PATHS:  # probes and scrapes would drown the access log
                access_log.info(
                    "%s %s %s",
                    request.method,
                    request.url.path,
                    response.status_code,
                    extra={"path": path, "status_code": response.status_code, "ms": elapsed * 1000},
                )
        finally:
            request_id_var.reset(token)
        response.headers["x-request-id"] = rid
        return response

    app.add_middleware(
        CORSMiddleware,
        allow_origins=cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["x-request-id", "etag", "retry-after"],
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    app.include_router(health_router(registry, readiness))


def health_router(registry: CollectorRegistry, readiness: dict[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @router.get("/readyz", responses={503: {"description": "A dependency is not reachable"}})
    async def readyz() -> Response:
        """Every dependency answers; 503 naming the failing ones otherwise."""
        checks: dict[str, Any] = {}
        ok = True
        for name, check in readiness.items():
            try:
                passed, detail = await check()
            except Exception as exc:
                passed, detail = False, f"{type(exc).__name__}: {exc}"
            checks[name] = {"ok": passed, "detail": detail}
            ok = ok and passed
        if ok:
            return _json({"status": "ready", "checks": checks}, 200)
        failing = ", ".join(n for n, c in checks.items() if not c["ok"])
        body = problem(503, "Not ready", f"Unavailable: {failing}", slug="not-ready")
        body["checks"] = checks
        return problem_response(body)

    @router.get("/metrics")
    async def metrics() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


def _json(body: dict[str, Any], status: int) -> Response:
    from fastapi.responses import JSONResponse

    return JSONResponse(body, status_code=status)
