"""When two similar texts are the same legal document, and which copy represents them.

Domain rules, hence hand-written: a republication keeps its issuer and 发文字号; a city's
实施方案 copied from its province's template, or a revision with a new 发文字号, is a
different document that must stay searchable on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Copies whose length is within this share of the longest count as equally complete,
# so a footer or an edited sentence does not decide which copy users see.
COMPLETE_WITHIN = 0.05


@dataclass(frozen=True)
class DocIdentity:
    doc_number: str | None
    issuers: tuple[str, ...]


def same_document(a: DocIdentity, b: DocIdentity) -> bool:
    """No conflicting identity: numbers equal (or one missing), issuers overlap (or one missing)."""
    if a.doc_number and b.doc_number and a.doc_number != b.doc_number:
        return False
    return not (a.issuers and b.issuers and not set(a.issuers) & set(b.issuers))


@dataclass(frozen=True)
class Candidate:
    id: str
    length: int
    identity_fields: int  # 发文字号 and issuers present: 0..2
    received_at: datetime


def elect_canonical(members: list[Candidate]) -> str:
    """The most complete copy (length within 5 % of the longest, then identity fields),
    then the earliest: a full text beats an excerpt that happens to carry the 发文字号."""
    longest = max(m.length for m in members)

    def key(m: Candidate) -> tuple[int, int, datetime, str]:
        complete = 1 if m.length >= longest * (1 - COMPLETE_WITHIN) else 0
        return (-complete, -m.identity_fields, m.received_at, m.id)

    return min(members, key=key).id
