"""Refuse a NUL in the request path or query before any route reads it.

Ids and cursors go straight into database queries, and PostgreSQL cannot take a NUL in a
text parameter: `GET /v1/documents/a%00b` was a 500 there (a 404 on SQLite). No id, status
or cursor this API gives out contains one, so the answer is the one a client would get for
any other unknown id or bad parameter.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from shared.problems import problem, problem_response


class NulGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"").lower()
            if "\x00" in scope.get("path", ""):
                body = problem(404, "Not found", "No resource has a NUL character in its path.")
                await problem_response(body)(scope, receive, send)
                return
            if b"%00" in query or b"\x00" in query:
                body = problem(
                    422,
                    "Invalid input",
                    "A query parameter contains a NUL character.",
                    slug="invalid-input",
                )
                await problem_response(body)(scope, receive, send)
                return
        await self.app(scope, receive, send)
