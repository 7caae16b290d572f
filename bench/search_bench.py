"""Search latency and throughput over HTTP at 10k and 100k documents.

The index is built directly through the embedded engine (the pipeline would take an hour
for 100k documents on two cores; the output says so), then the real search service is
started on it and a fixed set of queries is replayed at concurrency 1 and 8.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from bench.corpus import KINDS, PLACES, TOPICS, GeneratedDoc, generate
from bench.stack import REPO, free_port
from bench.timing import summary_ms

PHRASES = ["产教融合", "双师型教师", "现代学徒制", "实训基地", "职业技能等级认定", "专项资金"]


def build_index(docs: list[GeneratedDoc], index_dir: Path) -> float:
    """Index `docs` (ids doc-0…) straight into an embedded engine; returns docs/s."""
    from services.search.engines.base import IndexDocument
    from services.search.engines.embedded import EmbeddedEngine
    from shared.runtime import run_async

    rng = random.Random(3)
    engine = EmbeddedEngine(index_dir, writable=True)
    start = time.perf_counter()
    batch: list[IndexDocument] = []
    for i, d in enumerate(docs):
        kind = next((k for k, _ in KINDS if d.title.endswith(k[-2:])), "通知")
        batch.append(
            IndexDocument(
                id=f"doc-{i}",
                title=d.title,
                text=d.text,
                doc_number=d.doc_number,
                issuers=[f"{d.city}人民政府"],
                date=date(rng.randint(2019, 2025), rng.randint(1, 12), rng.randint(1, 28)),
                province=d.province,
                city=d.city,
                doc_type=kind,
                topics=[t for t in TOPICS if t in d.text][:3],
            )
        )
        if len(batch) == 1000:
            run_async(engine.index(batch))
            batch = []
    if batch:
        run_async(engine.index(batch))
    rate = len(docs) / (time.perf_counter() - start)
    run_async(engine.close())
    return rate


def query_set(n: int = 240, seed: int = 11) -> list[dict[str, Any]]:
    """Single terms, phrases, exclusions, filters, facets, date sort and deep pages."""
    rng = random.Random(seed)
    queries: list[dict[str, Any]] = []
    for i in range(n):
        province, city, _ = rng.choice(PLACES)
        kind = rng.choice(KINDS)[0]
        topic = rng.choice(TOPICS)
        shape = i % 6
        if shape == 0:
            queries.append({"q": topic})
        elif shape == 1:
            queries.append({"q": f'"{rng.choice(PHRASES)}"'})
        elif shape == 2:
            queries.append({"q": f"{topic} -{rng.choice(TOPICS)}", "province": province})
        elif shape == 3:
            queries.append({"q": f"{city} {kind}", "doc_type": kind, "date_from": "2021-01-01"})
        elif shape == 4:
            queries.append({"q": topic, "sort": "date_desc", "city": city})
        else:
            queries.append({"q": rng.choice(PHRASES), "page": rng.choice([5, 10, 20]), "size": 20})
    return queries


async def _replay(
    base: str, queries: list[dict[str, Any]], concurrency: int
) -> tuple[list[float], float, int]:
    """Closed loop: `concurrency` clients, each sending its next query when the last one
    answered. aiohttp, not httpx: the client shares the machine's two cores with the
    server, and httpx spent 2.0–2.6 ms of CPU a query against aiohttp's 0.5 (measured
    replaying this set at c8), which the server's throughput paid for."""
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for q in queries:
        queue.put_nowait(q)

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as client:

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                params = queue.get_nowait()
                t0 = time.perf_counter()
                async with client.get("/v1/search", params=params) as r:
                    await r.read()
                latencies.append((time.perf_counter() - t0) * 1000)
                errors += r.status != 200

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return latencies, elapsed, errors


def search_benchmark(sizes: list[int], work_dir: Path) -> dict[str, Any]:
    queries = query_set()
    results: dict[str, Any] = {
        "note": "index built directly through the embedded engine, not the pipeline",
        "queries": len(queries),
        "queries_sharing_facets_with_an_earlier_one": len(queries) - _facet_keys(queries),
        "cache": "a fresh search process per concurrency level (facet cache cold)",
    }
    pool = generate(min(max(sizes), 20_000), seed=21)
    for size in sizes:
        # Larger sizes cycle the generated pool with fresh ids: same text distribution.
        docs = [pool[i % len(pool)] for i in range(size)]
        data_dir = work_dir / f"search-{size}"
        rate = build_index(docs, data_dir / "index")
        row: dict[str, Any] = {"index_docs_per_s": round(rate, 1)}
        for concurrency in (1, 8):
            with _search_service(data_dir) as base:
                # Warm the process, not the facet cache: these ask for duplicates as well.
                warm = [{**q, "include_duplicates": "true"} for q in queries[:20]]
                asyncio.run(_replay(base, warm, 1))
                lat, elapsed, errors = asyncio.run(_replay(base, queries, concurrency))
            row[f"c{concurrency}"] = {
                **summary_ms(lat),
                "qps": round(len(lat) / elapsed, 1),
                "errors": errors,
            }
        results[str(size)] = row
    return results


def _facet_keys(queries: list[dict[str, Any]]) -> int:
    """Distinct facet counts asked for: the same text and filters on another page or in
    another order share them."""
    ignored = {"page", "size", "sort"}
    return len({tuple(sorted((k, v) for k, v in q.items() if k not in ignored)) for q in queries})


@contextmanager
def _search_service(data_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "SEARCH_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "services.search.app:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base)
        yield base
    finally:
        proc.terminate()
        proc.wait(20)


def _wait_up(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"search service at {base} did not start")
