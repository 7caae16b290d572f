"""Early checks on a URL to fetch, so an unsafe one is refused with 422 at once.

The fetch worker checks again at every hop (redirects, DNS rebinding); this is the cheap
first look that spares the user a document that can only fail.
"""

from __future__ import annotations

from shared.problems import InvalidInput
from shared.settings import Settings
from shared.url_safety import BlockedAddress, FetchPolicy, check_url


def policy_from_settings(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        max_bytes=settings.fetch_max_bytes,
        connect_timeout=settings.fetch_connect_timeout,
        read_timeout=settings.fetch_read_timeout,
        max_redirects=settings.fetch_max_redirects,
        allow_private=settings.fetch_allow_private,
        allowed_ports=tuple(settings.fetch_allowed_ports),
        allowed_networks=tuple(settings.fetch_allowed_networks),
    )


def check_fetch_url(url: str, settings: Settings) -> None:
    try:
        check_url(url, policy=policy_from_settings(settings))
    except BlockedAddress as exc:
        raise InvalidInput(
            f"This URL cannot be fetched: {exc.reason}",
            errors=[{"field": "url", "message": exc.reason}],
        ) from exc
