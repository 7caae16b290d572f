"""Routes of the ingest service (API.md: "Ingest service")."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from services.ingest import documents_view, idempotency, repository, service, submissions
from services.ingest.batches import BatchWriter
from services.ingest.deps import ReadSession
from services.ingest.inbox import Inbox
from services.ingest.schemas import (
    Accepted,
    BatchAccepted,
    BatchIn,
    DocumentIn,
    DocumentOut,
    DocumentPage,
    FetchIn,
    Links,
)
from shared.db import session_scope
from shared.formats import FormatError, ParseLimits
from shared.models import Status
from shared.observability import request_id_var
from shared.problems import InvalidInput, NotFound, ProblemError, UnsupportedMediaType, problem
from shared.web_auth import require_writer

router = APIRouter(prefix="/v1", tags=["documents"])
WRITER = [Depends(require_writer)]

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
DOC_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": DocumentIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "title": {"type": "string"},
                        "source_url": {"type": "string"},
                        "external_id": {"type": "string"},
                        "metadata": {"type": "string", "description": "a JSON object"},
                    },
                }
            },
        },
    }
}
BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": BatchIn.model_json_schema()},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    413: {"description": "Body over the size limit"},
    415: {"description": "Unsupported media type"},
    422: {"description": "Empty, undecodable or binary text, or invalid fields"},
}


def _links(doc_id: str) -> Links:
    return Links(self=f"/v1/documents/{doc_id}", original=f"/v1/documents/{doc_id}/original")


@router.post(
    "/documents",
    status_code=202,
    dependencies=WRITER,
    response_model=Accepted,
    responses=PROBLEMS,
    openapi_extra=DOC_BODY,
)
async def submit_document(request: Request, idempotency_key: IdempotencyKey = None) -> Response:
    """Submit one document as JSON (`text` or `html`) or as a multipart file upload."""
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    sub = await _read_single(request, body, ctype)
    digest = idempotency.request_hash(body, ctype)
    status, answer = await run_in_threadpool(
        _store_single, request, sub, key=idempotency_key, digest=digest
    )
    request.app.state.relay.wake()
    return JSONResponse(answer, status_code=status, headers={"Location": answer["links"]["self"]})


def _store_single(
    request: Request, sub: submissions.Submission, *, key: str | None, digest: str
) -> tuple[int, dict[str, Any]]:
    inbox: Inbox | None = request.app.state.inbox
    if inbox is not None and inbox.takes(sub, idempotency_key=key):
        waiting = inbox.put(sub, request_id=request_id_var.get())
        answer = Accepted(id=waiting.id, status=Status.RECEIVED, links=_links(waiting.id))
        return 202, answer.model_dump(mode="json")
    url = request.app.state.settings.resolved_database_url
    with session_scope(url, write=True) as session:
        if key and (
            record := idempotency.replay(session, key=key, scope="documents", digest=digest)
        ):
            return record.status_code, record.response
        doc, _ = service.accept(session, sub, request_id=request_id_var.get())
        answer = Accepted(id=doc.id, status=doc.status, links=_links(doc.id), version=doc.version)
        payload = answer.model_dump(mode="json")
        if key:
            idempotency.remember(
                session,
                key=key,
                scope="documents",
                digest=digest,
                status_code=202,
                response=payload,
            )
        return 202, payload


async def _read_single(request: Request, body: bytes, ctype: str) -> submissions.Submission:
    limits: ParseLimits = request.app.state.parse_limits
    if ctype.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=20)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput(
                "A multipart submission needs a `file` part.",
                errors=[{"field": "file", "message": "missing"}],
            )
        data = await upload.read()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        return await run_in_threadpool(
            submissions.from_upload,
            data,
            filename=upload.filename,
            content_type=upload.content_type,
            fields=fields,
            limits=limits,
        )
    if ctype.startswith("application/json") or not ctype:
        raw = _json(body)
        return submissions.from_mapping(raw)
    raise UnsupportedMediaType(
        f"Send application/json or multipart/form-data, not `{ctype.split(';')[0]}`."
    )


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "The body is not valid JSON.", errors=[{"field": None, "message": str(exc)}]
        ) from exc


@router.post(
    "/documents:batch",
    status_code=202,
    dependencies=WRITER,
    response_model=BatchAccepted,
    responses=PROBLEMS,
    openapi_extra=BATCH_BODY,
)
async def submit_batch(request: Request, idempotency_key: IdempotencyKey = None) -> Response:
    """Submit many documents (JSON `documents` or NDJSON); each item succeeds or fails alone."""
    ctype = request.headers.get("content-type", "")
    settings = request.app.state.settings
    body: bytes | None = None
    if ctype.startswith("application/x-ndjson"):
        # Stream unless a replay check needs the whole body first.
        if idempotency_key:
            body = await request.body()
            items = _ndjson_from_bytes(body)
        else:
            items = _ndjson(request)
    elif ctype.startswith("application/json") or not ctype:
        body = await request.body()
        try:
            batch = BatchIn.model_validate(_json(body))
        except ValidationError as exc:
            raise InvalidInput("The batch has invalid fields.", errors=_errors(exc)) from exc
        items = _aiter(batch.documents)
    else:
        raise UnsupportedMediaType("Send application/json or application/x-ndjson.")
    digest = idempotency.request_hash(body or b"", ctype)
    if idempotency_key:
        cached = await run_in_threadpool(_replay, request, idempotency_key, digest)
        if cached is not None:
            return JSONResponse(cached[1], status_code=cached[0])
    writer = BatchWriter(settings, request_id=request_id_var.get())
    async for index, raw in _enumerate(items):
        if index >= settings.max_batch_items:
            raise InvalidInput(f"A batch holds at most {settings.max_batch_items} documents.")
        try:
            if isinstance(raw, ProblemError):
                raise raw
            sub = submissions.from_mapping(raw)
        except (ProblemError, FormatError) as exc:
            writer.reject(_problem_of(exc))
            continue
        writer.add(sub)
        if writer.full:
            await run_in_threadpool(writer.flush)
            request.app.state.relay.wake()
    await run_in_threadpool(writer.flush)
    answer = writer.answer()
    if idempotency_key:
        await run_in_threadpool(_remember, request, idempotency_key, digest, answer)
    request.app.state.relay.wake()
    return JSONResponse(answer, status_code=202)


def _replay(request: Request, key: str, digest: str) -> tuple[int, Any] | None:
    url = request.app.state.settings.resolved_database_url
    with session_scope(url) as session:
        record = idempotency.replay(session, key=key, scope="batch", digest=digest)
        return (record.status_code, record.response) if record else None


def _remember(request: Request, key: str, digest: str, answer: dict[str, Any]) -> None:
    url = request.app.state.settings.resolved_database_url
    with session_scope(url, write=True) as session:
        if idempotency.replay(session, key=key, scope="batch", digest=digest) is None:
            idempotency.remember(
                session, key=key, scope="batch", digest=digest, status_code=202, response=answer
            )


def _problem_of(exc: ProblemError | FormatError) -> dict[str, Any]:
    if isinstance(exc, ProblemError):
        return exc.to_problem()
    return problem(exc.status, exc.title, str(exc), slug=exc.type_slug)


async def _aiter(values: list[Any]) -> AsyncIterator[Any]:
    for value in values:
        yield value


async def _enumerate(items: AsyncIterator[Any]) -> AsyncIterator[tuple[int, Any]]:
    index = 0
    async for item in items:
        yield index, item
        index += 1


async def _ndjson(request: Request) -> AsyncIterator[Any]:
    """Parse NDJSON while it streams in, one line at a time."""
    buffer = b""
    async for chunk in request.stream():
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if line.strip():
                yield _line(line)
    if buffer.strip():
        yield _line(buffer)


async def _ndjson_from_bytes(body: bytes) -> AsyncIterator[Any]:
    for line in body.split(b"\n"):
        if line.strip():
            yield _line(line)


def _line(line: bytes) -> Any:
    try:
        return json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return InvalidInput(f"This line is not valid JSON: {exc}")


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]) or None, "message": e["msg"]}
        for e in exc.errors()
    ]


@router.post(
    "/fetches", status_code=202, response_model=Accepted, responses=PROBLEMS, dependencies=WRITER
)
async def fetch_url(request: Request, body: FetchIn) -> Response:
    """Fetch a URL (http/https, public addresses only) and ingest what it holds."""
    from services.ingest.fetch_policy import check_fetch_url

    await run_in_threadpool(check_fetch_url, body.url, request.app.state.settings)
    doc_id = await run_in_threadpool(_store_fetch, request, body)
    request.app.state.relay.wake()
    answer = Accepted(id=doc_id, status=Status.FETCHING, links=_links(doc_id))
    return JSONResponse(answer.model_dump(mode="json"), status_code=202)


def _store_fetch(request: Request, body: FetchIn) -> str:
    url = request.app.state.settings.resolved_database_url
    with session_scope(url, write=True) as session:
        doc = service.request_fetch(
            session,
            url=body.url,
            title=body.title,
            external_id=body.external_id,
            request_id=request_id_var.get(),
        )
        return doc.id


def _settle_inbox(request: Request) -> None:
    """Reads see documents still in the inbox (`Inbox.settle`)."""
    if (inbox := request.app.state.inbox) is not None:
        inbox.settle()


def _settle_document(document_id: str, request: Request) -> None:
    if (inbox := request.app.state.inbox) is not None:
        inbox.settle(document_id)


SETTLED = [Depends(_settle_document)]


@router.get("/documents", response_model=DocumentPage, dependencies=[Depends(_settle_inbox)])
def list_documents(
    session: ReadSession,
    status: Annotated[Status | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> DocumentPage:
    """List documents, newest first, with an opaque cursor for the next page."""
    try:
        rows, next_cursor = repository.list_documents(
            session, status=status, limit=limit, cursor=cursor
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("`cursor` is not a cursor this API gave out.") from exc
    return DocumentPage(
        items=[documents_view.summary(doc, _links(doc.id)) for doc in rows],
        next_cursor=next_cursor,
    )


@router.get(
    "/documents/{document_id}",
    response_model=DocumentOut,
    responses={404: {}},
    dependencies=SETTLED,
)
def get_document(document_id: str, session: ReadSession, request: Request) -> Response:
    """A document with its cleaned text, metadata, relations and status history."""
    doc = repository.get_document(session, document_id)
    if doc is None:
        raise NotFound(f"No document with id `{document_id}`.")
    etag = documents_view.etag(doc)
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    out = documents_view.detail(session, doc, _links(doc.id))
    return JSONResponse(out.model_dump(mode="json"), headers={"ETag": etag})


@router.get("/documents/{document_id}/original", responses={404: {}}, dependencies=SETTLED)
def get_original(document_id: str, session: ReadSession) -> Response:
    """The original bytes exactly as received, with their content type and file name."""
    doc = repository.get_document(session, document_id)
    if doc is None:
        raise NotFound(f"No document with id `{document_id}`.")
    if doc.original is None:
        raise NotFound("This document has no original yet (it is still being fetched).")
    headers = {}
    if doc.original_filename:
        from urllib.parse import quote

        headers["Content-Disposition"] = (
            f"attachment; filename*=UTF-8''{quote(doc.original_filename)}"
        )
    return Response(
        doc.original, media_type=doc.content_type or "application/octet-stream", headers=headers
    )


@router.post(
    "/documents/{document_id}/retry",
    status_code=202,
    response_model=Accepted,
    dependencies=WRITER + SETTLED,
)
async def retry_document(document_id: str, request: Request) -> Response:
    """Run a failed document again from the stage that failed."""
    url = request.app.state.settings.resolved_database_url

    def _retry() -> dict[str, Any]:
        with session_scope(url, write=True) as session:
            doc = service.retry(session, document_id, request_id=request_id_var.get())
            return Accepted(id=doc.id, status=doc.status, links=_links(doc.id)).model_dump(
                mode="json"
            )

    answer = await run_in_threadpool(_retry)
    request.app.state.relay.wake()
    return JSONResponse(answer, status_code=202)


@router.delete(
    "/documents/{document_id}",
    status_code=204,
    responses={404: {}},
    dependencies=WRITER + SETTLED,
)
async def delete_document(document_id: str, request: Request) -> Response:
    """Delete a document; it also leaves the search index."""
    url = request.app.state.settings.resolved_database_url

    def _delete() -> None:
        with session_scope(url, write=True) as session:
            service.delete(session, document_id, request_id=request_id_var.get())

    await run_in_threadpool(_delete)
    request.app.state.relay.wake()
    return Response(status_code=204)
