"""Errors that carry their HTTP status, rendered as RFC 9457 problem details.

Hierarchy (each sets `status`, `title` and a `type` slug):

    ProblemError                 base; 400
    ├── NotFound                 404
    ├── Conflict                 409  (e.g. retrying a document that is not failed)
    ├── PayloadTooLarge          413
    ├── UnsupportedMediaType     415
    ├── InvalidInput             422  (`errors` lists field problems)
    ├── Unauthorized             401
    ├── Forbidden                403
    ├── RateLimited              429  (`Retry-After`)
    └── ServiceUnavailable       503

`shared.formats.FormatError` is mapped onto the same shape by `install_problem_handlers`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://policy-search.dev/problems/"


class ProblemError(Exception):
    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        return problem(
            self.status,
            self.title,
            self.detail,
            slug=self.slug,
            errors=self.errors,
            instance=instance,
            **self.extra,
        )


class NotFound(ProblemError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(ProblemError):
    status, title, slug = 409, "Conflict", "conflict"


class PayloadTooLarge(ProblemError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(ProblemError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class InvalidInput(ProblemError):
    status, title, slug = 422, "Invalid input", "invalid-input"


class Unauthorized(ProblemError):
    status, title, slug = 401, "Unauthorized", "unauthorized"


class Forbidden(ProblemError):
    status, title, slug = 403, "Forbidden", "forbidden"


class RateLimited(ProblemError):
    status, title, slug = 429, "Too many requests", "rate-limited"


class ServiceUnavailable(ProblemError):
    status, title, slug = 503, "Service unavailable", "service-unavailable"


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    instance: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_JSON, headers=headers)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(p) for p in err.get("loc", ())],
            "field": ".".join(str(p) for p in err.get("loc", ())[1:]) or None,
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error, expected or not, as application/problem+json."""
    from shared.formats import FormatError  # formats depends on nothing web-related

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.to_problem(request.url.path), exc.headers)

    @app.exception_handler(FormatError)
    async def _format(request: Request, exc: FormatError) -> JSONResponse:
        body = problem(exc.status, exc.title, str(exc), slug=exc.type_slug)
        return problem_response(body)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        body = problem(
            422,
            "Invalid input",
            "The request has invalid fields.",
            slug="invalid-input",
            errors=validation_errors(exc),
        )
        return problem_response(body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        body = problem(exc.status_code, title, str(exc.detail))
        return problem_response(body, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        import logging

        logging.getLogger("policy_search").exception("unhandled error on %s", request.url.path)
        body = problem(500, "Internal error", "An unexpected error occurred; it was logged.")
        return problem_response(body)
