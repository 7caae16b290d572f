"""What an operator watches: Prometheus metrics on both APIs, one request id in every log line."""

from __future__ import annotations

import json
import re
import uuid

from tests.e2e.stack import RunningStack

TEXT = "关于做好{n}职业院校技能竞赛组织工作的通知\n各院校:\n现就技能竞赛有关事项通知如下。\n"


def _gauge(body: str, name: str, **labels: str) -> float:
    label = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{name}{{{re.escape(label)}}} (\S+)$" if label else rf"^{name} (\S+)$"
    match = re.search(pattern, body, re.MULTILINE)
    assert match, f"{name} {labels} not in /metrics"
    return float(match.group(1))


def test_both_apis_export_pipeline_and_queue_metrics(stack: RunningStack) -> None:
    r = stack.ingest.post("/v1/documents", json={"text": TEXT.format(n=uuid.uuid4().hex)})
    stack.wait_final([r.json()["id"]])
    for client in (stack.ingest, stack.search):
        body = client.get("/metrics").text
        assert _gauge(body, "policy_documents", status="indexed") >= 1
        assert _gauge(body, "policy_index_lag_documents") >= 0
        assert _gauge(body, "policy_queue_depth", queue="extract") >= 0
        assert _gauge(body, "policy_queue_depth", queue="search") >= 0
        assert _gauge(body, "policy_stage_duration_ms_avg", stage="clean") >= 0
        assert "http_request_duration_seconds_bucket" in body


def test_one_request_id_follows_a_document_through_every_service(stack: RunningStack) -> None:
    rid = f"trace-{uuid.uuid4().hex}"
    r = stack.ingest.post(
        "/v1/documents", json={"text": TEXT.format(n=rid)}, headers={"X-Request-ID": rid}
    )
    doc_id = r.json()["id"]
    stack.wait_final([doc_id])
    entries = [
        json.loads(line)
        for line in stack.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        if rid in line and line.startswith("{")
    ]
    services = {e["service"] for e in entries if e.get("request_id") == rid}
    assert {"ingest", "extract", "indexer"} <= services, services
    assert any(doc_id in (e.get("document_ids") or []) for e in entries)
