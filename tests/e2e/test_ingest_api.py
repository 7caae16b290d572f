"""The ingest API as a client sees it: formats, encodings, limits, idempotency, versions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import opencc
import pytest

from tests.conftest import assert_problem
from tests.e2e.stack import RunningStack

POLICY = (
    "南平市人民政府关于推进产教融合的实施意见\n"
    "南政发〔2023〕5号\n"
    "各县(市、区)人民政府,市直各单位:\n"
    "为深化产教融合、校企合作,现提出如下意见。\n"
    "一、总体要求\n"
    "到2025年,建成市级产教融合实训基地10个。\n"
    "南平市人民政府 2023年6月1日\n"
)


def _count(stack: RunningStack) -> int:
    seen, cursor = 0, None
    while True:
        params: dict[str, Any] = {"limit": 500} | ({"cursor": cursor} if cursor else {})
        page = stack.ingest.get("/v1/documents", params=params).json()
        seen += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return seen


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030", "gbk", "big5"])
def test_text_upload_in_each_encoding_keeps_original_bytes(
    stack: RunningStack, encoding: str
) -> None:
    text = POLICY + f"\n编号{uuid.uuid4().hex[:6]}\n"
    if encoding == "big5":  # Big5 holds traditional characters only
        text = opencc.OpenCC("s2tw").convert(text)
    raw = text.encode(encoding)
    r = stack.ingest.post(
        "/v1/documents", files={"file": (f"policy-{encoding}.txt", raw, "text/plain")}
    )
    assert r.status_code == 202, r.text
    doc_id = r.json()["id"]
    doc = stack.wait_final([doc_id])[doc_id]
    assert stack.ingest.get(f"/v1/documents/{doc_id}/original").content == raw
    assert doc["status"] == "indexed", doc["error"]
    # The encoding it reports decodes the original to exactly the text that was written ...
    assert raw.decode(doc["encoding"]) == text
    # ... and the cleaned text is that text, in simplified script.
    for line in ("南平市人民政府关于推进产教融合的实施意见", "南政发〔2023〕5号", "一、总体要求"):
        assert line in doc["text"], (line, doc["text"])
    assert doc["original_script"] == ("traditional" if encoding == "big5" else "simplified")


def test_json_text_and_html_are_accepted(stack: RunningStack) -> None:
    r1 = stack.ingest.post(
        "/v1/documents", json={"text": POLICY + uuid.uuid4().hex, "title": "自定标题"}
    )
    html = (
        "<html><head><title>产教融合</title></head>"
        f"<body><h1>关于产教融合的通知</h1><p>{POLICY}</p></body></html>"
    )
    r2 = stack.ingest.post("/v1/documents", json={"html": html + uuid.uuid4().hex})
    assert r1.status_code == r2.status_code == 202
    docs = stack.wait_final([r1.json()["id"], r2.json()["id"]])
    assert docs[r1.json()["id"]]["title"] == "自定标题"
    assert docs[r1.json()["id"]]["metadata"]["title"] == "自定标题"
    assert "产教融合" in docs[r2.json()["id"]]["text"]


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"text": ""}}, 422),
        ({"json": {"text": "   \n\t  "}}, 422),
        ({"json": {"text": "\x00\x01\x02\x03" * 50}}, 422),
        ({"json": {"title": "no body"}}, 422),
        ({"json": {"text": "x", "html": "<p>x</p>"}}, 422),
        ({"json": {"text": "正文", "unknown_field": 1}}, 422),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422),
        ({"content": b"text", "headers": {"content-type": "application/xml"}}, 415),
        ({"files": {"file": ("x.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png")}}, 415),
        (
            {
                "files": {
                    "file": ("x.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/octet-stream")
                }
            },
            415,
        ),
        ({"files": {"file": ("empty.txt", b"", "text/plain")}}, 422),
        ({"files": {"file": ("bin.txt", bytes(range(256)) * 8, "text/plain")}}, 422),
        ({"data": {"title": "no file"}, "files": {"other": ("a.txt", b"abc", "text/plain")}}, 422),
    ],
)
def test_bad_input_gets_a_problem_and_stores_nothing(
    stack: RunningStack, kwargs: dict[str, Any], status: int
) -> None:
    before = _count(stack)
    assert_problem(stack.ingest.post("/v1/documents", **kwargs), status)
    assert _count(stack) == before


def test_body_over_the_limit_is_413_and_stores_nothing(stack: RunningStack) -> None:
    before = _count(stack)
    big = ("产教融合" * 2_000_000).encode()  # 24 MB > 20 MB default
    assert_problem(
        stack.ingest.post("/v1/documents", files={"file": ("big.txt", big, "text/plain")}), 413
    )
    assert _count(stack) == before


def test_idempotency_key_returns_the_first_answer(stack: RunningStack) -> None:
    key = uuid.uuid4().hex
    body = {"text": POLICY + key}
    first = stack.ingest.post("/v1/documents", json=body, headers={"Idempotency-Key": key})
    again = stack.ingest.post("/v1/documents", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    other = stack.ingest.post(
        "/v1/documents", json={"text": POLICY + "其他"}, headers={"Idempotency-Key": key}
    )
    assert_problem(other, 422)


def test_external_id_makes_versions_not_new_documents(stack: RunningStack) -> None:
    ext = f"gov-{uuid.uuid4().hex}"
    v1 = stack.ingest.post(
        "/v1/documents", json={"text": POLICY + "第一版", "external_id": ext}
    ).json()
    stack.wait_final([v1["id"]])
    v2 = stack.ingest.post(
        "/v1/documents", json={"text": POLICY + "第二版修订", "external_id": ext}
    ).json()
    assert v2["id"] == v1["id"] and v2["version"] == 2
    doc = stack.wait_final([v1["id"]])[v1["id"]]
    assert "第二版修订" in doc["text"]
    assert [v["version"] for v in doc["versions"]] == [1, 2] and doc["versions"][-1]["current"]
    same = stack.ingest.post(
        "/v1/documents", json={"text": POLICY + "第二版修订", "external_id": ext}
    ).json()
    assert same["version"] == 2


def test_batch_json_and_ndjson_keep_order_and_isolate_bad_items(stack: RunningStack) -> None:
    tag = uuid.uuid4().hex
    before = _count(stack)
    docs = [
        {"text": POLICY + f"{tag}-1"},
        {"text": ""},
        {"html": f"<p>{POLICY}{tag}-3</p>"},
        {"bogus": 1},
    ]
    r = stack.ingest.post("/v1/documents:batch", json={"documents": docs})
    assert r.status_code == 202, r.text
    items = r.json()["items"]
    assert [("id" in i, "error" in i) for i in items] == [
        (True, False),
        (False, True),
        (True, False),
        (False, True),
    ]
    for bad in (items[1]["error"], items[3]["error"]):  # each a problem of its own
        assert bad["status"] == 422 and bad["title"] and bad["detail"] and bad["type"]
    assert "field" in json.dumps(items[3]["error"]) and "bogus" in json.dumps(items[3]["error"])
    assert r.json()["accepted"] == 2 and r.json()["rejected"] == 2
    assert _count(stack) == before + 2  # the bad items stored nothing

    ndjson = (
        "\n".join(json.dumps(d) for d in [{"text": POLICY + f"{tag}-5"}, {"text": " "}])
        + "\n{broken\n"
    )
    r = stack.ingest.post(
        "/v1/documents:batch",
        content=ndjson.encode(),
        headers={"content-type": "application/x-ndjson"},
    )
    assert r.status_code == 202, r.text
    items = r.json()["items"]
    assert (
        "id" in items[0]
        and items[1]["error"]["status"] == 422
        and items[2]["error"]["status"] == 422
    )
    assert items[2]["error"]["detail"] and items[2]["error"]["type"]
    assert _count(stack) == before + 3
    final = stack.wait_final([items[0]["id"]])
    assert final[items[0]["id"]]["status"] == "indexed"


def test_write_endpoints_need_a_key(stack: RunningStack) -> None:
    anonymous = httpx.Client(base_url=str(stack.ingest.base_url))
    assert_problem(anonymous.post("/v1/documents", json={"text": POLICY}), 401)
    assert_problem(
        anonymous.post("/v1/documents", json={"text": POLICY}, headers={"X-API-Key": "ps_wrong"}),
        401,
    )
    assert anonymous.get("/v1/documents").status_code == 200  # reading is open
    assert stack.search.get("/v1/search", params={"q": "产教融合"}).status_code == 200


def test_unknown_document_is_404_problem(stack: RunningStack) -> None:
    assert_problem(stack.ingest.get("/v1/documents/nope"), 404)
    assert_problem(stack.ingest.post("/v1/documents/nope/retry"), 404)
    assert_problem(stack.ingest.delete("/v1/documents/nope"), 404)


def test_etag_on_document_detail(stack: RunningStack) -> None:
    doc_id = stack.ingest.post("/v1/documents", json={"text": POLICY + uuid.uuid4().hex}).json()[
        "id"
    ]
    stack.wait_final([doc_id])
    r = stack.ingest.get(f"/v1/documents/{doc_id}")
    again = stack.ingest.get(
        f"/v1/documents/{doc_id}", headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304


def _cli(stack: RunningStack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "POLICY_SEARCH_INGEST_URL": str(stack.ingest.base_url),
        "POLICY_SEARCH_API_KEY": stack.api_key or "",
        "COLUMNS": "200",
    }
    cli = Path(sys.executable).with_name("policy-search")
    return subprocess.run(
        [str(cli), "ingest", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_cli_ingest_uploads_a_folder_with_progress_and_a_summary(
    stack: RunningStack, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex
    folder = tmp_path / "政策"
    (folder / "sub").mkdir(parents=True)
    (folder / "通知.txt").write_bytes((POLICY + f"甲{tag}").encode("gbk"))
    (folder / "sub" / "意见.html").write_bytes(
        f"<html><body><h1>关于产教融合的意见</h1><p>{POLICY}乙{tag}</p></body></html>".encode()
    )
    (folder / "empty.txt").write_bytes(b"")  # refused by the API: reported, not fatal
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # not a document: skipped
    before = _count(stack)

    result = _cli(stack, str(folder), "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 1, result.stderr  # one rejection makes the exit code 1
    assert report["summary"] == {"indexed": 2, "rejected": 1}, report
    by_name = {Path(i["input"]).name: i for i in report["items"]}
    assert set(by_name) == {"通知.txt", "意见.html", "empty.txt"}
    assert "empty" in by_name["empty.txt"]["error"]
    assert _count(stack) == before + 2

    again = _cli(stack, str(folder / "通知.txt"), str(folder / "sub"))  # for people
    assert again.returncode == 0, again.stdout + again.stderr
    assert "uploading" in again.stdout and "processing" in again.stdout  # progress bars
    assert again.stdout.rstrip().splitlines()[-1] in {"duplicate: 2", "indexed: 2"}
