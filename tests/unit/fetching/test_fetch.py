"""Fetching against a real local HTTP server: redirects, limits, charsets, conditional GET."""

from __future__ import annotations

import asyncio
import gzip
import time
from dataclasses import replace

import pytest

from services.extract.fetching import FetchError, FetchResult, fetch
from shared.url_safety import FetchPolicy
from tests.unit.fetching.conftest import LocalSite, Route

PAGE = "<html><body><h1>关于推进产教融合的通知</h1><p>各单位:现通知如下。</p></body></html>"


def _fetch(url: str, policy: FetchPolicy, **kw: str) -> FetchResult:
    return asyncio.run(fetch(url, policy=policy, **kw))


def _redirect_chain(site: LocalSite, hops: int) -> str:
    for i in range(hops):
        site.routes[f"/r{i}"] = Route(302, headers={"Location": f"/r{i + 1}"})
    site.routes[f"/r{hops}"] = Route(
        200, PAGE.encode(), {"Content-Type": "text/html; charset=utf-8"}
    )
    return site.url("/r0")


def test_follows_five_redirects_and_records_them(
    site: LocalSite, local_policy: FetchPolicy
) -> None:
    result = _fetch(_redirect_chain(site, 5), local_policy)
    assert result.final_url.endswith("/r5") and len(result.redirects) == 5
    assert result.data.decode() == PAGE


def test_sixth_redirect_is_refused(site: LocalSite, local_policy: FetchPolicy) -> None:
    with pytest.raises(FetchError, match=r"more than 5 redirects") as info:
        _fetch(_redirect_chain(site, 6), local_policy)
    assert info.value.permanent


def test_redirect_to_a_private_address_is_refused(
    site: LocalSite, local_policy: FetchPolicy
) -> None:
    site.routes["/go"] = Route(
        302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    with pytest.raises(FetchError, match=r"169\.254\.169\.254") as info:
        _fetch(site.url("/go"), local_policy)
    assert info.value.permanent


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://10.0.0.1/admin", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://127.0.0.2:{port}/ok", "loopback"),  # loopback outside the allowed /32
        ("http://[::1]:{port}/ok", "loopback"),
        ("http://[fe80::1]/", "link-local"),
        ("http://224.0.0.1/", "multicast"),
        ("http://0.0.0.0:{port}/ok", "unspecified"),  # reaches local services on Linux
        ("//[::ffff:169.254.169.254]/", "link-local"),  # scheme-relative, IPv4 in IPv6
    ],
)
def test_redirect_to_any_blocked_address_is_refused_before_connecting(
    site: LocalSite, local_policy: FetchPolicy, location: str, reason: str
) -> None:
    site.routes["/ok"] = Route(200, PAGE.encode(), {"Content-Type": "text/html"})
    site.routes["/go"] = Route(302, headers={"Location": location.format(port=site.port)})
    policy = replace(local_policy, allowed_ports=(80, 443, site.port))
    with pytest.raises(FetchError, match=reason) as info:
        _fetch(site.url("/go"), policy)
    assert info.value.permanent
    assert [r["path"] for r in site.requests] == ["/go"]  # the target was never asked


def test_hostname_resolving_to_loopback_is_refused(site: LocalSite) -> None:
    site.routes["/"] = Route(200, PAGE.encode(), {"Content-Type": "text/html"})
    with pytest.raises(FetchError, match="loopback"):
        _fetch(site.url("/", host="localhost"), FetchPolicy(allowed_ports=(site.port,)))
    assert site.requests == []  # refused before connecting


def test_connects_to_the_checked_address_with_the_original_host(
    site: LocalSite, local_policy: FetchPolicy
) -> None:
    site.routes["/"] = Route(200, PAGE.encode(), {"Content-Type": "text/html"})
    _fetch(site.url("/", host="localhost"), local_policy)
    assert site.requests[-1]["host"] == f"localhost:{site.port}"


