"""Word, PDF and HTML uploads through the running stack: original kept, text extracted."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tests.conftest import assert_problem
from tests.e2e.stack import RunningStack
from tests.e2e.test_ingest_api import _count
from tests.file_fixtures import (
    BODY,
    make_docx,
    make_html,
    make_pdf,
    make_scanned_pdf,
    make_zip_bomb,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize(
    ("name", "build", "content_type"),
    [
        ("意见.docx", make_docx, DOCX),
        (
            "意见.pdf",
            lambda: make_pdf([f"{uuid.uuid4().hex[:8]}\n" + "\n".join(BODY)]),
            "application/pdf",
        ),
        ("意见.html", lambda: make_html("gbk"), "text/html"),
    ],
)
def test_upload_keeps_original_and_extracts_text(
    stack: RunningStack, name: str, build: Callable[[], bytes], content_type: str
) -> None:
    raw = build()
    r = stack.ingest.post(
        "/v1/documents",
        files={"file": (name, raw, content_type)},
        data={"external_id": f"fmt-{uuid.uuid4().hex}"},
    )
    assert r.status_code == 202, r.text
    doc_id = r.json()["id"]
    doc = stack.wait_final([doc_id])[doc_id]
    original = stack.ingest.get(f"/v1/documents/{doc_id}/original")
    assert original.content == raw
    assert original.headers["content-type"].startswith(content_type)
    assert doc["status"] in {"indexed", "duplicate"}, doc["error"]
    assert "产教融合" in doc["text"] and BODY[2] in doc["text"]
    if name.endswith(".docx"):
        assert "建设实训基地" in doc["text"]  # table rows kept
    if name.endswith(".html"):
        assert "网站标识码" not in doc["text"]  # page furniture is not main text


def test_scanned_pdf_is_kept_and_failed_with_an_ocr_reason(stack: RunningStack) -> None:
    raw = make_scanned_pdf()
    r = stack.ingest.post("/v1/documents", files={"file": ("scan.pdf", raw, "application/pdf")})
    assert r.status_code == 202, r.text
    doc_id = r.json()["id"]
    doc = stack.wait_final([doc_id])[doc_id]
    assert doc["status"] == "failed"
    assert "OCR" in doc["error"]
    assert stack.ingest.get(f"/v1/documents/{doc_id}/original").content == raw


def test_zip_bomb_docx_is_refused_and_nothing_stored(stack: RunningStack) -> None:
    before = _count(stack)
    r = stack.ingest.post("/v1/documents", files={"file": ("bomb.docx", make_zip_bomb(), DOCX)})
    body = assert_problem(r, 422)
    assert "ZIP" in body["detail"] or "expands" in body["detail"]
    assert _count(stack) == before


def test_pdf_over_the_page_limit_is_refused_and_nothing_stored(stack: RunningStack) -> None:
    raw = make_pdf([f"第{i}页" for i in range(1, 502)])  # the default limit is 500 pages
    before = _count(stack)
    r = stack.ingest.post("/v1/documents", files={"file": ("厚.pdf", raw, "application/pdf")})
    body = assert_problem(r, 422)
    assert "501 pages" in body["detail"] and "limit 500" in body["detail"]
    assert _count(stack) == before


def test_deeply_nested_html_is_refused_and_nothing_stored(stack: RunningStack) -> None:
    html = "<html><body>" + "<div>" * 600 + BODY[0] + "</div>" * 600 + "</body></html>"
    before = _count(stack)
    upload = stack.ingest.post(
        "/v1/documents", files={"file": ("深.html", html.encode(), "text/html")}
    )
    assert "levels deep" in assert_problem(upload, 422)["detail"]
    as_json = stack.ingest.post("/v1/documents", json={"html": html})
    assert "levels deep" in assert_problem(as_json, 422)["detail"]
    assert _count(stack) == before
