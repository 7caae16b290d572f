"""Turn what a client sent (JSON text/html, an uploaded file) into a validated submission.

Validation happens here, before anything is stored: a bad input raises a FormatError or
ProblemError and leaves the database untouched.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from services.ingest.schemas import DocumentIn
from shared.formats import ParseLimits, check_text, sniff_format, validate_upload
from shared.problems import InvalidInput

CONTENT_TYPES = {
    "text": "text/plain; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


@dataclass(slots=True)
class Submission:
    original: bytes
    input_format: str  # text | html | txt | docx | pdf
    content_type: str
    filename: str | None = None
    encoding: str | None = None
    title: str | None = None
    source_url: str | None = None
    external_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.original).hexdigest()


def from_json(item: DocumentIn) -> Submission:
    if item.text is not None:
        check_text(item.text)
        kind, body = "text", item.text
    else:
        body = item.html or ""
        check_text(body)
        kind = "html"
    return Submission(
        original=body.encode("utf-8"),
        input_format=kind,
        content_type=CONTENT_TYPES[kind],
        encoding="utf-8",
        title=item.title,
        source_url=item.source_url,
        external_id=item.external_id,
        metadata=item.metadata,
    )


def from_mapping(raw: Any) -> Submission:
    """A batch item: the same object as a single JSON submission."""
    if not isinstance(raw, dict):
        raise InvalidInput("Each batch item must be a JSON object.")
    try:
        item = DocumentIn.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput("The document has invalid fields.", errors=_errors(exc)) from exc
    return from_json(item)


def from_upload(
    data: bytes,
    *,
    filename: str | None,
    content_type: str | None,
    fields: dict[str, str],
    limits: ParseLimits,
) -> Submission:
    fmt = sniff_format(data, filename=filename, content_type=content_type)
    encoding = validate_upload(data, fmt, limits=limits)
    metadata: dict[str, Any] = {}
    if raw_meta := fields.get("metadata"):
        try:
            metadata = json.loads(raw_meta)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                "`metadata` must be a JSON object.",
                errors=[{"field": "metadata", "message": str(exc)}],
            ) from exc
        if not isinstance(metadata, dict):
            raise InvalidInput("`metadata` must be a JSON object.")
    return Submission(
        original=data,
        input_format=fmt,
        content_type=content_type or "application/octet-stream",
        filename=filename,
        encoding=encoding,
        title=fields.get("title") or None,
        source_url=fields.get("source_url") or None,
        external_id=fields.get("external_id") or None,
        metadata=metadata,
    )


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(p) for p in e["loc"]) or None,
            "message": e["msg"],
            "type": e["type"],
        }
        for e in exc.errors()
    ]
