"""The ingest service can leave publishing to a relay of its own (`policy-search relay`,
as `policy-search run` and compose run it): what a request stored waits (on SQLite in the
inbox) until that relay moves and publishes it, and the relay stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from services.ingest.app import create_app
from services.ingest.inbox import Inbox
from services.ingest.relay import HEARTBEAT_FILE, STANDALONE_POLL_S, OutboxRelay
from shared import outbox, tasks
from shared.api_keys import create_key
from shared.celery_app import make_celery, prepare_sqlite_broker
from shared.db import dispose_all, session_scope
from shared.events import DocumentBatch
from shared.migrate import upgrade
from shared.models import Document
from shared.settings import Settings
from tests.conftest import REDIS_HOST, REDIS_PORT, UNIT_REDIS_DBS, require_services
from tests.unit.ingest.served import ingest_client


def _pending(url: str) -> int:
    with session_scope(url) as session:
        return outbox.pending_count(session)


def _wait_for(condition, timeout: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_relay_of_its_own_publishes_what_the_ingest_service_stored(tmp_path: Path) -> None:
    require_services("redis")
    db = random.choice(UNIT_REDIS_DBS)
    broker = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db)
    broker.flushdb()
    settings = Settings(
        data_dir=tmp_path,
        broker_url=f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}",
        ingest_relay=False,
        log_json=False,
    )
    url = settings.resolved_database_url
    upgrade(url)
    with session_scope(url, write=True) as session:
        _, key = create_key(session, "relay-test")
    app = create_app(settings)

    async def post_and_linger() -> None:
        async with ingest_client(app) as c:
            r = await c.post(
                "/v1/documents",
                json={"text": "关于推进产教融合的通知\n各单位:\n现将有关事项通知如下。"},
                headers={"X-API-Key": key},
            )
            assert r.status_code == 202, r.text
            posted.append(r.json()["id"])
            await asyncio.sleep(0.5)  # an ingest process relaying would be done by now

    posted: list[str] = []
    inbox = Inbox.of(url)
    assert inbox is not None
    try:
        asyncio.run(post_and_linger())
        # On SQLite the document waits in the inbox, the database untouched.
        assert [p.stem for p in inbox.waiting()] == posted
        assert _pending(url) == 0
        assert broker.llen(tasks.EXTRACT_QUEUE) == 0

        heartbeat = tmp_path / HEARTBEAT_FILE
        relay = OutboxRelay(
            url,
            make_celery("relay", settings),
            interval=STANDALONE_POLL_S,
            heartbeat=heartbeat,
            inbox=inbox,
        )
        relay.start()
        try:
            assert _wait_for(lambda: not inbox.waiting() and _pending(url) == 0)
        finally:
            relay.stop()
        assert broker.llen(tasks.EXTRACT_QUEUE) == 1
        with session_scope(url) as session:
            doc = session.get(Document, posted[0])
            assert doc is not None and doc.status == "received"
        assert heartbeat.exists()
    finally:
        broker.flushdb()
        dispose_all()


def test_the_relay_command_publishes_and_stops_on_sigterm(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    url = settings.resolved_database_url
    upgrade(url)
    prepare_sqlite_broker(settings.resolved_broker_url)
    with session_scope(url, write=True) as session:
        doc = Document(original=b"x")
        session.add(doc)
        session.flush()
        outbox.enqueue(session, tasks.CLEAN, DocumentBatch(document_ids=[doc.id]))
    env = {**os.environ, "DATA_DIR": str(tmp_path), "LOG_JSON": "false"}
    env.pop("DATABASE_URL", None)
    env.pop("BROKER_URL", None)
    relay = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "relay"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert _wait_for(lambda: _pending(url) == 0), "the relay published nothing"
        assert _wait_for((tmp_path / HEARTBEAT_FILE).exists)
    finally:
        relay.send_signal(signal.SIGTERM)
        output = relay.communicate(timeout=20)[0].decode()
        dispose_all()
    assert relay.returncode == 0, output


def test_the_embedded_stack_runs_the_relay_beside_the_ingest_service(tmp_path: Path) -> None:
    from cli.stack import stack_processes

    specs = {spec.name: spec for spec in stack_processes(Settings(data_dir=tmp_path))}
    assert specs["ingest"].env == {"INGEST_RELAY": "false"}
    assert specs["relay"].argv[1:] == ["-m", "cli.main", "relay"]
    assert specs["relay"].nice == 0  # it takes the write turn: not behind the workers
