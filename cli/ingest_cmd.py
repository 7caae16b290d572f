"""`policy-search ingest PATH... | URL...`: upload files and folders, fetch URLs."""

from __future__ import annotations

import mimetypes
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.progress import Progress

from cli.client import ingest_client
from cli.output import console, emit

SUFFIXES = {".txt", ".html", ".htm", ".docx", ".pdf"}
FINAL = {"indexed", "duplicate", "failed"}


def iter_inputs(targets: list[str]) -> Iterator[str | Path]:
    for target in targets:
        if target.startswith(("http://", "https://")):
            yield target
            continue
        path = Path(target)
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
            )
        else:
            yield path


def ingest(targets: list[str], *, wait: bool, as_json: bool, timeout: float) -> dict[str, Any]:
    inputs = list(iter_inputs(targets))
    results: list[dict[str, Any]] = []
    with ingest_client() as client, Progress(console=console, disable=as_json) as progress:
        task = progress.add_task("uploading", total=len(inputs))
        for item in inputs:
            results.append(_submit(client, item))
            progress.advance(task)
        if wait:
            _wait(client, results, timeout=timeout, progress=progress)
    summary = Counter(r.get("status", "rejected") for r in results)
    report = {"summary": dict(summary), "items": results}
    if as_json:
        emit(report, as_json=True)
    else:
        emit(results, as_json=False, columns=["input", "id", "status", "error"], title="ingest")
        console.print(", ".join(f"{k}: {v}" for k, v in sorted(summary.items())))
    return report


def _submit(client: httpx.Client, item: str | Path) -> dict[str, Any]:
    try:
        if isinstance(item, str):
            r = client.post("/v1/fetches", json={"url": item})
        else:
            ctype = mimetypes.guess_type(item.name)[0] or "application/octet-stream"
            with item.open("rb") as fh:
                r = client.post("/v1/documents", files={"file": (item.name, fh, ctype)})
    except (httpx.HTTPError, OSError) as exc:
        return {"input": str(item), "status": "rejected", "error": str(exc)}
    body = r.json() if r.headers.get("content-type", "").endswith("json") else {}
    if r.status_code != 202:
        return {"input": str(item), "status": "rejected", "error": body.get("detail", r.text[:200])}
    return {"input": str(item), "id": body["id"], "status": body["status"], "error": None}


def _wait(
    client: httpx.Client, results: list[dict[str, Any]], *, timeout: float, progress: Progress
) -> None:
    pending = [r for r in results if r.get("id")]
    task = progress.add_task("processing", total=len(pending))
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for r in list(pending):
            doc = client.get(f"/v1/documents/{r['id']}").json()
            if doc["status"] in FINAL:
                r["status"], r["error"] = doc["status"], doc.get("error")
                if doc.get("duplicate_of"):
                    r["error"] = f"duplicate of {doc['duplicate_of']}"
                pending.remove(r)
                progress.advance(task)
        if pending:
            time.sleep(0.5)
