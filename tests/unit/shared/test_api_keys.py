"""API keys are stored hashed, verify until revoked, and rate limits count per key."""

from __future__ import annotations

from shared.api_keys import create_key, list_keys, revoke_key, verify_key
from shared.db import session_scope
from shared.models import ApiKey
from shared.rate_limit import MemoryRateLimiter, RedisRateLimiter
from tests.conftest import RATE_LIMIT_REDIS_DB, require_services


def test_key_is_hashed_verifiable_and_revocable(database_url: str) -> None:
    with session_scope(database_url, write=True) as session:
        row, key = create_key(session, "portal team")
    with session_scope(database_url) as session:
        stored = session.get(ApiKey, row.id)
        assert stored is not None and key not in (stored.key_hash, stored.prefix)
        assert key.startswith(stored.prefix)
        assert verify_key(session, key) is not None
        assert verify_key(session, key + "x") is None
        assert [k.name for k in list_keys(session)] == ["portal team"]
    with session_scope(database_url, write=True) as session:
        assert revoke_key(session, row.prefix) is not None
    with session_scope(database_url) as session:
        assert verify_key(session, key) is None


def test_memory_rate_limiter_counts_per_key() -> None:
    limiter = MemoryRateLimiter(per_minute=3)
    assert [limiter.hit("a")[0] for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("b")[0] is True
    allowed, retry_after = limiter.hit("a")
    assert not allowed and 0 < retry_after <= 60


def test_redis_rate_limiter_is_shared_between_instances() -> None:
    require_services("redis")
    import uuid

    key = uuid.uuid4().hex
    one = RedisRateLimiter(f"redis://127.0.0.1:6379/{RATE_LIMIT_REDIS_DB}", per_minute=2)
    two = RedisRateLimiter(f"redis://127.0.0.1:6379/{RATE_LIMIT_REDIS_DB}", per_minute=2)
    assert one.hit(key)[0] and two.hit(key)[0]
    assert not one.hit(key)[0]
