"""Extract stage: the metadata a policy library is searched by (services.extract.metadata)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services.extract.metadata import extract_metadata
from services.extract.pipeline.base import Applied, Stage
from shared import tasks
from shared.models import Document, Status


class ExtractStage(Stage):
    name = "extract"
    running_status = Status.EXTRACTING
    accepts = frozenset({Status.EXTRACTING})
    next_task = tasks.INDEX

    def compute(self, doc: Document, reader: Session) -> dict[str, Any]:
        user = dict(doc.user_metadata or {})
        if doc.user_title:
            user.setdefault("title", doc.user_title)
        html_meta = (doc.meta or {}).get("_html_meta") or None
        return extract_metadata(doc.text or "", html_meta=html_meta, user=user or None)

    def apply(self, session: Session, doc: Document, result: Any) -> Applied:
        meta: dict[str, Any] = result
        doc.meta = meta
        doc.title = meta.get("title") or doc.user_title
        return Applied(Status.INDEXING)
