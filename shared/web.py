"""Pieces both FastAPI services share: request ids, body limits, metrics, health routes."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Response
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


class RequestContextMiddleware:
    """Request id (from `x-request-id` or new), per-route metrics and the access log.

    Plain ASGI: Starlette's `BaseHTTPMiddleware` (`@app.middleware`) runs every request
    through a task group and memory streams, about a tenth of a search's CPU at 100k
    documents."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        rid = header.decode("latin-1") if header else uuid.uuid4().hex
        token = request_id_var.set(rid)
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - start)  # logged with the id
            request_id_var.reset(token)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        m = self.metrics
        method = scope["method"]
        path = getattr(scope.get("route"), "path", "unmatched")
        m.requests.labels(m.service, method, path, str(status)).inc()
        m.latency.labels(m.service, method, path).observe(elapsed)
        if path not in QUIET_PATHS:  # probes and scrapes would drown the access log
            access_log.info(
                "%s %s %s",
                method,
                scope["path"],
                status,
                extra={"path": path, "status_code": status, "ms": elapsed * 1000},
            )


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

    app.add_middleware(RequestContextMiddleware, metrics=metrics)
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
