"""Run coroutines from synchronous code (Celery tasks) on one loop per process.

Async clients (Elasticsearch) bind to the loop they were created on, so every call in a
worker process must use the same loop rather than a fresh `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
_local = threading.local()


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop.run_until_complete(coro)
