"""Clean stage: original bytes → decoded text → cleaned, simplified text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from services.extract.cleaning import CleanResult, clean_document
from services.extract.pipeline.base import Applied, PermanentError, Stage
from shared import tasks
from shared.formats import FormatError, NeedsOCR, parse_document
from shared.models import Document, Status


@dataclass(slots=True)
class Cleaned:
    raw_text: str
    encoding: str | None
    result: CleanResult
    pages: int | None


class CleanStage(Stage):
    name = "clean"
    running_status = Status.CLEANING
    accepts = frozenset({Status.RECEIVED, Status.CLEANING})
    next_task = tasks.DEDUPE
    reads = frozenset({"original"})

    def compute(self, doc: Document, reader: Session) -> Cleaned:
        if doc.original is None:
            raise PermanentError("The document has no original to clean.")
        fmt = "txt" if doc.input_format == "text" else (doc.input_format or "txt")
        try:
            parsed = parse_document(doc.original, fmt, declared_charset=doc.encoding)  # type: ignore[arg-type]
        except NeedsOCR as exc:
            raise PermanentError(
                f"{exc} This PDF has no text layer: it needs OCR, which this service does not do."
            ) from exc
        except FormatError as exc:
            raise PermanentError(str(exc)) from exc
        if parsed.html is not None:
            result = clean_document("", html=parsed.html)
            raw = parsed.html
        else:
            result = clean_document(parsed.text)
            raw = parsed.text
        if not result.text.strip():
            raise PermanentError(
                "No text was left after cleaning (empty page or only boilerplate)."
            )
        return Cleaned(raw_text=raw, encoding=parsed.encoding, result=result, pages=parsed.pages)

    def apply(self, session: Session, doc: Document, result: Any) -> Applied:
        self.carry(doc, result)
        return Applied(Status.DEDUPLICATING)

    def carry(self, doc: Document, result: Any) -> None:
        # Everything: dedupe and extract read the text, the HTML's metadata and the user's.
        cleaned: Cleaned = result
        r = cleaned.result
        doc.raw_text = cleaned.raw_text
        doc.encoding = cleaned.encoding or doc.encoding
        doc.text = r.text
        doc.text_original_script = r.text_original_script
        doc.original_script = r.original_script
        doc.quality = dict(r.quality)
        doc.removed_parts = [{"kind": p.kind, "text": p.text} for p in r.removed]
        doc.content_hash = r.content_hash
        html_meta = dict(r.html_meta)
        if r.source_url and not doc.source_url:
            doc.source_url = r.source_url
        doc.meta = {"_html_meta": html_meta} if html_meta else {}
