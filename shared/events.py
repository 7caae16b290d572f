"""Event payloads carried by tasks and the outbox, one discriminated union.

Events carry ids, never document bodies: every task re-reads current state from the
database, which is what makes re-delivery harmless.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter


class DocumentBatch(BaseModel):
    """Documents moving to the next stage of the pipeline."""

    type: Literal["documents.batch"] = "documents.batch"
    document_ids: list[str]
    # The request(s) the documents came with: comma-separated when the outbox merged the
    # events of several requests into one message (`shared.outbox`).
    request_id: str | None = None
    sent_at: datetime | None = None  # set when published; queue time = start - sent_at


class FetchRequested(BaseModel):
    type: Literal["fetch.requested"] = "fetch.requested"
    document_ids: list[str]
    request_id: str | None = None
    sent_at: datetime | None = None  # set when published; queue time = start - sent_at


class DocumentsRemoved(BaseModel):
    """Deleted documents: the indexer drops them, dedupe re-elects their clusters' canonicals."""

    type: Literal["documents.removed"] = "documents.removed"
    document_ids: list[str]
    cluster_ids: list[str] = []
    request_id: str | None = None
    sent_at: datetime | None = None  # set when published; queue time = start - sent_at


Event = Annotated[DocumentBatch | FetchRequested | DocumentsRemoved, Field(discriminator="type")]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
