"""API keys: created once and shown once, stored as a SHA-256 hash, revocable.

Keys are 32 random bytes, so a fast hash is enough (no password stretching needed: a
brute force over 2^256 is not a threat); the short prefix identifies a key in listings.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import ApiKey, utcnow

KEY_PREFIX = "ps_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, name: str) -> tuple[ApiKey, str]:
    """Returns the row and the plaintext key (the only time it exists outside the client)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=key[: len(KEY_PREFIX) + 6], key_hash=hash_key(key))
    session.add(row)
    session.flush()
    return row, key


def list_keys(session: Session) -> Sequence[ApiKey]:
    return session.scalars(select(ApiKey).order_by(ApiKey.created_at)).all()


def revoke_key(session: Session, key_id_or_prefix: str) -> ApiKey | None:
    row = (
        session.get(ApiKey, key_id_or_prefix)
        or session.scalars(select(ApiKey).where(ApiKey.prefix == key_id_or_prefix)).first()
    )
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def verify_key(session: Session, key: str) -> ApiKey | None:
    row = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).first()
    if row is None or row.revoked_at is not None:
        return None
    return row


def any_active_key(session: Session) -> bool:
    return (
        session.scalars(select(ApiKey.id).where(ApiKey.revoked_at.is_(None)).limit(1)).first()
        is not None
    )
