"""Faults delay work and never lose it: the real stack on PostgreSQL + its own Redis.

Each test starts a private redis-server on a free port (so stopping it touches nothing
else on the machine), runs `policy-search run` against it, breaks something, and checks
that every submission ends in a final status with exactly one index entry per canonical
document. Recovery times are printed (`pytest -s`) and written to the test's tmp dir.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from bench.corpus import generate
from tests.conftest import PostgresSchema, free_port, require_services
from tests.e2e.stack import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAST_SWEEP = {"SWEEPER_STUCK_AFTER_SECONDS": "8", "SWEEPER_INTERVAL_SECONDS": "2"}


class RedisServer:
    """A redis-server this test owns: stop and start it at will, on a fixed port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import redis

                if redis.Redis(port=self.port).ping():
                    return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def fault_stack(tmp_path: Path) -> Iterator[tuple[RunningStack, RedisServer]]:
    require_services("postgres")
    server = RedisServer(free_port())
    server.start()
    schema = PostgresSchema()
    env = {
        "DATABASE_URL": schema.url,
        "BROKER_URL": f"redis://127.0.0.1:{server.port}/0",
        **FAST_SWEEP,
    }
    stack = RunningStack(data_dir=tmp_path, env=env, log_path=tmp_path / "stack.log")
    stack.start()
    try:
        yield stack, server
    finally:
        stack.stop()
        server.stop()
        schema.drop()


def _post_corpus(stack: RunningStack, count: int, seed: int) -> list[str]:
    docs = generate(count, seed=seed, min_kb=8, max_kb=40)
    r = stack.ingest.post(
        "/v1/documents:batch",
        json={"documents": [{"text": d.text, "external_id": d.key} for d in docs]},
    )
    assert r.status_code == 202, r.text
    return [item["id"] for item in r.json()["items"]]


def _assert_all_final_and_indexed_once(
    stack: RunningStack, ids: list[str]
) -> tuple[dict[str, Any], float]:
    """Wait for every document to be final (returning when that was seen, monotonic), then
    check that the index holds exactly the indexed ones, each once."""
    done = stack.wait_final(ids, timeout=240)
    all_final_at = time.monotonic()
    statuses = {d["status"] for d in done.values()}
    assert statuses <= {"indexed", "duplicate"}, {i: d["error"] for i, d in done.items()}
    indexed = {i for i, d in done.items() if d["status"] == "indexed"}
    found: list[str] = []
    page = 1
    while True:
        r = stack.search.get(
            "/v1/search", params={"include_duplicates": "true", "size": 100, "page": page}
        )
        assert r.status_code == 200, r.text
        hits = r.json()["hits"]
        found += [h["id"] for h in hits]
        if len(hits) < 100:
            break
        page += 1
    assert len(found) == len(set(found)), "a document is in the index twice"
    assert set(found) == indexed
    return done, all_final_at


def _record(tmp_path: Path, name: str, **figures: Any) -> None:
    print(f"\n[fault] {name}: {figures}")
    (tmp_path / f"fault-{name}.json").write_text(json.dumps(figures))


def _pool_children(stack: RunningStack, module: str) -> list[psutil.Process]:
    """Celery's pool processes for `module` (children of its main worker process)."""
    procs: list[psutil.Process] = []
    for p in stack.descendants():
        try:
            if module in " ".join(p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE:
                procs.append(p)
        except psutil.Error:
            continue
    pids = {p.pid for p in procs}
    children = []
    for p in procs:
        try:
            if p.ppid() in pids:
                children.append(p)
        except psutil.Error:
            continue
    return children


def test_worker_killed_mid_stage_loses_nothing(
    fault_stack: tuple[RunningStack, RedisServer], tmp_path: Path
) -> None:
    stack, _ = fault_stack
    ids = _post_corpus(stack, 60, seed=101)
    start = time.monotonic()
    kills = 0
    last_kill = start
    deadline = time.monotonic() + 60
    while kills < 3 and time.monotonic() < deadline:
        busy = stack.ingest.get("/v1/documents", params={"status": "cleaning", "limit": 1}).json()
        busy_d = stack.ingest.get(
            "/v1/documents", params={"status": "deduplicating", "limit": 1}
        ).json()
        if busy["items"] or busy_d["items"]:
            for child in _pool_children(stack, "services.extract.worker"):
                try:
                    child.send_signal(signal.SIGKILL)
                    kills += 1
                    last_kill = time.monotonic()
                except psutil.Error:
                    continue
            time.sleep(1.0)
        time.sleep(0.05)
    assert kills, "never caught the worker mid-stage"
    done, all_final_at = _assert_all_final_and_indexed_once(stack, ids)
    retried = sum(1 for d in done.values() if sum(h["stage"] == "clean" for h in d["history"]) > 1)
    statuses = [d["status"] for d in done.values()]
    _record(
        tmp_path,
        "worker-sigkill",
        kills=kills,
        documents=len(ids),
        indexed=statuses.count("indexed"),
        duplicate=statuses.count("duplicate"),
        kills_over_s=round(last_kill - start, 1),
        all_final_after_last_kill_s=round(all_final_at - last_kill, 1),
        clean_ran_twice=retried,
    )


def test_broker_outage_delays_but_loses_nothing(
    fault_stack: tuple[RunningStack, RedisServer], tmp_path: Path
) -> None:
    stack, server = fault_stack
    before = _post_corpus(stack, 10, seed=202)
    server.stop()
    outage_start = time.monotonic()
    # Accepted while the broker is down: committed with their events in the outbox.
    during = _post_corpus(stack, 10, seed=203)
    ready = stack.ingest.get("/readyz")
    assert ready.status_code == 503
    assert "broker" in ready.text
    time.sleep(3)
    server.start()
    back = time.monotonic()
    _, all_final_at = _assert_all_final_and_indexed_once(stack, before + during)
    _record(
        tmp_path,
        "broker-outage",
        outage_s=round(back - outage_start, 1),
        all_final_after_restart_s=round(all_final_at - back, 1),
        documents=len(before + during),
    )
    assert stack.ingest.get("/readyz").status_code == 200


@pytest.mark.skipif(os.environ.get("CI_SKIP_ENGINE_FAULT") == "1", reason="disabled by env")
def test_search_engine_outage_delays_indexing_without_failing(
    fault_stack: tuple[RunningStack, RedisServer], tmp_path: Path
) -> None:
    from tests.e2e.engine_outage import hold_index_writer

    stack, _ = fault_stack
    warm = _post_corpus(stack, 1, seed=302)  # the indexer has created its index
    stack.wait_final(warm)
    with hold_index_writer(stack.data_dir / "index"):
        start = time.monotonic()
        ids = _post_corpus(stack, 8, seed=303)
        deadline = time.monotonic() + 60
        waiting: dict[str, Any] = {}
        while time.monotonic() < deadline:
            waiting = {i: stack.ingest.get(f"/v1/documents/{i}").json() for i in ids}
            if all(d["status"] == "indexing" and d["error"] for d in waiting.values()):
                break
            time.sleep(0.5)
        assert all(d["status"] == "indexing" for d in waiting.values()), waiting
        assert all("search engine" in (d["error"] or "") for d in waiting.values())
        released = time.monotonic()
    _, all_final_at = _assert_all_final_and_indexed_once(stack, warm + ids)
    _record(
        tmp_path,
        "engine-outage",
        outage_s=round(released - start, 1),
        waiting_note=sorted({d["error"] for d in waiting.values()}),
        all_final_after_release_s=round(all_final_at - released, 1),
        documents=len(warm + ids),
    )
