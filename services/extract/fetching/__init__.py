"""Fetch a URL safely with httpx: every hop checked, the checked address pinned.

Redirects are followed by hand (at most `max_redirects`) so each new location is checked
again; each request connects to the IP address that passed the check, with the original
host in the Host header and TLS SNI, which defeats DNS rebinding. Bodies stream with a
size cap; the answer's content type must be something we can ingest.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from shared.url_safety import BlockedAddress, FetchPolicy, check_url

__all__ = ["FetchError", "FetchPolicy", "FetchResult", "fetch"]

ACCEPTED_TYPES = (
    "text/html",
    "text/plain",
    "application/xhtml+xml",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/rss+xml",
    "application/atom+xml",
    "application/xml",
    "text/xml",
    "application/octet-stream",  # servers that do not know; the ingest sniffer decides
)
USER_AGENT = "policy-search/0.1 (+https://github.com/policy-search)"


class FetchError(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(slots=True)
class FetchResult:
    final_url: str
    status: int
    data: bytes
    content_type: str | None
    charset: str | None
    etag: str | None
    last_modified: str | None
    redirects: list[str] = field(default_factory=list)
    not_modified: bool = False


def _pinned(url: str, ip: str) -> tuple[str, str, dict[str, str]]:
    """The URL with its host replaced by the checked IP, plus Host header and SNI."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc_ip = f"[{ip}]" if ":" in ip else ip
    if parts.port:
        netloc_ip += f":{parts.port}"
    host_header = host if not parts.port else f"{host}:{parts.port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc_ip)), host_header, extensions


def _content_type(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    msg = Message()
    msg["content-type"] = value
    charset = msg.get_param("charset")
    return msg.get_content_type(), charset.lower() if isinstance(charset, str) else None


async def fetch(
    url: str,
    *,
    policy: FetchPolicy,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    try:
        async with asyncio.timeout(policy.total_timeout):
            return await _fetch(url, policy=policy, etag=etag, last_modified=last_modified)
    except TimeoutError as exc:
        raise FetchError(
            f"timed out: the fetch took longer than {policy.total_timeout:g} s in all",
            permanent=False,
        ) from exc


async def _fetch(
    url: str,
    *,
    policy: FetchPolicy,
    etag: str | None,
    last_modified: str | None,
) -> FetchResult:
    timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)
    headers = {"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    redirects: list[str] = []
    current = url
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, verify=True) as client:
        for _hop in range(policy.max_redirects + 1):
            try:
                addresses = check_url(current, policy=policy)
            except BlockedAddress as exc:
                raise FetchError(exc.reason, permanent=True) from exc
            pinned, host, extensions = _pinned(current, str(addresses[0]))
            try:
                result = await _get(client, pinned, {**headers, "Host": host}, extensions, policy)
            except httpx.TimeoutException as exc:
                raise FetchError(f"timed out: {type(exc).__name__}", permanent=False) from exc
            except httpx.TransportError as exc:
                raise FetchError(f"connection failed: {exc}", permanent=False) from exc
            status, response_headers, data = result
            if status in (301, 302, 303, 307, 308):
                location = response_headers.get("location")
                if not location:
                    raise FetchError(f"HTTP {status} without a Location", permanent=True)
                redirects.append(current)
                current = urljoin(current, location)
                continue
            return _result(current, status, response_headers, data, redirects)
    raise FetchError(f"more than {policy.max_redirects} redirects", permanent=True)


async def _get(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    extensions: dict[str, str],
    policy: FetchPolicy,
) -> tuple[int, httpx.Headers, bytes]:
    request = client.build_request("GET", url, headers=headers, extensions=extensions)
    response = await client.send(request, stream=True)
    try:
        if response.status_code >= 300 or response.status_code == 204:
            return response.status_code, response.headers, b""
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > policy.max_bytes:
            raise FetchError(
                f"too large: {declared} bytes (limit {policy.max_bytes})", permanent=True
            )
        ctype, _ = _content_type(response.headers.get("content-type"))
        if ctype and not ctype.startswith(ACCEPTED_TYPES):
            raise FetchError(f"not a text document: content type {ctype}", permanent=True)
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():  # decoded: the cap also stops gzip bombs
            size += len(chunk)
            if size > policy.max_bytes:
                raise FetchError(f"too large: over {policy.max_bytes} bytes", permanent=True)
            chunks.append(chunk)
        return response.status_code, response.headers, b"".join(chunks)
    finally:
        await response.aclose()


def _result(
    url: str, status: int, headers: httpx.Headers, data: bytes, redirects: list[str]
) -> FetchResult:
    ctype, charset = _content_type(headers.get("content-type"))
    common = {
        "final_url": url,
        "status": status,
        "content_type": ctype,
        "charset": charset,
        "etag": headers.get("etag"),
        "last_modified": headers.get("last-modified"),
        "redirects": redirects,
    }
    if status == 304:
        return FetchResult(data=b"", not_modified=True, **common)
    if status in (404, 410):
        raise FetchError(f"HTTP {status}: the page does not exist", permanent=True)
    if status == 429 or status >= 500:
        raise FetchError(f"HTTP {status} from the server", permanent=False)
    if status >= 400:
        raise FetchError(f"HTTP {status}", permanent=True)
    if not data.strip():
        raise FetchError("the page is empty", permanent=True)
    return FetchResult(data=data, **common)
