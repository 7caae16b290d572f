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

from services.ingest.schemas import DocumentIn, check_json_value, unsafe_character
from shared.formats import (
    ParseLimits,
    check_html_depth,
    check_text,
    sniff_format,
    validate_upload,
)
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
        check_html_depth(body)  # as for an uploaded page: refused at the door, not later
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
    _check_form_fields(fields, metadata, filename=filename, content_type=content_type)
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


# The limits of DocumentIn's fields, and of the columns the file's name and type go to.
FORM_LIMITS = {"title": 1000, "source_url": 4096, "external_id": 512}
FILE_LIMITS = {"filename": 512, "content_type": 128}


def _check_form_fields(
    fields: dict[str, str],
    metadata: dict[str, Any],
    *,
    filename: str | None,
    content_type: str | None,
) -> None:
    """The form fields pass the same checks as their JSON counterparts (DocumentIn), and
    the file's name and type fit where they are stored."""
    errors: list[dict[str, Any]] = []
    values = {**{k: fields.get(k) for k in FORM_LIMITS}, "filename": filename}
    values["content_type"] = content_type
    for name, value in values.items():
        if not value:
            continue
        limit = FORM_LIMITS.get(name) or FILE_LIMITS[name]
        if len(value) > limit:
            errors.append({"field": name, "message": f"longer than {limit} characters"})
        elif reason := unsafe_character(value):
            errors.append({"field": name, "message": reason})
    try:
        check_json_value(metadata)
    except ValueError as exc:
        errors.append({"field": "metadata", "message": str(exc)})
    if errors:
        raise InvalidInput("The document has invalid fields.", errors=errors)


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(p) for p in e["loc"]) or None,
            "message": e["msg"],
            "type": e["type"],
        }
        for e in exc.errors()
    ]
