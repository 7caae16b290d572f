"""Idempotency-Key: the same key with the same body returns the first answer.

The record is written in the same transaction as the documents it describes, so a crash
between them cannot leave one without the other. Reusing a key with a different body is
a client error (422), as the IETF Idempotency-Key draft recommends.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from services.ingest import repository
from shared.models import IdempotencyRecord
from shared.problems import InvalidInput


def request_hash(body: bytes, content_type: str) -> str:
    return hashlib.sha256(content_type.split(";")[0].encode() + b"\0" + body).hexdigest()


def replay(session: Session, *, key: str, scope: str, digest: str) -> IdempotencyRecord | None:
    record = repository.get_idempotency(session, key, scope)
    if record is None:
        return None
    if record.request_hash != digest:
        raise InvalidInput(
            "This Idempotency-Key was already used with a different request body.",
            errors=[{"field": "Idempotency-Key", "message": "reused with another body"}],
        )
    return record


def remember(
    session: Session, *, key: str, scope: str, digest: str, status_code: int, response: Any
) -> None:
    session.add(
        IdempotencyRecord(
            key=key, scope=scope, request_hash=digest, status_code=status_code, response=response
        )
    )
    session.flush()
