"""On SQLite a single posted document waits in the inbox, so the request never queues for
the database's one write lock; reads find the document at once, and moving it into the
database happens once however often it is tried."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.ingest.app import create_app
from services.ingest.inbox import Inbox
from services.ingest.submissions import Submission
from shared import outbox
from shared.api_keys import create_key
from shared.db import dispose_all, session_scope, sqlite_file
from shared.migrate import upgrade
from shared.models import Document, OutboxEvent
from shared.settings import Settings
from tests.conftest import assert_problem
from tests.unit.ingest.served import ingest_client

TEXT = "关于做好2026年高校毕业生就业工作的通知\n各区人民政府:\n现将有关事项通知如下。"


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    settings = Settings(data_dir=tmp_path, log_json=False)
    upgrade(settings.resolved_database_url)
    yield settings
    dispose_all()


def _key(settings: Settings) -> str:
    with session_scope(settings.resolved_database_url, write=True) as session:
        return create_key(session, "inbox-test")[1]


def _inbox(settings: Settings) -> Inbox:
    inbox = Inbox.of(settings.resolved_database_url)
    assert inbox is not None
    return inbox


def _stored(settings: Settings) -> int:
    with session_scope(settings.resolved_database_url) as session:
        return session.query(Document).count()


def test_a_post_answers_while_another_process_holds_the_write_lock(settings: Settings) -> None:
    app = create_app(settings)
    writer = sqlite3.connect(str(sqlite_file(settings.resolved_database_url)))
    writer.isolation_level = None

    async def main() -> None:
        async with ingest_client(app, headers={"X-API-Key": _key(settings)}) as c:
            writer.execute("BEGIN IMMEDIATE")  # a worker's long write transaction
            # Queued behind it, the request would have waited out the busy timeout (60 s).
            r = await asyncio.wait_for(c.post("/v1/documents", json={"text": TEXT}), 10)
            assert r.status_code == 202, r.text
            assert r.json()["status"] == "received" and r.json()["version"] == 1
            doc_id = r.json()["id"]
            assert [p.stem for p in _inbox(settings).waiting()] == [doc_id]

            # A read moves the document in: it waits for the lock, then finds it.
            read = asyncio.create_task(c.get(f"/v1/documents/{doc_id}"))
            await asyncio.sleep(0.3)
            assert not read.done()
            writer.execute("ROLLBACK")
            got = await asyncio.wait_for(read, 30)
            assert got.status_code == 200, got.text
            assert got.json()["status"] in {"received", "indexed", "duplicate"}
            original = await c.get(f"/v1/documents/{doc_id}/original")
            assert original.content == TEXT.encode()
            assert not _inbox(settings).waiting()

    try:
        asyncio.run(main())
    finally:
        writer.close()


def test_a_posted_document_is_listed_and_deleted_at_once_and_stays_deleted(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"ingest_relay": False}))
    inbox = _inbox(settings)

    async def main() -> None:
        async with ingest_client(app, headers={"X-API-Key": _key(settings)}) as c:
            first = (await c.post("/v1/documents", json={"text": TEXT})).json()["id"]
            second = (await c.post("/v1/documents", json={"text": TEXT + "二"})).json()["id"]
            assert _stored(settings) == 0 and len(inbox.waiting()) == 2
            metrics = (await c.get("/metrics")).text
            assert "policy_inbox_waiting 2.0" in metrics
            (age,) = [
                float(line.split()[1])
                for line in metrics.splitlines()
                if line.startswith("policy_inbox_oldest_seconds ")
            ]
            assert 0.0 <= age < 60.0  # the first document's age, posted just now

            listed = (await c.get("/v1/documents")).json()["items"]
            assert [d["id"] for d in listed] == [second, first]  # newest first, as posted

            assert (await c.delete(f"/v1/documents/{first}")).status_code == 204
            assert (await c.get(f"/v1/documents/{first}")).status_code == 404
            assert inbox.move() == 0  # a relay moving late brings nothing back
            assert (await c.get(f"/v1/documents/{first}")).status_code == 404
            assert (await c.get(f"/v1/documents/{second}")).status_code == 200
            assert (await c.get(f"/v1/documents/{'a' * 300}")).status_code == 404

    asyncio.run(main())


def test_documents_that_need_a_lookup_are_written_by_the_request(settings: Settings) -> None:
    """An `external_id` may name a stored document (a new version), a key a stored answer:
    the request answers with what the database holds."""
    app = create_app(settings.model_copy(update={"ingest_relay": False}))

    async def main() -> None:
        async with ingest_client(app, headers={"X-API-Key": _key(settings)}) as c:
            body = {"text": TEXT, "external_id": "gov-2026-17"}
            first = (await c.post("/v1/documents", json=body)).json()
            again = await c.post("/v1/documents", json={**body, "text": TEXT + "(修订)"})
            assert again.json()["id"] == first["id"] and again.json()["version"] == 2
            keyed = await c.post(
                "/v1/documents", json={"text": TEXT}, headers={"Idempotency-Key": "k-1"}
            )
            replay = await c.post(
                "/v1/documents", json={"text": TEXT}, headers={"Idempotency-Key": "k-1"}
            )
            assert replay.json()["id"] == keyed.json()["id"]
            assert _stored(settings) == 2 and not _inbox(settings).waiting()

    asyncio.run(main())


def test_moving_a_document_again_stores_it_once(settings: Settings, tmp_path: Path) -> None:
    """A relay killed after its commit but before removing the file moves it again."""
    inbox = _inbox(settings)
    sub = Submission(
        original=TEXT.encode("gb18030"),
        input_format="txt",
        content_type="text/plain",
        filename="通知.txt",
        encoding="gb18030",
        metadata={"region": "上海"},
    )
    waiting = inbox.put(sub, request_id="req-1")
    (kept,) = inbox.waiting()
    shutil.copy(kept, tmp_path / "kept")

    assert inbox.move() == 1
    shutil.copy(tmp_path / "kept", kept)
    assert inbox.move() == 0
    assert not inbox.waiting()

    with session_scope(settings.resolved_database_url) as session:
        doc = session.get(Document, waiting.id)
        assert doc is not None
        assert (doc.original, doc.original_filename, doc.encoding) == (
            sub.original,
            "通知.txt",
            "gb18030",
        )
        assert doc.user_metadata == {"region": "上海"} and doc.request_id == "req-1"
        assert doc.received_at == waiting.received_at
        events = session.query(OutboxEvent).all()
        assert [e.payload["document_ids"] for e in events] == [[waiting.id]]
        assert outbox.pending_count(session) == 1


def test_a_half_written_file_is_never_moved(settings: Settings) -> None:
    inbox = _inbox(settings)
    inbox.path.mkdir()
    (inbox.path / "0123abcd.part").write_bytes(b'{"id": "0123abcd"')
    assert inbox.move() == 0 and _stored(settings) == 0


def test_postgresql_has_no_inbox(postgres_url: str) -> None:
    assert Inbox.of(postgres_url) is None


def test_ids_that_are_not_ours_are_not_looked_up(settings: Settings) -> None:
    inbox = _inbox(settings)
    inbox.path.mkdir()
    (inbox.path.parent / "x.doc").write_bytes(b"{}\n")
    assert not inbox.holds("../x")
    assert not inbox.holds("a" * 300)  # longer than a file name may be


def test_moved_documents_are_announced_per_request(settings: Settings) -> None:
    """Each event keeps the request id that posted its documents (followed in the logs)."""
    inbox = _inbox(settings)
    sub = Submission(original=TEXT.encode(), input_format="text", content_type="text/plain")
    posted = [(inbox.put(sub, request_id=r).id, r) for r in ("req-a", "req-b", "req-a")]
    assert inbox.move() == 3
    with session_scope(settings.resolved_database_url) as session:
        events = {
            e.payload["request_id"]: e.payload["document_ids"]
            for e in session.query(OutboxEvent).order_by(OutboxEvent.id)
        }
    assert events == {
        "req-a": [posted[0][0], posted[2][0]],
        "req-b": [posted[1][0]],
    }


def test_the_status_command_counts_documents_still_in_the_inbox(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.admin_cmds import status_counts
    from shared.settings import get_settings

    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        sub = Submission(original=TEXT.encode(), input_format="text", content_type="text/plain")
        _inbox(settings).put(sub, request_id=None)
        assert status_counts() == {"received": 1}
        _inbox(settings).move()
        assert status_counts() == {"received": 1}
    finally:
        get_settings.cache_clear()


def test_a_document_the_inbox_cannot_take_is_a_503_and_nothing_is_stored(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"ingest_relay": False}))
    _inbox(settings).path.write_text("not a directory")  # as a full or broken disk would

    async def main() -> None:
        async with ingest_client(app, headers={"X-API-Key": _key(settings)}) as c:
            r = await c.post("/v1/documents", json={"text": TEXT})
            assert_problem(r, 503)
            assert "nothing was kept" in r.json()["detail"]
            assert (await c.get("/v1/documents")).json()["items"] == []

    asyncio.run(main())
    assert _stored(settings) == 0
