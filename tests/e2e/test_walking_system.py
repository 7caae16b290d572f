"""A document's whole path: upload → clean → dedupe → extract → index → search."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.stack import RunningStack


def test_uploaded_policies_become_searchable_with_history(
    stack: RunningStack, policies: Path
) -> None:
    files = sorted(policies.glob("*.txt"))
    accepted = [stack.post_file(path) for path in files]
    assert all(a["status"] == "received" and a["links"]["self"].endswith(a["id"]) for a in accepted)

    final = stack.wait_final(a["id"] for a in accepted)
    # Other tests on this stack may have posted the same files first: then these are
    # exact duplicates pointing at those copies, which search shows instead.
    assert {d["status"] for d in final.values()} <= {"indexed", "duplicate"}, {
        i: (d["status"], d["error"]) for i, d in final.items()
    }
    shown = {d["duplicate_of"] or i for i, d in final.items()}

    r = stack.search.get("/v1/search", params={"q": "产教融合"})
    assert r.status_code == 200
    body = r.json()
    ids = {hit["id"] for hit in body["hits"]}
    assert body["total"] >= 3 and len(ids & shown) >= 3
    for hit in body["hits"]:
        fragments = hit["highlights"].get("text", []) + hit["highlights"].get("title", [])
        assert any("<em>" in f for f in fragments), hit

    for doc in final.values():
        stages = [(h["stage"], h["status"]) for h in doc["history"]]
        expected = [("clean", "ok"), ("dedupe", "ok")]
        if doc["status"] == "indexed":
            expected += [("extract", "ok"), ("index", "ok")]
        assert stages == expected
        assert all(h["ms"] >= 0 and h["at"] for h in doc["history"])


def test_traditional_upload_is_cleaned_and_simplified(stack: RunningStack, policies: Path) -> None:
    accepted = stack.post_file(
        policies / "01_traditional_pinyin.txt", title="鹤山市产教融合工作情况"
    )
    doc = stack.wait_final([accepted["id"]])[accepted["id"]]
    assert doc["original_script"] == "traditional"
    assert "(hé)" not in doc["text"] and "產" not in doc["text"]
    assert "产教融合" in doc["text"]
    assert doc["metadata"]["quality"]["pinyin_annotations_removed"] > 0
    original = stack.ingest.get(f"/v1/documents/{accepted['id']}/original")
    assert original.content == (policies / "01_traditional_pinyin.txt").read_bytes()


def test_listing_is_cursor_paginated(stack: RunningStack, policies: Path) -> None:
    for path in sorted(policies.glob("*.txt"))[:3]:
        stack.post_file(path)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = stack.ingest.get("/v1/documents", params=params).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 3
