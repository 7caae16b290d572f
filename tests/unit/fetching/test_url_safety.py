"""SSRF: every refused range, tricky spellings of loopback, and hostnames resolving to them."""

from __future__ import annotations

import pytest

from shared.url_safety import BlockedAddress, FetchPolicy, check_url

POLICY = FetchPolicy()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.1.2.3/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/",
        "http://0.0.0.0/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://224.0.0.251/",
        "http://[ff02::1]/",
        "http://240.0.0.1/",
        "http://198.18.0.1/",
    ],
)
def test_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(BlockedAddress):
        check_url(url, policy=POLICY)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.org/file", "only http/https"),
        ("file:///etc/passwd", "only http/https"),
        ("http://user:pw@example.org/", "credentials"),
        ("http://example.org:22/", "port 22"),
        ("http:///nohost", "no host"),
    ],
)
def test_url_shapes_that_are_refused(url: str, reason: str) -> None:
    with pytest.raises(BlockedAddress, match=reason):
        check_url(url, policy=POLICY)


def test_a_public_address_is_allowed() -> None:
    assert [str(ip) for ip in check_url("http://93.184.215.14/", policy=POLICY)] == [
        "93.184.215.14"
    ]


def test_configured_network_is_allowed_and_nothing_else() -> None:
    policy = FetchPolicy(allowed_networks=("10.20.0.0/16",))
    check_url("http://10.20.3.4:8080/", policy=policy)
    with pytest.raises(BlockedAddress):
        check_url("http://10.21.0.1/", policy=policy)
