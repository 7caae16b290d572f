"""The search page in headless Chromium: type a query, see highlighted results, click a facet."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.stack import RunningStack

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.browser
def test_query_results_and_facet_click(stack: RunningStack, policies: Path, tmp_path: Path) -> None:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian package `chromium`; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    ids = [stack.post_file(p)["id"] for p in sorted(policies.glob("*.txt"))]
    stack.wait_final(ids)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(str(stack.search.base_url) + "/")
        page.fill("#q", "产教融合")
        page.keyboard.press("Enter")
        # The page opens on the newest documents: wait for the answer to this query.
        page.wait_for_function(
            "() => (document.querySelector('#summary')?.innerText || '').includes('产教融合')"
        )
        page.wait_for_selector(".hit")
        hits_before = page.locator(".hit").count()
        assert hits_before >= 3
        assert page.locator(".hit em").count() > 0  # highlights rendered as <em>
        summary = page.inner_text("#summary")
        assert "找到" in summary

        facet = page.locator(
            '#facets input[data-field="doc_type"], #facets input[data-field="province"]'
        ).first
        facet_value = facet.get_attribute("value")
        facet.check()
        page.wait_for_function(
            "() => location.search.includes('province=') || location.search.includes('doc_type=')"
        )
        page.wait_for_selector(".hit")
        assert page.locator(".hit").count() <= hits_before
        assert facet_value
        checked = page.locator(f'#facets input[value="{facet_value}"]')
        assert checked.is_checked()  # the facet stays selected after the new results
        metas = page.locator(".hit .meta").all_inner_texts()
        assert metas and all(facet_value in m for m in metas)
        page.screenshot(path=str(tmp_path / "search-page.png"), full_page=True)

        # The type-ahead list closes once the query is submitted; it must not cover results.
        page.wait_for_selector("#suggestions", state="hidden", timeout=5000)
        page.locator(".hit h2 a").first.click()
        page.wait_for_selector("#doc-text")
        assert len(page.inner_text("#doc-text")) > 50
        browser.close()
