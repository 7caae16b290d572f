"""Open-loop load generator: POST one document at a fixed rate, record each latency.

Runs in its own process (`python -m bench.loadgen URL KEY RATE SECONDS OUT`) so the
measuring client does not share a CPU-bound interpreter with anything else. Open loop:
requests are sent on schedule whether or not earlier ones have answered, so a slow
server shows up as latency instead of silently lowering the offered rate.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx

WARMUP_S = 2.0
TEXT = "关于推进职业教育产教融合的通知\n各有关单位:\n为深化产教融合,现就有关事项通知如下。\n"


async def run(url: str, key: str, rate: float, seconds: float) -> dict[str, object]:
    latencies: list[float] = []
    started: list[float] = []  # seconds into the recorded run, per latency
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(
        base_url=url, headers={"X-API-Key": key}, limits=limits, timeout=30
    ) as client:

        async def one(i: int) -> None:
            body = {"text": f"{TEXT}第{i}号 {time.time_ns()}\n" + "推进校企合作。" * 40}
            start = time.perf_counter()
            try:
                r = await client.post("/v1/documents", json=body)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            except httpx.HTTPError as exc:
                # Status 0: no answer. Which kind says whose fault it was (a timeout, a
                # refused connection, or a keep-alive connection the server had closed).
                statuses[0] = statuses.get(0, 0) + 1
                kind = type(exc).__name__
                errors[kind] = errors.get(kind, 0) + 1
                return
            latencies.append((time.perf_counter() - start) * 1000)
            started.append(start - recorded_from)

        async def offer(count: int, first: int) -> None:
            tasks = []
            start = time.perf_counter()
            for i in range(count):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(first + i)))
            await asyncio.gather(*tasks)

        recorded_from = time.perf_counter()  # the warm-up's start, then the run's

        # Warm-up at the same rate, not recorded: the first requests open the client's
        # connections and run the server's cold paths (~50 requests at 100-250 ms), which
        # is start-up, not the steady state this measures.
        await offer(int(rate * WARMUP_S), 10**6)
        latencies.clear()
        started.clear()
        statuses.clear()
        errors.clear()
        start = recorded_from = time.perf_counter()
        total = int(rate * seconds)
        await offer(total, 0)
        elapsed = time.perf_counter() - start
    return {
        "offered_rate": rate,
        "warmup_s": WARMUP_S,
        "seconds": round(elapsed, 2),
        "requests": total,
        "statuses": statuses,
        "errors": errors,
        "latencies_ms": latencies,
        "started_s": started,
    }


def main() -> None:
    url, key, rate, seconds, out = (
        sys.argv[1],
        sys.argv[2],
        float(sys.argv[3]),
        float(sys.argv[4]),
        sys.argv[5],
    )
    result = asyncio.run(run(url, key, rate, seconds))
    with open(out, "w") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()
