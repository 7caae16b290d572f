"""Per-key rate limits for write endpoints: a fixed one-minute window per key.

With Redis (production, several API replicas) the window lives in Redis so all replicas
share it; with the embedded default one process serves the API, so memory suffices.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class RateLimiter(Protocol):
    # Whether `hit` waits on the network: the API then calls it in a thread, and a
    # memory limiter inline (the thread hop cost more than the count).
    blocking: bool

    def hit(self, key: str) -> tuple[bool, int]:
        """Count one request; returns (allowed, seconds until the window resets)."""
        ...


class MemoryRateLimiter:
    blocking = False

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> tuple[bool, int]:
        now = int(time.time())
        window = now // 60
        with self._lock:
            start, count = self._windows.get(key, (window, 0))
            if start != window:
                start, count = window, 0
            count += 1
            self._windows[key] = (start, count)
        return count <= self.per_minute, 60 - now % 60


class RedisRateLimiter:
    blocking = True

    def __init__(self, url: str, per_minute: int) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self.per_minute = per_minute

    def hit(self, key: str) -> tuple[bool, int]:
        now = int(time.time())
        name = f"policy-search:rate:{key}:{now // 60}"
        try:
            pipe = self.client.pipeline()
            pipe.incr(name)
            pipe.expire(name, 120)
            count = int(pipe.execute()[0])
        except Exception:  # Redis down: do not lock every writer out; the broker outage is the news
            return True, 0
        return count <= self.per_minute, 60 - now % 60


def make_rate_limiter(broker_url: str, per_minute: int) -> RateLimiter:
    if broker_url.startswith(("redis://", "rediss://")):
        return RedisRateLimiter(broker_url, per_minute)
    return MemoryRateLimiter(per_minute)