@pytest.mark.parametrize("chunked", [False, True])
def test_oversize_body_is_refused(
    site: LocalSite, local_policy: FetchPolicy, chunked: bool
) -> None:
    site.routes["/big"] = Route(
        200, b"a" * 1_500_000, {"Content-Type": "text/plain"}, chunked=chunked
    )
    with pytest.raises(FetchError, match="too large") as info:
        _fetch(site.url("/big"), local_policy)
    assert info.value.permanent


def test_slow_server_times_out_as_transient(site: LocalSite, local_policy: FetchPolicy) -> None:
    site.routes["/slow"] = Route(200, PAGE.encode(), {"Content-Type": "text/html"}, delay=2.5)
    with pytest.raises(FetchError, match="timed out") as info:
        _fetch(site.url("/slow"), replace(local_policy, read_timeout=0.5))
    assert not info.value.permanent


def test_trickling_server_hits_the_total_deadline(
    site: LocalSite, local_policy: FetchPolicy
) -> None:
    # Each byte arrives well inside the read timeout; only a deadline on the whole fetch
    # stops it (else 200 bytes x 0.1 s = 20 s of a worker held).
    site.routes["/trickle"] = Route(
        200, PAGE.encode()[:200], {"Content-Type": "text/html"}, trickle=0.1
    )
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"took longer than 1\.5 s") as info:
        _fetch(site.url("/trickle"), replace(local_policy, read_timeout=1, total_timeout=1.5))
    assert not info.value.permanent
    assert time.monotonic() - started < 4


def test_gzip_bomb_is_stopped_by_the_size_cap(site: LocalSite, local_policy: FetchPolicy) -> None:
    bomb = gzip.compress(b"0" * 5_000_000)  # ~5 KB on the wire, 5 MB decoded
    site.routes["/gz"] = Route(200, bomb, {"Content-Type": "text/html", "Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="too large") as info:
        _fetch(site.url("/gz"), local_policy)
    assert info.value.permanent and len(bomb) < local_policy.max_bytes


def test_not_a_text_document_is_refused(site: LocalSite, local_policy: FetchPolicy) -> None:
    site.routes["/img"] = Route(
        200, b"\x89PNG\r\n\x1a\n" + b"0" * 100, {"Content-Type": "image/png"}
    )
    with pytest.raises(FetchError, match="not a text document"):
        _fetch(site.url("/img"), local_policy)


@pytest.mark.parametrize(
    ("status", "permanent"), [(404, True), (410, True), (503, False), (429, False)]
)
def test_http_errors_are_classified(
    site: LocalSite, local_policy: FetchPolicy, status: int, permanent: bool
) -> None:
    site.routes["/x"] = Route(status, b"error page", {"Content-Type": "text/html"})
    with pytest.raises(FetchError) as info:
        _fetch(site.url("/x"), local_policy)
    assert info.value.permanent is permanent


def test_gbk_page_keeps_bytes_and_charset(site: LocalSite, local_policy: FetchPolicy) -> None:
    site.routes["/gbk"] = Route(200, PAGE.encode("gbk"), {"Content-Type": "text/html; charset=GBK"})
    result = _fetch(site.url("/gbk"), local_policy)
    assert result.charset == "gbk" and result.data.decode("gbk") == PAGE


def test_conditional_get_uses_etag_and_last_modified(
    site: LocalSite, local_policy: FetchPolicy
) -> None:
    stamp = "Wed, 21 Oct 2026 07:28:00 GMT"

    def page(handler):  # type: ignore[no-untyped-def]
        if handler.headers.get("If-None-Match") == '"v1"':
            return Route(304)
        return Route(
            200,
            PAGE.encode(),
            {"Content-Type": "text/html", "ETag": '"v1"', "Last-Modified": stamp},
        )

    site.routes["/page"] = page
    first = _fetch(site.url("/page"), local_policy)
    assert (first.etag, first.last_modified, first.not_modified) == ('"v1"', stamp, False)
    second = _fetch(site.url("/page"), local_policy, etag='"v1"', last_modified=stamp)
    assert second.not_modified and second.data == b""
    assert site.requests[-1]["if-modified-since"] == stamp
