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
        # loopback, whatever the spelling
        ("http://127.0.0.1/", "loopback"),
        ("http://0177.0.0.1/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:7f00:1]/", "loopback"),
        # private IPv4, each range to its edges
        ("http://10.0.0.1/", "private"),
        ("http://10.255.255.255/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://172.31.255.254/", "private"),
        ("http://192.168.0.1/", "private"),
        ("http://192.168.255.254/", "private"),
        # link-local, and the cloud metadata address inside it
        ("http://169.254.1.1/", "link-local"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        # multicast
        ("http://224.0.0.1/", "multicast"),
        ("http://239.255.255.250/", "multicast"),
        # IPv6 equivalents: unique-local (private), link-local, site-local, multicast,
        # metadata over IPv6, and IPv4 private/metadata addresses wrapped in IPv6
        ("http://[fd12:3456::1]/", "private"),
        ("http://[fc00::1]/", "private"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fec0::1]/", "site-local"),
        ("http://[ff02::1]/", "multicast"),
        ("http://[ff05::1:3]/", "multicast"),
        ("http://[fd00:ec2::254]/", "refused"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://[::ffff:192.168.1.1]/", "private"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://[2002:a9fe:a9fe::1]/", "link-local"),  # 6to4 around 169.254.169.254
        ("http://[64:ff9b::a9fe:a9fe]/", "refused"),  # NAT64 around 169.254.169.254
    ],
)
def test_each_blocked_range_says_which(url: str, reason: str) -> None:
    with pytest.raises(BlockedAddress, match=reason):
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
    check_url("http://10.20.3.4:9200/", policy=policy)  # any port inside the network
    with pytest.raises(BlockedAddress):
        check_url("http://10.21.0.1/", policy=policy)
    with pytest.raises(BlockedAddress, match="port 22"):  # not every port elsewhere
        check_url("http://93.184.215.14:22/", policy=policy)


def test_hostname_resolving_to_loopback_is_refused_by_name() -> None:
    with pytest.raises(BlockedAddress, match=r"localhost resolves to a refused address.*loopback"):
        check_url("http://localhost/", policy=POLICY)
