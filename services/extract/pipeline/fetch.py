"""Fetch stage: download a submitted URL safely, then hand the bytes to cleaning."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from services.extract.fetching import FetchError, FetchPolicy, FetchResult, fetch
from services.extract.pipeline.base import Applied, PermanentError, Stage, TransientError
from shared import tasks
from shared.formats import FormatError, sniff_format, validate_upload
from shared.models import Document, Status
from shared.settings import Settings, get_settings


def policy_from_settings(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        max_bytes=settings.fetch_max_bytes,
        connect_timeout=settings.fetch_connect_timeout,
        read_timeout=settings.fetch_read_timeout,
        max_redirects=settings.fetch_max_redirects,
        allow_private=settings.fetch_allow_private,
        allowed_ports=tuple(settings.fetch_allowed_ports),
        allowed_networks=tuple(settings.fetch_allowed_networks),
    )


@dataclass(slots=True)
class Fetched:
    result: FetchResult
    input_format: str
    encoding: str | None


class FetchStage(Stage):
    name = "fetch"
    running_status = Status.FETCHING
    accepts = frozenset({Status.FETCHING})
    next_task = tasks.CLEAN
    reads = frozenset({"http_meta"})

    def compute(self, doc: Document, reader: Session) -> Fetched:
        if not doc.source_url:
            raise PermanentError("No URL to fetch.")
        policy = policy_from_settings(get_settings())
        try:
            result = asyncio.run(fetch(doc.source_url, policy=policy))
        except FetchError as exc:
            if exc.permanent:
                raise PermanentError(f"Fetching {doc.source_url} failed: {exc.reason}") from exc
            raise TransientError(exc.reason) from exc
        name = urlsplit(result.final_url).path.rsplit("/", 1)[-1] or None
        try:
            fmt = sniff_format(result.data, filename=name, content_type=result.content_type)
            encoding = validate_upload(result.data, fmt)
        except FormatError as exc:
            raise PermanentError(f"The fetched content cannot be ingested: {exc}") from exc
        return Fetched(result=result, input_format=fmt, encoding=result.charset or encoding)

    def apply(self, session: Session, doc: Document, result: Any) -> Applied:
        fetched: Fetched = result
        r = fetched.result
        doc.original = r.data
        doc.content_type = r.content_type
        doc.input_format = fetched.input_format
        doc.encoding = fetched.encoding
        doc.final_url = r.final_url
        doc.http_meta = {
            "status": r.status,
            "etag": r.etag,
            "last_modified": r.last_modified,
            "redirects": r.redirects,
            "content_type": r.content_type,
        }
        return Applied(Status.RECEIVED, detail=f"HTTP {r.status}, {len(r.data)} bytes")
