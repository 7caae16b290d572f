"""Write a batch in chunks: one transaction and one pipeline event per chunk.

Chunks keep memory flat for large batches and let the pipeline start on the first
documents while the rest are still arriving.
"""

from __future__ import annotations

from typing import Any

from services.ingest import service
from services.ingest.submissions import Submission
from shared.db import session_scope
from shared.settings import Settings


class BatchWriter:
    def __init__(self, settings: Settings, *, request_id: str | None) -> None:
        self.settings = settings
        self.request_id = request_id
        self.items: list[dict[str, Any]] = []
        self.pending: list[tuple[int, Submission]] = []
        self.accepted = 0
        self.rejected = 0

    @property
    def full(self) -> bool:
        return len(self.pending) >= self.settings.batch_event_size

    def reject(self, problem: dict[str, Any]) -> None:
        self.items.append({"error": problem})
        self.rejected += 1

    def add(self, sub: Submission) -> None:
        self.items.append({})  # filled in at flush, keeping input order
        self.pending.append((len(self.items) - 1, sub))

    def flush(self) -> None:
        if not self.pending:
            return
        announce: list[str] = []
        with session_scope(self.settings.resolved_database_url, write=True) as session:
            for position, sub in self.pending:
                doc, changed = service.accept(
                    session, sub, request_id=self.request_id, announce=False
                )
                if changed:
                    announce.append(doc.id)
                self.items[position] = {"id": doc.id, "status": doc.status}
            if announce:
                service.announce_received(session, announce, request_id=self.request_id)
        self.accepted += len(self.pending)
        self.pending.clear()

    def answer(self) -> dict[str, Any]:
        return {"items": self.items, "accepted": self.accepted, "rejected": self.rejected}
