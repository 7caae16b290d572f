"""Request authentication: `X-API-Key` (or `Authorization: Bearer`) on protected routes."""

from __future__ import annotations

import threading
import time

from cachetools import LRUCache
from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from shared.api_keys import hash_key, verify_key
from shared.db import session_scope
from shared.models import utcnow
from shared.problems import RateLimited, Unauthorized


def presented_key(request: Request) -> str | None:
    if key := request.headers.get("x-api-key"):
        return key.strip()
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return None


async def authenticate(request: Request, *, required: bool) -> str | None:
    """Returns the key id (None when auth is off); raises 401 for a missing or bad key."""
    if not required:
        return None
    key = presented_key(request)
    if not key:
        raise Unauthorized(
            "This endpoint needs an API key in the `X-API-Key` header.",
            headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'},
        )
    settings = request.app.state.settings
    url = settings.resolved_database_url
    remembered = (url, hash_key(key))
    with _VERIFIED_LOCK:
        hit = _VERIFIED.get(remembered)
    if hit is not None and time.monotonic() - hit[1] < settings.api_key_cache_seconds:
        return hit[0]

    def _check() -> str | None:
        with session_scope(url) as session:
            row = verify_key(session, key)
            return row.id if row else None

    key_id = await run_in_threadpool(_check)
    if key_id is None:
        raise Unauthorized("The API key is unknown or revoked.")
    with _VERIFIED_LOCK:
        _VERIFIED[remembered] = (key_id, time.monotonic())
    return key_id


# Keys verified lately, with when: a process trusts one for `API_KEY_CACHE_SECONDS` from
# its check, which (a session, a query, a thread hop) was a sixth of the ingest process's
# time at 100 requests a second. Unknown keys are never remembered: asked about each time.
_VERIFIED: LRUCache[tuple[str, str], tuple[str, float]] = LRUCache(maxsize=1024)
_VERIFIED_LOCK = threading.Lock()


async def require_writer(request: Request) -> str | None:
    """Dependency for write endpoints: a valid key (when required) within its rate limit."""
    settings = request.app.state.settings
    key_id = await authenticate(request, required=settings.require_api_key)
    limiter = request.app.state.rate_limiter
    # Redis in a thread: on the event loop a slow Redis (it is also the busy broker)
    # stalled every request behind it. Counting in memory is quicker than the hop.
    who = key_id or _client(request)
    if limiter.blocking:
        allowed, retry_after = await run_in_threadpool(limiter.hit, who)
    else:
        allowed, retry_after = limiter.hit(who)
    if not allowed:
        raise RateLimited(
            f"More than {settings.write_rate_limit_per_minute} write requests a minute; "
            f"retry in {retry_after} s.",
            headers={"Retry-After": str(max(1, retry_after))},
        )
    request.state.api_key_id = key_id
    request.state.authenticated_at = utcnow()
    return key_id


def _client(request: Request) -> str:
    return f"ip:{request.client.host if request.client else 'unknown'}"
