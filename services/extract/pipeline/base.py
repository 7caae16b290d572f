"""The stage contract.

A stage takes document ids and moves each document one step along the pipeline:

- `accepts`: the statuses a document must be in for the stage to work on it. A document
  in any other status was already handled (or deleted): the stage skips it, which is what
  makes a redelivered task harmless.
- `compute(doc, reader)`: the work, outside any write transaction (CPU-heavy, may be slow).
  It reads a detached snapshot of the row (and, through `reader`, a read-only session,
  whatever shared state it needs) and returns a result object, or raises
  `PermanentError` (the document fails with that reason) or `TransientError` (the whole
  task is retried later).
- `carry(doc, result)`: puts on the detached snapshot what the next stage's `compute`
  reads (a task computes its chain of stages back to back before applying any).
- `apply(session, doc, result)`: writes the result inside a write transaction and
  returns the status the document moves to.
- `next_task`: the task that the documents which moved on are handed to (via the outbox),
  unless the task runs the next stage itself (`tasks.py` chains clean → dedupe → extract).
- `reads`: which of `LARGE_COLUMNS` `compute` needs loaded.

Adding a stage is adding a module with one `Stage` subclass and a task in `tasks.py`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from shared.models import Document, Status


class PermanentError(Exception):
    """The document cannot go through this stage; it ends `failed` with this reason."""


class TransientError(Exception):
    """Something outside the document failed (network, engine); retry the task later."""


@dataclass(slots=True)
class Applied:
    status: Status
    detail: str | None = None
    also_index: list[str] = field(default_factory=list)  # other documents to re-index


# Columns no stage's `compute` reads unless it says so in `reads`: the original bytes,
# the texts before cleaning and the JSON reports. Loading them (and decoding the JSON) for
# every claim and apply of every stage cost more than some stages' work.
LARGE_COLUMNS = frozenset(
    {"original", "raw_text", "text_original_script", "quality", "removed_parts", "http_meta"}
)


class Stage(ABC):
    name: ClassVar[str]
    running_status: ClassVar[Status]
    accepts: ClassVar[frozenset[Status]]
    next_task: ClassVar[str | None]
    reads: ClassVar[frozenset[str]] = frozenset()  # of LARGE_COLUMNS, what compute needs

    @abstractmethod
    def compute(self, doc: Document, reader: Session) -> Any: ...

    def carry(self, doc: Document, result: Any) -> None:
        """Nothing, unless a later stage's `compute` reads what this one produced."""
        return None

    @abstractmethod
    def apply(self, session: Session, doc: Document, result: Any) -> Applied: ...
