"""Poll watched sources that are due: discover links, fetch only what is new or changed.

A source's page itself is fetched with a conditional GET (ETag / Last-Modified); each
discovered link is remembered per source (SeenUrl), so an unchanged listing costs one
304 and a known article is never ingested twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select

from services.extract.fetching import FetchError, fetch
from services.extract.pipeline.fetch import policy_from_settings
from services.extract.sources import DiscoveredLink, discover_links
from shared import outbox, tasks
from shared.db import session_scope
from shared.events import FetchRequested
from shared.models import Document, SeenUrl, Source, Status, utcnow
from shared.outbox import TaskSender, publish_pending
from shared.settings import Settings

log = logging.getLogger(__name__)
MAX_ERRORS_KEPT = 20
# Column sizes: a link is remembered in seen_urls.url (2048); it is the document's
# external_id (512) when it fits. One overlong link on a page must not fail the whole
# poll (PostgreSQL refuses the insert, and every later poll would fail the same way).
MAX_SEEN_URL = 2048
MAX_EXTERNAL_ID = 512


def poll_due_sources(settings: Settings, *, sender: TaskSender | None, force: bool = False) -> int:
    """Poll every due source (all enabled ones with `force`); returns documents created."""
    url = settings.resolved_database_url
    with session_scope(url) as session:
        stmt = select(Source.id).where(Source.enabled.is_(True))
        if not force:
            stmt = stmt.where(Source.next_run_at <= utcnow())
        due = list(session.scalars(stmt))
    created = sum(poll_source(settings, source_id) for source_id in due)
    if sender is not None and created:
        publish_pending(url, sender)
    return created


def poll_source(settings: Settings, source_id: str) -> int:
    url = settings.resolved_database_url
    policy = policy_from_settings(settings)
    with session_scope(url) as session:
        source = session.get(Source, source_id)
        if source is None:
            return 0
        page_url, etag, modified = source.url, source.etag, source.last_modified
        same_site, pattern = source.same_site, source.link_pattern
    try:
        page = asyncio.run(fetch(page_url, policy=policy, etag=etag, last_modified=modified))
    except FetchError as exc:
        _finish(url, source_id, status="error", error=f"{page_url}: {exc.reason}")
        return 0
    if page.not_modified:
        _finish(url, source_id, status="not_modified")
        return 0
    links = discover_links(
        page.data,
        base_url=page.final_url,
        content_type=page.content_type,
        same_site=same_site,
        pattern=pattern,
    )
    created = _ingest_new(url, source_id, links)
    _finish(
        url,
        source_id,
        status="ok",
        links=len(links),
        created=created,
        etag=page.etag,
        modified=page.last_modified,
    )
    return created


def _ingest_new(database_url: str, source_id: str, links: list[DiscoveredLink]) -> int:
    created = 0
    with session_scope(database_url, write=True) as session:
        seen = set(session.scalars(select(SeenUrl.url).where(SeenUrl.source_id == source_id)))
        for link in links:
            if link.url in seen or len(link.url) > MAX_SEEN_URL:
                continue
            doc = Document(
                status=Status.FETCHING,
                source_url=link.url,
                source_id=source_id,
                external_id=link.url if len(link.url) <= MAX_EXTERNAL_ID else None,
                user_title=link.title,
                user_metadata={"published_at": link.published} if link.published else {},
            )
            session.add(doc)
            session.flush()
            session.add(SeenUrl(source_id=source_id, url=link.url, document_id=doc.id))
            outbox.enqueue(session, tasks.FETCH, FetchRequested(document_ids=[doc.id]))
            seen.add(link.url)
            created += 1
    return created


def _finish(
    database_url: str,
    source_id: str,
    *,
    status: str,
    error: str | None = None,
    links: int = 0,
    created: int = 0,
    etag: str | None = None,
    modified: str | None = None,
) -> None:
    with session_scope(database_url, write=True) as session:
        source = session.get(Source, source_id)
        if source is None:
            return
        now = utcnow()
        source.last_run_at = now
        source.next_run_at = now + timedelta(seconds=source.interval_seconds)
        source.last_status = status
        source.links_found += links
        source.documents_created += created
        if etag or modified:
            source.etag, source.last_modified = etag, modified
        if error:
            source.errors = [*list(source.errors or []), {"at": now.isoformat(), "error": error}][
                -MAX_ERRORS_KEPT:
            ]
