"""Watched sources: links found on listing pages and feeds; new items only, once each."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from services.extract.source_polling import poll_source
from services.extract.sources import discover_links
from shared.db import dispose_all, session_scope
from shared.migrate import upgrade
from shared.models import Document, Source, Status
from shared.settings import Settings
from tests.unit.fetching.conftest import LocalSite, Route

LISTING = """<html><body>
<div class="nav"><a href="/">首页</a> <a href="/zwgk/">政务公开</a></div>
<ul class="list">
<li><a href="/zwgk/2023/t20230601_101.html">关于推进产教融合的实施意见</a><span>2023-06-01</span></li>
<li><a href="/zwgk/2023/t20230512_099.html" title="兰州市职业教育专项资金管理办法">兰州市职业教育专项资金…</a>
    <span>2023-05-12</span></li>
<li><a href="https://other.example.org/t20230501_1.html">外站转载的一篇长标题文章</a></li>
</ul></body></html>"""


def _feed(items: list[tuple[str, str]]) -> bytes:
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        f"<pubDate>Mon, 05 Jun 2023 08:00:00 GMT</pubDate></item>"
        for title, link in items
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{body}</channel></rss>'.encode()


def test_listing_page_links_with_titles_and_dates() -> None:
    links = discover_links(LISTING.encode(), base_url="http://gov.example.cn/zwgk/")
    assert [(link.url, link.title, link.published) for link in links] == [
        (
            "http://gov.example.cn/zwgk/2023/t20230601_101.html",
            "关于推进产教融合的实施意见",
            "2023-06-01",
        ),
        (
            "http://gov.example.cn/zwgk/2023/t20230512_099.html",
            "兰州市职业教育专项资金管理办法",
            "2023-05-12",
        ),
    ]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    yield Settings(data_dir=tmp_path, database_url=url, fetch_allowed_networks=["127.0.0.1/32"])
    dispose_all()


def test_overlong_links_do_not_fail_the_poll(
    site: LocalSite, database_url: str, tmp_path: Path
) -> None:
    """On PostgreSQL an overlong link failed the insert, so every poll of the source."""
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, fetch_allowed_networks=["127.0.0.1/32"]
    )
    items = [
        ("关于做好2023年职业教育招生工作的通知", site.url("/a/1.html")),
        ("外部编号放不下的长链接", site.url("/a/2.html?q=" + "x" * 600)),
        ("连记录都放不下的超长链接", site.url("/a/3.html?q=" + "y" * 2100)),
    ]
    site.routes["/feed.xml"] = Route(200, _feed(items), {"Content-Type": "application/rss+xml"})
    with session_scope(database_url, write=True) as s:
        source = Source(url=site.url("/feed.xml"), kind="feed", same_site=True)
        s.add(source)
        s.flush()
        source_id = source.id
    assert poll_source(settings, source_id) == 2
    with session_scope(database_url) as s:
        docs = s.scalars(select(Document).where(Document.source_id == source_id)).all()
        assert sorted(len(d.source_url or "") for d in docs) == [
            len(items[0][1]),
            len(items[1][1]),
        ]
        assert {d.external_id for d in docs} == {items[0][1], None}
        assert s.get(Source, source_id).last_status == "ok"  # type: ignore[union-attr]
    assert poll_source(settings, source_id) == 0  # and each is created once


def test_feed_gaining_an_item_between_polls_creates_only_the_new_one(
    site: LocalSite, settings: Settings
) -> None:
    items = [
        ("关于做好2023年职业教育招生工作的通知", site.url("/a/1.html")),
        ("关于开展职业教育活动周的通知", site.url("/a/2.html")),
    ]
    site.routes["/feed.xml"] = Route(200, _feed(items), {"Content-Type": "application/rss+xml"})
    with session_scope(settings.resolved_database_url, write=True) as s:
        source = Source(url=site.url("/feed.xml"), kind="feed", same_site=True)
        s.add(source)
        s.flush()
        source_id = source.id
    assert poll_source(settings, source_id) == 2
    assert poll_source(settings, source_id) == 0  # nothing new
    items.append(("关于公布技能大赛获奖名单的通知", site.url("/a/3.html")))
    site.routes["/feed.xml"] = Route(200, _feed(items), {"Content-Type": "application/rss+xml"})
    assert poll_source(settings, source_id) == 1
    with session_scope(settings.resolved_database_url) as s:
        docs = s.scalars(select(Document).where(Document.source_id == source_id)).all()
        assert sorted(d.user_title for d in docs) == sorted(t for t, _ in items)
        assert {d.status for d in docs} == {Status.FETCHING}
        assert s.get(Source, source_id).documents_created == 3  # type: ignore[union-attr]


def test_unchanged_listing_costs_one_conditional_request(
    site: LocalSite, settings: Settings
) -> None:
    def listing(handler):  # type: ignore[no-untyped-def]
        if handler.headers.get("If-None-Match") == '"L1"':
            return Route(304)
        return Route(
            200,
            LISTING.replace("/zwgk/", f"http://127.0.0.1:{site.port}/zwgk/").encode(),
            {"Content-Type": "text/html; charset=utf-8", "ETag": '"L1"'},
        )

    site.routes["/list"] = listing
    with session_scope(settings.resolved_database_url, write=True) as s:
        source = Source(url=site.url("/list"), kind="listing")
        s.add(source)
        s.flush()
        source_id = source.id
    assert poll_source(settings, source_id) == 2
    assert poll_source(settings, source_id) == 0
    assert site.requests[-1]["if-none-match"] == '"L1"'
    with session_scope(settings.resolved_database_url) as s:
        assert s.get(Source, source_id).last_status == "not_modified"  # type: ignore[union-attr]
