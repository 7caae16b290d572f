"""Is a URL safe to fetch from inside our network? (SSRF defence, used at every hop.)

The ingest API checks a URL before accepting it (a quick 422 for the user), and the fetch
worker checks every address again right before connecting, after each redirect, and
connects to the address it checked, so a DNS answer that changes between the check and
the connection (rebinding) cannot reach an internal service.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Beyond what `ipaddress` flags: shared address space (CGNAT) and cloud metadata services.
EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(n)
    for n in (
        "100.64.0.0/10",  # carrier-grade NAT, RFC 6598
        "169.254.169.254/32",  # AWS/GCP/Azure/OpenStack metadata
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
    )
)


class BlockedAddress(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int = 20 * 1024 * 1024
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    # The whole fetch, redirects included: a server that trickles a byte just inside the
    # read timeout would otherwise hold a worker for as long as it likes.
    total_timeout: float = 120.0
    max_redirects: int = 5
    allow_private: bool = False
    allowed_ports: tuple[int, ...] = (80, 443, 8080, 8443)
    schemes: tuple[str, ...] = field(default=("http", "https"))
    # Networks allowed although private (an intranet source, or tests on 127.0.0.1).
    allowed_networks: tuple[str, ...] = ()


def blocked_reason(ip: IPAddress) -> str | None:
    """Why connecting to `ip` is refused, or None if it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return blocked_reason(ip.ipv4_mapped)
    if isinstance(ip, ipaddress.IPv6Address) and ip.sixtofour is not None:
        return blocked_reason(ip.sixtofour)
    checks = (
        (ip.is_loopback, "loopback"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_link_local, "link-local"),
        # Deprecated IPv6 site-local (fec0::/10): `ipaddress` calls it global, but where it
        # is still routed it is an internal network, the IPv6 twin of 10/8.
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "site-local"),
        (ip.is_multicast, "multicast"),
        (any(ip in net for net in EXTRA_BLOCKED if net.version == ip.version), "reserved/metadata"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "not globally routable"),
    )
    for hit, name in checks:
        if hit:
            return f"{ip} is a {name} address"
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise BlockedAddress(f"{host} does not resolve: {exc}") from exc
    return list(
        dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
    )


def check_url(url: str, *, policy: FetchPolicy) -> list[IPAddress]:
    """The addresses `url` may be fetched from; raises BlockedAddress with the reason."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedAddress(f"not a valid URL: {exc}") from exc
    if parts.scheme not in policy.schemes:
        raise BlockedAddress(f"only {'/'.join(policy.schemes)} URLs can be fetched")
    if not parts.hostname:
        raise BlockedAddress("the URL has no host")
    if parts.username or parts.password:
        raise BlockedAddress("URLs with credentials are not fetched")
    port = port or (443 if parts.scheme == "https" else 80)
    port_refused = BlockedAddress(
        f"port {port} is not allowed (allowed: {list(policy.allowed_ports)})"
    )
    if port not in policy.allowed_ports and not (policy.allow_private or policy.allowed_networks):
        raise port_refused
    addresses = resolve(parts.hostname, port)
    if not addresses:
        raise BlockedAddress(f"{parts.hostname} has no address")
    if policy.allow_private:
        return addresses
    allowed = [ipaddress.ip_network(n) for n in policy.allowed_networks]
    inside = [any(ip in net for net in allowed if net.version == ip.version) for ip in addresses]
    for ip, is_inside in zip(addresses, inside, strict=True):
        if not is_inside and (reason := blocked_reason(ip)):
            raise BlockedAddress(f"{parts.hostname} resolves to a refused address: {reason}")
    # Any port inside a configured network (an intranet service); elsewhere, only the
    # usual web ports, so allowing one network does not open every port on the internet.
    if port not in policy.allowed_ports and not all(inside):
        raise port_refused
    return addresses
